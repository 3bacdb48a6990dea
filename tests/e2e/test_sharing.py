"""共享交换 and 数据服务 end to end on the session's built warehouse: district packages, the Delta Sharing
server read by the official client (its own environment, from a profile file), signed file URLs, the data
API (schemathesis against its own spec), tokens, the audit table, and a scan of every shared byte for
identifiers in clear. Real servers on free loopback ports, started and stopped with `edulake serve`'s code.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from collections import Counter
from pathlib import Path

import duckdb
import httpx
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from edulake import permissions, settings, standard
from edulake.files import sha256_of
from edulake.orchestration import deltaread
from edulake.sharing import audit, catalog, config, extract, serve, shares, signing
from edulake.sharing.cli import token as token_cli

A, B = "110108", "110101"  # 海淀区; 东城区 (owns the legacy code 110103 too)
PULL_SCRIPT = Path(__file__).with_name("sharing_client_pull.py")
ID_LIKE = re.compile(r"[GJL]?\d{17}[0-9X]")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Recorder:
    """httpx clients whose every request and response body is kept: the audit and the identifier scan
    check them all."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()  # token id -> requests sent with it
        self.bodies: list[bytes] = []

    def client(self, base: str, clear: str | None, token_id: str | None) -> httpx.Client:
        def count(request):
            if token_id:
                self.requests[token_id] += 1

        def keep(response):
            response.read()
            self.bodies.append(response.content)

        headers = {"Authorization": f"Bearer {clear}"} if clear else {}
        return httpx.Client(base_url=base, headers=headers, timeout=30,
                            event_hooks={"request": [count], "response": [keep]})


@pytest.fixture(scope="module")
def env(built_home, tmp_path_factory):
    """Packages for every district, the shared Delta tables, tokens (two districts, the city, an expired and
    a revoked one) with profile files, and both servers."""
    packages = extract.extract()
    shares.publish()
    tmp = tmp_path_factory.mktemp("sharing")
    sharing_port, api_port = _free_port(), _free_port()
    made = {}
    for key, args in {"a": ["--district", A], "b": ["--district", B], "city": ["--city"],
                      "a_api": ["--district", A, "--name", "api-counted"],
                      "expired": ["--district", A], "revoked": ["--district", B]}.items():
        profile = tmp / f"{key}.share"
        result = CliRunner().invoke(token_cli, ["create", *args, "--profile", str(profile)],
                                    env={"EDULAKE_SHARING_PORT": str(sharing_port)})
        assert result.exit_code == 0, result.output
        token_id, clear = result.output.split()[1], result.output.splitlines()[1]
        made[key] = (token_id, clear, profile)
    # an expired token: its record says so (as if issued with --days and the time has passed)
    stored = json.loads(config.tokens_file().read_text())
    for t in stored:
        if t["id"] == made["expired"][0]:
            t["expires_at"] = "2020-01-01T00:00:00+00:00"
    permissions.write_private(config.tokens_file(), json.dumps(stored))
    assert CliRunner().invoke(token_cli, ["revoke", made["revoked"][0]]).exit_code == 0
    client_python = serve.client_python()
    sharing = serve.start("sharing", sharing_port)
    api = serve.start("api", api_port)
    yield {"packages": packages, "tokens": made, "sharing": sharing.url + "/delta-sharing", "api": api.url,
           "client_python": client_python, "recorder": Recorder(), "pulls": {}}
    for name in serve.SERVICES:
        serve.stop(name)


def _warehouse_counts(districts: list[str] | None) -> dict[str, int]:
    con = duckdb.connect(str(settings.paths().warehouse), read_only=True)
    try:
        out = {}
        for t in catalog.TABLES:
            sql, params = catalog.select_sql(con, t, districts)
            out[t.name] = con.execute(f"select count(*) from ({sql})", params).fetchone()[0]
        return out
    finally:
        con.close()


def _codes(district: str) -> list[str]:
    return sorted(r["code"] for r in standard.load().codes("district").rows if r["current_code"] == district)


# --- extracts ----------------------------------------------------------------------------------------------

