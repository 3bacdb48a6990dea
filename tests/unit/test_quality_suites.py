"""The committed GX suites are what schemas/ generates, every rule of the standard is accounted for, and
every expectation is the SQL of a compiled check (one implementation of each rule)."""

from edulake import standard
from edulake.quality import stage, suites


def test_committed_suites_match_schemas():
    assert suites.differences() == []


def test_suites_regenerate_identically(tmp_path):
    first = {p.name: p.read_text(encoding="utf-8") for p in suites.generate(tmp_path / "a")}
    second = {p.name: p.read_text(encoding="utf-8") for p in suites.generate(tmp_path / "b")}
    assert first == second and set(first) == {f"{f}.json" for f in standard.load().feeds}


def test_a_changed_suite_is_detected(tmp_path):
    written = suites.generate(tmp_path)
    written[0].write_text(written[0].read_text(encoding="utf-8").replace("critical", "warning", 1), encoding="utf-8")
    assert len(suites.differences(tmp_path)) == 1


def test_every_row_rule_of_the_standard_has_an_expectation():
    std = standard.load()
    for table in std.tables():
        suite = suites.load_suite(table)
        rules_in_suite = {e.meta["rule"] for e in suite.expectations}
        for rule in table.rules:
            if rule.severity == "fatal":
                assert rule.name in suite.meta["batch_rules_of_the_standard"], (table.qualified_name, rule)
                continue
            assert rule.name in rules_in_suite, (table.qualified_name, rule)
        for f in table.fields:
            if f.required:
                assert any(e.meta["rule"] == "required" and e.meta["column"] == f.column for e in suite.expectations)


def test_each_expectation_selects_the_lineage_of_the_rows_its_check_fails():
    """GX's query is the compiled check's own SQL (regex braces doubled for GX's str.format) and selects
    lineage only, so no result format can make GX store a value."""
    std = standard.load()
    for table in std.tables():
        program = stage.compile_table(table, std)
        suite = suites.load_suite(table)
        assert len(suite.expectations) == len(program.suite)
        for check, e in zip(program.suite, suite.expectations, strict=True):
            assert e.expectation_type == "edulake_unexpected_rows_expectation"
            assert type(e).metric_dependencies == ("unexpected_rows_query.row_count",)  # one query per rule
            assert (e.meta["rule"], e.meta["column"], e.meta["check"]) == (check.rule, check.column, check.expectation)
            assert e.severity == suites.GX_SEVERITY[check.severity]
            query = e.unexpected_rows_query
            assert query.startswith("SELECT _batch_id, _source_file, _row_number FROM {batch} WHERE ")
            assert query.format(batch="b").endswith(check.unexpected())
