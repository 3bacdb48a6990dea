"""Owner-only state: everything under EDULAKE_HOME is readable by its owner alone.

The home holds the identity vault (clear 身份证号, 学籍号, names), the landing copies, bronze, quarantine,
the inbox, Airflow's and Superset's metadata and every secret. Many writers create files there — our code,
Spark/Hadoop, delta-rs, DuckDB, dbt, Airflow, Superset — and each would otherwise follow the user's umask
(typically 022: world-readable). One mechanism covers them all:

- `restrict_process()` sets the process umask to 077 early in every entry point (the `edulake` command, the
  DAG files Airflow's processes import, the servers edulake launches, which inherit it); every file and
  folder created afterwards, by any library, is owner-only.
- `spark_conf()`: Hadoop's local file system does not follow the process umask; it chmods what it writes
  by its own `fs.permissions.umask-mode` (022 by default). A Spark session must be built with this conf.
- `private_dir()` creates a folder 0700 whatever the umask.
- `repair()` (run by `edulake setup`) takes group and other bits off an existing home; `exposed()` lists
  what is still open (tests, `edulake setup`).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

OWNER_ONLY_UMASK = 0o077
# A folder open to others lets them list or enter it; a file, read or write it. An execute-only file
# (Spark chmods the jars it copies to a+x) gives nothing away.
_OPEN_DIR = 0o077
_OPEN_FILE = 0o066


def restrict_process() -> int:
    """Make every file this process (and the children it starts from now on) creates owner-only.

    Returns the previous umask. Idempotent and cheap: call it first thing in an entry point, before
    anything starts a child (a JVM keeps the umask it was started with)."""
    return os.umask(OWNER_ONLY_UMASK)


def spark_conf() -> dict[str, str]:
    """Spark settings that make Hadoop's local file system write owner-only files (0600) and folders (0700)."""
    return {"spark.hadoop.fs.permissions.umask-mode": f"{OWNER_ONLY_UMASK:03o}"}


def write_private(path: Path, data: bytes | str, own_folder: bool = True) -> None:
    """Write a file owner-only (0600), atomically (a reader never sees half of it). `own_folder`: the folder is
    ours (secrets/) and is made 0700; a file written where the user asked (a profile) leaves its folder alone."""
    path = Path(path)
    if own_folder:
        private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data.encode("utf-8") if isinstance(data, str) else data)
    tmp.replace(path)


def private_dir(path: Path) -> Path:
    """Create `path` and its missing parents as 0700, whatever the umask; tighten `path` if it exists open.

    (Path.mkdir(parents=True) gives the parents the umask's default mode, not `mode`.)"""
    path = Path(path)
    missing = []
    while not path.exists() and path != path.parent:
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
        folder.chmod(0o700)
    target = missing[0] if missing else path
    if stat.S_IMODE(target.stat().st_mode) & _OPEN_DIR:
        target.chmod(0o700)
    return target


def _walk(root: Path) -> Iterator[tuple[Path, os.stat_result]]:
    """Every path under root (root included), without following symlinks."""
    if not root.exists():
        return
    yield root, root.lstat()
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder, name)
            try:
                yield path, path.lstat()
            except FileNotFoundError:  # removed while walking (a server running on this home)
                continue


def _is_open(st: os.stat_result) -> bool:
    if stat.S_ISLNK(st.st_mode):
        return False  # a link's own mode means nothing; its target is walked where it lives
    mask = _OPEN_DIR if stat.S_ISDIR(st.st_mode) else _OPEN_FILE
    return bool(stat.S_IMODE(st.st_mode) & mask)


def exposed(root: Path) -> list[tuple[Path, int]]:
    """(path, mode) of every folder or file under root that someone other than the owner can use."""
    return [(p, stat.S_IMODE(st.st_mode)) for p, st in _walk(Path(root)) if _is_open(st)]


def repair(root: Path) -> int:
    """Take the group and other bits off every folder and file under root; return how many changed.

    Owner bits stay (an executable stays executable for its owner). Symlinks are not followed."""
    changed = 0
    for path, st in _walk(Path(root)):
        if not _is_open(st):
            continue
        mode = stat.S_IMODE(st.st_mode)
        try:
            path.chmod((mode & 0o700) | (0o700 if stat.S_ISDIR(st.st_mode) else 0))
        except (FileNotFoundError, PermissionError):  # gone, or another account's: exposed() still lists it
            continue
        changed += 1
    return changed


def describe(found: list[tuple[Path, int]], root: Path, limit: int = 10) -> str:
    """A short, readable list of exposed paths for an error message."""
    lines = [f"{oct(mode)} {path.relative_to(root) if path != root else path}" for path, mode in found[:limit]]
    more = f"\n… and {len(found) - limit} more" if len(found) > limit else ""
    return "\n".join(lines) + more
