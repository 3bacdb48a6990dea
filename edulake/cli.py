"""The `edulake` command. Each subcommand lives in its own module; this file only wires them."""

from __future__ import annotations

import importlib

import click

# name -> "module:attribute"; imported lazily so `edulake --help` stays fast and
# a command's heavy dependencies (Spark, dbt, Airflow) load only when it runs.
COMMANDS = {
    "setup": ("edulake.commands.setup:setup", "安装依赖工件（Delta jars、假名密钥）"),
    "standard": ("edulake.commands.standard:standard", "数据标准：检查、查看"),
    "generate": ("edulake.generate.cli:generate", "生成北京市模拟源数据"),
    "run": ("edulake.commands.run:run", "端到端运行整条流水线"),
    "ingest": ("edulake.commands.ingest:ingest", "接入数据：收件箱 -> landing -> bronze -> silver"),
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


if __name__ == "__main__":
    main()
