"""The embedded Airflow, configured entirely through environment variables (airflow.cfg is never edited).

Two profiles (EDULAKE_AIRFLOW_PROFILE or `edulake airflow serve --profile`), the same DAGs on both:
- `embedded` (default): metadata in SQLite under AIRFLOW_HOME; LocalExecutor (Airflow 3 accepts it on SQLite,
  which serialises the writers; `airflow standalone` itself forces it), small parallelism for 2 cores and one
  heavy-work slot, so ingests run one at a time.
- `production`: metadata in PostgreSQL (this home's own cluster, edulake.orchestration.postgres: unix socket
  only, generated password); LocalExecutor with real parallelism: PARALLELISM task slots and
  EDULAKE_AIRFLOW_HEAVY_SLOTS (2) heavy slots, so two feeds ingest at once.

- AIRFLOW_HOME = $EDULAKE_HOME/airflow, DAGs from <repo>/dags.
- api-server on 127.0.0.1:<port> (EDULAKE_AIRFLOW_PORT, default 8080); the execution API URL follows the port,
  otherwise tasks would call :8080 and fail with "connection refused".
- Secrets (JWT secret, API secret key, Fernet key, the admin password) are generated once into
  $EDULAKE_HOME/secrets/ (mode 0600), never into the repo. EDULAKE_AIRFLOW_PASSWORD sets the admin password.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import sys
from pathlib import Path

from edulake import permissions, settings
from edulake.lineage import emitter, names

DEFAULT_PORT = 8080
ADMIN_USER = "admin"
PARALLELISM = 2  # 2 cores; Spark and dbt also share the one heavy-pool slot
PROFILES = ("embedded", "production")
# production: task slots and heavy slots (ingest, dbt build) of the LocalExecutor; EDULAKE_AIRFLOW_PARALLELISM
# and EDULAKE_AIRFLOW_HEAVY_SLOTS set them for a bigger machine
PRODUCTION_PARALLELISM = 4
PRODUCTION_HEAVY_SLOTS = 2
SIMPLE_AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"


def port() -> int:
    return int(os.environ.get("EDULAKE_AIRFLOW_PORT", DEFAULT_PORT))


def base_url(port_: int | None = None) -> str:
    return f"http://127.0.0.1:{port_ or port()}"


def task_hostname() -> str:
    """Airflow's hostname_callable: where the api-server finds a task's log server (see airflow_env)."""
    return os.environ.get("AIRFLOW__API__HOST", "127.0.0.1")


def secrets_file() -> Path:
    return settings.paths().secrets / "airflow.json"


def passwords_file() -> Path:
    """The simple auth manager's users -> passwords file (JSON)."""
    return settings.paths().secrets / "airflow_passwords.json"




def ensure_secrets() -> dict[str, str]:
    """The Airflow secrets of this EDULAKE_HOME, generated on first use."""
    path = secrets_file()
    if path.exists():
        return json.loads(path.read_text())
    values = {
        "jwt_secret": secrets.token_urlsafe(48),
        "api_secret_key": secrets.token_urlsafe(32),
        "fernet_key": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    }
    permissions.write_private(path, json.dumps(values))
    return values


def admin_password() -> str:
    """EDULAKE_AIRFLOW_PASSWORD if given, else the one generated for this home (kept in secrets/)."""
    path = passwords_file()
    current = json.loads(path.read_text()) if path.exists() else {}
    wanted = os.environ.get("EDULAKE_AIRFLOW_PASSWORD") or current.get(ADMIN_USER) or secrets.token_urlsafe(12)
    if current.get(ADMIN_USER) != wanted:
        permissions.write_private(path, json.dumps({**current, ADMIN_USER: wanted}))
    return wanted


def profile(name: str | None = None) -> str:
    """The Airflow profile: `name`, else EDULAKE_AIRFLOW_PROFILE, else embedded."""
    chosen = name or os.environ.get("EDULAKE_AIRFLOW_PROFILE") or "embedded"
    if chosen not in PROFILES:
        raise ValueError(f"unknown Airflow profile {chosen!r}; one of {', '.join(PROFILES)}")
    return chosen


def parallelism(profile_: str | None = None) -> int:
    if profile(profile_) == "production":
        return int(os.environ.get("EDULAKE_AIRFLOW_PARALLELISM", PRODUCTION_PARALLELISM))
    return PARALLELISM


