"""instructors and pairings entered as history count from their own dates in closed months

Issue 33. 0.3 counted an instructor in post, and a pairing in force, at a month's end only if
it was entered by then, so that an import does not rewrite a closed month. Releases before it
counted them from their dates alone, and a city that upgraded saw its closed months emptied
(2026-11: 指导员 116 → 0, 在册结对 1573 → 0: the roster imported at go-live in December). Records
now say whether they were entered as history (the go-live import of what was there); those of
a database that comes from a release before 0.3 are, so its closed months read as they did.

Revision ID: 5a7b2c9d4e61
Revises: 3c5e9a1f7d20
Create Date: 2026-12-08 01:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5a7b2c9d4e61'
down_revision = '3c5e9a1f7d20'
branch_labels = None
depends_on = None

FIRST_OF_0_3 = "b72d377b2a34"  # the first migration of the release that counted as entered


def upgrade():
    # ALTER TABLE ADD COLUMN, not batch mode: on SQLite a batch rebuild of instructor would drop
    # its triggers (status and left_on kept in step, b72d377b2a34).
    for table in ("instructor", "pairing"):
        op.add_column(table, sa.Column("entered_as_history", sa.Boolean(), nullable=False,
                                       server_default=sa.false()))
    # migrations/env.py names the revisions this upgrade runs.
    if FIRST_OF_0_3 in op.get_bind().info.get("revisions_applied", ()):
        for table in ("instructor", "pairing"):
            op.execute(sa.table(table, sa.column("entered_as_history", sa.Boolean))
                       .update().values(entered_as_history=True))


def downgrade():
    for table in ("pairing", "instructor"):  # ALTER TABLE DROP COLUMN (SQLite 3.35+): no rebuild
        op.execute(f"ALTER TABLE {table} DROP COLUMN entered_as_history")
