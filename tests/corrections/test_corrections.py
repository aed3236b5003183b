"""Corrections and withdrawals (issue 16.3), through the pages: the author corrects freely
until a record settles; after that a reason and a version; a withdrawal keeps the record and
takes it out of every count; a change to a closed month is 补录 and its report's next version
names it. Expected figures are counted here from the rows, not by the code under test."""

from datetime import date, datetime, time

import sqlalchemy as sa
import time_machine

from crm import clock
from crm.audit.models import AuditEntry
from crm.cards.models import Goal, GoalCard, GoalNote, VanguardEntry
from crm.corrections.models import Correction
from crm.extensions import db
from crm.meetings.models import Meeting
from crm.reports import services as reports
from crm.reports.models import Report, ReportKind
from crm.review import holders
from tests import factories as f
from tests.documents import pdf_text

ROW_CHANGES = [f"{table}.{change}" for table in ("meeting", "vanguard_entry", "goal", "goal_note")
               for change in ("create", "update", "delete")]  # fmt: skip


QUIET = '<span class="flag">本季度未开</span>'


def on(day: date, hour: int = 10):
    return time_machine.travel(datetime.combine(day, time(hour), clock.LOCAL_TIME), tick=False)


def meeting_form(branch, **changes) -> dict:
    return {"client_key": changes.pop("client_key", "m" * 16), "kind": "dialogue",
            "held_on": "2026-10-12", "attendee_ids": [branch.members["甲"]],
            "other_attendees": "", "topics": "职工工资与福利", "outcome": "", **changes}  # fmt: skip


def edit_form(**values) -> dict:
    base = {"kind": "dialogue", "held_on": "2026-10-12", "other_attendees": "",
            "topics": "职工工资与福利", "outcome": "", "reason": ""}  # fmt: skip
    return base | values


def standing_meetings(app, branch_id: int) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(sa.func.count()).where(
                Meeting.branch_id == branch_id, Meeting.withdrawn_on.is_(None)
            )
        )


def versions(app, object_type: str) -> list[tuple[int, bool, bool, str]]:
    with app.app_context():
        return [
            (c.number, c.withdrawn, c.late, c.reason)
            for c in db.session.scalars(
                sa.select(Correction)
                .where(Correction.object_type == object_type)
                .order_by(Correction.id)
            )
        ]


def audit_actions(app, like: str) -> list[str]:
    """The audit log's corrections and withdrawals (its row changes are logged beside them)."""
    with app.app_context():
        return db.session.scalars(
            sa.select(AuditEntry.action)
            .where(AuditEntry.action.like(like), AuditEntry.action.not_in(ROW_CHANGES))
            .order_by(AuditEntry.id)
        ).all()


