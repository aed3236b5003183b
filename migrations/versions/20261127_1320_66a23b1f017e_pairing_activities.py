"""pairing activities: the log of what paired branches do together

Revision ID: 66a23b1f017e
Revises: d03f9f3ae27b
Create Date: 2026-11-27 13:20:51.333333

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '66a23b1f017e'
down_revision = 'd03f9f3ae27b'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pairing_activity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pairing_id', sa.Integer(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('kind', sa.Enum('joint_life', 'policy', 'volunteer', 'support', 'training', 'other', name='activitykind', native_enum=False, length=32), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('resources', sa.String(length=200), nullable=False),
    sa.Column('people_reached', sa.Integer(), nullable=False),
    sa.Column('client_key', sa.String(length=64), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['account.id'], name=op.f('fk_pairing_activity_created_by_id_account')),
    sa.ForeignKeyConstraint(['pairing_id'], ['pairing.id'], name=op.f('fk_pairing_activity_pairing_id_pairing')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pairing_activity')),
    sa.UniqueConstraint('created_by_id', 'client_key', name=op.f('uq_pairing_activity_created_by_id_client_key'))
    )
    with op.batch_alter_table('pairing_activity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pairing_activity_pairing_id'), ['pairing_id'], unique=False)



def downgrade():
    with op.batch_alter_table('pairing_activity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pairing_activity_pairing_id'))

    op.drop_table('pairing_activity')
