"""The Delta Sharing server (open protocol, PROTOCOL.md), over the shared Delta tables.

Shares: `district_<code>` for each of the 16 districts, `city` for the commission; one schema `edulake`
holding every table of edulake.sharing.catalog. A token sees its own share only, and a district share
answers with the files of that district's partitions. Data files are served by this same server at signed
URLs (HMAC + expiry; the client sends no token there), with HEAD and Range support.

Run: `uvicorn edulake.sharing.sharing_app:app` (what `edulake serve` does).
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import Body, FastAPI, Query, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict

from edulake.sharing import catalog, config, shares, signing, web
from edulake.sharing.tokens import Token

PREFIX = "/delta-sharing"
NDJSON = "application/x-ndjson; charset=utf-8"
MAX_PAGE = 1000

app = FastAPI(title="edulake Delta Sharing", version="1", lifespan=web.audited,
              description="Delta Sharing protocol server: one share per district (区级共享), `city` for 市教委.")
# the audit's action is the endpoint's name (list_shares, query_table, download …), whatever the outcome
app.state.audit = web.install(app, "sharing", lambda r: r.scope["route"].name if r.scope.get("route")
                              else f"{r.method} {r.url.path}")
index = shares.Index()


def _district_sets() -> dict[str, set[str]]:
    """district -> its codes in the data (its own and the legacy codes merged into it), from the standard's
    district code list: the partitions a district share may see."""
    from edulake import standard

    out: dict[str, set[str]] = {}
    for r in standard.load().codes("district").rows:
        out.setdefault(r["current_code"], set()).add(r["code"])
    return out


DISTRICTS = _district_sets()
ALL_SHARES = [config.CITY_SHARE] + [f"district_{d}" for d in sorted(DISTRICTS)]


def _name(kind: str, value: str) -> str:
    value = value.lower()
    if not catalog.NAME.fullmatch(value):
        raise web.bad_request(f"malformed {kind} name {value!r}: lower-case letters, digits and _ only, "
                              "starting with a letter")
    return value


def _share(token: Token, share: str) -> str:
    share = _name("share", share)
    if share not in ALL_SHARES:
        raise web.not_found(f"no share {share!r}; your share is {token.share!r}")
    if share != token.share:
        raise web.forbidden(f"token {token.id} may read share {token.share!r} only, not {share!r}")
    return share


def _schema(schema: str) -> str:
    schema = _name("schema", schema)
    if schema != config.SCHEMA_NAME:
        raise web.not_found(f"no schema {schema!r}; the share holds schema {config.SCHEMA_NAME!r}")
    return schema


def _table(table: str) -> catalog.SharedTable:
    try:
        return catalog.table(table.lower())
    except ValueError as e:
        raise web.bad_request(str(e)) from None
    except KeyError as e:
        raise web.not_found(e.args[0]) from None


def _districts_of(share: str) -> set[str] | None:
    return None if share == config.CITY_SHARE else DISTRICTS[share.removeprefix("district_")]


def _page(items: list[dict], max_results: int | None, page_token: str | None) -> dict:
    start = 0
    if page_token:
        try:
            start = int(page_token)
        except ValueError:
            raise web.bad_request(f"malformed pageToken {page_token!r}: use the nextPageToken returned") from None
        if start < 0 or start > len(items):
            raise web.bad_request(f"pageToken {page_token!r} is out of range")
    size = MAX_PAGE if max_results is None else max_results
    end = start + size
    body: dict = {"items": items[start:end]}
    if end < len(items):
        body["nextPageToken"] = str(end)
    return body


MaxResults = Query(None, alias="maxResults", ge=0, le=MAX_PAGE, description="page size (0-1000)")
PageToken = Query(None, alias="pageToken", max_length=20, description="nextPageToken of the previous page")


@app.get("/health", include_in_schema=False)
def health():
    return {"status": "ok"}


@app.get(PREFIX + "/shares")
def list_shares(request: Request, max_results: int | None = MaxResults, page_token: str | None = PageToken):
    token = web.authenticate(request)
    return _page([{"name": token.share, "id": token.share}], max_results, page_token)


@app.get(PREFIX + "/shares/{share}")
def get_share(request: Request, share: str):
    token = web.authenticate(request)
    share = _share(token, share)
    web.note(request, resource=share)
    return {"share": {"name": share, "id": share}}


@app.get(PREFIX + "/shares/{share}/schemas")
def list_schemas(request: Request, share: str, max_results: int | None = MaxResults,
                 page_token: str | None = PageToken):
    token = web.authenticate(request)
    share = _share(token, share)
    web.note(request, resource=share)
    return _page([{"name": config.SCHEMA_NAME, "share": share}], max_results, page_token)


def _table_items(share: str) -> list[dict]:
    return [{"name": t.name, "schema": config.SCHEMA_NAME, "share": share, "shareId": share,
             "id": f"{share}.{t.name}"} for t in catalog.TABLES]


@app.get(PREFIX + "/shares/{share}/schemas/{schema}/tables")
def list_tables(request: Request, share: str, schema: str, max_results: int | None = MaxResults,
                page_token: str | None = PageToken):
    token = web.authenticate(request)
    share, _ = _share(token, share), _schema(schema)
    web.note(request, resource=f"{share}.{schema}")
    return _page(_table_items(share), max_results, page_token)


@app.get(PREFIX + "/shares/{share}/all-tables")
def list_all_tables(request: Request, share: str, max_results: int | None = MaxResults,
                    page_token: str | None = PageToken):
    token = web.authenticate(request)
    share = _share(token, share)
    web.note(request, resource=share)
    return _page(_table_items(share), max_results, page_token)


def _resolve(request: Request, share: str, schema: str, table: str):
    token = web.authenticate(request)
    share, _ = _share(token, share), _schema(schema)
    t = _table(table)
    try:
        snap = index.snapshot(t.name)
    except LookupError as e:
        raise web.not_found(str(e)) from None
    return token, share, t, snap


def _capabilities() -> dict[str, str]:
    return {"delta-sharing-capabilities": "responseformat=parquet"}


@app.get(PREFIX + "/shares/{share}/schemas/{schema}/tables/{table}/version")
def table_version(request: Request, share: str, schema: str, table: str):
    _token, share, t, snap = _resolve(request, share, schema, table)
    web.note(request, resource=f"{share}.{t.name}")
    return Response(status_code=200, headers={"Delta-Table-Version": str(snap.version), **_capabilities()})


def _head_lines(snap: shares.Snapshot) -> list[dict]:
    return [{"protocol": {"minReaderVersion": 1}},
            {"metaData": {"id": snap.metadata_id, "format": {"provider": "parquet"},
                          "schemaString": snap.schema_string, "partitionColumns": snap.partition_columns,
                          "configuration": {}}}]


def _ndjson(lines: list[dict], version: int) -> Response:
    body = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    return Response(body, media_type=NDJSON, headers={"Delta-Table-Version": str(version), **_capabilities()})


@app.get(PREFIX + "/shares/{share}/schemas/{schema}/tables/{table}/metadata")
def table_metadata(request: Request, share: str, schema: str, table: str):
    _token, share, t, snap = _resolve(request, share, schema, table)
    web.note(request, resource=f"{share}.{t.name}")
    return _ndjson(_head_lines(snap), snap.version)


class QueryBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    predicateHints: list[str] | None = None
    jsonPredicateHints: str | None = None
    limitHint: int | None = None
    version: int | None = None
    timestamp: str | None = None
    startingVersion: int | None = None
    endingVersion: int | None = None


@app.post(PREFIX + "/shares/{share}/schemas/{schema}/tables/{table}/query")
def query_table(request: Request, share: str, schema: str, table: str, body: Annotated[QueryBody | None, Body()] = None):
    token, share, t, snap = _resolve(request, share, schema, table)
    body = body or QueryBody()
    if body.version not in (None, snap.version) or body.timestamp or body.startingVersion is not None:
        raise web.bad_request("history sharing is not enabled on edulake tables: query the current version")
    if body.limitHint is not None and body.limitHint < 0:
        raise web.bad_request("limitHint must be non-negative")
    files = snap.files_for(_districts_of(share))
    if body.limitHint is not None:  # best effort, as the protocol allows: enough files for the limit
        kept, rows = [], 0
        for f in files:
            if rows >= body.limitHint:
                break
            kept.append(f)
            rows += f.rows
        files = kept
    base = str(request.base_url).rstrip("/")
    lines = _head_lines(snap)
    for f in files:
        qs = signing.query_string(t.name, f.id, token.id)
        lines.append({"file": {
            "url": f"{base}{PREFIX}/files/{t.name}/{f.id}?{qs}", "id": f.id,
            "partitionValues": {shares.PARTITION: f.district}, "size": f.size,
            "stats": json.dumps({"numRecords": f.rows})}})
    web.note(request, resource=f"{share}.{t.name}", rows=sum(f.rows for f in files), files=len(files))
    return _ndjson(lines, snap.version)


@app.api_route(PREFIX + "/files/{table}/{file_id}", methods=["GET", "HEAD"])
def download(request: Request, table: str, file_id: str, tok: str = Query(..., max_length=32),
             exp: str = Query(..., max_length=20), sig: str = Query(..., max_length=128)):
    t = _table(table)
    if not all(c in "0123456789abcdef" for c in file_id) or len(file_id) != 32:
        raise web.bad_request("malformed file id")
    issued_to = web.verifier.by_id(tok)
    try:
        signing.check(t.name, file_id, tok, exp, sig)
    except signing.ExpiredError as e:
        request.state.token = issued_to  # genuinely issued: the audit names whom to
        raise web.forbidden(str(e)) from None
    except signing.SignatureError as e:
        raise web.forbidden(str(e)) from None
    if issued_to is None or issued_to.status() != "active":
        raise web.forbidden(f"the token this URL was issued to is {issued_to.status() if issued_to else 'unknown'}")
    request.state.token = issued_to
    # a caller who does present a token must be the one the URL was issued to (or the same district)
    if request.headers.get("authorization"):
        caller = web.authenticate(request)
        if caller.share != issued_to.share:
            raise web.forbidden(f"this URL was issued to share {issued_to.share!r}, not {caller.share!r}")
    f = index.file(t.name, file_id)
    if f is None:
        raise web.not_found("no such file in the current table version: query the table again")
    allowed = _districts_of(issued_to.share)
    if allowed is not None and f.district not in allowed:  # cannot happen for a URL we signed: belt and braces
        raise web.forbidden("this file is outside your share")
    ranged = request.headers.get("range")
    web.note(request, resource=f"{issued_to.share}.{t.name}", rows=None if ranged else f.rows,
             **({"range": ranged} if ranged else {}))
    return FileResponse(f.path, media_type="application/octet-stream", content_disposition_type="attachment",
                        filename=f"{file_id}.parquet")

