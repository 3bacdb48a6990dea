"""Where the Superset part keeps its things, and the environment its processes run with.

- The Superset environment (its own venv, never the pipeline's): $EDULAKE_SUPERSET_VENV, default
  <repo>/.superset-venv (git-ignored, like .jars: a set-up artefact, shared by every EDULAKE_HOME and by tests).
- Metadata (SQLite), the secret key, the pid file and logs: $EDULAKE_HOME/superset.
- The admin password: EDULAKE_SUPERSET_ADMIN_PASSWORD, else one generated into $EDULAKE_HOME/secrets.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from edulake import permissions, settings

DEFAULT_PORT = 8088
ADMIN_USER = "admin"
REQUIREMENTS = settings.DASHBOARDS_DIR / "requirements.txt"
CONFIG_FILE = settings.DASHBOARDS_DIR / "superset_config.py"
BUNDLE_DIR = settings.DASHBOARDS_DIR / "bundle"


def venv_dir() -> Path:
    return Path(os.environ.get("EDULAKE_SUPERSET_VENV", settings.REPO_ROOT / ".superset-venv")).resolve()


def superset_bin() -> Path:
    return venv_dir() / "bin" / "superset"


def python_bin() -> Path:
    return venv_dir() / "bin" / "python"


def port() -> int:
    return int(os.environ.get("EDULAKE_SUPERSET_PORT", DEFAULT_PORT))


def base_url(port_: int | None = None) -> str:
    return f"http://127.0.0.1:{port_ or port()}"


def home() -> Path:
    return settings.paths().superset_home


def passwords_file() -> Path:
    return settings.paths().secrets / "superset_passwords.json"




def password(user: str = ADMIN_USER) -> str:
    """The admin's password from EDULAKE_SUPERSET_ADMIN_PASSWORD, else generated once per home (other users:
    generated once). Kept in $EDULAKE_HOME/secrets/superset_passwords.json (0600)."""
    path = passwords_file()
    current = json.loads(path.read_text()) if path.exists() else {}
    env = os.environ.get("EDULAKE_SUPERSET_ADMIN_PASSWORD") if user == ADMIN_USER else None
    wanted = env or current.get(user) or secrets.token_urlsafe(12)
    if current.get(user) != wanted:
        permissions.write_private(path, json.dumps({**current, user: wanted}))
    return wanted


def superset_env(port_: int | None = None) -> dict[str, str]:
    """The environment of every Superset process: the project config, the home, this venv first on PATH."""
    h = home()
    h.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env.update({
        "SUPERSET_CONFIG_PATH": str(CONFIG_FILE),
        "FLASK_APP": "superset.app:create_app()",
        "SUPERSET_HOME": str(h),
        "EDULAKE_HOME": str(settings.paths().home),
        "EDULAKE_SUPERSET_HOME": str(h),
        "EDULAKE_SUPERSET_SECRET_FILE": str(settings.paths().secrets / "superset_secret_key"),
        "EDULAKE_SUPERSET_PORT": str(port_ or port()),
        "PATH": f"{venv_dir() / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        # Superset's own telemetry and example loading would try the internet
        "SCARF_ANALYTICS": "false",
        "SUPERSET_LOAD_EXAMPLES": "no",
    })
    return env
