"""The one mechanism that applies the privacy treatment each field declares in schemas/ (bronze -> silver).

- hash: keyed HMAC-SHA256 of the normalised value, hex (64 chars), under the field's silver_name.
  Same key => same token, so silver MERGEs and joins across feeds work. Computed in SQL with sha256 on
  binary (HMAC = H((K^opad) || H((K^ipad) || m))), on either engine, so no Python runs per row (DuckDB core
  has no HMAC; the community crypto extension cannot be installed here).
- mask: dates -> the first day of their month (a DATE, e.g. 2012-05-17 -> 2012-05-01); text (phone
  numbers) -> first 3 and last 4 characters around **** (13812345678 -> 138****5678).
- drop: not in silver.
- keep: the typed value as is.
Clear values of hashed, dropped and masked identifiers go only to restricted/identity, keyed by token.
The key comes from EDULAKE_PSEUDONYM_KEY, else $EDULAKE_HOME/secrets/pseudonym.key (`edulake setup`).
"""

from __future__ import annotations

import hashlib
import os

import pyarrow as pa

from edulake import settings
from edulake.quality import normalise, stage
from edulake.quality.sql import ident
from edulake.standard import Field, Standard, Table

KEY_ENV = "EDULAKE_PSEUDONYM_KEY"
_BLOCK = 64  # SHA-256 block size in bytes


class KeyMissing(RuntimeError):
    pass


def pseudonym_key() -> bytes:
    value = os.environ.get(KEY_ENV)
    if value:
        return value.encode("utf-8")
    key_file = settings.paths().secrets / "pseudonym.key"
    if not key_file.exists():
        raise KeyMissing(f"no pseudonymisation key: set {KEY_ENV} or run `edulake setup` (creates {key_file})")
    return key_file.read_text(encoding="utf-8").strip().encode("utf-8")


def _pads(key: bytes) -> tuple[bytes, bytes]:
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def hmac_sql(value: str, key: bytes) -> str:
    """SQL: HMAC-SHA256(key, utf-8(value)) as lower-case hex; NULL stays NULL."""
    inner_pad, outer_pad = _pads(key)
    inner = f"unhex(sha256(unhex('{inner_pad.hex()}') || encode(CAST({value} AS VARCHAR))))"
    return f"(CASE WHEN {value} IS NOT NULL THEN sha256(unhex('{outer_pad.hex()}') || {inner}) END)"


def mask_sql(value: str, field: Field) -> str:
    if field.type == "date":
        return f"CAST(date_trunc('month', {value}) AS DATE)"
    text = f"CAST({value} AS VARCHAR)"
    return (f"(CASE WHEN length({text}) >= 8 THEN substring({text}, 1, 3) || '****' || "
            f"substring({text}, length({text}) - 3, 4) WHEN {text} IS NOT NULL THEN '****' END)")


def silver_sql_type(field: Field) -> str:
    if field.treatment == "hash" or (field.treatment == "mask" and field.type != "date"):
        return "VARCHAR"
    return normalise.sql_type(field)


def silver_value_sql(field: Field) -> str:
    """SQL: the silver column of a field that reaches silver, from its typed value under field.name (a hashed
    field's pseudonym from the column typed computed it into, stage.token_column)."""
    value = ident(field.name)
    if field.treatment == "hash":
        out = stage.token_column(field.name)
    elif field.treatment == "mask":
        out = mask_sql(value, field)
    else:
        out = value
    return f"CAST({out} AS {silver_sql_type(field)}) AS {ident(field.silver_name)}"


def arrow_type(sql_type: str) -> pa.DataType:
    """The Arrow (and so Delta) type of one of the SQL types fields take."""
    if sql_type.startswith("DECIMAL"):
        precision, scale = sql_type[8:-1].split(",")
        return pa.decimal128(int(precision), int(scale))
    return {"VARCHAR": pa.string(), "INTEGER": pa.int32(), "DATE": pa.date32(), "BOOLEAN": pa.bool_()}[sql_type]


def identity_fields(std: Standard) -> list[str]:
    """Columns of restricted/identity: every identifier the standard hashes, drops or masks, in clear."""
    names: list[str] = []
    for table in std.tables():
        for f in table.fields:
            if f.privacy == "identifier" and f.treatment in ("hash", "drop", "mask") and f.name not in names:
                names.append(f.name)
    return names


def token_field(table: Table) -> Field | None:
    """The hashed identifier whose token keys this table's identity rows."""
    hashed = [f for f in table.fields if f.treatment == "hash"]
    held = [f for f in table.fields if f.privacy == "identifier" and f.treatment in ("drop", "mask")]
    if len(hashed) > 1 or (held and not hashed):
        raise ValueError(f"{table.qualified_name}: identity needs exactly one hashed identifier to key "
                         f"{', '.join(f.name for f in held)} (has {len(hashed)})")
    return hashed[0] if hashed else None
