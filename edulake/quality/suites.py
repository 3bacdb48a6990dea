"""GX expectation suites generated from schemas/ (via edulake.standard): expectations/<feed>.json.

One file per feed holding one GX ExpectationSuite per table (GX suites apply to one data asset), in
GX's own JSON form. Every check of the table's compiled program (edulake.quality.stage, the checks the
lake evaluates and counts in ops/quality) is ONE EdulakeUnexpectedRowsExpectation (GX's
UnexpectedRowsExpectation, counting only) whose query selects, from the batch GX validates, the rows
where the check's SQL (`Check.unexpected()`, the one implementation of the rule) is TRUE. Each
expectation's meta holds the rule, severity and source column, and the check's name and parameters as
the lake reports them (`check`, `params`).

The query selects only lineage (batch, file, row): whatever result format GX is given, it can never
store an identifier's value. The files are committed; `edulake quality check` fails when they disagree
with schemas/.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

from great_expectations.core import ExpectationSuite
from great_expectations.expectations import UnexpectedRowsExpectation

from edulake import settings, standard
from edulake.quality import batch
from edulake.quality.checks import Check
from edulake.quality.stage import Program, compile_table
from edulake.standard import Standard, Table

GX_SEVERITY = {"error": "critical", "fatal": "critical", "warn": "warning"}
LINEAGE_SELECTED = "_batch_id, _source_file, _row_number"  # what an unexpected row is reported by


class EdulakeUnexpectedRowsExpectation(UnexpectedRowsExpectation):
    """GX's UnexpectedRowsExpectation, counting only. GX's own class always computes two metrics, each a
    full evaluation of the rule: the count, and `unexpected_rows_query.table` (up to 200 sample rows, which
    only a COMPLETE result shows). The lake keeps results at SUMMARY, so that second query was the rule
    evaluated again for nothing: half of GX's queries. The count is GX's own metric, its query unchanged;
    the renderers (Data Docs) are GX's, inherited."""

    metric_dependencies: ClassVar[tuple[str, ...]] = ("unexpected_rows_query.row_count",)

    def _validate(self, metrics: dict, runtime_configuration: dict | None = None, execution_engine=None) -> dict:
        unexpected = metrics["unexpected_rows_query.row_count"]
        return {"success": unexpected == 0, "result": {"observed_value": unexpected}}


def suite_name(table: Table) -> str:
    return f"edulake.{table.qualified_name}"


def unexpected_rows_query(check: Check) -> str:
    """GX's query: the rows of `{batch}` failing the check. GX formats it with str.format, so the
    braces of the rule's SQL (regex quantifiers such as \\d{17}) are doubled."""
    condition = check.unexpected().replace("{", "{{").replace("}", "}}")
    return f"SELECT {LINEAGE_SELECTED} FROM {{batch}} WHERE {condition}"


def expectation(check: Check) -> EdulakeUnexpectedRowsExpectation:
    where = f"「{check.column}」" if check.column else ""
    return EdulakeUnexpectedRowsExpectation(
        unexpected_rows_query=unexpected_rows_query(check),
        description=f"{check.rule}{where}: {check.message}",
        severity=GX_SEVERITY[check.severity],
        meta={"rule": check.rule, "severity": check.severity, "column": check.column,
              "check": check.expectation, "params": check.kwargs})


def program_suite(program: Program) -> ExpectationSuite:
    """The suite of a compiled table: one expectation per check the lake counts in ops/quality."""
    table = program.table
    meta = {"generated_from": "schemas/ (edulake quality generate)", "table": table.qualified_name,
            "label": table.label, "batch_rules": list(batch.BATCH_RULES),
            "batch_rules_of_the_standard": sorted(r.name for r in table.rules if r.severity == "fatal")}
    return ExpectationSuite(name=suite_name(table), expectations=[expectation(c) for c in program.suite], meta=meta)


def table_suite(table: Table, std: Standard) -> ExpectationSuite:
    return program_suite(compile_table(table, std))


def feed_document(feed: str, std: Standard) -> dict:
    suites = {t.qualified_name: table_suite(t, std).to_json_dict() for t in std.feed(feed).tables}
    for s in suites.values():
        s["meta"].pop("great_expectations_version", None)  # the suite follows schemas/, not the GX release
        s.pop("id", None)
        for e in s["expectations"]:
            e.pop("id", None)  # GX gives ids when a suite is saved to a context: not part of the standard
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