def test_a_meeting_is_corrected_freely_in_its_month_and_as_补录_after(app, client, auth, branch):
    with on(date(2026, 10, 12)):
        auth.login("zdy001")
        client.post(f"/branches/{branch.id}/meetings/new", data=meeting_form(branch))
        with app.app_context():
            meeting_id = db.session.scalar(sa.select(Meeting.id))
        # its author, in its month: saved as it is, no reason, no version
        saved = client.post(f"/meetings/{meeting_id}/edit",
                            data=edit_form(attendee_ids=[branch.members["甲"], branch.members["乙"]],
                                           topics="职工工资、福利与安全生产"))  # fmt: skip
        assert saved.status_code == 303
        assert versions(app, "meeting") == []
        page = client.get(f"/meetings/{meeting_id}").text
        assert "职工工资、福利与安全生产" in page
        assert "乙" in page
        nothing = client.post(f"/meetings/{meeting_id}/edit",
                              data=edit_form(attendee_ids=[branch.members["甲"], branch.members["乙"]],
                                             topics="职工工资、福利与安全生产"))  # fmt: skip
        assert nothing.status_code == 422
        assert "没有任何改动" in nothing.text
    with on(date(2026, 11, 3)):  # October has closed
        auth.login("zdy001")
        typed = edit_form(attendee_ids=[branch.members["甲"]], topics="改过的议题")
        refused = client.post(f"/meetings/{meeting_id}/edit", data=typed)
        assert refused.status_code == 422
        assert "所在月份已结束，更正将作为补录" in refused.text
        assert "改过的议题" in refused.text  # what was typed is kept
        assert 'id="reason-error"' in refused.text  # beside the reason
        with app.app_context():
            assert db.session.get(Meeting, meeting_id).topics == "职工工资、福利与安全生产"
        saved = client.post(f"/meetings/{meeting_id}/edit", data=typed | {"reason": "议题记错"})
        assert saved.status_code == 303
        assert versions(app, "meeting") == [(2, False, True, "议题记错")]
        page = client.get(f"/meetings/{meeting_id}").text
        assert "第 2 版" in page
        assert "补录" in page
        assert "议题记错" in page
        assert "议题由“职工工资、福利与安全生产”改为“改过的议题”" in page
        assert "参会党员由“乙、甲”改为“甲”" in page or "参会党员由“甲、乙”改为“甲”" in page
    assert audit_actions(app, "meeting.%") == ["meeting.correct"]


def test_a_withdrawn_meeting_is_kept_and_leaves_every_count(app, client, auth, branch):
    with on(date(2026, 11, 20)):
        with app.app_context():
            me = db.session.scalar(sa.select(f.Account).where(f.Account.username == "zdy001"))
            here = db.session.get(f.Branch, branch.id)
            kept = f.MeetingFactory(branch=here, held_on=date(2026, 11, 5), created_by=me)
            gone = f.MeetingFactory(branch=here, held_on=date(2026, 11, 6), created_by=me,
                                    kind=f.MeetingKind.OWNER)  # fmt: skip
            db.session.commit()
            kept_id, gone_id = kept.id, gone.id
            instructor_id = db.session.scalar(sa.select(f.Instructor.id))
        auth.login("zdy001")
        before = client.get(f"/branches/{branch.id}/meetings").text
        assert before.count(QUIET) == 1  # DECISION only: OWNER and DIALOGUE were held
        empty = client.post(f"/meetings/{gone_id}/withdraw", data={"reason": ""})
        assert empty.status_code == 422
        assert "请说明撤回原因" in empty.text
        assert client.post(f"/meetings/{gone_id}/withdraw",
                           data={"reason": "重复录入"}).status_code == 303  # fmt: skip
        assert standing_meetings(app, branch.id) == 1
        with app.app_context():
            assert db.session.get(Meeting, gone_id) is not None  # kept
            counted = holders.by_instructor(date(2026, 11, 1), date(2026, 11, 30),
                                            holders.Scope(instructor_id=instructor_id))  # fmt: skip
        assert counted[instructor_id]["meetings"] == 1
        page = client.get(f"/meetings/{gone_id}").text
        assert "已撤回" in page
        assert "重复录入" in page
        assert "更正或撤回" not in page
        after = client.get(f"/branches/{branch.id}/meetings").text
        assert after.count(QUIET) == 2  # OWNER is quiet again this quarter
        assert client.post(f"/meetings/{gone_id}/edit",
                           data=edit_form(reason="x")).status_code == 422  # fmt: skip
        assert client.get(f"/meetings/{kept_id}").status_code == 200
    assert versions(app, "meeting") == [(2, True, False, "重复录入")]
    assert audit_actions(app, "meeting.%") == ["meeting.withdraw"]


