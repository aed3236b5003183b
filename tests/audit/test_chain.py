"""The audit log's hash chain: tampering shows, purges keep the retention period."""

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from crm import create_app
from crm.audit.chain import GENESIS, HASHED, digest, sign
from crm.audit.models import AuditEntry
from crm.audit.services import acting_as
from crm.extensions import db
from tests import factories as f
from tests.conftest import settings

pytestmark = pytest.mark.postgresql  # the chain's lock and PostgreSQL's trigger


def some_entries(app, count: int = 3) -> list[int]:
    with app.app_context(), acting_as("cli:test"):
        for number in range(count):
            f.OrganizationFactory(name=f"链测试{number}有限公司")
            db.session.commit()
        return list(db.session.scalars(sa.select(AuditEntry.id).order_by(AuditEntry.id)))


def test_each_entry_hashes_its_fields_after_the_hash_before(app):
    some_entries(app, 2)
    with app.app_context():
        first, second = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id))
        # Computed here from the stored fields, as an outside checker would.
        fields = {key: getattr(first, key) for key in (
            "actor_id", "actor_name", "ip", "action", "object_type", "object_id", "summary",
            "changes")}  # fmt: skip
        fields["at"] = first.at.astimezone(UTC).isoformat()
        text = json.dumps(["0" * 64, fields], ensure_ascii=False, sort_keys=True,
                          separators=(",", ":"))  # fmt: skip
    assert first.prev_hash == "0" * 64
    assert first.hash == hashlib.sha256(text.encode()).hexdigest()
    assert second.prev_hash == first.hash


def test_verify_passes_an_untouched_log(app, runner):
    some_entries(app)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "已核对 3 条" in result.output


def tamper(app, statement: str, **params) -> None:
    """Change the table behind the app's back, as someone with the database file could."""
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(sa.text("ALTER TABLE audit_entry DISABLE TRIGGER USER"))
        db.session.execute(sa.text(statement), params)
        if db.engine.dialect.name == "postgresql":
            db.session.execute(sa.text("ALTER TABLE audit_entry ENABLE TRIGGER USER"))
        db.session.commit()


@pytest.mark.parametrize(
    ("statement", "broken", "reason"),
    [
        ("UPDATE audit_entry SET summary = '改过的' WHERE id = :middle", "middle", "被改动"),
        ("DELETE FROM audit_entry WHERE id = :middle", "last", "链接断开"),
        ("DELETE FROM audit_entry WHERE id = :first", "middle", "开头缺失"),
    ],
)
def test_verify_names_the_entry_where_tampering_shows(app, runner, statement, broken, reason):
    first, middle, last = some_entries(app)
    ids = {"first": first, "middle": middle, "last": last}
    tamper(app, statement, **ids)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"第 {ids[broken]} 条" in result.output
    assert reason in result.output


def test_postgresql_refuses_to_change_or_delete_an_entry(app):
    first, *_ = some_entries(app)
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the trigger is PostgreSQL's")
        for statement in ("UPDATE audit_entry SET summary = 'x' WHERE id = :id",
                          "DELETE FROM audit_entry WHERE id = :id"):  # fmt: skip
            with pytest.raises(sa.exc.DBAPIError, match="审计日志只能追加"):
                db.session.execute(sa.text(statement), {"id": first})
            db.session.rollback()
        assert db.session.get(AuditEntry, first) is not None


def test_purge_refuses_entries_younger_than_186_days(app, runner):
    some_entries(app)
    too_recent = (datetime.now(UTC) - timedelta(days=185)).strftime("%Y-%m-%d")
    result = runner.invoke(args=["audit", "purge", "--before", too_recent])
    assert result.exit_code == 2
    assert "至少保留 186 天" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 3


def test_a_purge_of_old_entries_keeps_the_chain_verifiable(app, runner):
    first, middle, _last = some_entries(app)
    long_ago = datetime.now(UTC) - timedelta(days=400)
    tamper(app, "UPDATE audit_entry SET at = :at WHERE id IN (:first, :middle)",
           at=long_ago.replace(tzinfo=None), first=first, middle=middle)  # fmt: skip
    # Backdating changed what the two hashed: chain them again, as if written back then.
    with app.app_context():
        rows = [
            (row.id, {key: getattr(row, key) for key in HASHED})
            for row in db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id))
        ]
        db.session.rollback()
    previous = GENESIS
    for entry_id, values in rows:
        entry_hash = digest(previous, values)
        with app.app_context():  # signed by the app, which holds the key
            mac = sign(entry_hash)
        tamper(app, "UPDATE audit_entry SET prev_hash = :p, hash = :h, mac = :m WHERE id = :id",
               p=previous, h=entry_hash, m=mac, id=entry_id)  # fmt: skip
        previous = entry_hash
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0

    before = (datetime.now(UTC) - timedelta(days=200)).strftime("%Y-%m-%d")
    result = runner.invoke(args=["audit", "purge", "--before", before])
    assert result.exit_code == 0, result.output
    assert "已删除 2 条" in result.output
    with app.app_context():
        kept = [e.action for e in db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id))]
    assert kept == ["organization.create", "audit.purge"]
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output


def test_the_migration_chains_entries_written_before_it(tmp_path):
    app = create_app(settings(f"sqlite:///{tmp_path / 'old.sqlite3'}"))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "4d7e57f4d40c"]).exit_code == 0
    with app.app_context():
        for number in range(3):
            db.session.execute(sa.text(
                "INSERT INTO audit_entry (at, actor_name, action, summary, changes) "
                "VALUES (:at, 'admin', 'branch.update', :s, :c)"
            ), {"at": datetime(2026, 1, 1, 8, number), "s": f"第{number}条",
                "c": json.dumps({"name": ["甲", f"乙{number}"]})})  # fmt: skip
        db.session.commit()
        db.engine.dispose()
    # (the backup an upgrade makes first would add an entry of its own: tests/upgrade/)
    assert runner.invoke(args=["db", "upgrade", "--no-backup"]).exit_code == 0
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "已核对 3 条" in result.output
