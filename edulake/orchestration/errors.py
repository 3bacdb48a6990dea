"""The two ways a task fails: a rejected batch (final, no retry) and a transient condition (retried)."""

from __future__ import annotations

from airflow.sdk.exceptions import AirflowFailException


class BatchRejectedFailure(AirflowFailException):
    """One or more batches were rejected: retrying cannot help, the file has to be fixed and re-sent.

    `batches` ([{"batch_id", "file", "reason"}]) is what the failure callback writes to ops/runs.
    """

    def __init__(self, feed: str, batches: list[dict]):
        self.feed = feed
        self.batches = batches
        lines = [f"{b.get('batch_id') or '?'} ({b.get('file')}): {b.get('reason')}" for b in batches]
        super().__init__(f"{feed}: {len(batches)} 个批次被拒收 (batches rejected):\n  " + "\n  ".join(lines))


class ReferenceNotReady(RuntimeError):
    """The reference data (school directory) is not in silver yet; it may be loading: retry later."""


class BuildFailure(AirflowFailException):
    """dbt ran and a model or a data test failed: the same silver would fail again, so no retry."""


class ConfigurationFailure(AirflowFailException):
    """The platform is not set up for this task (e.g. no pseudonymisation key): retrying cannot help."""


class OperationsAlertFailure(AirflowFailException):
    """New operations alerts (ops/alerts) for a feed: overdue, or a rule's failure rate jumped. The data is
    already published; the run fails so an operator sees it (the UI, `edulake airflow trigger`, ops/runs),
    once per alert: later runs only log alerts already raised."""

    def __init__(self, feed: str, messages: list[str]):
        self.feed = feed
        super().__init__(f"{feed}: {len(messages)} 条新告警 (new operations alerts, see ops/alerts):\n  "
                         + "\n  ".join(messages))
