"""`edulake audit`: known vulnerabilities in the locked pipeline environment (uv.lock) and in Superset's
environment (dashboards/requirements.txt), with pip-audit; exceptions in security/audit-exceptions.yaml.

The audit fails (exit 1) on any vulnerability not excepted, and also (exit 2) when it could not audit:
the vulnerability database unreachable, or a package it could not look up. pip-audit itself reports
"No known vulnerabilities found" when every package was skipped — e.g. behind a registry proxy that
serves PyPI's /simple index but not its per-release JSON API (/pypi/<name>/<version>/json), where the
PyPI service finds the advisories — so a skipped package counts as a failure here, never as a pass.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import click
import yaml

from edulake import settings
from edulake.superset.venv import uv_command

EXCEPTIONS_FILE = settings.REPO_ROOT / "security" / "audit-exceptions.yaml"
ENVIRONMENTS = ("pipeline", "superset")
SERVICES = ("pypi", "osv")  # pip-audit's vulnerability services: PyPI's JSON API, or api.osv.dev


@dataclass(frozen=True)
class Finding:
    environment: str
    package: str
    version: str
    id: str
    aliases: tuple[str, ...]
    fix_versions: tuple[str, ...]


@dataclass(frozen=True)
class Exception_:
    id: str
    environment: str
    package: str
    reason: str
    review_by: dt.date

    def covers(self, f: Finding) -> bool:
        return (self.environment == f.environment and self.package == f.package
                and self.id in (f.id, *f.aliases))


class AuditError(click.ClickException):
    exit_code = 2


def load_exceptions(path: Path = EXCEPTIONS_FILE) -> list[Exception_]:
    """The committed exceptions; every entry needs id, environment, package, a reason and a review date."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out = []
    for i, e in enumerate(doc.get("exceptions") or [], 1):
        missing = [k for k in ("id", "environment", "package", "reason", "review_by") if not e.get(k)]
        if missing:
            raise AuditError(f"{path}: exception {i} lacks {', '.join(missing)}")
        if e["environment"] not in ENVIRONMENTS:
            raise AuditError(f"{path}: exception {i}: environment {e['environment']!r}, expected one of {ENVIRONMENTS}")
        review = e["review_by"] if isinstance(e["review_by"], dt.date) else dt.date.fromisoformat(str(e["review_by"]))
        out.append(Exception_(str(e["id"]), e["environment"], str(e["package"]).lower(), str(e["reason"]), review))
    return out


def parse_report(environment: str, report: dict) -> tuple[list[Finding], list[str]]:
    """pip-audit's JSON report -> (findings, packages it could not audit, with the reason)."""
    findings, skipped = [], []
    for dep in report.get("dependencies", []):
        if dep.get("skip_reason"):
            skipped.append(f"{dep['name']}: {dep['skip_reason']}")
            continue
        for v in dep.get("vulns", []):
            findings.append(Finding(environment, dep["name"].lower(), dep.get("version", ""), v["id"],
                                    tuple(v.get("aliases", [])), tuple(v.get("fix_versions", []))))
    return findings, skipped


def _requirements(environment: str, folder: Path) -> Path:
    """Pinned requirements of one environment: uv.lock exported, or Superset's environment frozen."""
    out = folder / f"{environment}.txt"
    if environment == "pipeline":
        cmd = [*uv_command(), "export", "--frozen", "--no-hashes", "--no-emit-project", "--all-groups", "-q",
               "--project", str(settings.REPO_ROOT), "-o", str(out)]
    else:
        from edulake.superset import config, venv

        venv.ensure_venv()  # the environment the cockpit runs in, built from dashboards/requirements.txt
        cmd = [*uv_command(), "pip", "freeze", "--python", str(config.python_bin())]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=settings.REPO_ROOT)
    if done.returncode != 0:
        raise AuditError(f"listing the {environment} environment failed: {' '.join(cmd)}\n{done.stderr[-2000:]}")
    if environment != "pipeline":
        out.write_text(done.stdout)
    return out


def run_pip_audit(environment: str, requirements: Path, service: str) -> dict:
    cmd = [sys.executable, "-m", "pip_audit", "-r", str(requirements), "--no-deps", "--disable-pip",
           "--vulnerability-service", service, "--format", "json", "--progress-spinner", "off"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    # 0: nothing found, 1: vulnerabilities found; anything else (a traceback): the audit did not run
    if done.returncode not in (0, 1) or not done.stdout.strip().startswith("{"):
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise AuditError(f"pip-audit could not audit the {environment} environment ({service} service): {last}")
    return json.loads(done.stdout)


def audit(environments=ENVIRONMENTS, service: str = "pypi", today: dt.date | None = None):
    """Audit each environment; returns (open findings, excepted findings, expired or unused exceptions)."""
    today = today or dt.date.today()
    exceptions = load_exceptions()
    found: list[Finding] = []
    with tempfile.TemporaryDirectory(prefix="edulake-audit-") as tmp:
        for env in environments:
            findings, skipped = parse_report(env, run_pip_audit(env, _requirements(env, Path(tmp)), service))
            if skipped:
                raise AuditError(f"the {env} environment could not be audited: {len(skipped)} packages were not "
                                 f"looked up by the {service} service, e.g. {skipped[0]}")
            found += findings
    return apply_exceptions(found, exceptions, today, environments)


def apply_exceptions(found: list[Finding], exceptions: list[Exception_], today: dt.date, environments=ENVIRONMENTS):
    """(findings no live exception covers, findings excepted, exceptions expired or no longer needed)."""
    live = [e for e in exceptions if e.review_by >= today]
    open_ = [f for f in found if not any(e.covers(f) for e in live)]
    excepted = [f for f in found if f not in open_]
    stale = [e for e in exceptions if e.environment in environments
             and (e.review_by < today or not any(e.covers(f) for f in found))]
    return open_, excepted, stale


@click.command("audit")
@click.option("--environment", "environments", type=click.Choice(ENVIRONMENTS), multiple=True,
              help="only this environment (repeatable); default both")
@click.option("--service", type=click.Choice(SERVICES), default=lambda: os.environ.get("EDULAKE_AUDIT_SERVICE", "pypi"),
              show_default="pypi (EDULAKE_AUDIT_SERVICE)", help="the vulnerability database pip-audit asks")
def audit_command(environments, service) -> None:
    """依赖漏洞审计: pip-audit over uv.lock and Superset's environment, with the committed exceptions."""
    open_, excepted, stale = audit(environments or ENVIRONMENTS, service)
    for f in excepted:
        click.echo(f"已豁免 {f.environment} {f.package} {f.version} {f.id}")
    for e in stale:
        click.echo(f"豁免已过期或不再需要: {e.id} ({e.environment} {e.package}, review by {e.review_by})")
    for f in open_:
        fix = f"fixed in {', '.join(f.fix_versions)}" if f.fix_versions else "no fix yet"
        click.echo(f"漏洞 {f.environment} {f.package} {f.version} {f.id} ({fix})")
    if open_:
        raise click.ClickException(f"{len(open_)} known vulnerabilities without an exception "
                                   f"(fix them, or add each to {EXCEPTIONS_FILE.relative_to(settings.REPO_ROOT)} "
                                   "with its reason)")
    click.echo(f"依赖审计通过 ({', '.join(environments or ENVIRONMENTS)}; {service})")
