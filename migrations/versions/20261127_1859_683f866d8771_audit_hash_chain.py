"""audit hash chain

Revision ID: 683f866d8771
Revises: 4d7e57f4d40c
Create Date: 2026-11-27 18:59:50.030066

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '683f866d8771'
down_revision = '4d7e57f4d40c'
branch_labels = None
depends_on = None


APPEND_ONLY = """
CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND OLD.at < (now() AT TIME ZONE 'UTC') - interval '186 days' THEN
        RETURN OLD;  -- a purge of entries past the retention period
    END IF;
    RAISE EXCEPTION '审计日志只能追加：不能修改，保留期（186 天）内不能删除'
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry
    FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only();
"""


def upgrade():
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("hash", sa.String(length=64), nullable=False, server_default=""))
    _chain_existing_entries()
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.alter_column("prev_hash", server_default=None)
        batch_op.alter_column("hash", server_default=None)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND_ONLY)


def _chain_existing_entries():
    """Chain the entries written before the chain existed, oldest first."""
    from crm.audit.chain import GENESIS, HASHED, digest
    from crm.db import UTCDateTime

    entry = sa.table(
        "audit_entry", sa.column("id", sa.Integer), sa.column("at", UTCDateTime()),
        sa.column("actor_id", sa.Integer), sa.column("actor_name", sa.String),
        sa.column("ip", sa.String), sa.column("action", sa.String),
        sa.column("object_type", sa.String), sa.column("object_id", sa.String),
        sa.column("summary", sa.String), sa.column("changes", sa.JSON),
        sa.column("prev_hash", sa.String), sa.column("hash", sa.String),
    )
    connection = op.get_bind()
    previous, updates = GENESIS, []
    for row in connection.execute(sa.select(entry).order_by(entry.c.id)).mappings():
        entry_hash = digest(previous, {key: row[key] for key in HASHED})
        updates.append({"entry_id": row["id"], "prev": previous, "hash": entry_hash})
        previous = entry_hash
    if updates:
        connection.execute(
            entry.update().where(entry.c.id == sa.bindparam("entry_id"))
            .values(prev_hash=sa.bindparam("prev"), hash=sa.bindparam("hash")),
            updates,
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_entry")
        op.execute("DROP FUNCTION IF EXISTS audit_entry_append_only()")
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")
