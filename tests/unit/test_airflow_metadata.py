"""Pointing this process's Airflow at a new home works when airflow was already imported for another
(what a full test run does: collecting a unit test imports airflow before the e2e module points it at its
own home). CI failed twice on it: "unable to open database file" (the new home's folder did not exist) and
"the dag is not serialized" (airflow's import-time DAGS_FOLDER, which dag.test()'s bundle resolves against,
still named the first home's)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from edulake import settings


def test_a_new_home_gets_its_metadata_and_our_dags_folder_after_airflow_was_imported(tmp_path):
    script = textwrap.dedent(f"""
        import os
        from pathlib import Path
        first = Path({str(tmp_path / "first")!r})
        os.environ["AIRFLOW_HOME"] = str(first)  # airflow imported before edulake configured anything
        import airflow.settings
        assert airflow.settings.DAGS_FOLDER == str(first / "dags"), airflow.settings.DAGS_FOLDER

        from edulake.orchestration import config, inprocess
        second = Path({str(tmp_path / "second")!r})
        os.environ["EDULAKE_HOME"] = str(second)
        os.environ.update(config.airflow_env(port_=18903))
        assert not (second / "airflow").exists()
        inprocess.reconfigure()
        inprocess.prepare_metadata()
        assert (second / "airflow" / "airflow.db").stat().st_size > 0
        assert airflow.settings.DAGS_FOLDER == {str(settings.DAGS_DIR)!r}, airflow.settings.DAGS_FOLDER
        assert airflow.settings.SQL_ALCHEMY_CONN.endswith(str(second / "airflow" / "airflow.db"))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
