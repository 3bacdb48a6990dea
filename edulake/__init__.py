"""edulake: education big-data lakehouse."""
