"""What an operator reads when a run fails for a reason outside the data: a full disk, damaged state.

`explain(exc)` turns such a failure into one message naming the path or the tables and what to do, or
returns None for anything else (which then surfaces as it is: a bug)."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
from pathlib import Path

from edulake import settings

_NO_SPACE = re.compile(r"no space left on device|disk quota exceeded|os error 28|errno 28", re.IGNORECASE)
_PATH = re.compile(r"(/[^\s'\"`:,()]+)")


def _chain(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def is_disk_full(exc: BaseException | str) -> bool:
    if isinstance(exc, str):
        return bool(_NO_SPACE.search(exc))
    return any((isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT)) or _NO_SPACE.search(str(e))
               for e in _chain(exc))


def _path_in(exc: BaseException | str) -> str | None:
    home = str(settings.paths().home)
    items = [exc] if isinstance(exc, str) else list(_chain(exc))
    for e in items:
        # filename2 first: a copy that fails for space names its source in filename and its destination here
        for name in ((getattr(e, "filename2", None), getattr(e, "filename", None)) if not isinstance(e, str) else ()):
            if name:
                return str(name)
        for m in _PATH.findall(str(e)):
            m = "/" + m.lstrip("/")  # file:///abs/path as delta-rs and DuckDB write it
            if m.startswith(home):
                return m
    return None


@contextlib.contextmanager
def writing(path):
    """Name `path` in a disk-full error raised inside (Arrow's and delta-rs's errors often name no file)."""
    try:
        yield
    except OSError as e:
        if is_disk_full(e) and not (getattr(e, "filename", None) or getattr(e, "filename2", None)):
            raise OSError(errno.ENOSPC, f"No space left on device: {e}", str(path)) from e
        raise
    except Exception as e:
        if is_disk_full(e) and _path_in(e) is None:
            raise OSError(errno.ENOSPC, f"No space left on device: {str(e).splitlines()[0][:300]}", str(path)) from e
        raise


def disk_full_message(exc: BaseException | str) -> str:
    p = settings.paths()
    path = _path_in(exc) or str(p.home)
    where = Path(path)
    while not where.exists() and where != where.parent:
        where = where.parent
    try:
        free = shutil.disk_usage(where).free
        room = f"{free / 2**20:.1f} MiB free on the file system of {where}"
    except OSError:
        room = f"the file system of {where}"
    return (f"磁盘空间不足 (no space left on device) writing {path}: {room}. Free space there and run again: "
            f"every write is one commit, so nothing half-written is visible and a rerun converges.")


def explain(exc: BaseException) -> str | None:
    if is_disk_full(exc):
        return disk_full_message(exc)
    try:
        from edulake.lake import repair

        problems = repair.diagnose(lake=True, warehouse=False)
    except Exception:  # noqa: BLE001 - the diagnosis must not hide the original failure
        return None
    if problems:
        return ("数据湖表损坏 (damaged lake table" + ("s" if len(problems) > 1 else "") + "): "
                + "; ".join(str(pr) for pr in problems) + ". Run `edulake repair` (`edulake repair --check` to "
                f"only look). Original error: {str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__}")
    return None


def home_free_bytes() -> int:
    p = settings.paths()
    return shutil.disk_usage(p.home if p.home.exists() else os.getcwd()).free
