"""values migrations replaced, kept; corrections made before the correction log counted as made

Issue 33. Two repairs for databases that ran earlier versions of two migrations:

- superseded_value, the values a migration replaced in records users typed, is made by
  7e8375a27405 now; a database already past it gets the (empty) table here.
- b9127414c350 took a sent-back visit's correction time only from the correction table, which
  releases before it did not write: there a correction shows as the visit no longer sent back.
  Each such send-back is marked corrected when the visit was last changed (no earlier than
  the send-back itself), as the release that added the column marks every open send-back of
  a visit corrected when the visit is (crm.review.services.visit_corrected).

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


def upgrade():
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
    # Nothing to undo: the table belongs to 7e8375a27405 too, and the corrections were made.
    pass
