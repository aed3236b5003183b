"""version columns for edit conflicts

Revision ID: 439f7c9df63a
Revises: 99eff388556c
Create Date: 2026-11-27 19:36:35.923359

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '439f7c9df63a'
down_revision = '99eff388556c'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('branch', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))

    with op.batch_alter_table('instructor', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))

    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))

    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))



def downgrade():
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.drop_column('version')

    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_column('version')

    with op.batch_alter_table('instructor', schema=None) as batch_op:
        batch_op.drop_column('version')

    with op.batch_alter_table('branch', schema=None) as batch_op:
        batch_op.drop_column('version')

