"""Runs INSIDE the Superset environment (tests only): each statement of argv[2] (a JSON list) through the
engine Superset itself builds for the database named argv[1] — its stored URI and connect arguments —
each on a fresh connection. Prints `PROBE <json>`: per statement, its rows or the error it raised."""

import json
import sys


def main(database_name: str, statements: list[str]) -> list[dict]:
    from superset.app import create_app

    app = create_app()
    with app.app_context():
        from superset import db
        from superset.models.core import Database

        database = db.session.query(Database).filter_by(database_name=database_name).one()
        out = []
        for sql in statements:
            try:
                with database.get_sqla_engine() as engine, engine.connect() as con:
                    rows = con.exec_driver_sql(sql).fetchall()
                out.append({"sql": sql, "ok": True, "rows": [[str(v) for v in r] for r in rows[:3]]})
            except Exception as e:  # the refusal is the point: report it
                out.append({"sql": sql, "ok": False, "error": f"{type(e).__name__}: {str(e)[:300]}"})
        return out


if __name__ == "__main__":
    print("PROBE " + json.dumps(main(sys.argv[1], json.loads(sys.argv[2])), ensure_ascii=False))
