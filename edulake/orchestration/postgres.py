"""Airflow's metadata database for the production profile: a PostgreSQL cluster of this EDULAKE_HOME alone.

Debian's `postgresql` package provides the programs (`make postgres` installs it with apt when missing); this
module runs them as an unprivileged cluster under $EDULAKE_HOME/postgres/:

- `initdb` once, superuser `edulake` with a generated password (secrets/postgres.json, 0600; never in the repo),
  scram-sha-256 for every connection;
- no TCP at all (`listen_addresses = ''`): the server listens on a unix socket in postgres/run/, a 0700 folder,
  with the socket itself 0700 — only this account can connect;
- `pg_ctl start|stop`, the log in logs/postgres.log; the database `airflow` is created on first start.

PostgreSQL refuses to run as root (CI runs as root). Then every program runs inside a user namespace
(`unshare --user --map-user=…`): the server sees itself as an ordinary user, while on disk its files stay
owned by the account that runs edulake, inside the owner-only home, and no second account needs a way in.
"""

from __future__ import annotations

import glob
import json
import os
import secrets
import shutil
import subprocess
import time
import urllib.parse
from pathlib import Path

from edulake import permissions, settings

SUPERUSER = "edulake"
DATABASE = "airflow"
# the uid the server believes it has inside the user namespace when edulake runs as root (any non-zero id)
NAMESPACE_UID = 1000
BINDIR_GLOB = "/usr/lib/postgresql/*/bin"


class PostgresUnavailable(RuntimeError):
    pass


def folder() -> Path:
    return settings.paths().home / "postgres"


def data_dir() -> Path:
    return folder() / "data"


def socket_dir() -> Path:
    return folder() / "run"


def log_file() -> Path:
    return settings.paths().logs / "postgres.log"


def secrets_file() -> Path:
    return settings.paths().secrets / "postgres.json"


