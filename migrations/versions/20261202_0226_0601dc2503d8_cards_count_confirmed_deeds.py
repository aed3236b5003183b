"""两卡记录 count confirmed deeds: the stored daily counts are made again

Issue 16.13: an unconfirmed vanguard deed is not banked, and no longer counts as a 两卡记录. The
daily counts stored with the old definition are dropped; they are made again on demand.

Revision ID: 0601dc2503d8
Revises: d6014684787a
Create Date: 2026-12-02 02:26:33.249527

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0601dc2503d8'
down_revision = 'd6014684787a'
branch_labels = None
depends_on = None


def upgrade():
    for table in ("day_tally", "stock_tally", "recent_tally"):
        op.execute(f"DELETE FROM {table}")


def downgrade():
    for table in ("day_tally", "stock_tally", "recent_tally"):
        op.execute(f"DELETE FROM {table}")
