"""Superset configuration for edulake, loaded through SUPERSET_CONFIG_PATH by `edulake superset ...`.

Runs inside the Superset environment (not the pipeline's), so it reads only environment variables
set by edulake.superset.config.superset_env(): no secret and no machine path is written here.
"""

import os
import secrets
from pathlib import Path

# superset.db (password hashes, the warehouse's path), logs and uploads: owner-only whoever starts Superset.
# The same umask as edulake.permissions.OWNER_ONLY_UMASK (this file runs in Superset's environment, which
# cannot import edulake).
os.umask(0o077)

_HOME = Path(os.environ.get("EDULAKE_SUPERSET_HOME") or Path(__file__).resolve().parent.parent / "var" / "superset")
_HOME.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """EDULAKE_SUPERSET_SECRET_KEY, else a key generated once into the home's secrets folder (mode 0600)."""
    if os.environ.get("EDULAKE_SUPERSET_SECRET_KEY"):
        return os.environ["EDULAKE_SUPERSET_SECRET_KEY"]
    key_file = Path(os.environ.get("EDULAKE_SUPERSET_SECRET_FILE") or _HOME / "secret_key")
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(42))
        except FileExistsError:  # another process generated it first
            pass
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
SQLALCHEMY_DATABASE_URI = f"sqlite:///{_HOME / 'superset.db'}?check_same_thread=false"
DATA_DIR = str(_HOME)
UPLOAD_FOLDER = str(_HOME / "uploads")

# Offline machine, loopback only: no telemetry, no examples, no external map tiles.
SUPERSET_WEBSERVER_PORT = int(os.environ.get("EDULAKE_SUPERSET_PORT", "8088"))
TALISMAN_ENABLED = False
SCHEDULED_QUERIES = {}
FEATURE_FLAGS = {
    "DASHBOARD_NATIVE_FILTERS": True,
    "DASHBOARD_CROSS_FILTERS": True,
    "ALERT_REPORTS": False,
    "EMBEDDED_SUPERSET": False,
}
BABEL_DEFAULT_LOCALE = "zh"
LANGUAGES = {"zh": {"flag": "cn", "name": "简体中文"}, "en": {"flag": "us", "name": "English"}}
# Charts query a read-only DuckDB file; a small in-process cache is enough on one machine.
CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 300}
DATA_CACHE_CONFIG = CACHE_CONFIG
ROW_LIMIT = 50000
# SQL Lab (admins, and city analysts given the sql_lab role): bounded results and run time
SQL_MAX_ROW = 10000
DISPLAY_MAX_ROW = 10000
SQLLAB_TIMEOUT = 60
SQLLAB_ASYNC_TIME_LIMIT_SEC = 60
# The DuckDB connection can read local files through SQL: only admins get SQL Lab (see the roles).
WTF_CSRF_ENABLED = True
SESSION_COOKIE_SAMESITE = "Lax"
LOG_LEVEL = os.environ.get("EDULAKE_SUPERSET_LOG_LEVEL", "WARNING")
