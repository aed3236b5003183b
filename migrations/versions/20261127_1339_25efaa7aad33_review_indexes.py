"""review indexes: counts by period over visits, problems, meetings and cards

Revision ID: 25efaa7aad33
Revises: 50267265219d
Create Date: 2026-11-27 13:39:30.206696

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '25efaa7aad33'
down_revision = '50267265219d'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('goal_note', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_goal_note_noted_on'), ['noted_on'], unique=False)

    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.create_index('ix_meeting_held_on', ['held_on'], unique=False)
        batch_op.create_index('ix_meeting_branch_held_on', ['branch_id', 'held_on'], unique=False)

    with op.batch_alter_table('problem', schema=None) as batch_op:
        batch_op.create_index('ix_problem_closed_on', ['closed_on'], unique=False)
        batch_op.create_index('ix_problem_raised_by_raised_on', ['raised_by_id', 'raised_on'], unique=False)
        batch_op.create_index('ix_problem_raised_on', ['raised_on'], unique=False)
        batch_op.create_index('ix_problem_status_due', ['status', 'due_on'], unique=False)
        batch_op.create_index('ix_problem_branch_raised_on', ['branch_id', 'raised_on'], unique=False)
        batch_op.create_index('ix_problem_branch_closed_on', ['branch_id', 'closed_on'], unique=False)

    with op.batch_alter_table('vanguard_entry', schema=None) as batch_op:
        batch_op.create_index('ix_vanguard_entry_done_on', ['done_on'], unique=False)

    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.create_index('ix_visit_instructor_received_at', ['instructor_id', 'received_at'], unique=False)
        batch_op.create_index('ix_visit_visited_at', ['visited_at'], unique=False)



def downgrade():
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_index('ix_visit_visited_at')
        batch_op.drop_index('ix_visit_instructor_received_at')

    with op.batch_alter_table('vanguard_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_vanguard_entry_done_on')

    with op.batch_alter_table('problem', schema=None) as batch_op:
        batch_op.drop_index('ix_problem_branch_closed_on')
        batch_op.drop_index('ix_problem_branch_raised_on')
        batch_op.drop_index('ix_problem_status_due')
        batch_op.drop_index('ix_problem_raised_on')
        batch_op.drop_index('ix_problem_raised_by_raised_on')
        batch_op.drop_index('ix_problem_closed_on')

    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.drop_index('ix_meeting_branch_held_on')
        batch_op.drop_index('ix_meeting_held_on')

    with op.batch_alter_table('goal_note', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_goal_note_noted_on'))

