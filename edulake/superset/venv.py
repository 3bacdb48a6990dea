"""The Superset environment: `uv venv` + `uv pip install -r dashboards/requirements.txt`, once per requirements.

Re-running is a no-op while the requirements file is unchanged (a marker holds the text it was built from);
tests and every EDULAKE_HOME share it, so its ~1-2 minutes are paid once per machine.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import click

from edulake.superset import config


def uv_command() -> list[str]:
    found = shutil.which("uv")
    return [found] if found else [sys.executable, "-m", "uv"]


def ready(venv: Path | None = None) -> bool:
    venv = venv or config.venv_dir()
    marker = venv / ".edulake-requirements"
    return (venv / "bin" / "superset").exists() and marker.exists() and marker.read_text() == config.REQUIREMENTS.read_text()


def ensure_venv(venv: Path | None = None) -> Path:
    venv = venv or config.venv_dir()
    if ready(venv):
        return venv
    steps = [
        [*uv_command(), "venv", "-q", "--allow-existing", "--python", f"{sys.version_info.major}.{sys.version_info.minor}", str(venv)],
        # .pyc written now: this machine kind sets PYTHONDONTWRITEBYTECODE, and Superset's import compiles
        # from source without them (3.9 s -> 1.4 s per process).
        [*uv_command(), "pip", "install", "-q", "--compile-bytecode", "--python", str(venv / "bin" / "python"), "-r",
         str(config.REQUIREMENTS)],
    ]
    for cmd in steps:
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0:
            raise click.ClickException(f"creating the Superset environment failed: {' '.join(cmd)}\n"
                                       f"{result.stdout[-2000:]}{result.stderr[-3000:]}")
    (venv / ".edulake-requirements").write_text(config.REQUIREMENTS.read_text())
    return venv
