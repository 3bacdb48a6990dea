"""The shared tables' change fingerprint (edulake.sharing.shares): the same rows give the same fingerprint
whatever bytes lie under their null slots (DuckDB's Arrow export leaves them as they were, so IPC bytes of
one warehouse differed run to run and every unchanged table was rewritten), and other rows another one."""

from __future__ import annotations

import struct

import pyarrow as pa

from edulake.sharing.shares import _fingerprint


def _ints_with_garbage_under_null(garbage: int) -> pa.Array:
    validity = pa.py_buffer(bytes([0b101]))  # slots 0 and 2 valid, slot 1 null
    values = pa.py_buffer(struct.pack("<3q", 7, garbage, 9))
    return pa.Array.from_buffers(pa.int64(), 3, [validity, values], null_count=1)


def test_bytes_under_nulls_do_not_change_the_fingerprint():
    a = pa.table({"n": _ints_with_garbage_under_null(0), "s": ["x", None, "z"]})
    b = pa.table({"n": _ints_with_garbage_under_null(123456789), "s": ["x", None, "z"]})
    assert a.equals(b)
    assert _fingerprint(a) == _fingerprint(b)


def test_other_rows_change_the_fingerprint():
    a = pa.table({"n": _ints_with_garbage_under_null(0)})
    assert _fingerprint(a) != _fingerprint(pa.table({"n": pa.array([7, None, 8], pa.int64())}))
    assert _fingerprint(a) != _fingerprint(pa.table({"n": pa.array([7, 0, 9], pa.int64())}))
