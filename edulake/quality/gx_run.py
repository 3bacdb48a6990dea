"""Running the committed GX suite with Great Expectations itself, on the staged Spark DataFrame of a
load: GX's validation result is stored (file context under paths().quality/gx) and Data Docs rebuilt.

GX computes each expectation's counts with the same Spark conditions that route rows (gx_custom.py
declares conditions.py), so its result agrees with ops/quality; tests check that it does.
"""

from __future__ import annotations

import great_expectations as gx
from great_expectations.checkpoint import UpdateDataDocsAction
from pyspark.sql import DataFrame

from edulake import settings
from edulake.quality import gx_custom, suites  # noqa: F401  (custom expectations registered)
from edulake.standard import Table

DATASOURCE = "edulake_spark"


def context():
    root = settings.paths().quality
    root.mkdir(parents=True, exist_ok=True)
    return gx.get_context(mode="file", project_root_dir=str(root))


def _validation_definition(ctx, table: Table):
    name = suites.suite_name(table)
    try:
        source = ctx.data_sources.get(DATASOURCE)
    except (KeyError, ValueError):
        source = ctx.data_sources.add_spark(DATASOURCE)
    try:
        asset = source.get_asset(table.qualified_name)
    except LookupError:
        asset = source.add_dataframe_asset(table.qualified_name)
    try:
        batch_def = asset.get_batch_definition("whole")
    except (KeyError, ValueError, LookupError):
        batch_def = asset.add_batch_definition_whole_dataframe("whole")
    suite = suites.load_suite(table)
    suite = ctx.suites.add_or_update(suite)
    vd = gx.ValidationDefinition(name=name, data=batch_def, suite=suite)
    return ctx.validation_definitions.add_or_update(vd)


def validate(table: Table, frame: DataFrame, run_name: str, result_format: str = "SUMMARY"):
    """Run the table's suite on `frame` (validation frame columns) and rebuild Data Docs. Returns GX's
    CheckpointResult."""
    ctx = context()
    vd = _validation_definition(ctx, table)
    checkpoint = gx.Checkpoint(name=f"{suites.suite_name(table)}.checkpoint", validation_definitions=[vd],
                               actions=[UpdateDataDocsAction(name="data_docs")],
                               result_format={"result_format": result_format})
    checkpoint = ctx.checkpoints.add_or_update(checkpoint)
    return checkpoint.run(batch_parameters={"dataframe": frame},
                          run_id=gx.RunIdentifier(run_name=run_name))


def docs_index():
    return settings.paths().quality / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
