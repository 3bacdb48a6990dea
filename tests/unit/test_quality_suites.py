"""The committed GX suites are what schemas/ generates, and every rule of the standard is accounted for."""

from edulake import standard
from edulake.quality import checks, suites


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


def test_every_row_rule_of_the_standard_has_an_expectation_or_is_listed_as_pending():
    std = standard.load()
    for table in std.tables():
        suite = suites.load_suite(table)
        rules_in_suite = {e.meta["rule"] for e in suite.expectations}
        for rule in table.rules:
            if rule.severity == "fatal":
                continue
            assert rule.name in rules_in_suite or rule.name in checks.NOT_IMPLEMENTED, (table.qualified_name, rule)
        for f in table.fields:
            if f.required:
                assert any(e.meta["rule"] == "required" and e.meta["column"] == f.column for e in suite.expectations)
