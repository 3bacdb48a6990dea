"""`edulake bench`: the pipeline stage by stage at a given scale, against a DuckDB baseline."""
