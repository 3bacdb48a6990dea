"""A read-only view of the published warehouse for the API: one connection, a cursor per thread, reopened
when `edulake build` publishes a new file (the rename gives it a new inode), so readers never block the
build and always answer from one consistent snapshot."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict

import duckdb

from edulake import settings
from edulake.sharing import catalog


class Warehouse:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._local = threading.local()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._stamp: tuple | None = None
        self._generation = 0
        self._sql: dict[str, str] = {}
        # answers per published file: the warehouse is immutable until the next publish, so a repeated
        # question is answered from memory (bounded, least recently used out)
        self._answers: OrderedDict[tuple, tuple[list[dict], int]] = OrderedDict()

    def _check(self) -> None:
        path = settings.paths().warehouse
        try:
            st = os.stat(path)
        except FileNotFoundError:
            raise LookupError(f"no published warehouse at {path}: run `edulake build`") from None
        stamp = (st.st_ino, st.st_mtime_ns)
        if stamp != self._stamp:
            with self._lock:
                if stamp != self._stamp:
                    # one thread per query: requests run side by side, each small
                    self._con = duckdb.connect(str(path), read_only=True, config={"threads": 1})
                    self._stamp, self._sql = stamp, {}
                    self._answers.clear()
                    self._generation += 1

    def cursor(self) -> duckdb.DuckDBPyConnection:
        self._check()
        local = self._local
        if getattr(local, "generation", None) != self._generation:
            local.cursor, local.generation = self._con.cursor(), self._generation
        return local.cursor

    def base_sql(self, t: catalog.SharedTable) -> str:
        """The table's shared rows (suppressed) as a subquery, cached per published file."""
        cur = self.cursor()
        sql = self._sql.get(t.name)
        if sql is None:
            sql, _ = catalog.select_sql(cur, t)
            sql = sql.removesuffix(" order by all")
            self._sql[t.name] = sql
        return sql

    def page(self, t: catalog.SharedTable, filters: dict[str, object], districts: list[str] | None,
             page: int, page_size: int, extra: tuple[str, list] | None = None) -> tuple[list[dict], int]:
        """One page of rows matching `filters` (column = value) within `districts`, and the total."""
        self._check()
        key = (self._generation, t.name, tuple(sorted(filters.items())), tuple(districts or ()),
               districts is None, page, page_size, extra[0] if extra else None, tuple(extra[1]) if extra else ())
        with self._lock:
            hit = self._answers.get(key)
            if hit is not None:
                self._answers.move_to_end(key)
                return [dict(i) for i in hit[0]], hit[1]
        answer = self._query(t, filters, districts, page, page_size, extra)
        with self._lock:
            self._answers[key] = answer
            while len(self._answers) > self.MAX_ANSWERS:
                self._answers.popitem(last=False)
        return [dict(i) for i in answer[0]], answer[1]

    MAX_ANSWERS = 4096

    def _query(self, t, filters, districts, page, page_size, extra) -> tuple[list[dict], int]:
        where, params = [], []
        if districts is not None:
            where.append(f"district_code in ({', '.join('?' for _ in districts)})")
            params += districts
        for column, value in filters.items():
            if value is not None:
                where.append(f'"{column}" = ?')
                params.append(value)
        if extra:
            where.append(extra[0])
            params += extra[1]
        sql = (f"select *, count(*) over () as _total from ({self.base_sql(t)}) s"
               + (" where " + " and ".join(where) if where else "")
               + " order by all limit ? offset ?")
        cur = self.cursor()
        rows = cur.execute(sql, [*params, page_size, (page - 1) * page_size]).fetchall()
        names = [d[0] for d in cur.description]
        items = [dict(zip(names, r, strict=True)) for r in rows]
        total = items[0].pop("_total") if items else 0
        for item in items[1:]:
            item.pop("_total")
        if not items and page > 1:  # the total of an empty page past the end
            total = cur.execute(f"select count(*) from ({self.base_sql(t)}) s"
                                + (" where " + " and ".join(where) if where else ""), params).fetchone()[0]
        return items, int(total)
