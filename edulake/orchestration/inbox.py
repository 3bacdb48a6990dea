"""What an ingest run has to do: inbox files whose checksum the batch ledger has not seen, and batches
an earlier run left unfinished. Read without a JVM, so a run with nothing to do costs no Spark start."""

from __future__ import annotations

UNFINISHED = ("landed", "bronze", "validated")


def ledger_statuses(feed: str) -> dict[str, str]:
    """batch_id -> current ledger status, for one feed."""
    from edulake.lake import ledger  # pyarrow, deltalake: at run time, not at DAG parse time

    return ledger.statuses(feed)


def work_for(feed: str) -> dict:
    """{"feed", "new": [{"file", "batch_id"}], "unfinished": [batch_id]} — new = sha256 not in the ledger.

    A file already in the ledger (loaded or rejected, under any name) is not new: re-running is a no-op.
    A corrected file has a new checksum, so it is a new batch.
    """
    from edulake.lake import landing  # numpy, pyarrow, file readers: at run time, not at DAG parse time

    known = ledger_statuses(feed)
    new = []
    for path in landing.inbox_files(feed):
        batch_id = landing.batch_id_for(feed, landing.sha256_of(path))
        if batch_id not in known:
            new.append({"file": path.name, "batch_id": batch_id})
    unfinished = sorted(b for b, status in known.items() if status in UNFINISHED)
    return {"feed": feed, "new": new, "unfinished": unfinished}


def has_work(work: dict) -> bool:
    return bool(work["new"] or work["unfinished"] or work.get("reprocess"))
