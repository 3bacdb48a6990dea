"""The lake: Spark sessions, Delta helpers, ingestion zones, batch ledger, pseudonymisation."""
