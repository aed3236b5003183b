"""visits, the problem ledger and photos

Revision ID: 621ffd5f79a4
Revises: 78a632809b81
Create Date: 2026-11-27 12:39:14.060581

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '621ffd5f79a4'
down_revision = '78a632809b81'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('photo',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stored_name', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=20), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('byte_size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['account.id'], name=op.f('fk_photo_uploaded_by_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_photo')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_photo_stored_name'))
    )
    op.create_table('visit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instructor_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('client_key', sa.String(length=64), nullable=False),
    sa.Column('visited_at', sa.DateTime(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('kind', sa.Enum('onsite', 'org_life', 'activity', 'remote', name='visitkind', native_enum=False, length=32), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('people_met', sa.String(length=200), nullable=False),
    sa.Column('clarified_people', sa.Boolean(), nullable=False),
    sa.Column('clarified_operation', sa.Boolean(), nullable=False),
    sa.Column('clarified_needs', sa.Boolean(), nullable=False),
    sa.Column('clarified_base', sa.Boolean(), nullable=False),
    sa.Column('clarified_resources', sa.Boolean(), nullable=False),
    sa.Column('latitude', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.Column('longitude', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.Column('accuracy_m', sa.Integer(), nullable=True),
    sa.Column('distance_m', sa.Integer(), nullable=True),
    sa.Column('far_from_branch', sa.Boolean(), nullable=False),
    sa.Column('backfilled', sa.Boolean(), nullable=False),
    sa.Column('returned_at', sa.DateTime(), nullable=True),
    sa.Column('return_note', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_visit_branch_id_branch')),
    sa.ForeignKeyConstraint(['instructor_id'], ['instructor.id'], name=op.f('fk_visit_instructor_id_instructor')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit')),
    sa.UniqueConstraint('instructor_id', 'client_key', name=op.f('uq_visit_instructor_id_client_key'))
    )
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.create_index('ix_visit_branch_visited_at', ['branch_id', 'visited_at'], unique=False)
        batch_op.create_index('ix_visit_instructor_visited_at', ['instructor_id', 'visited_at'], unique=False)

    op.create_table('problem',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=True),
    sa.Column('raised_by_id', sa.Integer(), nullable=False),
    sa.Column('raised_on', sa.Date(), nullable=False),
    sa.Column('category', sa.Enum('basics', 'org_life', 'recruitment', 'business', 'financing', 'hiring', 'policy', 'dispute', 'other', name='problemcategory', native_enum=False, length=32), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('responsible', sa.String(length=50), nullable=False),
    sa.Column('department', sa.String(length=100), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('open', 'coordinating', 'solved', 'unsolvable', name='problemstatus', native_enum=False, length=32), nullable=False),
    sa.Column('resolution', sa.Text(), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_problem_branch_id_branch')),
    sa.ForeignKeyConstraint(['raised_by_id'], ['account.id'], name=op.f('fk_problem_raised_by_id_account')),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_problem_visit_id_visit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_problem'))
    )
    with op.batch_alter_table('problem', schema=None) as batch_op:
        batch_op.create_index('ix_problem_branch_status_due', ['branch_id', 'status', 'due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_problem_visit_id'), ['visit_id'], unique=False)

    op.create_table('visit_photo',
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('photo_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['photo_id'], ['photo.id'], name=op.f('fk_visit_photo_photo_id_photo')),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_visit_photo_visit_id_visit'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('visit_id', 'photo_id', name=op.f('pk_visit_photo')),
    sa.UniqueConstraint('photo_id', name=op.f('uq_visit_photo_photo_id'))
    )
    op.create_table('problem_step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('problem_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.Enum('open', 'coordinating', 'solved', 'unsolvable', name='problemstatus', native_enum=False, length=32), nullable=True),
    sa.Column('to_status', sa.Enum('open', 'coordinating', 'solved', 'unsolvable', name='problemstatus', native_enum=False, length=32), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('on', sa.Date(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['by_id'], ['account.id'], name=op.f('fk_problem_step_by_id_account')),
    sa.ForeignKeyConstraint(['problem_id'], ['problem.id'], name=op.f('fk_problem_step_problem_id_problem'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_problem_step'))
    )
    with op.batch_alter_table('problem_step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_problem_step_problem_id'), ['problem_id'], unique=False)



def downgrade():
    with op.batch_alter_table('problem_step', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_problem_step_problem_id'))

    op.drop_table('problem_step')
    op.drop_table('visit_photo')
    with op.batch_alter_table('problem', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_problem_visit_id'))
        batch_op.drop_index('ix_problem_branch_status_due')

    op.drop_table('problem')
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_index('ix_visit_instructor_visited_at')
        batch_op.drop_index('ix_visit_branch_visited_at')

    op.drop_table('visit')
    op.drop_table('photo')
