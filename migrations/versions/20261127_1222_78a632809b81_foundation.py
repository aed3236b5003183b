"""foundation: accounts, districts, organizations, branches, instructors, assignments,
pairings and the audit log; the 20 districts of 赣州 as reference data.

Revision ID: 78a632809b81
Revises: 
Create Date: 2026-11-27 12:22:32.401353

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '78a632809b81'
down_revision = None
branch_labels = None
depends_on = None


# The districts are reference data every deployment needs, so they are loaded here, not by
# the demo. Copied, not imported: a migration must not change when the code does.
DISTRICTS = (
    ("360702", "章贡区"), ("360703", "南康区"), ("360704", "赣县区"), ("360722", "信丰县"),
    ("360723", "大余县"), ("360724", "上犹县"), ("360725", "崇义县"), ("360726", "安远县"),
    ("360728", "定南县"), ("360729", "全南县"), ("360730", "宁都县"), ("360731", "于都县"),
    ("360732", "兴国县"), ("360733", "会昌县"), ("360734", "寻乌县"), ("360735", "石城县"),
    ("360781", "瑞金市"), ("360783", "龙南市"), ("360791", "赣州经开区"), ("360792", "蓉江新区"),
)


def upgrade():
    op.create_table('audit_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=64), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=True),
    sa.Column('object_id', sa.String(length=64), nullable=True),
    sa.Column('summary', sa.String(length=200), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entry'))
    )
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entry_action'), ['action'], unique=False)
        batch_op.create_index('ix_audit_entry_actor_at', ['actor_id', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entry_at'), ['at'], unique=False)
        batch_op.create_index('ix_audit_entry_object', ['object_type', 'object_id'], unique=False)

    op.create_table('district',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=6), nullable=False),
    sa.Column('name', sa.String(length=20), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_district')),
    sa.UniqueConstraint('code', name=op.f('uq_district_code')),
    sa.UniqueConstraint('name', name=op.f('uq_district_name'))
    )
    op.create_table('account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('scope_district_id', sa.Integer(), nullable=True),
    sa.Column('last_login_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['scope_district_id'], ['district.id'], name=op.f('fk_account_scope_district_id_district')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account')),
    sa.UniqueConstraint('username', name=op.f('uq_account_username'))
    )
    op.create_table('branch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.Enum('committee', 'general', 'branch', 'joint', name='branchkind', native_enum=False, length=32), nullable=False),
    sa.Column('sector', sa.Enum('two_new', 'agency', name='sector', native_enum=False, length=32), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('secretary_name', sa.String(length=50), nullable=False),
    sa.Column('secretary_phone', sa.String(length=20), nullable=False),
    sa.Column('member_count', sa.Integer(), nullable=False),
    sa.Column('founded_on', sa.Date(), nullable=True),
    sa.Column('under_guidance', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['district_id'], ['district.id'], name=op.f('fk_branch_district_id_district')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_branch'))
    )
    with op.batch_alter_table('branch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_branch_district_id'), ['district_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_branch_name'), ['name'], unique=False)
        batch_op.create_index(batch_op.f('ix_branch_sector'), ['sector'], unique=False)
        batch_op.create_index(batch_op.f('ix_branch_under_guidance'), ['under_guidance'], unique=False)

    op.create_table('organization',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.Enum('enterprise', 'social', 'micro', 'individual', 'market', name='organizationkind', native_enum=False, length=32), nullable=False),
    sa.Column('credit_code', sa.String(length=18), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('industry', sa.String(length=40), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('latitude', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.Column('longitude', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.Column('headcount', sa.Integer(), nullable=False),
    sa.Column('party_member_count', sa.Integer(), nullable=False),
    sa.Column('owner_name', sa.String(length=50), nullable=False),
    sa.Column('owner_is_member', sa.Boolean(), nullable=False),
    sa.Column('owner_is_secretary', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['district_id'], ['district.id'], name=op.f('fk_organization_district_id_district')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organization')),
    sa.UniqueConstraint('credit_code', name=op.f('uq_organization_credit_code'))
    )
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organization_district_id'), ['district_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_organization_name'), ['name'], unique=False)

    op.create_table('account_role',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('instructor', 'reviewer', 'admin', 'auditor', name='role', native_enum=False, length=32), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_account_role_account_id_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', 'role', name=op.f('pk_account_role'))
    )
    op.create_table('branch_organization',
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_branch_organization_branch_id_branch'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_branch_organization_organization_id_organization'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('branch_id', 'organization_id', name=op.f('pk_branch_organization')),
    sa.UniqueConstraint('organization_id', name=op.f('uq_branch_organization_organization_id'))
    )
    op.create_table('instructor',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('hired_on', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('active', 'left', name='instructorstatus', native_enum=False, length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_instructor_account_id_account')),
    sa.ForeignKeyConstraint(['district_id'], ['district.id'], name=op.f('fk_instructor_district_id_district')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instructor')),
    sa.UniqueConstraint('account_id', name=op.f('uq_instructor_account_id'))
    )
    with op.batch_alter_table('instructor', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_instructor_district_id'), ['district_id'], unique=False)

    op.create_table('pairing',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_branch_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('status', sa.Enum('active', 'ended', name='pairingstatus', native_enum=False, length=32), nullable=False),
    sa.Column('purpose', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agency_branch_id'], ['branch.id'], name=op.f('fk_pairing_agency_branch_id_branch')),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_pairing_branch_id_branch')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pairing')),
    sa.UniqueConstraint('agency_branch_id', 'branch_id', name=op.f('uq_pairing_agency_branch_id_branch_id'))
    )
    with op.batch_alter_table('pairing', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pairing_agency_branch_id'), ['agency_branch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pairing_branch_id'), ['branch_id'], unique=False)

    op.create_table('assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instructor_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('end_reason', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('ended_on IS NULL OR ended_on >= started_on', name=op.f('ck_assignment_dates_in_order')),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_assignment_branch_id_branch')),
    sa.ForeignKeyConstraint(['instructor_id'], ['instructor.id'], name=op.f('fk_assignment_instructor_id_instructor')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignment'))
    )
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assignment_branch_id'), ['branch_id'], unique=False)
        batch_op.create_index('ix_assignment_instructor_current', ['instructor_id', 'ended_on'], unique=False)
        batch_op.create_index('uq_assignment_current_branch', ['branch_id'], unique=True, sqlite_where=sa.text('ended_on IS NULL'), postgresql_where=sa.text('ended_on IS NULL'))

    district = sa.table(
        "district", sa.column("code", sa.String), sa.column("name", sa.String),
        sa.column("position", sa.Integer),
    )
    op.bulk_insert(district, [
        {"code": code, "name": name, "position": position}
        for position, (code, name) in enumerate(DISTRICTS, start=1)
    ])


def downgrade():
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_index('uq_assignment_current_branch', sqlite_where=sa.text('ended_on IS NULL'), postgresql_where=sa.text('ended_on IS NULL'))
        batch_op.drop_index('ix_assignment_instructor_current')
        batch_op.drop_index(batch_op.f('ix_assignment_branch_id'))

    op.drop_table('assignment')
    with op.batch_alter_table('pairing', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pairing_branch_id'))
        batch_op.drop_index(batch_op.f('ix_pairing_agency_branch_id'))

    op.drop_table('pairing')
    with op.batch_alter_table('instructor', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_instructor_district_id'))

    op.drop_table('instructor')
    op.drop_table('branch_organization')
    op.drop_table('account_role')
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organization_name'))
        batch_op.drop_index(batch_op.f('ix_organization_district_id'))

    op.drop_table('organization')
    with op.batch_alter_table('branch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_branch_under_guidance'))
        batch_op.drop_index(batch_op.f('ix_branch_sector'))
        batch_op.drop_index(batch_op.f('ix_branch_name'))
        batch_op.drop_index(batch_op.f('ix_branch_district_id'))

    op.drop_table('branch')
    op.drop_table('account')
    op.drop_table('district')
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_entry_object')
        batch_op.drop_index(batch_op.f('ix_audit_entry_at'))
        batch_op.drop_index('ix_audit_entry_actor_at')
        batch_op.drop_index(batch_op.f('ix_audit_entry_action'))

    op.drop_table('audit_entry')
