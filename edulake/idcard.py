"""GB 11643-1999 公民身份号码: check digit (ISO 7064 MOD 11-2), validation and construction.

One implementation for the generator, the lake and the quality rules. Facts (weights, mapping)
from shared/standards/codes.md §1.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"  # index = (sum of digit * weight) mod 11
_SHAPE = re.compile(r"^\d{17}[0-9X]$")
_WEIGHTS_ARRAY = np.array(WEIGHTS, dtype=np.int64)


def check_digit(first17: str) -> str:
    """The 18th character for the first 17 digits."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError(f"need 17 digits, got {first17!r}")
    return CHECK_CHARS[sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True)) % 11]


def build(region: str, birth: dt.date, sequence: int) -> str:
    """Region code (6 digits, GB/T 2260), birth date, 3-digit sequence (odd = male) -> 18-char ID."""
    if not (0 <= sequence <= 999):
        raise ValueError(f"sequence {sequence} out of 0-999")
    first17 = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return first17 + check_digit(first17)


def birth_date(id_number: str) -> dt.date | None:
    try:
        return dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return None


def sex(id_number: str) -> str:
    """GB/T 2261.1 code from the sequence code's parity: '1' male (odd), '2' female (even)."""
    return "1" if int(id_number[16]) % 2 else "2"


def is_valid(id_number: str) -> bool:
    """Shape, a real birth date and the MOD 11-2 check digit."""
    if not isinstance(id_number, str) or not _SHAPE.match(id_number):
        return False
    if birth_date(id_number) is None:
        return False
    return id_number[17] == check_digit(id_number[:17])


def check_digits(first17: np.ndarray) -> np.ndarray:
    """Vectorised check digits for an array of 17-digit strings (numpy str or object array)."""
    codes = np.asarray(first17, dtype="U17")
    digits = codes.view("U1").reshape(len(codes), 17).astype(np.int64) if len(codes) else np.zeros((0, 17), np.int64)
    return np.array(list(CHECK_CHARS))[(digits @ _WEIGHTS_ARRAY) % 11]
