"""sqlfluff (dbt templater, dbt_project/.sqlfluff) finds no violation in the project's SQL: CI fails on new ones.

Compiles the project (no lake needed: an in-memory DuckDB profile), so it takes a minute or two."""

from __future__ import annotations

from edulake.warehouse import lint


def test_dbt_sql_is_sqlfluff_clean(edulake_home):
    result = lint.lint()
    assert result.returncode == 0, (result.stdout + result.stderr)[-6000:]
