"""`edulake superset`: setup (environment, migrate, admin, import, roles), serve, stop, bundle."""

from __future__ import annotations

import os

import click
from rich.console import Console

from edulake.superset import config


@click.group()
def superset() -> None:
    """领导驾驶舱（Superset 6.1，独立环境）：部署、启动。"""


@superset.command()
@click.option("--port", type=int, default=None, help="端口 (default $EDULAKE_SUPERSET_PORT or 8088)")
@click.option("--start/--no-start", default=False, show_default=True, help="部署后在后台启动")
def setup(port: int | None, start: bool) -> None:
    """创建环境、迁移元数据、创建管理员、导入看板、创建区县角色（行级权限）。"""
    from edulake.superset.provisioning import provision

    console = Console()
    with console.status("Superset ...") as status:
        url = provision(port=port, start=start, progress=lambda m: (status.update(m), console.log(m)))
    console.print(f"管理员 {config.ADMIN_USER}, 密码见 {config.passwords_file()}")
    console.print(f"驾驶舱 {url}" if url else "启动: uv run edulake superset serve")


@superset.command()
@click.option("--port", type=int, default=None, help="端口 (default $EDULAKE_SUPERSET_PORT or 8088)")
@click.option("--background", is_flag=True, help="后台运行 (stop with `edulake superset stop`)")
def serve(port: int | None, background: bool) -> None:
    """在 127.0.0.1 上启动 Superset。"""
    from edulake.superset import server

    port = port or config.port()
    if background:
        srv = server.start(port)
        click.echo(f"Superset {'(复用 reused) ' if srv.reused else ''}{srv.url}/superset/dashboard/cockpit/")
        return
    click.echo(f"Superset on {config.base_url(port)}/superset/dashboard/cockpit/ (Ctrl-C to stop)")
    cmd = server.command(port)
    os.execve(cmd[0], cmd, config.superset_env(port))


@superset.command()
def stop() -> None:
    """停止后台运行的 Superset。"""
    from edulake.superset import server

    click.echo("stopped" if server.stop() else "not running")


@superset.command("bundle")
def bundle_cmd() -> None:
    """由 spec.py 重新生成 dashboards/bundle/（提交生成结果）。"""
    from edulake.superset import bundle

    files = bundle.write()
    click.echo(f"{len(files)} files in {config.BUNDLE_DIR}")
