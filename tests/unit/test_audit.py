"""`edulake audit` (issue 19, dependencies): a known vulnerability fails it unless excepted with a reason, and
an audit that could not look packages up never passes."""

from __future__ import annotations

import datetime as dt

import pytest

from edulake import audit


def test_the_committed_exceptions_are_valid():
    for e in audit.load_exceptions():
        assert e.reason.strip() and e.environment in audit.ENVIRONMENTS


def test_an_exception_without_a_reason_is_refused(tmp_path):
    bad = tmp_path / "exceptions.yaml"
    bad.write_text("exceptions:\n  - {id: GHSA-1, environment: pipeline, package: x, review_by: 2030-01-01}\n")
    with pytest.raises(audit.AuditError, match="lacks reason"):
        audit.load_exceptions(bad)


def test_a_known_vulnerable_release_is_found_or_the_audit_says_it_could_not_look(tmp_path):
    """requests 2.19.1 has CVE-2018-18074 (PYSEC-2018-28). Where PyPI's per-release JSON API answers, pip-audit
    reports it; where it does not (a registry proxy serving only the index), pip-audit skips the package
    and reports "no known vulnerabilities" — which must come out as a failure to audit, not a pass."""
    req = tmp_path / "requirements.txt"
    req.write_text("requests==2.19.1\n")
    try:
        report = audit.run_pip_audit("pipeline", req, "pypi")
    except audit.AuditError as e:  # the service itself unreachable: reported, not passed
        assert "could not audit" in str(e)
        return
    findings, skipped = audit.parse_report("pipeline", report)
    if skipped:
        assert not findings and "requests" in skipped[0]
    else:
        assert any("PYSEC-2018-28" in (f.id, *f.aliases) or "CVE-2018-18074" in (f.id, *f.aliases)
                   for f in findings), findings


def test_an_exception_covers_its_advisory_by_alias_until_its_review_date():
    f = audit.Finding("superset", "flask", "2.0.0", "PYSEC-2023-62", ("GHSA-m2qf-hxjv-5gpq", "CVE-2023-30861"), ("2.2.5",))
    e = audit.Exception_("CVE-2023-30861", "superset", "flask", "not reachable: no session cookie caching proxy",
                         dt.date(2030, 1, 1))
    assert e.covers(f)
    assert not audit.Exception_("CVE-2023-30861", "pipeline", "flask", "r", dt.date(2030, 1, 1)).covers(f)
    assert not audit.Exception_("CVE-2000-1", "superset", "flask", "r", dt.date(2030, 1, 1)).covers(f)
    today = dt.date(2029, 6, 1)
    assert audit.apply_exceptions([f], [e], today) == ([], [f], [])
    expired = audit.Exception_(e.id, e.environment, e.package, e.reason, dt.date(2029, 5, 31))
    assert audit.apply_exceptions([f], [expired], today) == ([f], [], [expired])
    assert audit.apply_exceptions([], [e], today) == ([], [], [e])  # no longer needed: reported
