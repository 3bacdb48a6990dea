"""The `edulake` command. Each subcommand lives in its own module; this file only wires them."""

from __future__ import annotations

import importlib

import click

from edulake import permissions

# name -> "module:attribute"; imported lazily so `edulake --help` stays fast and
# a command's heavy dependencies (Spark, dbt, Airflow) load only when it runs.
COMMANDS = {
    "setup": ("edulake.commands.setup:setup", "安装依赖工件（Delta jars、假名密钥）"),
    "standard": ("edulake.commands.standard:standard", "数据标准：检查、查看"),
    "generate": ("edulake.generate.cli:generate", "生成北京市模拟源数据"),
    "run": ("edulake.commands.run:run", "端到端运行整条流水线"),
    "ingest": ("edulake.commands.ingest:ingest", "接入数据：收件箱 -> landing -> bronze -> silver"),
    "repair": ("edulake.commands.repair:repair", "检查并修复损坏的数据湖表与数仓（Delta 日志、数据文件、edulake.duckdb）"),
    # each further command lives in its own module, owned by the part of the platform it serves
    "quality": ("edulake.quality.cli:quality", "数据质量：由数据标准生成 GX 校验套件、查看结果"),
    "build": ("edulake.warehouse.cli:build", "构建全息教育数据库（dbt build）并发布数仓"),
    "fitness": ("edulake.fitness.cli:fitness", "学生体质健康：按 2014 标准评分"),
    "status": ("edulake.orchestration.cli:status", "运行状态：各数据源各区的报送、质量、时效与告警；DAG、批次台账、隔离区"),
    "airflow": ("edulake.orchestration.cli:airflow_group", "Airflow：启动、触发、查看"),
    "superset": ("edulake.superset.cli:superset", "领导驾驶舱（Superset）：部署、启动"),
    "bench": ("edulake.bench.cli:bench", "基准测试：分阶段计时与内存"),
    "extract": ("edulake.sharing.cli:extract", "区级共享数据包：Parquet、CSV、manifest"),
    "token": ("edulake.sharing.cli:token", "共享与数据服务的访问令牌：create | list | revoke"),
    "serve": ("edulake.sharing.cli:serve", "启动共享服务（Delta Sharing）与数据服务 API；serve stop 停止"),
    "sql": ("edulake.sharing.cli:sql", "DuckDB CLI 只读打开已发布数仓"),
    "lineage": ("edulake.lineage.cli:lineage", "数据血缘：表或字段的上游源文件与批次、下游数仓与看板"),
    "audit": ("edulake.audit:audit_command", "依赖漏洞审计（pip-audit：uv.lock 与 Superset 环境）"),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        target, _help = COMMANDS[name]
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)

    def format_commands(self, ctx, formatter):
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """edulake — 教育大数据湖仓 (1+6+N). All state lives under $EDULAKE_HOME (default ./var)."""
    # before any subcommand writes a file or starts a server, JVM or dbt: all of them inherit it
    permissions.restrict_process()


if __name__ == "__main__":
    main()
