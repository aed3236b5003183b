"""三会两卡: party members, the three meetings, goal cards and vanguard cards

Revision ID: d03f9f3ae27b
Revises: 621ffd5f79a4
Create Date: 2026-11-27 13:07:04.799830

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd03f9f3ae27b'
down_revision = '621ffd5f79a4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('meeting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('decision', 'dialogue', 'owner', name='meetingkind', native_enum=False, length=32), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('topics', sa.Text(), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=False),
    sa.Column('other_attendees', sa.String(length=200), nullable=False),
    sa.Column('client_key', sa.String(length=64), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_meeting_branch_id_branch')),
    sa.ForeignKeyConstraint(['created_by_id'], ['account.id'], name=op.f('fk_meeting_created_by_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting')),
    sa.UniqueConstraint('created_by_id', 'client_key', name=op.f('uq_meeting_created_by_id_client_key'))
    )
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.create_index('ix_meeting_branch_kind_held_on', ['branch_id', 'kind', 'held_on'], unique=False)

    op.create_table('member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('role', sa.Enum('secretary', 'committee', 'member', name='memberrole', native_enum=False, length=32), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('joined_on', sa.Date(), nullable=True),
    sa.Column('is_owner', sa.Boolean(), nullable=False),
    sa.Column('is_manager', sa.Boolean(), nullable=False),
    sa.Column('is_staff_rep', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_member_branch_id_branch')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member'))
    )
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.create_index('ix_member_branch_active', ['branch_id', 'active'], unique=False)

    op.create_table('goal_card',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('self_assessment', sa.Text(), nullable=False),
    sa.Column('assessed_on', sa.Date(), nullable=True),
    sa.Column('rating', sa.Enum('excellent', 'good', 'fair', 'poor', name='rating', native_enum=False, length=32), nullable=True),
    sa.Column('rating_comment', sa.Text(), nullable=False),
    sa.Column('rated_on', sa.Date(), nullable=True),
    sa.Column('rated_by_id', sa.Integer(), nullable=True),
    sa.Column('locked', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_goal_card_branch_id_branch')),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_goal_card_member_id_member')),
    sa.ForeignKeyConstraint(['rated_by_id'], ['account.id'], name=op.f('fk_goal_card_rated_by_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_goal_card')),
    sa.UniqueConstraint('member_id', 'year', name=op.f('uq_goal_card_member_id_year'))
    )
    with op.batch_alter_table('goal_card', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_goal_card_branch_id'), ['branch_id'], unique=False)

    op.create_table('meeting_attendee',
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f('fk_meeting_attendee_meeting_id_meeting'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_meeting_attendee_member_id_member')),
    sa.PrimaryKeyConstraint('meeting_id', 'member_id', name=op.f('pk_meeting_attendee'))
    )
    op.create_table('meeting_photo',
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('photo_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f('fk_meeting_photo_meeting_id_meeting'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['photo_id'], ['photo.id'], name=op.f('fk_meeting_photo_photo_id_photo')),
    sa.PrimaryKeyConstraint('meeting_id', 'photo_id', name=op.f('pk_meeting_photo')),
    sa.UniqueConstraint('photo_id', name=op.f('uq_meeting_photo_photo_id'))
    )
    op.create_table('vanguard_card',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_vanguard_card_member_id_member')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vanguard_card')),
    sa.UniqueConstraint('member_id', 'year', name=op.f('uq_vanguard_card_member_id_year'))
    )
    op.create_table('goal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('target', sa.String(length=200), nullable=False),
    sa.Column('measure', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['card_id'], ['goal_card.id'], name=op.f('fk_goal_card_id_goal_card'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_goal'))
    )
    with op.batch_alter_table('goal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_goal_card_id'), ['card_id'], unique=False)

    op.create_table('goal_note',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('noted_on', sa.Date(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['by_id'], ['account.id'], name=op.f('fk_goal_note_by_id_account')),
    sa.ForeignKeyConstraint(['card_id'], ['goal_card.id'], name=op.f('fk_goal_note_card_id_goal_card'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_goal_note'))
    )
    with op.batch_alter_table('goal_note', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_goal_note_card_id'), ['card_id'], unique=False)

    op.create_table('vanguard_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('done_on', sa.Date(), nullable=False),
    sa.Column('deed', sa.String(length=500), nullable=False),
    sa.Column('category', sa.Enum('volunteer', 'post', 'study', 'help', 'other', name='vanguardcategory', native_enum=False, length=32), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('client_key', sa.String(length=64), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('confirmed_on', sa.Date(), nullable=True),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('confirmed_as', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['card_id'], ['vanguard_card.id'], name=op.f('fk_vanguard_entry_card_id_vanguard_card')),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['account.id'], name=op.f('fk_vanguard_entry_confirmed_by_id_account')),
    sa.ForeignKeyConstraint(['created_by_id'], ['account.id'], name=op.f('fk_vanguard_entry_created_by_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vanguard_entry')),
    sa.UniqueConstraint('created_by_id', 'client_key', name=op.f('uq_vanguard_entry_created_by_id_client_key'))
    )
    with op.batch_alter_table('vanguard_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vanguard_entry_card_id'), ['card_id'], unique=False)



def downgrade():
    with op.batch_alter_table('vanguard_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vanguard_entry_card_id'))

    op.drop_table('vanguard_entry')
    with op.batch_alter_table('goal_note', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_goal_note_card_id'))

    op.drop_table('goal_note')
    with op.batch_alter_table('goal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_goal_card_id'))

    op.drop_table('goal')
    op.drop_table('vanguard_card')
    op.drop_table('meeting_photo')
    op.drop_table('meeting_attendee')
    with op.batch_alter_table('goal_card', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_goal_card_branch_id'))

    op.drop_table('goal_card')
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_index('ix_member_branch_active')

    op.drop_table('member')
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.drop_index('ix_meeting_branch_kind_held_on')

    op.drop_table('meeting')
