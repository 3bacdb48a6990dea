"""Lineage on the open standard (OpenLineage), from the file that arrived to the dashboard that shows it.

  names.py     namespaces and dataset names every emitter uses (so the lake's, dbt's and Superset's ends meet)
  emitter.py   the openlineage-python client with a file transport into the lake's restricted zone
  facets.py    edulake's own facets (a landed batch: id, checksum, arrival)
  lake.py      one START/COMPLETE|FAIL run per feed ingest, on either engine
  dbt.py       the dbt build's events (openlineage-dbt over dbt's artifacts) and the mart -> dashboard edge
  store.py     the event files loaded into ops/lineage (Delta), one row per event
  graph.py     upstream / downstream of a table or mart column, for `edulake lineage`
"""
