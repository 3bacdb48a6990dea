"""The data standard (schemas/) as Python objects.

This module is the one place other code gets field lists, types, code lists, rules and
privacy classes from. Nothing else parses schemas/*.yaml.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from edulake.settings import SCHEMAS_DIR

TYPES = ("string", "code", "integer", "decimal", "date", "duration", "boolean")
SEVERITIES = ("error", "warn", "fatal")


class StandardError(ValueError):
    """The standard itself is inconsistent: names the file and the offending entry."""


@dataclass(frozen=True)
class CodeList:
    name: str
    columns: tuple[str, ...]
    rows: tuple[dict, ...]
    path: Path

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(r["code"] for r in self.rows)

    def lookup(self, key: str = "code") -> dict[str, str]:
        """Source value (in column `key`) -> standard code."""
        return {r[key]: r["code"] for r in self.rows if r.get(key)}

    def labels(self) -> dict[str, str]:
        return {r["code"]: r["name"] for r in self.rows}


@dataclass(frozen=True)
class Rule:
    name: str
    severity: str
    description: str
    params: dict = field(default_factory=dict, compare=False, hash=False)  # the rule's settings, e.g. margins


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    column: str  # the column header as the source system exports it
    type: str
    required: bool
    privacy: str
    treatment: str
    silver_name: str
    codes: str | None = None
    code_key: str = "code"
    allowed: tuple[str, ...] | None = None
    pattern: str | None = None
    min: float | str | None = None
    max: float | str | None = None
    max_length: int | None = None
    scale: int | None = None
    unit: str | None = None
    description: str = ""

    @property
    def in_silver(self) -> bool:
        return self.treatment != "drop"

    @property
    def doc(self) -> str:
        """One line for catalogs and dbt docs: Chinese label, unit and notes."""
        parts = [self.label]
        if self.unit:
            parts.append(f"（{self.unit}）")
        if self.description:
            parts.append(f" — {self.description}")
        return "".join(parts)


@dataclass(frozen=True)
class Table:
    feed: str
    name: str
    label: str
    entity: str  # silver/<entity>
    file_pattern: str
    formats: tuple[str, ...]
    encoding: str
    natural_key: tuple[str, ...]
    fields: tuple[Field, ...]
    rules: tuple[Rule, ...] = ()

    @property
    def qualified_name(self) -> str:
        return f"{self.feed}.{self.name}"

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.qualified_name} has no field {name!r}")

    @property
    def columns(self) -> list[str]:
        return [f.column for f in self.fields]

    @property
    def silver_fields(self) -> list[Field]:
        return [f for f in self.fields if f.in_silver]

    @property
    def natural_key_silver(self) -> list[str]:
        return [self.field(n).silver_name for n in self.natural_key]


@dataclass(frozen=True)
class Delivery:
    """The feed's expected delivery calendar (运行监测): every year, each due date (MM-DD) closes a delivery
    period that opened at the previous due date; `grace_days` after it, a feed (each district's own file
    series when `by_district`) with no loaded batch since the period opened is overdue."""

    due: tuple[str, ...]  # MM-DD, every year
    grace_days: int = 0
    by_district: bool = False
    note: str = ""


@dataclass(frozen=True)
class Monitoring:
    """Alert thresholds (schemas/standard.yaml `monitoring`): a rule's failure rate in a batch jumps when it
    exceeds `jump_factor` x the previous batch of the same file series, and is at least `min_failure_rate`
    over at least `min_failed_rows` rows (small batches and rare defects are noise, not a jump)."""

    jump_factor: float = 3.0
    min_failure_rate: float = 0.02
    min_failed_rows: int = 10


@dataclass(frozen=True)
class Feed:
    name: str
    label: str
    description: str
    owner: str
    tables: tuple[Table, ...]
    path: Path
    delivery: Delivery | None = None

    def table(self, name: str) -> Table:
        for t in self.tables:
            if t.name == name:
                return t
        raise KeyError(f"feed {self.name!r} has no table {name!r}")


@dataclass(frozen=True)
class Standard:
    version: int
    name: str
    feeds: dict[str, Feed]
    code_lists: dict[str, CodeList]
    privacy_classes: dict[str, dict]
    root: Path = field(repr=False)
    monitoring: Monitoring = field(default_factory=Monitoring)

    def feed(self, name: str) -> Feed:
        try:
            return self.feeds[name]
        except KeyError:
            raise KeyError(f"unknown feed {name!r}; the standard has {', '.join(self.feeds)}") from None

    def table(self, qualified: str) -> Table:
        feed, _, table = qualified.partition(".")
        return self.feed(feed).table(table)

    def tables(self) -> list[Table]:
        return [t for f in self.feeds.values() for t in f.tables]

    def entity(self, entity: str) -> Table:
        for t in self.tables():
            if t.entity == entity:
                return t
        raise KeyError(f"no table feeds silver entity {entity!r}")

    def codes(self, name: str) -> CodeList:
        return self.code_lists[name]


def _read_code_list(path: Path) -> CodeList:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        rows = tuple(reader)
        return CodeList(path.stem, tuple(reader.fieldnames or ()), rows, path)


def _parse_field(raw: dict, where: str) -> Field:
    try:
        return Field(
            name=raw["name"],
            label=raw["label"],
            column=raw.get("column", raw["label"]),
            type=raw["type"],
            required=bool(raw.get("required", False)),
            privacy=raw["privacy"],
            treatment=raw["treatment"],
            silver_name=raw.get("silver_name", raw["name"]),
            codes=raw.get("codes"),
            code_key=raw.get("code_key", "code"),
            allowed=tuple(str(a) for a in raw["allowed"]) if "allowed" in raw else None,
            pattern=raw.get("pattern"),
            min=raw.get("min"),
            max=raw.get("max"),
            max_length=raw.get("max_length"),
            scale=raw.get("scale"),
            unit=raw.get("unit"),
            description=raw.get("description", ""),
        )
    except KeyError as e:
        raise StandardError(f"{where}: field {raw.get('name', '?')!r} lacks {e.args[0]!r}") from None


def _parse_feed(path: Path) -> Feed:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    tables = []
    for t in raw["tables"]:
        where = f"{path.name}: table {t.get('name')}"
        files = t["files"]
        formats = files["format"] if isinstance(files["format"], list) else [files["format"]]
        tables.append(
            Table(
                feed=raw["feed"],
                name=t["name"],
                label=t["label"],
                entity=t["entity"],
                file_pattern=files["pattern"],
                formats=tuple(formats),
                encoding=files.get("encoding", "utf-8"),
                natural_key=tuple(t["natural_key"]),
                fields=tuple(_parse_field(f, where) for f in t["fields"]),
                rules=tuple(Rule(r["name"], r["severity"], r.get("description", ""), dict(r.get("params") or {}))
                            for r in t.get("rules", [])),
            )
        )
    delivery = None
    if raw.get("delivery"):
        d = raw["delivery"]
        delivery = Delivery(tuple(str(x) for x in d["due"]), int(d.get("grace_days", 0)),
                            bool(d.get("by_district", False)), d.get("note", ""))
    return Feed(raw["feed"], raw["label"], raw.get("description", ""), raw.get("owner", ""), tuple(tables), path,
                delivery)


@functools.cache
def load(root: Path = SCHEMAS_DIR) -> Standard:
    meta = yaml.safe_load((root / "standard.yaml").read_text(encoding="utf-8"))
    code_lists = {p.stem: _read_code_list(p) for p in sorted((root / "codes").glob("*.csv"))}
    feeds = {}
    for name in meta["feeds"]:
        feeds[name] = _parse_feed(root / "feeds" / f"{name}.yaml")
    std = Standard(meta["version"], meta["name"], feeds, code_lists, meta["privacy_classes"], root,
                   Monitoring(**(meta.get("monitoring") or {})))
    problems = check(std)
    if problems:
        raise StandardError("the data standard is inconsistent:\n  " + "\n  ".join(problems))
    return std


def check(std: Standard) -> list[str]:
    """Self-consistency of the standard; returns human-readable problems (empty when sound)."""
    problems: list[str] = []
    entities: dict[str, str] = {}
    for table in std.tables():
        where = f"schemas/feeds/{table.feed}.yaml table {table.name}"
        if table.entity in entities:
            problems.append(f"{where}: entity {table.entity!r} also fed by {entities[table.entity]}")
        entities[table.entity] = table.qualified_name
        names = [f.name for f in table.fields]
        for dup in {n for n in names if names.count(n) > 1}:
            problems.append(f"{where}: field {dup!r} declared twice")
        silver = [f.silver_name for f in table.silver_fields]
        for dup in {n for n in silver if silver.count(n) > 1}:
            problems.append(f"{where}: silver column {dup!r} produced twice")
        columns = table.columns
        for dup in {c for c in columns if columns.count(c) > 1}:
            problems.append(f"{where}: source column {dup!r} mapped twice")
        for key in table.natural_key:
            if key not in names:
                problems.append(f"{where}: natural key {key!r} is not a field")
            elif not table.field(key).required:
                problems.append(f"{where}: natural key {key!r} must be required")
        for rule in table.rules:
            if rule.severity not in SEVERITIES:
                problems.append(f"{where}: rule {rule.name!r} has severity {rule.severity!r}")
        for f in table.fields:
            fw = f"{where} field {f.name}"
            if f.type not in TYPES:
                problems.append(f"{fw}: unknown type {f.type!r}")
            cls = std.privacy_classes.get(f.privacy)
            if cls is None:
                problems.append(f"{fw}: unknown privacy class {f.privacy!r}")
            elif f.treatment not in cls["treatments"]:
                problems.append(f"{fw}: treatment {f.treatment!r} not allowed for class {f.privacy!r}")
            if f.type == "code":
                if not f.codes:
                    problems.append(f"{fw}: type code needs a code list")
                elif f.codes not in std.code_lists:
                    problems.append(f"{fw}: code list {f.codes!r} not in schemas/codes/")
                else:
                    cl = std.code_lists[f.codes]
                    if f.code_key not in cl.columns:
                        problems.append(f"{fw}: code list {f.codes!r} has no column {f.code_key!r}")
                    for a in f.allowed or ():
                        if a not in cl.codes:
                            problems.append(f"{fw}: allowed value {a!r} not in code list {f.codes!r}")
            if f.treatment == "hash" and f.silver_name == f.name:
                problems.append(f"{fw}: hashed fields need a silver_name for their token")
            if f.type == "decimal" and f.scale is None:
                problems.append(f"{fw}: decimal needs a scale")
    for feed in std.feeds.values():
        if feed.delivery is None:
            problems.append(f"schemas/feeds/{feed.name}.yaml: no delivery calendar (delivery.due)")
            continue
        for due in feed.delivery.due:
            if not _valid_month_day(due):
                problems.append(f"schemas/feeds/{feed.name}.yaml: delivery due date {due!r} is not MM-DD")
    for cl in std.code_lists.values():
        codes = [r["code"] for r in cl.rows]
        if len(codes) != len(set(codes)):
            problems.append(f"schemas/codes/{cl.path.name}: duplicate codes")
        for col in ("source", "confidence"):
            if col not in cl.columns:
                problems.append(f"schemas/codes/{cl.path.name}: provenance column {col!r} missing")
    return problems


def _valid_month_day(text: str) -> bool:
    import datetime as dt

    try:
        dt.date.fromisoformat(f"2001-{text}")  # not a leap year: no 02-29 deadline
    except ValueError:
        return False
    return len(text) == 5
