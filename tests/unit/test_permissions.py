"""Owner-only state (issue 19, item 1): the `edulake` command writes owner-only files whatever the user's
umask, and `edulake setup` repairs an existing home. Both run the real command in a child process started
with a permissive umask (022), as a user's shell would."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess

from edulake import permissions, settings


def _edulake(home, *args, timeout=300):
    """`edulake <args>` in a child process under umask 022 (the usual default), on `home`."""
    env = {**os.environ, "EDULAKE_HOME": str(home), "EDULAKE_PSEUDONYM_KEY": "test-key-not-secret-" + "0" * 44}
    cmd = [shutil.which("edulake") or "edulake", *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout,
                          preexec_fn=lambda: os.umask(0o022))


def _mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_the_command_writes_owner_only_sources_under_a_permissive_umask(tmp_path):
    home = tmp_path / "home"
    done = _edulake(home, "generate", "--scale", "0.0005", "--seed", "1", "--years", "2025-2025")
    assert done.returncode == 0, done.stderr[-2000:]
    files = [p for p in settings.Paths(home).inbox.rglob("*") if p.is_file()]
    assert len(files) > 50  # rosters with names and ID numbers among them
    assert _mode(home) == 0o700
    found = permissions.exposed(home)
    assert not found, permissions.describe(found, home)
    assert {_mode(p) for p in files} == {0o600}


def test_setup_repairs_an_existing_home(tmp_path):
    home = tmp_path / "home"
    vault = home / "lake" / "restricted" / "identity"
    vault.mkdir(parents=True)
    (vault / "part-0.parquet").write_bytes(b"PAR1")
    (home / "airflow").mkdir()
    (home / "airflow" / "airflow.db").write_bytes(b"")
    tool = home / "spark" / "run.sh"
    tool.parent.mkdir()
    tool.write_text("#!/bin/sh\n")
    outside = tmp_path / "elsewhere.txt"  # a link out of the home: its target is not ours to change
    outside.write_text("x")
    (home / "link").symlink_to(outside)
    for path in [home, *home.rglob("*"), outside]:
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() or path == tool else 0o644)
    assert len(permissions.exposed(home)) >= 8

    done = _edulake(home, "setup")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "仅属主可访问" in done.stdout
    assert permissions.exposed(home) == []
    assert _mode(vault) == 0o700 and _mode(vault / "part-0.parquet") == 0o600
    assert _mode(tool) == 0o700  # still executable by its owner
    assert _mode(outside) == 0o644
    for zone in ("inbox", "lake/restricted", "secrets", "logs"):
        assert _mode(home / zone) == 0o700, zone


def test_private_dir_is_0700_whatever_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        made = permissions.private_dir(tmp_path / "a" / "b")
    finally:
        os.umask(old)
    assert _mode(made) == 0o700 and _mode(tmp_path / "a") == 0o700
