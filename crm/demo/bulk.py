"""Bulk INSERTs for the demo's made-up history, and the one audit entry each batch gets."""

import sqlalchemy as sa

from crm import clock
from crm.audit import services as audit
from crm.extensions import db

CHUNK = 2000


def insert(model, rows: list[dict], *, ids: bool = False) -> list[int]:  # model or Table
    """Insert the rows in chunks and log one audit entry naming how many. With `ids`, return
    the new ids in the order of the rows (RETURNING); without, the driver's executemany, which
    on PostgreSQL is several times faster."""
    table = getattr(model, "__table__", model)
    now = clock.now()
    for stamp in ("created_at", "updated_at"):
        if stamp in table.c:
            for row in rows:
                row.setdefault(stamp, now)
    new_ids: list[int] = []
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        # render_nulls: rows with None in different columns stay in one batch.
        statement = sa.insert(model).execution_options(render_nulls=True)
        if ids:
            statement = statement.returning(model.id, sort_by_parameter_order=True)
            new_ids.extend(db.session.scalars(statement, chunk))
        else:
            db.session.execute(statement, chunk)
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
