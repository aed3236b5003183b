"""review: alert notes, comments on visits, quarterly spot checks

Revision ID: 50267265219d
Revises: 66a23b1f017e
Create Date: 2026-11-27 13:33:49.211700

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '50267265219d'
down_revision = '66a23b1f017e'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('alert_note',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=30), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['by_id'], ['account.id'], name=op.f('fk_alert_note_by_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_note'))
    )
    with op.batch_alter_table('alert_note', schema=None) as batch_op:
        batch_op.create_index('ix_alert_note_rule_object', ['rule', 'object_id'], unique=False)

    op.create_table('spot_check',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('quarter', sa.String(length=7), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('drawn_by_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.Enum('pending', 'confirmed', 'problem', 'unreachable', name='checkoutcome', native_enum=False, length=32), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('checked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['drawn_by_id'], ['account.id'], name=op.f('fk_spot_check_drawn_by_id_account')),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_spot_check_visit_id_visit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_spot_check')),
    sa.UniqueConstraint('quarter', 'visit_id', name=op.f('uq_spot_check_quarter_visit_id'))
    )
    with op.batch_alter_table('spot_check', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_spot_check_quarter'), ['quarter'], unique=False)

    op.create_table('visit_comment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.Column('returned', sa.Boolean(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['by_id'], ['account.id'], name=op.f('fk_visit_comment_by_id_account')),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_visit_comment_visit_id_visit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_comment'))
    )
    with op.batch_alter_table('visit_comment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_comment_visit_id'), ['visit_id'], unique=False)



def downgrade():
    with op.batch_alter_table('visit_comment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_comment_visit_id'))

    op.drop_table('visit_comment')
    with op.batch_alter_table('spot_check', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_spot_check_quarter'))

    op.drop_table('spot_check')
    with op.batch_alter_table('alert_note', schema=None) as batch_op:
        batch_op.drop_index('ix_alert_note_rule_object')

    op.drop_table('alert_note')
