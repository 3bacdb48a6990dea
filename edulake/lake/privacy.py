"""The one mechanism that applies the privacy treatment each field declares in schemas/ (bronze -> silver).

- hash: keyed HMAC-SHA256 of the normalised value, hex (64 chars), under the field's silver_name.
  Same key => same token, so silver MERGEs and joins across feeds work. Computed with Spark's sha2 on
  binary (HMAC = H((K^opad) || H((K^ipad) || m))), so no Python runs per row.
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

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql import types as T

from edulake import settings
from edulake.lake import normalise
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


def hmac_token(value: Column, key: bytes) -> Column:
    """HMAC-SHA256(key, utf-8(value)) as lower-case hex; NULL stays NULL."""
    inner_pad, outer_pad = _pads(key)
    inner = F.unhex(F.sha2(F.concat(F.lit(inner_pad), F.encode(value, "UTF-8")), 256))
    return F.when(value.isNotNull(), F.sha2(F.concat(F.lit(outer_pad), inner), 256))


def mask(value: Column, field: Field) -> Column:
    if field.type == "date":
        return F.trunc(value, "month")
    text = value.cast("string")
    return F.when(F.length(text) >= 8, F.concat(F.substring(text, 1, 3), F.lit("****"), F.substring(text, -4, 4)))\
        .when(text.isNotNull(), F.lit("****"))


def silver_type(field: Field) -> T.DataType:
    if field.treatment == "hash":
        return T.StringType()
    if field.treatment == "mask" and field.type != "date":
        return T.StringType()
    return normalise.spark_type(field)


def silver_value(field: Field, key: bytes) -> Column:
    """The silver column for a field that reaches silver, from its typed value under field.name."""
    value = F.col(field.name)
    if field.treatment == "hash":
        out = hmac_token(value.cast("string"), key)
    elif field.treatment == "mask":
        out = mask(value, field)
    else:
        out = value
    return out.cast(silver_type(field)).alias(field.silver_name)


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