def test_someone_else_s_meeting_needs_a_reason_and_others_get_404(app, client, auth, branch):
    with app.app_context():
        other = f.InstructorFactory(account__username="zdy002")
        f.AssignmentFactory(instructor=other)
        admin = f.AccountFactory(username="admin", roles=[f.Role.ADMIN])
        here = db.session.get(f.Branch, branch.id)
        meeting = f.MeetingFactory(branch=here, held_on=clock.today(), created_by=admin)
        db.session.commit()
        meeting_id = meeting.id
    auth.login("zdy001")  # the branch's instructor, not its author
    data = edit_form(held_on=clock.today().isoformat(), attendee_ids=[branch.members["甲"]])
    refused = client.post(f"/meetings/{meeting_id}/edit", data=data)
    assert refused.status_code == 422
    assert "更正须说明原因" in refused.text
    assert client.post(f"/meetings/{meeting_id}/edit",
                       data=data | {"reason": "补记参会党员"}).status_code == 303  # fmt: skip
    auth.logout()
    auth.login("zdy002")
    assert client.get(f"/meetings/{meeting_id}/edit").status_code == 404
    assert client.post(f"/meetings/{meeting_id}/withdraw", data={"reason": "x"}).status_code == 404
    auth.logout()
    auth.login("reviewer")
    assert client.get(f"/meetings/{meeting_id}/edit").status_code == 403
    assert standing_meetings(app, branch.id) == 1


def entry_edit(**values) -> dict:
    return {"done_on": clock.today().isoformat(), "category": "volunteer",
            "deed": "组织职工义务献血", "points": "3", "reason": "", **values}  # fmt: skip


def total_of(app, member_id: int) -> int:
    """Counted here: the points of confirmed entries not withdrawn."""
    with app.app_context():
        return db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(VanguardEntry.points), 0))
            .join(VanguardEntry.card)
            .where(
                f.VanguardCard.member_id == member_id,
                VanguardEntry.confirmed_on.is_not(None),
                VanguardEntry.withdrawn_on.is_(None),
            )
        )


def test_a_deed_corrected_before_and_after_confirmation(app, client, auth, branch):
    member = branch.members["甲"]
    auth.login("zdy001")
    client.post(f"/branches/{branch.id}/entries/new",
                data={"client_key": "k" * 16, "member_id": member, "done_on": clock.today().isoformat(),
                      "category": "volunteer", "deed": "组织职工义务献血", "points": "9"})  # fmt: skip
    with app.app_context():
        entry_id = db.session.scalar(sa.select(VanguardEntry.id))
    # not confirmed yet: its recorder corrects freely
    assert client.post(f"/entries/{entry_id}/edit", data=entry_edit(points="5")).status_code == 303
    assert versions(app, "vanguard_entry") == []
    auth.logout()
    auth.login("reviewer")
    client.post(f"/entries/{entry_id}/confirm")
    assert total_of(app, member) == 5
    assert '<strong class="total">5</strong>' in client.get(f"/members/{member}").text
    auth.logout()
    auth.login("zdy001")
    refused = client.post(f"/entries/{entry_id}/edit", data=entry_edit(points="8"))
    assert refused.status_code == 422
    assert "已确认或已评定" in refused.text
    assert 'value="8"' in refused.text
    saved = client.post(f"/entries/{entry_id}/edit", data=entry_edit(points="8", reason="少算了"))
    assert saved.status_code == 303
    assert versions(app, "vanguard_entry") == [(2, False, False, "少算了")]
    assert total_of(app, member) == 0  # what was confirmed is not what it says now
    page = client.get(f"/members/{member}").text
    assert '<strong class="total">0</strong>' in page
    assert "待确认，不计分" in page
    assert "积分由“5”改为“8”" in page
    assert "待重新确认" in page
    auth.logout()
    auth.login("reviewer")
    client.post(f"/entries/{entry_id}/confirm")
    assert total_of(app, member) == 8
    assert '<strong class="total">8</strong>' in client.get(f"/members/{member}").text
    auth.logout()
    auth.login("zdy001")
    assert (
        client.post(f"/entries/{entry_id}/withdraw", data={"reason": "并非本人事迹"}).status_code
        == 303
    )
    assert total_of(app, member) == 0
    page = client.get(f"/members/{member}").text
    assert '<strong class="total">0</strong>' in page
    assert "已撤回" in page
    assert "并非本人事迹" in page
    with app.app_context():
        from crm.cards import services as cards

        standing = {s.member.id: s.total for s in cards.ranking(branch.id, clock.today().year)}
    assert standing[member] == total_of(app, member) == 0
    assert versions(app, "vanguard_entry")[-1] == (3, True, False, "并非本人事迹")
    assert audit_actions(app, "vanguard_entry.%") == [
        "vanguard_entry.correct",
        "vanguard_entry.withdraw",
    ]
    with app.app_context():
        assert db.session.get(VanguardEntry, entry_id).points == 8  # kept as it stood


