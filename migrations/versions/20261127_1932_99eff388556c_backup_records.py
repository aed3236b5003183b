"""backup records

Revision ID: 99eff388556c
Revises: af3e12d5e069
Create Date: 2026-11-27 19:32:56.471035

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '99eff388556c'
down_revision = 'af3e12d5e069'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('backup_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('scheduled_for', sa.Date(), nullable=True),
    sa.Column('status', sa.Enum('running', 'done', 'failed', 'pruned', name='backupstatus', native_enum=False, length=32), nullable=False),
    sa.Column('path', sa.String(length=500), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=True),
    sa.Column('error', sa.String(length=500), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_backup_record')),
    sa.UniqueConstraint('scheduled_for', name=op.f('uq_backup_record_scheduled_for'))
    )


def downgrade():
    op.drop_table('backup_record')
