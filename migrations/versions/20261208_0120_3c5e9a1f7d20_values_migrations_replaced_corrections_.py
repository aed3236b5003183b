"""values migrations replaced, kept; corrections made before the correction log counted as made

Issue 33. Three repairs for databases that ran earlier versions of migrations:

- superseded_value, the values a migration replaced in records users typed, is made by
  7e8375a27405 now; a database already past it gets the (empty) table here.
- b9127414c350 took a sent-back visit's correction time only from the correction table, which
  releases before it did not write: there a correction shows as the visit no longer sent back.
  Each such send-back is marked corrected when the visit was last changed (no earlier than
  the send-back itself), as the release that added the column marks every open send-back of
  a visit corrected when the visit is (crm.review.services.visit_corrected).
- On PostgreSQL b72d377b2a34 named its two check constraints with the naming convention's
  prefix twice (ck_instructor_ck_instructor_…), so its downgrade could not find them; they
  take the names the models give them.

Revision ID: 3c5e9a1f7d20
Revises: 1cb849070fc9
Create Date: 2026-12-08 01:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3c5e9a1f7d20'
down_revision = '1cb849070fc9'
branch_labels = None
depends_on = None


# b72d377b2a34's check constraints on PostgreSQL: the name they got, the name the model gives.
CHECKS = {
    "instructor": ("ck_instructor_ck_instructor_status_agrees_with_left_on",
                   "ck_instructor_status_agrees_with_left_on"),
    "problem": ("ck_problem_ck_problem_status_agrees_with_closed_on",
                "ck_problem_status_agrees_with_closed_on"),
}


def _rename_checks(*, back: bool = False):
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, (doubled, named) in CHECKS.items():
        old, new = (named, doubled) if back else (doubled, named)
        op.execute(
            f"DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_constraint WHERE conname = '{old}') THEN"
            f" ALTER TABLE {table} RENAME CONSTRAINT {old} TO {new}; END IF; END $$"
        )


def upgrade():
    _rename_checks()
    if "superseded_value" not in sa.inspect(op.get_bind()).get_table_names():
        op.create_table(
            "superseded_value",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("revision", sa.String(length=32), nullable=False),
            sa.Column("table_name", sa.String(length=64), nullable=False),
            sa.Column("row_id", sa.Integer(), nullable=False),
            sa.Column("column_name", sa.String(length=64), nullable=False),
            sa.Column("old_value", sa.Text(), nullable=True),
            sa.Column("new_value", sa.Text(), nullable=True),
            sa.Column("at", sa.DateTime(), nullable=False),
            sa.Column("audited_at", sa.DateTime(), nullable=True),
            sa.PrimaryKeyConstraint("id", name=op.f("pk_superseded_value")),
        )
    # The visit is no longer sent back, so each open send-back of it was corrected.
    op.execute(
        "UPDATE visit_comment SET corrected_at = ("
        "  SELECT CASE WHEN visit.updated_at > visit_comment.at THEN visit.updated_at"
        "  ELSE visit_comment.at END FROM visit WHERE visit.id = visit_comment.visit_id)"
        " WHERE returned AND corrected_at IS NULL"
        " AND EXISTS (SELECT 1 FROM visit WHERE visit.id = visit_comment.visit_id"
        "   AND visit.returned_at IS NULL)"
    )


def downgrade():
    _rename_checks(back=True)
    # The corrections were made; the table goes while it holds no kept value (7e8375a27405
    # makes it again for a database that goes back past it and up).
    bind = op.get_bind()
    if not bind.execute(sa.text("SELECT 1 FROM superseded_value LIMIT 1")).first():
        op.drop_table("superseded_value")