def test_packages_hold_only_their_district_with_manifest_and_checksums(env):
    by_district = {p.district: p for p in env["packages"]}
    assert len(by_district) == 16
    for district in (A, B):
        p = by_district[district]
        manifest = json.loads((p.path / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["build"] == p.build and manifest["district"] == district
        assert manifest["standard"]["version"] == standard.load().version
        expected = _warehouse_counts(_codes(district))
        assert {t["name"]: t["rows"] for t in manifest["tables"]} == expected
        assert sum(expected.values()) > 0
        for t in manifest["tables"]:
            assert all(c["label"] for c in t["columns"] if c["name"] in ("school_year", "district_code")), t["name"]
            for f in t["files"]:
                assert serve_sha(p.path / f["path"]) == f["sha256"]
            data = pq.read_table(p.path / f"{t['name']}.parquet")
            assert data.num_rows == t["rows"]
            assert set(data.column("district_code").to_pylist()) <= set(_codes(district)), t["name"]
            csv_bytes = (p.path / f"{t['name']}.csv").read_bytes()
            assert csv_bytes.startswith(b"\xef\xbb\xbf")
            assert csv_bytes.decode("utf-8-sig").count("\n") == t["rows"] + 1
    # small-cell suppression: a suppressed cell shows no count
    summary = pq.read_table(by_district[A].path / "health_fitness_summary.parquet").to_pylist()
    k = config.min_cell_size()
    assert all(r["tested"] is None for r in summary if r["is_suppressed"])
    assert all(r["tested"] >= k and r["enrolled"] >= k for r in summary if not r["is_suppressed"])


def serve_sha(path: Path) -> str:

    return sha256_of(path)


def test_rebuild_gives_byte_identical_packages(env):
    before = {p.district: p for p in env["packages"]}
    target = before[A]
    files = {f.name: f.read_bytes() for f in target.path.iterdir()}
    import shutil

    shutil.rmtree(target.path)  # rebuilt from scratch, not merely found in place
    again = {p.district: p for p in extract.extract()}
    assert again[A].build == target.build and not again[A].unchanged
    assert {f.name: f.read_bytes() for f in again[A].path.iterdir()} == files
    assert all(again[d].unchanged and again[d].build == before[d].build for d in again if d != A)
    assert (settings.paths().extracts / A / "latest").read_text().strip() == target.build


def test_extract_of_one_year_and_bad_input(env):
    (p,) = extract.extract([A], 2025)
    manifest = json.loads((p.path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["school_year"] == 2025
    assert set(pq.read_table(p.path / "fct_enrollment.parquet").column("school_year").to_pylist()) == {2025}
    for bad, message in ((["11010"], "malformed district"), (["110000"], "not one of the 16"),
                         ([A, "1999"], "malformed")):
        with pytest.raises(ValueError, match=message):
            extract.extract(bad)
    with pytest.raises(ValueError, match="no school year 1990"):
        extract.extract([A], 1990)


# --- Delta Sharing --------------------------------------------------------------------------------------------

def _pull(env, key: str) -> dict:
    if key not in env["pulls"]:
        out = subprocess.run([str(env["client_python"]), str(PULL_SCRIPT), str(env["tokens"][key][2])],
                             capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr[-3000:]
        env["pulls"][key] = json.loads(out.stdout)
        env["recorder"].bodies.append(out.stdout.encode())
    return env["pulls"][key]


def test_official_client_reads_its_district_share_only(env):
    pulled = _pull(env, "a")
    assert pulled["shares"] == [f"district_{A}"]
    assert set(pulled["tables"]) == set(catalog.BY_NAME)
    assert {t: v["rows"] for t, v in pulled["tables"].items()} == _warehouse_counts(_codes(A))
    for name, v in pulled["tables"].items():
        assert set(v["districts"]) <= set(_codes(A)), name


def test_official_client_city_share_reads_every_district(env):
    pulled = _pull(env, "city")
    assert pulled["shares"] == [config.CITY_SHARE]
    assert {t: v["rows"] for t, v in pulled["tables"].items()} == _warehouse_counts(None)
    assert len(set(pulled["tables"]["fct_enrollment"]["districts"])) > 2


def test_share_names_tokens_and_paging_give_clear_errors(env):
    rec = env["recorder"]
    a_id, a_clear, _ = env["tokens"]["a"]
    base = env["sharing"]
    with rec.client(base, a_clear, a_id) as c:
        assert c.get("/shares").json()["items"] == [{"name": f"district_{A}", "id": f"district_{A}"}]
        cases = [
            (f"/shares/district_{B}", 403, "may read share"),
            (f"/shares/district_{B}/all-tables", 403, "may read share"),
            ("/shares/city/schemas", 403, "may read share"),
            ("/shares/Bad-Name!/schemas", 400, "malformed share name"),
            ("/shares/district_999999", 404, "no share"),
            (f"/shares/district_{A}/schemas/nope/tables", 404, "no schema"),
            (f"/shares/district_{A}/schemas/edulake/tables/no_such/metadata", 404, "no shared table"),
            (f"/shares/district_{A}/schemas/edulake/tables/Bad%20Table/metadata", 400, "malformed table name"),
            (f"/shares/district_{A}/all-tables?pageToken=xyz", 400, "pageToken"),
            (f"/shares/district_{A}/all-tables?maxResults=-1", 422, "maxResults"),
        ]
        for path, status, words in cases:
            r = c.get(path)
            assert r.status_code == status, (path, r.text)
            assert words in r.json()["message"], (path, r.text)
        # paging: three at a time, following nextPageToken, gives every table once
        seen, token = [], None
        while True:
            r = c.get(f"/shares/district_{A}/all-tables", params={"maxResults": 3, **({"pageToken": token} if token else {})})
            seen += [t["name"] for t in r.json()["items"]]
            token = r.json().get("nextPageToken")
            if not token:
                break
        assert seen == [t.name for t in catalog.TABLES]
        r = c.get(f"/shares/district_{A}/schemas/edulake/tables/fct_enrollment/version")
        assert r.status_code == 200 and r.headers["delta-table-version"].isdigit()
    for key, words in (("expired", "expired"), ("revoked", "revoked")):
        tid, clear, _ = env["tokens"][key]
        with rec.client(base, clear, tid) as c:
            r = c.get("/shares")
            assert r.status_code == 401 and words in r.json()["message"]
    for header, words in (("Bearer edl_000000000000_nope", "unknown token"), ("Basic abc", "malformed"),
                          ("Bearer nonsense", "malformed token")):
        r = httpx.get(f"{base}/shares", headers={"Authorization": header})
        rec.bodies.append(r.content)
        assert r.status_code == 401 and words in r.json()["message"]
    assert httpx.get(f"{base}/shares").status_code == 401


def _query(c: httpx.Client, share: str, table: str) -> list[dict]:
    r = c.post(f"/shares/{share}/schemas/edulake/tables/{table}/query", json={})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/x-ndjson")
    assert "delta-table-version" in r.headers and "delta-sharing-capabilities" in r.headers
    lines = [json.loads(line) for line in r.text.splitlines()]
    assert "protocol" in lines[0] and "metaData" in lines[1]
    assert '"timestamp_ntz"' not in lines[1]["metaData"]["schemaString"]
    return [line["file"] for line in lines[2:]]


def test_file_urls_are_signed_partitioned_and_refused_to_others(env):
    rec = env["recorder"]
    a_id, a_clear, _ = env["tokens"]["a"]
    b_id, b_clear, _ = env["tokens"]["b"]
    with rec.client(env["sharing"], a_clear, a_id) as c:
        files = _query(c, f"district_{A}", "fct_enrollment")
    assert files and all(f["partitionValues"]["district_code"] in _codes(A) for f in files)
    url = files[0]["url"]
    assert url.startswith("http://127.0.0.1:") and "/files/" in url and "sig=" in url
    with rec.client("", None, None) as anon:  # the client sends no token to file URLs
        head = anon.head(url)
        assert head.status_code == 200 and int(head.headers["content-length"]) == files[0]["size"]
        assert "content-encoding" not in head.headers
        part = anon.get(url, headers={"Range": "bytes=0-3"})
        assert part.status_code == 206 and part.content == b"PAR1"
        assert anon.get(url).status_code == 200
        tampered = re.sub(r"sig=[0-9a-f]+", "sig=" + "0" * 64, url)
        r = anon.get(tampered)
        assert r.status_code == 403 and "bad signature" in r.json()["message"]
        other_share = url.replace(f"tok={a_id}", f"tok={b_id}")  # re-pointed at B's token: signature breaks
        assert anon.get(other_share).status_code == 403
        # the same URL used by district B (with its own token) is refused
    with rec.client("", b_clear, b_id) as as_b:
        r = as_b.get(url)
        assert r.status_code == 403 and "issued to share" in r.json()["message"]
    # an expired URL: signed by the server's own key, an hour in the past
    fid = files[0]["id"]
    expired = url.split("?")[0] + "?" + signing.query_string("fct_enrollment", fid, a_id, now=0)
    r = httpx.get(expired)
    rec.bodies.append(r.content)
    assert r.status_code == 403 and "expired" in r.json()["message"]
    # B's query never lists A's files
    with rec.client(env["sharing"], b_clear, b_id) as c:
        b_files = _query(c, f"district_{B}", "fct_enrollment")
    assert not {f["id"] for f in b_files} & {f["id"] for f in files}
    assert {f["partitionValues"]["district_code"] for f in b_files} <= set(_codes(B))


# --- data API -------------------------------------------------------------------------------------------------

API_ENDPOINTS = ["/api/v1/schools", "/api/v1/fitness/summary", "/api/v1/inspection/verdicts",
                 "/api/v1/enrollment/place-gaps"]


def test_api_answers_each_district_its_own_rows_only(env):
    rec = env["recorder"]
    a_id, a_clear, _ = env["tokens"]["a_api"]
    city_id, city_clear, _ = env["tokens"]["city"]
    with rec.client(env["api"], a_clear, a_id) as a, rec.client(env["api"], city_clear, city_id) as city:
        for path in API_ENDPOINTS:
            r = a.get(path, params={"page_size": 500})
            assert r.status_code == 200, (path, r.text)
            body = r.json()
            assert body["total"] > 0 and {i["district_code"] for i in body["items"]} <= set(_codes(A)), path
            assert a.get(path, params={"district": A}).json()["total"] == body["total"]
            r = a.get(path, params={"district": B})
            assert r.status_code == 403 and "reads district" in r.json()["message"], path
            r = city.get(path, params={"district": B, "page_size": 500})
            assert r.status_code == 200 and {i["district_code"] for i in r.json()["items"]} <= set(_codes(B))
        r = a.get(f"/api/v1/districts/{B}/indicators")
        assert r.status_code == 403
        r = a.get(f"/api/v1/districts/{A}/indicators", params={"school_year": 2025})
        assert r.status_code == 200 and r.json()["items"]
        assert {i["district_code"] for i in r.json()["items"]} == {A}
        b_school = city.get("/api/v1/schools", params={"district": B}).json()["items"][0]["school_id"]
        assert city.get(f"/api/v1/schools/{b_school}").status_code == 200
        r = a.get(f"/api/v1/schools/{b_school}")
        assert r.status_code == 404 and "in your scope" in r.json()["message"]
        # paging and validation errors that say what is wrong
        page1 = a.get("/api/v1/fitness/summary", params={"page_size": 5}).json()
        page2 = a.get("/api/v1/fitness/summary", params={"page_size": 5, "page": 2}).json()
        assert len(page1["items"]) == 5 and page1["items"] != page2["items"] and page1["total"] == page2["total"]
        for params, words in (({"page": 0}, "query.page"), ({"page_size": 501}, "query.page_size"),
                              ({"district": "11x108"}, "query.district"), ({"school_year": "next"}, "query.school_year")):
            r = a.get("/api/v1/fitness/summary", params=params)
            assert r.status_code == 422 and words in r.json()["message"], (params, r.text)
        assert a.get("/api/v1/schools/123").status_code == 422
        r = city.get("/api/v1/schools", params={"district": "110000"})
        assert r.status_code == 404 and "no current district" in r.json()["message"]
    r = httpx.get(env["api"] + "/api/v1/schools", headers={"Authorization": "Bearer " + env["tokens"]["expired"][1]})
    rec.bodies.append(r.content)
    assert r.status_code == 401 and "expired" in r.json()["message"]
    # the dbt docs catalog: the site when `edulake build --docs` made it, else a 404 saying how; never a path
    docs = httpx.get(env["api"] + "/catalog/")
    if (settings.paths().warehouse_dir / "dbt" / "target" / "index.html").exists():
        assert docs.status_code == 200 and "dbt" in docs.text.lower()
    else:
        assert docs.status_code == 404 and "edulake build --docs" in docs.json()["message"]
    for sneaky in ("/catalog/run_results.json", "/catalog/..%2F..%2Fsecrets%2Fsharing_tokens.json"):
        assert httpx.get(env["api"] + sneaky).status_code == 404


def test_api_conforms_to_its_own_openapi_spec(env):
    """schemathesis (every check) against /openapi.json, bounded: no 5xx, every response as declared."""
    _tid, clear, _ = env["tokens"]["a"]
    st = Path(sys.executable).with_name("st")
    out = subprocess.run([str(st), "run", env["api"] + "/openapi.json", "--checks", "all", "--max-examples", "15",
                          "--header", f"Authorization: Bearer {clear}", "--no-color"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-5000:]
    assert "No issues found" in out.stdout


# --- audit and identifiers (last: they look back over the whole module) -----------------------------------------

def test_every_access_is_in_the_audit_table(env):
    for name in serve.SERVICES:  # graceful stop flushes the servers' audit buffers
        serve.stop(name)
    rows = audit.read()
    by_actor = Counter(r["actor"] for r in rows)
    for token_id, sent in env["recorder"].requests.items():
        assert by_actor[token_id] >= sent, (token_id, sent, by_actor[token_id])
    api_id = env["tokens"]["a_api"][0]  # used by the counting client only: one row per request, exactly
    assert by_actor[api_id] == env["recorder"].requests[api_id]
    a_id = env["tokens"]["a"][0]
    actions = Counter((r["channel"], r["action"], r["outcome"]) for r in rows if r["actor"] == a_id)
    for needed in (("sharing", "query_table", "ok"), ("sharing", "table_metadata", "ok"),
                   ("sharing", "list_all_tables", "ok"), ("sharing", "download", "ok"),
                   ("sharing", "get_share", "denied"), ("sharing", "download", "denied")):
        assert actions[needed] > 0, needed
    queries = [r for r in rows if r["actor"] == a_id and r["action"] == "query_table" and r["outcome"] == "ok"]
    assert all(r["rows"] is not None for r in queries)
    assert sum(1 for r in rows if r["channel"] == "extract" and r["outcome"] == "ok") >= 16 + 16 + 1
    assert "unauthenticated" in {r["outcome"] for r in rows if r["actor"] == "anonymous"}
    api_rows = [r for r in rows if r["actor"] == api_id]
    assert {r["outcome"] for r in api_rows} >= {"ok", "denied", "invalid", "not_found"}
    assert all(r["at"] and r["status"] for r in api_rows)


def _vault() -> set[str]:
    identifiers = {f.name for t in standard.load().tables() for f in t.fields if f.privacy == "identifier"}
    rows = deltaread.query(settings.paths().identity, "select * from t")
    values = {str(v) for r in rows for k, v in r.items() if k in identifiers and v}
    assert values, "the identity vault should hold the clear identifiers of the ingested rows"
    return values


def _strings(obj):
    if isinstance(obj, dict):
        for v in obj.values():
            yield from _strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _strings(v)
    elif obj is not None:
        yield str(obj)


def test_no_identifier_in_clear_in_any_shared_file_or_response(env):
    vault = _vault()
    leaks = []

    def scan(where: str, values) -> None:
        for v in values:
            if v in vault or any(m in vault for m in ID_LIKE.findall(v)):
                leaks.append((where, v[:40]))

    shared = [*settings.paths().extracts.rglob("*.parquet"), *config.delta_root().rglob("*.parquet")]
    assert len(shared) > 16 * len(catalog.TABLES)
    for path in shared:
        scan(str(path), _strings(pq.read_table(path).to_pylist()))
    for path in settings.paths().extracts.rglob("*.csv"):
        scan(str(path), re.split(r'[,\n"]', path.read_text(encoding="utf-8-sig")))
    for body in env["recorder"].bodies:
        text = body.decode("utf-8", "replace")
        try:
            values = list(_strings(json.loads(text)))
        except ValueError:
            values = [v for line in text.splitlines() if line.strip() for v in _strings(json.loads(line))] \
                if text.lstrip().startswith("{") else re.split(r'[,\n" ]', text)
        scan("response", values)
    assert len(env["recorder"].bodies) > 20
    assert not leaks, leaks[:10]
