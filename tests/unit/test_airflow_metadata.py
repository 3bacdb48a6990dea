"""prepare_metadata works for a home whose folder does not exist yet, also when airflow was already
imported for another home (what a full test run does: a unit test imports airflow before the e2e module
points it at its own home; CI failed on exactly that with "unable to open database file")."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_metadata_is_created_in_a_new_home_after_airflow_was_imported_for_another(tmp_path):
    script = textwrap.dedent(f"""
        import os, sys
        from pathlib import Path
        os.environ["EDULAKE_HOME"] = {str(tmp_path / "first")!r}
        from edulake.orchestration import config, inprocess
        config.apply(18901)
        import airflow.settings  # noqa: F401  (airflow now configured for the first home)

        second = Path({str(tmp_path / "second")!r})
        os.environ["EDULAKE_HOME"] = str(second)
        os.environ.update(config.airflow_env(port_=18903))
        assert not (second / "airflow").exists()
        inprocess.reconfigure()
        inprocess.prepare_metadata()
        assert (second / "airflow" / "airflow.db").stat().st_size > 0
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