def test_a_withdrawn_deed_is_not_offered_to_the_secretary(app, client, auth, branch):
    auth.login("zdy001")
    for key, deed in (("a" * 16, "献血"), ("b" * 16, "重复录入的献血")):
        client.post(f"/branches/{branch.id}/entries/new",
                    data={"client_key": key, "member_id": branch.members["乙"], "done_on": clock.today().isoformat(),
                          "category": "volunteer", "deed": deed, "points": "2"})  # fmt: skip
    with app.app_context():
        doubled = db.session.scalar(
            sa.select(VanguardEntry.id).where(VanguardEntry.deed == "重复录入的献血")
        )
    client.post(f"/entries/{doubled}/withdraw", data={"reason": "重复"})
    page = client.post(f"/branches/{branch.id}/confirmation-link").text
    url = page.split('data-link="')[1].split('"')[0] if 'data-link="' in page else None
    with app.app_context():
        from crm.cards import services as cards
        from crm.cards.models import ConfirmationLink

        link = db.session.scalar(sa.select(ConfirmationLink))
        pending = [e.deed for e in cards.pending_for_link(link)]
    assert pending == ["献血"]
    assert url is None or "/confirm/" in url


def test_goals_and_notes_settle_when_the_card_is_rated(app, client, auth, branch):
    year = 2026
    with on(date(year, 3, 2)):
        auth.login("zdy001")
        client.post(f"/branches/{branch.id}/goal-card?year={year}",
                    data={"year": year, "goals-0-title": "发展党员 2 名", "goals-1-title": "写错的目标"})  # fmt: skip
        with app.app_context():
            card_id = db.session.scalar(sa.select(GoalCard.id))
            goal_ids = db.session.scalars(sa.select(Goal.id).order_by(Goal.id)).all()
        client.post(f"/goal-cards/{card_id}/notes", data={"on": "2026-03-01", "text": "召开支委会"})
        with app.app_context():
            note_id = db.session.scalar(sa.select(GoalNote.id))
        assert client.post(f"/goals/{goal_ids[0]}/edit",
                           data={"title": "发展党员 3 名", "target": "3 名", "measure": "", "reason": ""}
                           ).status_code == 303  # fmt: skip
        assert client.post(f"/goals/{goal_ids[1]}/withdraw",
                           data={"reason": "与第一项重复"}).status_code == 303  # fmt: skip
        last = client.post(f"/goals/{goal_ids[0]}/withdraw", data={"reason": "试试"})
        assert last.status_code == 422
        assert "至少保留一项目标" in last.text
    with on(date(year, 12, 10)):
        auth.login("zdy001")
        client.post(f"/goal-cards/{card_id}/assessment", data={"self_assessment": "完成"})
        client.post(f"/goal-cards/{card_id}/rating", data={"rating": "good", "comment": ""})
        locked = client.post(f"/goal-notes/{note_id}/edit",
                             data={"on": "2026-03-01", "text": "召开支委会（补充）", "reason": "补充"})  # fmt: skip
        assert locked.status_code == 422
        assert "已评定并锁定" in locked.text
        auth.logout()
        auth.login("reviewer")
        client.post(f"/goal-cards/{card_id}/unlock", data={"reason": "进展记录有误"})
        auth.logout()
        auth.login("zdy001")
        refused = client.post(f"/goal-notes/{note_id}/edit",
                              data={"on": "2026-03-01", "text": "召开支委会（补充）", "reason": ""})  # fmt: skip
        assert refused.status_code == 422
        assert "更正须说明原因" in refused.text
        assert client.post(f"/goal-notes/{note_id}/edit",
                           data={"on": "2026-03-01", "text": "召开支委会（补充）", "reason": "漏记议题"}
                           ).status_code == 303  # fmt: skip
        assert versions(app, "goal_note") == [(2, False, True, "漏记议题")]  # March had closed
        assert versions(app, "goal") == [(2, True, False, "与第一项重复")]
        page = client.get(f"/goal-cards/{card_id}").text
        assert "<s>写错的目标</s>" in page
        assert "与第一项重复" in page
        assert "发展党员 3 名" in page
        assert "第 2 版" in page
        assert "漏记议题" in page
        client.post(f"/goal-notes/{note_id}/withdraw", data={"reason": "记到别的卡上了"})
        with app.app_context():
            instructor_id = db.session.scalar(sa.select(f.Instructor.id))
            counted = holders.by_instructor(date(year, 3, 1), date(year, 3, 31),
                                            holders.Scope(instructor_id=instructor_id))  # fmt: skip
        assert counted[instructor_id]["notes"] == 0
        pdf = client.get(f"/goal-cards/{card_id}.pdf")
    text = pdf_text(pdf.data)
    assert "发展党员 3 名" in text
    assert "写错的目标" not in text
    assert "召开支委会" not in text


