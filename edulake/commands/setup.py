"""`edulake setup`: fetch what the platform needs before any job runs, so nothing downloads later.

- Delta jars for Spark, resolved by Maven from spark_jobs/pom.xml into $EDULAKE_JARS (./.jars).
- A pseudonymisation key under $EDULAKE_HOME/secrets (never in the repo), unless one is given
  through EDULAKE_PSEUDONYM_KEY.
- The home owner-only: its zones created 0700, and the group and other bits taken off anything an
  earlier version (or another tool) left open under it (edulake.permissions).
Re-running is a no-op once everything is in place.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from pathlib import Path

import click

from edulake import permissions, settings

POM = settings.SPARK_JOBS_DIR / "pom.xml"


def jars_ready(folder: Path) -> bool:
    marker = folder / ".resolved"
    return marker.exists() and marker.read_text() == POM.read_text()


def resolve_jars(folder: Path | None = None) -> Path:
    folder = folder or settings.jars_dir()
    if jars_ready(folder):
        return folder
    if shutil.which("mvn") is None:
        raise click.ClickException("Maven (mvn) is needed to resolve the Delta jars: apt-get install maven")
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    cmd = ["mvn", "-q", "-B", "-f", str(POM), "dependency:copy-dependencies",
           f"-DoutputDirectory={tmp}", "-DincludeGroupIds=io.delta", "-DexcludeArtifactIds=delta-kernel-unitycatalog"]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise click.ClickException(f"Maven could not resolve the Delta jars:\n{result.stdout[-3000:]}{result.stderr[-2000:]}")
    (tmp / ".resolved").write_text(POM.read_text())
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)  # atomic swap: a half-resolved folder is never used
    return folder


def ensure_pseudonym_key() -> Path | None:
    if os.environ.get("EDULAKE_PSEUDONYM_KEY"):
        return None
    key_file = settings.paths().secrets / "pseudonym.key"
    if not key_file.exists():
        permissions.private_dir(key_file.parent)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return key_file


def secure_home() -> tuple[settings.Paths, int]:
    """Create the home's zones owner-only and repair the modes of whatever is already there."""
    p = settings.paths().create()
    return p, permissions.repair(p.home)


@click.command()
def setup() -> None:
    """安装依赖工件: Delta jars (Maven) and the pseudonymisation key; 收紧数据目录权限."""
    p, repaired = secure_home()
    left = permissions.exposed(p.home)
    if left:  # e.g. files owned by another account: chmod is refused silently only for those
        raise click.ClickException(f"{len(left)} paths under {p.home} are still open to other accounts:\n"
                                   + permissions.describe(left, p.home))
    click.echo(f"数据目录 {p.home}: 仅属主可访问 (0700/0600), 修复权限 {repaired} 处")
    folder = resolve_jars()
    jars = sorted(p.name for p in folder.glob("*.jar"))
    click.echo(f"Delta jars ({len(jars)}) in {folder}: {', '.join(jars)}")
    key = ensure_pseudonym_key()
    click.echo(f"假名密钥: {key if key else 'EDULAKE_PSEUDONYM_KEY (environment)'}")
