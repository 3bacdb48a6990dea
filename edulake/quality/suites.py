"""GX expectation suites generated from schemas/ (via edulake.standard): expectations/<feed>.json.

One file per feed holding one GX ExpectationSuite per table (GX suites apply to one data asset), in
GX's own JSON form plus the rule, severity and source column of each expectation in its meta.
The files are committed; `edulake quality check` fails when they disagree with schemas/.
"""

from __future__ import annotations

import json
from pathlib import Path

from great_expectations.core import ExpectationSuite
from great_expectations.expectations.registry import get_expectation_impl

from edulake import settings, standard
from edulake.quality import batch, gx_custom  # noqa: F401  (registers the custom expectations)
from edulake.quality.checks import checks
from edulake.standard import Standard, Table

GX_SEVERITY = {"error": "critical", "fatal": "critical", "warn": "warning"}


def suite_name(table: Table) -> str:
    return f"edulake.{table.qualified_name}"


def table_suite(table: Table, std: Standard) -> ExpectationSuite:
    expectations = []
    for c in checks(table, std) + batch.checks(table):
        cls = get_expectation_impl(c.expectation)
        e = cls(**c.kwargs, severity=GX_SEVERITY[c.severity],
                meta={"rule": c.rule, "severity": c.severity, "column": c.column})
        expectations.append(e)
    meta = {"generated_from": "schemas/ (edulake quality generate)", "table": table.qualified_name,
            "label": table.label, "rules_not_implemented": {}}
    return ExpectationSuite(name=suite_name(table), expectations=expectations, meta=meta)


def feed_document(feed: str, std: Standard) -> dict:
    suites = {t.qualified_name: table_suite(t, std).to_json_dict() for t in std.feed(feed).tables}
    for s in suites.values():
        s["meta"].pop("great_expectations_version", None)  # the suite follows schemas/, not the GX release
    return {"feed": feed, "generated_from": "schemas/", "suites": suites}


def render(feed: str, std: Standard) -> str:
    return json.dumps(feed_document(feed, std), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def path(feed: str, root: Path | None = None) -> Path:
    return (root or settings.EXPECTATIONS_DIR) / f"{feed}.json"


def generate(root: Path | None = None) -> list[Path]:
    std = standard.load()
    out = []
    for feed in std.feeds:
        p = path(feed, root)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(render(feed, std), encoding="utf-8")
        out.append(p)
    return out


def differences(root: Path | None = None) -> list[str]:
    """Feeds whose committed suite differs from what schemas/ generates (or is missing / extra)."""
    std = standard.load()
    problems = []
    for feed in std.feeds:
        p = path(feed, root)
        if not p.exists():
            problems.append(f"{p}: missing (run `edulake quality generate`)")
        elif p.read_text(encoding="utf-8") != render(feed, std):
            problems.append(f"{p}: differs from schemas/ (run `edulake quality generate`)")
    folder = root or settings.EXPECTATIONS_DIR
    for extra in sorted(folder.glob("*.json")) if folder.exists() else []:
        if extra.stem not in std.feeds:
            problems.append(f"{extra}: no feed {extra.stem!r} in schemas/")
    return problems


def load_suite(table: Table, root: Path | None = None) -> ExpectationSuite:
    """The committed suite of a table, as GX reads it."""
    doc = json.loads(path(table.feed, root).read_text(encoding="utf-8"))
    data = dict(doc["suites"][table.qualified_name])
    return ExpectationSuite(**data)
