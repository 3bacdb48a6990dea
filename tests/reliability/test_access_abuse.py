"""Access abuse on the Delta Sharing server and the data API, as district 海淀 (110108) would try it: every other
district's code (and the legacy codes) in every parameter and path, filter and SQL injection, predicate hints
that try to widen a query, path traversal in file URLs, forged, re-pointed and expired URL signatures, and
revoked, expired and forged tokens. Each must be refused, and no response may carry a row of another district:
every response body is scanned for other districts' codes (in `district_code` and `partitionValues`) and for
their school identifiers. Real servers (`edulake serve`'s code) on loopback ports over the suite's warehouse.

(The Superset probes — SQL Lab, chart data, exports, imports — are in tests/e2e/test_superset.py.)
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import time

import _support as support
import duckdb
import httpx
import pytest

from edulake import settings, standard

A, B = "110108", "110101"
PROBES: list[dict] = []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def servers(full_home, tmp_path_factory):
    from edulake.sharing import config, serve, shares, tokens

    home = support.copy_home(full_home, tmp_path_factory.mktemp("abuse") / "home")
    mp = pytest.MonkeyPatch()
    mp.setenv("EDULAKE_HOME", str(home))
    shares.publish()
    made = {}
    for key, kwargs in {"a": {"district": A}, "city": {"district": None, "city": True}, "b": {"district": B},
                        "expired": {"district": A}, "revoked": {"district": A}}.items():
        tok, clear = tokens.create(**kwargs)
        made[key] = (tok.id, clear)
    stored = json.loads(config.tokens_file().read_text())
    for t in stored:
        if t["id"] == made["expired"][0]:
            t["expires_at"] = "2020-01-01T00:00:00+00:00"
    from edulake import permissions

    permissions.write_private(config.tokens_file(), json.dumps(stored))
    tokens.revoke(made["revoked"][0])
    sharing = serve.start("sharing", _free_port())
    api = serve.start("api", _free_port())
    con = duckdb.connect(str(settings.Paths(home).warehouse), read_only=True)
    schools = con.execute("select school_id, district_code from core.dim_school").fetchall()
    con.close()
    mine = {r["code"] for r in standard.load().codes("district").rows if r["current_code"] == A}
    others = sorted({r["code"] for r in standard.load().codes("district").rows} - mine)
    yield {"sharing": sharing.url + "/delta-sharing", "api": api.url, "tokens": made, "mine": mine,
           "others": others, "other_schools": sorted(s for s, d in schools if d not in mine),
           "my_schools": sorted(s for s, d in schools if d in mine)}
    for name in serve.SERVICES:
        serve.stop(name)
    mp.undo()


def leaks(body: bytes, env, asked: str = "") -> list[str]:
    """Other districts' codes in district fields, or their school ids anywhere, in a response body (an id the
    request itself carried may be echoed in the refusal: that is not a leak)."""
    text = body.decode("utf-8", "replace")
    found = [s for s in env["other_schools"] if s in text and s not in asked]
    for m in re.finditer(r'"(?:district_code|current_code)"\s*:\s*"(\d{6})"', text):
        if m.group(1) not in env["mine"]:
            found.append(m.group(1))
    return found


def probe(env, name: str, target: str, method: str, url: str, refused: tuple[int, ...], token: str | None = "a",
          **kwargs) -> httpx.Response:
    headers = kwargs.pop("headers", {})
    if token:
        headers["Authorization"] = "Bearer " + env["tokens"][token][1] if token in env["tokens"] else token
    r = httpx.request(method, url, headers=headers, timeout=30, **kwargs)
    leaked = leaks(r.content, env, asked=url + json.dumps(kwargs, default=str))
    ok = r.status_code in refused and not leaked
    PROBES.append({"probe": name, "target": target, "answer": f"{r.status_code}" + (f" LEAK {leaked[:3]}" if leaked else ""),
                   "refused": ok, "leaks": len(leaked)})
    assert not leaked, (name, url, leaked)
    assert r.status_code in refused, (name, url, r.status_code, r.text[:500])
    return r


INJECTIONS = ["110108' OR '1'='1", "110108) OR (1=1", "110108;select * from core.dim_school", "110108--",
              "110108\x00110101", "%", "110108 OR district_code IS NOT NULL", "read_csv('/etc/passwd')"]
API_LISTS = ["/api/v1/schools", "/api/v1/fitness/summary", "/api/v1/inspection/verdicts", "/api/v1/enrollment/place-gaps"]


@pytest.mark.slow
def test_api_refuses_every_other_district_and_injection(servers):
    env, api = servers, servers["api"]
    for d in env["others"]:
        for path in API_LISTS:
            probe(env, "another district's code in ?district=", "api " + path, "GET", api + path, (403, 404), params={"district": d})
        probe(env, "another district's code in the path", "api /districts/{d}/indicators", "GET",
              f"{api}/api/v1/districts/{d}/indicators", (403, 404))
    for s in env["other_schools"]:
        probe(env, "another district's school id in the path", "api /schools/{id}", "GET", f"{api}/api/v1/schools/{s}", (404,))
    for path in API_LISTS:
        for bad in INJECTIONS:
            probe(env, "SQL/filter injection in ?district=", "api " + path, "GET", api + path, (422,), params={"district": bad})
        probe(env, "district repeated (mine, then another)", "api " + path, "GET",
              f"{api}{path}?district={A}&district={B}", (200, 403, 422))
        if path != "/api/v1/schools":  # the register has no school year
            probe(env, "school_year injection", "api " + path, "GET", api + path, (422,),
                  params={"school_year": "2025 OR 1=1"})
        probe(env, "page_size 10^9", "api " + path, "GET", api + path, (422,), params={"page_size": 10**9})
    probe(env, "stage injection", "api /schools", "GET", api + "/api/v1/schools", (200, 422),
          params={"stage": "小学' OR '1'='1"})
    for s in ("2111329952' OR '1'='1", "..%2F..%2Fsecrets", "1 UNION SELECT * FROM core.dim_school"):
        probe(env, "injection or traversal as the school id", "api /schools/{id}", "GET", f"{api}/api/v1/schools/{s}", (404, 422))
    for sneaky in ("/catalog/..%2F..%2Fsecrets%2Fsharing_tokens.json", "/catalog/%2E%2E/%2E%2E/warehouse/edulake.duckdb",
                   "/api/v1/../../secrets/pseudonym.key", "/catalog/....//....//etc/passwd"):
        probe(env, "path traversal", "api " + sneaky.split("/")[1], "GET", api + sneaky, (400, 404, 422))


@pytest.mark.slow
def test_sharing_refuses_every_other_share_and_forged_urls(servers):
    env, base = servers, servers["sharing"]
    t = "schemas/edulake/tables/fct_enrollment"
    for d in env["others"] + ["city"]:
        share = "city" if d == "city" else f"district_{d}"
        for path, method in ((f"/shares/{share}", "GET"), (f"/shares/{share}/schemas", "GET"),
                             (f"/shares/{share}/all-tables", "GET"), (f"/shares/{share}/{t}/metadata", "GET"),
                             (f"/shares/{share}/{t}/query", "POST")):
            where = path.split("/")[-1] if path.count("/") > 2 else "share"
            probe(env, "another district's share (or the city's)", "sharing " + where, method, base + path, (403, 404),
                  **({"json": {}} if method == "POST" else {}))
    for name in ("district_110108' OR '1'='1", "district_110108;--", "..%2Fdistrict_110101", "district_110108%00",
                 "DISTRICT_110101"):
        probe(env, "injected or traversing share name", "sharing /shares/{share}", "GET", f"{base}/shares/{name}/all-tables",
              (400, 403, 404))
    for table in ("fct_enrollment' --", "..%2F..%2Fsecrets", "fct_enrollment%20union%20select"):
        probe(env, "injected or traversing table name", "sharing metadata", "GET",
              f"{base}/shares/district_{A}/schemas/edulake/tables/{table}/metadata", (400, 404))
    # predicate hints may only narrow: asking for another district returns nothing of it
    mine_q = f"{base}/shares/district_{A}/{t}/query"
    for body in ({"predicateHints": [f"district_code = '{B}'"]},
                 {"jsonPredicateHints": json.dumps({"op": "equal", "children": [
                     {"op": "column", "name": "district_code", "valueType": "string"},
                     {"op": "literal", "value": B, "valueType": "string"}]})},
                 {"predicateHints": ["1=1 OR district_code IS NOT NULL"]}, {"limitHint": -1}):
        r = probe(env, f"query with {list(body)[0]} naming {B}", "sharing query", "POST", mine_q, (200, 400, 422),
                  json=body)
        if r.status_code == 200:
            files = [json.loads(line)["file"] for line in r.text.splitlines()[2:]]
            assert {f["partitionValues"]["district_code"] for f in files} <= env["mine"]
    r = httpx.post(mine_q, json={}, headers={"Authorization": "Bearer " + env["tokens"]["a"][1]}, timeout=30)
    url = json.loads(r.text.splitlines()[2])["file"]["url"]
    path, query = url.split("?")
    q = dict(p.split("=") for p in query.split("&"))
    from edulake.sharing import signing

    fid = path.rsplit("/", 1)[1]
    forged = {
        "random signature": f"{path}?tok={q['tok']}&exp={q['exp']}&sig={secrets.token_hex(32)}",
        "signature of another file id": f"{path[:-32]}{'0' * 32}?{query}",
        "expiry pushed out, same signature": f"{path}?tok={q['tok']}&exp={int(q['exp']) + 86400}&sig={q['sig']}",
        "re-pointed to B's token": f"{path}?tok={env['tokens']['b'][0]}&exp={q['exp']}&sig={q['sig']}",
        "signature missing": f"{path}?tok={q['tok']}&exp={q['exp']}",
        "signature cut short": f"{path}?tok={q['tok']}&exp={q['exp']}&sig={q['sig'][:20]}",
        "expired (signed by the server an hour ago)":
            f"{path}?{signing.query_string('fct_enrollment', fid, q['tok'], now=time.time() - 7200)}",
        "path traversal in the file id": f"{path.rsplit('/', 1)[0]}/..%2F..%2F..%2Fsecrets%2Fsharing_tokens.json?{query}",
        "path traversal in the table": f"{base}/files/..%2F..%2Fsecrets/{fid}?{query}",
        "issued to a revoked token": f"{path}?{signing.query_string('fct_enrollment', fid, env['tokens']['revoked'][0])}",
    }
    for name, u in forged.items():
        probe(env, name, "sharing file URL", "GET", u, (400, 403, 404, 422), token=None)
    probe(env, "A's URL fetched with B's token", "sharing file URL", "GET", url, (403,), token="b")
    probe(env, "A's URL, genuine (control: must be served)", "sharing file URL", "GET", url, (200,), token=None)
    PROBES.pop()  # the control is not a refusal


@pytest.mark.slow
def test_bad_tokens_are_refused_everywhere(servers):
    env = servers
    a_id, a_clear = env["tokens"]["a"]
    bad = {"revoked": "revoked", "expired": "expired",
           "forged (right form, random secret)": f"edl_{a_id}_{secrets.token_urlsafe(24)}",
           "A's token with its last character changed": a_clear[:-1] + ("A" if a_clear[-1] != "A" else "B"),
           "the city's id with A's secret": f"edl_{env['tokens']['city'][0]}_{a_clear.rsplit('_', 1)[1]}",
           "empty bearer": "", "no scheme": a_clear}
    for name, tok in bad.items():
        for url in (env["sharing"] + "/shares", env["sharing"] + f"/shares/district_{A}/all-tables",
                    env["api"] + "/api/v1/schools", env["api"] + f"/api/v1/districts/{A}/indicators"):
            headers = {"Authorization": a_clear} if name == "no scheme" else {}
            probe(env, f"token: {name}", url.split("/", 3)[3].split("/")[0] + " " + url.rsplit("/", 1)[1], "GET", url,
                  (401, 403), token=(tok if name not in ("no scheme",) else None), headers=headers)
    for url in (env["sharing"] + "/shares", env["api"] + "/api/v1/schools"):
        probe(env, "no token", url.rsplit("/", 1)[1], "GET", url, (401, 403), token=None)


@pytest.fixture(scope="module", autouse=True)
def _record():
    started = time.monotonic()
    yield
    if PROBES:
        by = {}
        for p in PROBES:
            by.setdefault((p["probe"], p["target"]), []).append(p)
        rows = [{"probe": k[0] + (f" (×{len(v)})" if len(v) > 1 else ""), "target": k[1],
                 "answer": ", ".join(sorted({x["answer"] for x in v}))} for k, v in by.items()]
        support.record("access", probes=len(PROBES), refused=sum(p["refused"] for p in PROBES),
                       leaks=sum(p["leaks"] for p in PROBES), cases=rows,
                       test_seconds=round(time.monotonic() - started, 1),
                       note=f"As district {A} (token scoped to it) unless the probe says otherwise; "
                            f"{len(PROBES)} requests in {len({(p['probe'], p['target']) for p in PROBES})} kinds; every other code of the district code list (current and legacy) and the city share. A probe passes when its answer is "
                            "a refusal (4xx) and no body carries another district's code or school id.")
    assert os.environ