def bindir() -> Path:
    """EDULAKE_PG_BINDIR, else the newest Debian PostgreSQL (/usr/lib/postgresql/<major>/bin)."""
    if os.environ.get("EDULAKE_PG_BINDIR"):
        return Path(os.environ["EDULAKE_PG_BINDIR"])
    found = sorted((Path(p) for p in glob.glob(BINDIR_GLOB) if Path(p, "initdb").exists()),
                   key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    if not found:
        raise PostgresUnavailable("PostgreSQL is not installed: `make postgres` (apt-get install postgresql), "
                                  "or set EDULAKE_PG_BINDIR to the folder holding initdb and pg_ctl")
    return found[-1]


def _command(program: str, *args: str) -> list[str]:
    cmd = [str(bindir() / program), *args]
    if os.geteuid() != 0:
        return cmd
    if shutil.which("unshare") is None:
        raise PostgresUnavailable("running as root: PostgreSQL refuses root, and `unshare` (util-linux) is missing")
    return ["unshare", "--user", f"--map-user={NAMESPACE_UID}", f"--map-group={NAMESPACE_UID}", *cmd]


def _run(program: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(_command(program, *args), capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if check and result.returncode != 0:
        raise PostgresUnavailable(f"{program} {' '.join(args[:3])} failed ({result.returncode}): "
                                  f"{(result.stderr or result.stdout)[-2000:]}")
    return result


def credentials() -> dict[str, str]:
    """The cluster's superuser and its password, generated once for this home (0600)."""
    path = secrets_file()
    if path.exists():
        return json.loads(path.read_text())
    values = {"user": SUPERUSER, "password": secrets.token_urlsafe(24)}
    permissions.write_private(path, json.dumps(values))
    return values


def url() -> str:
    """The SQLAlchemy URL Airflow uses: psycopg2 over the owner-only unix socket."""
    c = credentials()
    host = urllib.parse.quote(str(socket_dir()), safe="/")
    return f"postgresql+psycopg2://{c['user']}:{urllib.parse.quote(c['password'], safe='')}@/{DATABASE}?host={host}"


def _server_settings() -> str:
    # A unix socket path is limited to 107 bytes (sun_path): a deep EDULAKE_HOME must say so clearly.
    socket_path = socket_dir() / ".s.PGSQL.5432"
    if len(str(socket_path).encode()) > 107:
        raise PostgresUnavailable(f"EDULAKE_HOME is too deep for a unix socket ({socket_path}): use a shorter path")
    return "\n".join([
        "# written by edulake at every start (edulake/orchestration/postgres.py)",
        "listen_addresses = ''",  # no TCP: the socket below only
        f"unix_socket_directories = '{socket_dir()}'",
        "unix_socket_permissions = 0700",
        "max_connections = 100",
        "shared_buffers = 64MB",  # a metadata DB on a small machine
        "password_encryption = 'scram-sha-256'",
        "",
    ])


def initialised() -> bool:
    return (data_dir() / "PG_VERSION").exists()


def init() -> None:
    """initdb once: owner-only data folder, scram-sha-256, the generated password."""
    if initialised():
        return
    permissions.restrict_process()
    permissions.private_dir(folder())
    c = credentials()
    pwfile = settings.paths().secrets / f".postgres-init.{os.getpid()}"
    permissions.write_private(pwfile, c["password"])
    try:
        _run("initdb", "-D", str(data_dir()), "-U", c["user"], f"--pwfile={pwfile}", "-A", "scram-sha-256",
             "-E", "UTF8", "--no-locale")
    finally:
        pwfile.unlink(missing_ok=True)
    conf = data_dir() / "postgresql.conf"
    conf.write_text(conf.read_text() + "\ninclude_if_exists = 'edulake.conf'\n")


def running() -> bool:
    return initialised() and _run("pg_ctl", "-D", str(data_dir()), "status", check=False).returncode == 0


def start(timeout: int = 60) -> str:
    """Start the cluster (idempotent), make sure the `airflow` database exists; returns the SQLAlchemy URL."""
    permissions.restrict_process()
    init()
    permissions.private_dir(socket_dir())
    permissions.write_private(data_dir() / "edulake.conf", _server_settings(), own_folder=False)
    if not running():
        log_file().parent.mkdir(parents=True, exist_ok=True)
        _run("pg_ctl", "-D", str(data_dir()), "-l", str(log_file()), "-w", "-t", str(timeout), "start")
    _ensure_database(timeout)
    return url()


def _connect(dbname: str):
    import psycopg2

    c = credentials()
    return psycopg2.connect(dbname=dbname, user=c["user"], password=c["password"], host=str(socket_dir()))


def _ensure_database(timeout: float) -> None:
    import psycopg2

    deadline = time.monotonic() + timeout
    while True:
        try:
            con = _connect("postgres")
            break
        except psycopg2.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    try:
        con.autocommit = True  # CREATE DATABASE cannot run in a transaction
        with con.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        con.close()


def query(sql: str, params: tuple = ()) -> list[dict]:
    """Rows of a query on the Airflow database (tests, status)."""
    con = _connect(DATABASE)
    try:
        with con.cursor() as cur:
            cur.execute(sql, params)
            columns = [d[0] for d in cur.description]
            return [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]
    finally:
        con.close()


def server_pids() -> list[int]:
    """The postmaster's pid (first line of postmaster.pid) while the cluster runs."""
    pidfile = data_dir() / "postmaster.pid"
    try:
        return [int(pidfile.read_text().splitlines()[0])]
    except (OSError, ValueError, IndexError):
        return []


def stop(timeout: int = 60) -> bool:
    """Stop the cluster (fast shutdown: open sessions are ended); True if it was running."""
    if not running():
        return False
    _run("pg_ctl", "-D", str(data_dir()), "-m", "fast", "-w", "-t", str(timeout), "stop")
    return True


if __name__ == "__main__":  # `python -m edulake.orchestration.postgres url`: AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD
    import sys

    if sys.argv[1:] != ["url"]:
        raise SystemExit("usage: python -m edulake.orchestration.postgres url")
    print(url())
