"""Where sharing keeps its things, its ports and its secrets — one place for every setting of the package."""

from __future__ import annotations

import os
import secrets
from functools import cache
from pathlib import Path

import yaml

from edulake import permissions, settings

DEFAULT_SHARING_PORT = 8090  # Delta Sharing server
DEFAULT_API_PORT = 8091  # data service API (+ the dbt docs catalog under /catalog/)
SCHEMA_NAME = "edulake"  # the one schema inside every share
CITY_SHARE = "city"  # the commission's share: every district's rows
FILE_URL_TTL_S = 3600  # lifetime of a signed file URL
CLIENT_REQUIREMENTS = Path(__file__).with_name("client-requirements.txt")


def sharing_port() -> int:
    return int(os.environ.get("EDULAKE_SHARING_PORT", DEFAULT_SHARING_PORT))


def api_port() -> int:
    return int(os.environ.get("EDULAKE_API_PORT", DEFAULT_API_PORT))


def workers() -> int:
    """uvicorn worker processes per server (EDULAKE_SERVE_WORKERS): one per core by default."""
    return int(os.environ.get("EDULAKE_SERVE_WORKERS", os.cpu_count() or 1))


def home() -> Path:
    """$EDULAKE_HOME/sharing: the shared Delta tables, pid files and server logs."""
    return settings.paths().home / "sharing"


def delta_root() -> Path:
    return home() / "delta"


def audit_path() -> Path:
    return settings.paths().ops / "audit"


def tokens_file() -> Path:
    return settings.paths().secrets / "sharing_tokens.json"


def client_venv() -> Path:
    """The official Delta Sharing client's own environment (git-ignored, shared by every home)."""
    return Path(os.environ.get("EDULAKE_SHARING_CLIENT_VENV", settings.REPO_ROOT / ".sharing-client-venv")).resolve()




def url_signing_key() -> bytes:
    """HMAC key of the file URLs: EDULAKE_SHARING_URL_KEY, else generated once into $EDULAKE_HOME/secrets."""
    env = os.environ.get("EDULAKE_SHARING_URL_KEY")
    if env:
        return env.encode()
    path = settings.paths().secrets / "sharing_url.key"
    if not path.exists():
        permissions.write_private(path, secrets.token_hex(32).encode())
    return path.read_bytes().strip()


@cache
def min_cell_size() -> int:
    """The small-cell threshold: the same dbt var the cockpit suppresses with (one setting, not two)."""
    project = yaml.safe_load((settings.DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    return int(project["vars"]["cockpit:min_cell_size"])
