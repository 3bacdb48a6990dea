"""The lake: landing, bronze, silver, quarantine, identity and the ops tables, on an engine (engines/:
DuckDB + delta-rs by default, Spark for scale-out); the rules it runs come from edulake.quality."""
