"""Bulk INSERTs for the demo's made-up history, and the one audit entry each batch gets."""

import sqlalchemy as sa

from crm import clock
from crm.audit import services as audit
from crm.extensions import db

CHUNK = 2000


def insert(model, rows: list[dict], *, ids: bool = False) -> list[int]:  # model or Table
    """Insert the rows in chunks with the driver's executemany and log one audit entry naming
    how many. With `ids`, give the rows their ids here, after the table's highest, and return
    them in the order of the rows: the demo is written by one process into tables it alone
    fills, and RETURNING made PostgreSQL's load twice as slow (psycopg renders each page of
    thousands of parameters anew)."""
    table = getattr(model, "__table__", model)
    now = clock.now()
    for stamp in ("created_at", "updated_at"):
        if stamp in table.c:
            for row in rows:
                row.setdefault(stamp, now)
    new_ids: list[int] = []
    if ids:
        first = (db.session.scalar(sa.select(sa.func.max(table.c.id))) or 0) + 1
        new_ids = list(range(first, first + len(rows)))
        for row, new_id in zip(rows, new_ids, strict=True):
            row["id"] = new_id
    for start in range(0, len(rows), CHUNK):
        # render_nulls: rows with None in different columns stay in one batch.
        statement = sa.insert(model).execution_options(render_nulls=True)
        db.session.execute(statement, rows[start : start + CHUNK])
    if ids and rows and db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            sa.select(sa.func.setval(sa.func.pg_get_serial_sequence(table.name, "id"), new_ids[-1]))
        )
    name = getattr(model, "__tablename__", None) or model.name  # a model, or a plain Table
    audit.record(f"{name}.bulk_create", object_type=name, summary=f"演示数据：{len(rows):,} 条")
    return new_ids


def analyze() -> None:
    """Give PostgreSQL's planner the row counts of what was just inserted.

    Its statistics still describe the empty tables until autovacuum gets round to them, and
    the demo reads back what it wrote in the same transaction: with those statistics one
    query of the history took minutes instead of milliseconds (it hung a CI run). ANALYZE
    inside the transaction counts the transaction's own new rows.
    """
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("ANALYZE"))
