"""Tokens, signed URLs and the DuckDB CLI pin, without servers or a warehouse."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from edulake import permissions
from edulake.sharing import config, signing, tokens


def test_tokens_are_stored_hashed_private_and_checked(edulake_home):
    record, clear = tokens.create("110108", name="海淀区教委")
    stored = config.tokens_file().read_text()
    assert clear not in stored and record.sha256 in stored
    assert stat.S_IMODE(os.stat(config.tokens_file()).st_mode) == 0o600
    v = tokens.Verifier()
    assert v.verify(f"Bearer {clear}").district == "110108"
    assert v.verify(f"Bearer {clear}").share == "district_110108"
    for header, words in ((None, "missing"), ("Token abc", "malformed Authorization"), ("Bearer x", "malformed token"),
                          (f"Bearer {clear}x", "unknown"), ("Bearer edl_ffffffffffff_abc", "unknown")):
        with pytest.raises(tokens.TokenError, match=words):
            v.verify(header)
    assert [t.id for t in tokens.revoke(district="110108")] == [record.id]
    with pytest.raises(tokens.TokenError, match="revoked"):
        v.verify(f"Bearer {clear}")
    assert v.identify(f"Bearer {clear}").id == record.id  # still named in the audit
    with pytest.raises(ValueError, match="no active token"):
        tokens.revoke(record.id)


def test_token_scope_and_district_are_checked(edulake_home):
    with pytest.raises(ValueError, match="malformed district"):
        tokens.create("1101")
    with pytest.raises(ValueError, match="not one of the 16"):
        tokens.create("110103")  # 宣武区: merged into 西城 in 2010, no longer a district
    with pytest.raises(ValueError, match="not both"):
        tokens.create("110108", city=True)
    city, clear = tokens.create(None, city=True)
    assert city.share == config.CITY_SHARE and city.sees("110101") and city.sees("110119")
    data = json.loads(config.tokens_file().read_text())
    data[0]["expires_at"] = "2000-01-01T00:00:00+00:00"
    permissions.write_private(config.tokens_file(), json.dumps(data))
    with pytest.raises(tokens.TokenError, match="expired"):
        tokens.Verifier().verify(f"Bearer {clear}")


def test_signed_urls_refuse_tampering_and_expiry(edulake_home):
    qs = dict(p.split("=") for p in signing.query_string("fct_enrollment", "a" * 32, "tok1").split("&"))
    signing.check("fct_enrollment", "a" * 32, "tok1", qs["exp"], qs["sig"])
    for table, fid, tok in (("fct_fitness_test", "a" * 32, "tok1"), ("fct_enrollment", "b" * 32, "tok1"),
                            ("fct_enrollment", "a" * 32, "tok2")):
        with pytest.raises(signing.SignatureError, match="bad signature"):
            signing.check(table, fid, tok, qs["exp"], qs["sig"])
    with pytest.raises(signing.SignatureError, match="bad signature"):
        signing.check("fct_enrollment", "a" * 32, "tok1", str(int(qs["exp"]) + 1), qs["sig"])
    old = dict(p.split("=") for p in signing.query_string("t", "a" * 32, "tok1", now=0).split("&"))
    with pytest.raises(signing.ExpiredError):
        signing.check("t", "a" * 32, "tok1", old["exp"], old["sig"])
    key = Path(os.environ["EDULAKE_HOME"]) / "secrets" / "sharing_url.key"
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600


def test_duckdb_cli_is_the_warehouse_duckdb():
    """`edulake sql` runs the duckdb-cli wheel: it must be the DuckDB that writes the warehouse."""
    cli = Path(sys.executable).with_name("duckdb")
    out = subprocess.run([str(cli), "--version"], capture_output=True, text=True, check=True).stdout
    assert out.split()[0].lstrip("v") == duckdb.__version__
