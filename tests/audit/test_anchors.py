"""The audit chain anchored outside the database (issue 17.4): a MAC under a key the database
does not hold, signed checkpoints of the head in a file, the head on the city's monthly report.
Each tampering someone with the database alone can do is found and located, on SQLite and on
PostgreSQL (these tests are run on both)."""

import json
import subprocess
import tarfile
from datetime import date, datetime, time

import sqlalchemy as sa
import time_machine

from crm import clock
from crm.audit import anchors
from crm.audit.chain import GENESIS, HASHED, digest
from crm.audit.models import AuditEntry
from crm.extensions import db
from tests import factories as f
from tests.audit.test_chain import some_entries, tamper


def verify(runner, *args):
    result = runner.invoke(args=["audit", "verify", *args])
    return result.exit_code, result.output


def checkpoint(runner) -> None:
    result = runner.invoke(args=["audit", "checkpoint"])
    assert result.exit_code == 0, result.output


def rechain_without_the_key(app, *, null_macs: bool = False) -> None:
    """What someone with the database alone can do after an edit: recompute every hash."""
    with app.app_context():
        rows = [(e.id, {k: getattr(e, k) for k in HASHED})
                for e in db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id))]  # fmt: skip
        db.session.rollback()
    previous = GENESIS
    for entry_id, values in rows:
        entry_hash = digest(previous, values)
        statement = "UPDATE audit_entry SET prev_hash = :p, hash = :h WHERE id = :id"
        if null_macs:
            statement = statement.replace("hash = :h", "hash = :h, mac = NULL")
        tamper(app, statement, p=previous, h=entry_hash, id=entry_id)
        previous = entry_hash


def test_an_untouched_log_agrees_with_its_checkpoint(app, runner):
    some_entries(app, 4)
    checkpoint(runner)
    code, output = verify(runner)
    assert code == 0, output
    assert "与" in output
    assert "检查点一致" in output


def test_an_edit_with_the_chain_recomputed_is_found_by_the_key(app, runner):
    _first, middle, _last = some_entries(app)
    tamper(app, "UPDATE audit_entry SET summary = '改过的' WHERE id = :id", id=middle)
    rechain_without_the_key(app)
    code, output = verify(runner)
    assert code == 1
    assert f"第 {middle} 条：密钥校验不符" in output


def test_a_cut_tail_is_found_by_the_checkpoint(app, runner):
    ids = some_entries(app, 5)
    checkpoint(runner)
    tamper(app, "DELETE FROM audit_entry WHERE id >= :id", id=ids[3])
    code, output = verify(runner)
    assert code == 1
    assert f"第 {ids[-1]} 条：日志末尾被截去" in output
    assert f"现在只到第 {ids[2]} 条" in output


def test_entries_deleted_before_the_checkpoint_are_found(app, runner):
    ids = some_entries(app, 5)
    checkpoint(runner)
    tamper(app, "DELETE FROM audit_entry WHERE id <= :id", id=ids[1])
    rechain_without_the_key(app)  # the new first entry made to look like the first ever
    code, output = verify(runner)
    assert code == 1
    assert f"第 {ids[2]} 条：密钥校验不符" in output
    assert "与" in output  # the head's hash differs from the checkpoint's too
    assert f"第 {ids[-1]} 条：与" in output


def test_a_chain_recomputed_without_any_mac_is_found(app, runner):
    ids = some_entries(app, 4)
    checkpoint(runner)
    tamper(app, "UPDATE audit_entry SET summary = '改过的' WHERE id = :id", id=ids[1])
    rechain_without_the_key(app, null_macs=True)  # as if every entry predated the key
    code, output = verify(runner)
    assert code == 1
    assert f"第 {ids[0]} 条：密钥校验不符" in output  # the checkpoint saw them signed


def test_an_edited_checkpoint_is_found(app, runner):
    some_entries(app, 3)
    checkpoint(runner)
    with app.app_context():
        path = anchors.checkpoint_file()
    line = json.loads(path.read_text())
    line["count"] += 5
    path.write_text(json.dumps(line) + "\n")
    code, output = verify(runner)
    assert code == 1
    assert "检查点文件第 1 行的签名不符" in output


def test_the_city_report_prints_the_head_at_the_month_s_end_and_verify_checks_it(
    app, runner, tmp_path
):
    with app.app_context():  # a month can be reported once someone guides a branch in it
        f.AssignmentFactory(started_on=date(2026, 1, 5))
        db.session.commit()
    ids = some_entries(app, 3)
    with app.app_context():
        month_end = db.session.scalar(sa.select(AuditEntry.at).order_by(AuditEntry.id.desc()))
        last_hash = db.session.scalar(sa.select(AuditEntry.hash).where(AuditEntry.id == ids[-1]))
    month = date(month_end.year, month_end.month, 1)
    following = date(month.year + month.month // 12, month.month % 12 + 1, 2)
    with time_machine.travel(datetime.combine(following, time(10), clock.LOCAL_TIME), tick=False):
        result = runner.invoke(args=["reports", "monthly", "--month", f"{month:%Y-%m}", "--city",
                                     "--out", str(tmp_path)])  # fmt: skip
    assert result.exit_code == 0, result.output
    pdf = next(tmp_path.rglob("*.pdf"))
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    flat = "".join(text.split())
    assert f"审计日志锚点（截至本月末）：第{ids[-1]}条" in flat
    assert last_hash in flat
    assert verify(runner, "--anchor", f"{ids[-1]}:{last_hash}")[0] == 0
    tamper(app, "UPDATE audit_entry SET summary = '改过的' WHERE id = :id", id=ids[-1])
    rechain_without_the_key(app)
    code, output = verify(runner, "--anchor", f"{ids[-1]}:{last_hash}")
    assert code == 1
    assert f"第 {ids[-1]} 条：与月报上的锚点不符" in output


def test_every_backup_carries_a_fresh_checkpoint(app, runner, tmp_path):
    ids = some_entries(app, 2)
    result = runner.invoke(args=["backup", "create", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    archive = next(tmp_path.glob("*.tar.gz"))
    with tarfile.open(archive) as opened:
        lines = opened.extractfile("audit-checkpoints.jsonl").read().decode().splitlines()
    assert json.loads(lines[-1])["last_id"] >= ids[-1]