def heavy_slots(profile_: str | None = None) -> int:
    """Slots of the heavy-work pool (ingest and dbt build tasks): 1 embedded, 2 production."""
    if profile(profile_) == "production":
        return int(os.environ.get("EDULAKE_AIRFLOW_HEAVY_SLOTS", PRODUCTION_HEAVY_SLOTS))
    return 1


def metadata_url(profile_: str, home: Path) -> str:
    """SQLite beside AIRFLOW_HOME (embedded), or this home's PostgreSQL cluster (production; the cluster
    itself is started by server.start, not here: building the environment must not start a server)."""
    if profile_ == "production":
        from edulake.orchestration import postgres

        return postgres.url()
    return f"sqlite:///{home / 'airflow.db'}"


def engine_name() -> str:
    """EDULAKE_ENGINE (duckdb by default); read without importing the lake (DAG files import this module)."""
    from edulake.lake.engines import name

    return name()


def airflow_env(port_: int | None = None, airflow_home: Path | None = None,
                profile_: str | None = None) -> dict[str, str]:
    """Every setting of the embedded Airflow, as AIRFLOW__* variables (they win over airflow.cfg)."""
    profile_ = profile(profile_)
    paths = settings.paths()
    home = Path(airflow_home or paths.airflow_home)
    port_ = port_ or port()
    keys = ensure_secrets()
    admin_password()  # make sure the passwords file exists before the api-server reads it
    venv_bin = str(Path(sys.executable).parent)
    path_var = os.environ.get("PATH", "")
    return {
        "EDULAKE_HOME": str(paths.home),
        "EDULAKE_ENGINE": engine_name(),  # the lake engine every ingest task runs on
        "EDULAKE_AIRFLOW_PROFILE": profile_,  # read again by prepare (the heavy pool's slots)
        "AIRFLOW_HOME": str(home),
        # `airflow standalone`/the scheduler start subprocesses named `airflow`: the venv's bin must be on PATH
        "PATH": path_var if venv_bin in path_var.split(os.pathsep) else f"{venv_bin}{os.pathsep}{path_var}",
        "AIRFLOW__CORE__DAGS_FOLDER": str(settings.DAGS_DIR),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url(profile_, home),
        "AIRFLOW__CORE__PARALLELISM": str(parallelism(profile_)),
        "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "2",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__FERNET_KEY": keys["fernet_key"],
        "AIRFLOW__CORE__AUTH_MANAGER": SIMPLE_AUTH_MANAGER,
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords_file()),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base_url(port_)}/execution/",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port_),
        "AIRFLOW__API__BASE_URL": base_url(port_),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__SECRET_KEY": keys["api_secret_key"],
        "AIRFLOW__API__EXPOSE_CONFIG": "False",
        "AIRFLOW__API_AUTH__JWT_SECRET": keys["jwt_secret"],
        # the worker log server (edulake.orchestration.airflow_log_server, on the api-server's host) listens too: keep
        # it beside the api port so two homes can run side by side
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(8793 if port_ == DEFAULT_PORT else port_ + 1),
        # the DAG files change only with the code: re-parse every 2 min (each parse costs ~1 CPU-second,
        # which 2 busy cores notice), look for new files every minute
        # the api-server fetches a running task's log from http://<task hostname>:<log port>: every component
        # runs on this machine and the log server listens on loopback only, so the hostname is loopback
        "AIRFLOW__CORE__HOSTNAME_CALLABLE": "edulake.orchestration.config.task_hostname",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "60",
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "120",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        # OpenLineage (apache-airflow-providers-openlineage): the same file transport as the lake and dbt,
        # into the restricted zone; edulake.lineage.store loads the files into ops/lineage
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(emitter.transport_config("airflow")),
        "AIRFLOW__OPENLINEAGE__NAMESPACE": names.JOB_NAMESPACE,
    }


def apply(port_: int | None = None, airflow_home: Path | None = None,
          profile_: str | None = None) -> dict[str, str]:
    """Configure this process (and its children) for the embedded Airflow. Call before importing airflow."""
    env = airflow_env(port_, airflow_home, profile_)
    os.environ.update(env)
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    permissions.private_dir(emitter.events_dir())  # the file transport does not create its folder
    return env
