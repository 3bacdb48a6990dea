"""运行监测 — operations at a glance: per feed and district, what arrived, what the checks found, whether it
arrived on time; alerts when it did not, or when a rule's failure rate jumps.

Modules:
    calendar   the expected delivery calendar of a feed (schemas/, edulake.standard.Delivery): due dates, overdue
    deliveries per feed and district from the ledger ops/batches: last delivery, rows, quarantined, rejected,
               failure rate against the previous batch, freshness
    alerts     overdue feeds and failure-rate jumps (ops/quality) -> the Delta table ops/alerts
    lineage    the last run in ops/lineage, when that table exists
"""
