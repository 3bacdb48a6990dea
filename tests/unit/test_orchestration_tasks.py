"""Task behaviour that needs no Spark: configuration errors fail at once (no retry)."""

import pytest
from airflow.sdk.exceptions import AirflowFailException

from edulake.orchestration import tasks
from edulake.orchestration.errors import ConfigurationFailure


def test_ingest_without_a_pseudonymisation_key_fails_without_retry(edulake_home, monkeypatch):
    monkeypatch.delenv("EDULAKE_PSEUDONYM_KEY", raising=False)
    with pytest.raises(ConfigurationFailure, match="no pseudonymisation key") as failure:
        tasks.ingest("enrollment", {"new": [{"file": "学籍名册_2025_110101.csv"}]})
    assert isinstance(failure.value, AirflowFailException)  # Airflow's "fail, do not retry"