def test_a_closed_month_changes_as_补录_and_its_report_says_so(app, client, auth, branch, tmp_path):
    with on(date(2026, 10, 12)):
        auth.login("zdy001")
        client.post(f"/branches/{branch.id}/meetings/new", data=meeting_form(branch))
        client.post(f"/branches/{branch.id}/meetings/new",
                    data=meeting_form(branch, client_key="n" * 16, kind="owner"))  # fmt: skip
        with app.app_context():
            owner_id = db.session.scalar(sa.select(Meeting.id).where(Meeting.kind == "owner"))
            instructor = db.session.scalar(sa.select(f.Instructor))
            subjects = [reports.Subject(ReportKind.INSTRUCTOR, instructor.id),
                        reports.Subject(ReportKind.DISTRICT, instructor.district_id),
                        reports.Subject(ReportKind.CITY)]  # fmt: skip
    with on(date(2026, 11, 1), hour=3), app.app_context():
        first = [reports.make(s, date(2026, 10, 1), by=None) for s in subjects]
        assert ["三会", 2] in first[0].figures[0]["rows"]
    with on(date(2026, 11, 3)):
        auth.login("zdy001")
        client.post(f"/meetings/{owner_id}/withdraw", data={"reason": "业主未到会，不算本次"})
    with on(date(2026, 11, 3), hour=15), app.app_context():
        second = [reports.make(s, date(2026, 10, 1), by=None) for s in subjects]
        for report in second:
            assert report.version == 2
            named = [line for line in report.changes if line.startswith("补录与更正新增")]
            assert len(named) == 1, report.changes
            assert "撤回" in named[0]
            assert "业主未到会，不算本次" in named[0]
        assert ["三会", 1] in second[0].figures[0]["rows"]
        assert "概况：三会的“数值”由 2 变为 1" in second[0].changes
        text = pdf_text((reports.file_of(second[0])).read_bytes())
        assert "补录与更正" in text
        assert "业主未到会" in text
        # November's report knows nothing of it: the change belongs to October
        november = reports.make(subjects[0], date(2026, 11, 1), by=None)
        assert not any(t["title"] == "补录与更正" for t in november.figures)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 7
