"""Thin commands: `edulake extract`, `edulake token create|list|revoke`, `edulake serve [stop]`, `edulake sql`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import click

from edulake import permissions, settings
from edulake.sharing import config


def _fail(e: Exception):
    raise click.ClickException(str(e)) from e


@click.command("extract")
@click.option("--district", "districts", multiple=True, metavar="CODE", help="区划代码, e.g. 110108 (repeatable; default all 16)")
@click.option("--year", type=int, help="学年 (school_year, e.g. 2025); default every year")
@click.option("--no-shares", is_flag=True, help="do not refresh the Delta Sharing tables")
def extract(districts, year, no_shares):
    """区级共享数据包: $EDULAKE_HOME/extracts/<district>/<build>/ (Parquet, CSV UTF-8 BOM, manifest.json)."""
    from edulake.sharing import extract as ex
    from edulake.sharing import shares

    try:
        packages = ex.extract(list(districts) or None, year)
        outcome = {} if no_shares or districts or year else shares.publish()
    except (ValueError, FileNotFoundError, LookupError) as e:
        _fail(e)
    for p in packages:
        click.echo(f"{p.district} {p.build} {'unchanged' if p.unchanged else 'written'} {p.rows:,} 行 -> {p.path}")
    for name, what in outcome.items():
        click.echo(f"共享表 {name}: {what}")


@click.group("token")
def token():
    """访问令牌: create | list | revoke (stored hashed in $EDULAKE_HOME/secrets)."""


@token.command("create")
@click.option("--district", metavar="CODE", help="the district the token reads (区划代码)")
@click.option("--city", is_flag=True, help="city scope (市教委): every district")
@click.option("--name", default="", help="who holds it")
@click.option("--days", type=float, default=365, show_default=True, help="lifetime in days (0 = no expiry)")
@click.option("--profile", type=click.Path(dir_okay=False), help="also write a Delta Sharing profile file here")
def token_create(district, city, name, days, profile):
    """Issue a token; it is printed once and not stored in clear."""
    from edulake.sharing import tokens

    try:
        t, clear = tokens.create(district, name=name, days=days or None, city=city)
    except ValueError as e:
        _fail(e)
    click.echo(f"id {t.id}  scope {t.scope}  district {t.district or '-'}  share {t.share}  expires {t.expires_at}")
    click.echo(clear)
    if profile:
        body = {"shareCredentialsVersion": 1, "bearerToken": clear,
                "endpoint": f"http://127.0.0.1:{config.sharing_port()}/delta-sharing"}
        if t.expires_at:
            body["expirationTime"] = t.expires_at.replace("+00:00", "Z")
        permissions.write_private(Path(profile).resolve(), json.dumps(body, indent=1), own_folder=False)
        click.echo(f"profile -> {profile}")


@token.command("list")
def token_list():
    from edulake.sharing import tokens

    for t in tokens.listing():
        click.echo(f"{t.id}  {t.status():8} {t.scope:8} {t.district or '-':7} {t.name}  created {t.created_at}"
                   f"  expires {t.expires_at or '-'}")


@token.command("revoke")
@click.argument("token_id", required=False)
@click.option("--district", metavar="CODE", help="revoke every active token of this district")
def token_revoke(token_id, district):
    from edulake.sharing import tokens

    try:
        gone = tokens.revoke(token_id, district)
    except ValueError as e:
        _fail(e)
    click.echo(f"revoked {len(gone)}: {', '.join(t.id for t in gone) or '-'}")


@click.group("serve", invoke_without_command=True)
@click.option("--sharing-port", type=int, help=f"Delta Sharing port (default {config.DEFAULT_SHARING_PORT}, EDULAKE_SHARING_PORT)")
@click.option("--api-port", type=int, help=f"data API port (default {config.DEFAULT_API_PORT}, EDULAKE_API_PORT)")
@click.pass_context
def serve(ctx, sharing_port, api_port):
    """启动共享服务 (Delta Sharing) 与数据服务 API on 127.0.0.1, in the background; `serve stop` stops them."""
    if ctx.invoked_subcommand:
        return
    from edulake.sharing import serve as srv
    from edulake.sharing import shares

    try:
        if shares.stale():
            for name, what in shares.publish().items():
                click.echo(f"共享表 {name}: {what}")
    except (FileNotFoundError, LookupError) as e:
        _fail(e)
    for name, port in (("sharing", sharing_port or config.sharing_port()), ("api", api_port or config.api_port())):
        r = srv.start(name, port)
        click.echo(f"{name}: {r.url} (pid {r.pid}{', already running' if r.reused else ''})")
    click.echo("Delta Sharing endpoint: <sharing>/delta-sharing ; API docs: <api>/docs ; 数据目录: <api>/catalog/")


@serve.command("stop")
def serve_stop():
    from edulake.sharing import serve as srv

    for name in srv.SERVICES:
        click.echo(f"{name}: {'stopped' if srv.stop(name) else 'not running'}")


@click.command("sql", context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def sql(args):
    """DuckDB CLI on the published warehouse, read-only (extra ARGS go to duckdb, e.g. -c "select 1")."""
    import duckdb

    cli = shutil.which("duckdb", path=os.path.dirname(sys.executable)) or shutil.which("duckdb")
    if cli is None:
        raise click.ClickException("no duckdb CLI: `make install` installs duckdb-cli from the lock")
    # the CLI must be the DuckDB that writes the warehouse (pyproject pins duckdb-cli to it)
    version = subprocess.run([cli, "--version"], capture_output=True, text=True).stdout.split()
    if not version or version[0].lstrip("v") != duckdb.__version__:
        raise click.ClickException(f"{cli} is DuckDB {version[:1]}, the warehouse is written by DuckDB "
                                   f"{duckdb.__version__}: reinstall with `make install`")
    warehouse = settings.paths().warehouse
    if not warehouse.exists():
        raise click.ClickException(f"no published warehouse at {warehouse}: run `edulake build` first")
    os.execv(cli, [cli, "-readonly", str(warehouse), *args])
