"""Shared fixtures. One Spark session per test run (starting one costs ~10-15 s on 2 cores)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def session_home(tmp_path_factory) -> Path:
    """An EDULAKE_HOME for the whole run; tests that need isolation use `edulake_home`."""
    home = tmp_path_factory.mktemp("edulake_home")
    os.environ["EDULAKE_HOME"] = str(home)
    os.environ.setdefault("EDULAKE_PSEUDONYM_KEY", "test-key-not-secret-" + "0" * 44)
    return home


@pytest.fixture()
def edulake_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("EDULAKE_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def spark(session_home):
    """The one SparkSession of the test run (real Spark, real Delta jars)."""
    from edulake.lake.spark import get_spark

    session = get_spark("edulake-tests")
    yield session
    session.stop()
