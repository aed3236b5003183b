from datetime import date, timedelta

import sqlalchemy as sa

from crm import clock
from crm.extensions import db
from crm.meetings import services
from crm.meetings.models import Meeting, MeetingKind
from tests import factories as f
from tests.cards.conftest import branch  # noqa: F401  (fixture)


def meeting_form(attendees, **changes):
    return {"client_key": "m" * 20, "kind": "dialogue", "held_on": clock.today().isoformat(),
            "attendee_ids": attendees, "other_attendees": "业主刘强、职工代表 3 人",
            "topics": "加班费与职工食堂", "outcome": "业主同意改善食堂", **changes}  # fmt: skip


def meetings(app) -> list[Meeting]:
    with app.app_context():
        found = db.session.execute(sa.select(Meeting)).scalars().all()
        return [(m.kind.value, sorted(a.name for a in m.attendees)) for m in found]


def test_a_dialogue_meeting_is_recorded_once(app, client, auth, branch):  # noqa: F811
    auth.login("zdy001")
    data = meeting_form([branch.secretary, branch.members["甲"]])
    url = f"/branches/{branch.id}/meetings/new"
    assert client.post(url, data=data).status_code == 303
    assert client.post(url, data=data).status_code == 303
    assert meetings(app) == [("dialogue", ["甲", "钟华"])]


def test_a_meeting_in_the_future_is_refused(app, client, auth, branch):  # noqa: F811
    auth.login("zdy001")
    tomorrow = (clock.today() + timedelta(days=1)).isoformat()
    response = client.post(f"/branches/{branch.id}/meetings/new",
                           data=meeting_form([branch.secretary], held_on=tomorrow))  # fmt: skip
    assert response.status_code == 422
    assert "会议日期不能晚于今天" in response.text
    assert "加班费与职工食堂" in response.text
    assert meetings(app) == []


def test_attendees_from_another_branch_are_refused(app, client, auth, branch):  # noqa: F811
    with app.app_context():
        stranger = f.MemberFactory(name="外支部党员").id
    auth.login("zdy001")
    response = client.post(f"/branches/{branch.id}/meetings/new",
                           data=meeting_form([branch.secretary, stranger]))  # fmt: skip
    assert response.status_code == 422
    assert "参会党员必须是本支部的党员" in response.text
    assert meetings(app) == []


def test_someone_must_attend(app, client, auth, branch):  # noqa: F811
    auth.login("zdy001")
    response = client.post(f"/branches/{branch.id}/meetings/new",
                           data=meeting_form([], other_attendees=""))  # fmt: skip
    assert "请选择参会党员，或填写其他参会人员" in response.text


def test_each_kind_counts_this_year_and_is_flagged_after_a_quiet_quarter(app, branch):  # noqa: F811
    today = date(2026, 11, 27)
    with app.app_context():
        b = db.session.get(f.Branch, branch.id)
        for held_on, kind in ((date(2026, 10, 20), MeetingKind.DECISION),
                              (date(2026, 3, 2), MeetingKind.DECISION),
                              (date(2025, 12, 30), MeetingKind.DECISION),
                              (date(2026, 7, 1), MeetingKind.DIALOGUE)):  # fmt: skip
            f.MeetingFactory(branch=b, kind=kind, held_on=held_on)
        records = {r.kind: r for r in services.kept_up([branch.id], today)[branch.id]}
    decision, dialogue, owner = (records[k] for k in MeetingKind)
    assert (decision.this_year, decision.last, decision.quiet) == (2, date(2026, 10, 20), False)
    assert (dialogue.this_year, dialogue.last, dialogue.quiet) == (1, date(2026, 7, 1), True)
    assert (owner.this_year, owner.last, owner.quiet) == (0, None, True)


def test_the_branch_page_shows_the_three_meetings(app, client, auth, branch):  # noqa: F811
    with app.app_context():
        f.MeetingFactory(branch=db.session.get(f.Branch, branch.id), kind=MeetingKind.OWNER)
    auth.login("reviewer")
    page = client.get(f"/branches/{branch.id}").text
    for label in ("列席决策层会议", "民主恳谈会", "业主列席党组织会议", "本季度未开"):
        assert label in page


def test_the_quarter_rule_follows_the_calendar_at_its_boundaries(app, branch):  # noqa: F811
    """Each kind once a calendar quarter: held on 30 September, a kind is quiet from 1 October
    (a rolling 92 days would not flag it until the end of December)."""
    with app.app_context():
        b = db.session.get(f.Branch, branch.id)
        f.MeetingFactory(branch=b, kind=MeetingKind.DECISION, held_on=date(2026, 9, 30))
        f.MeetingFactory(branch=b, kind=MeetingKind.DIALOGUE, held_on=date(2026, 10, 1))
        f.MeetingFactory(branch=b, kind=MeetingKind.OWNER, held_on=date(2026, 12, 31))

        def quiet(day):
            return [r.kind for r in services.kept_up([branch.id], day)[branch.id] if r.quiet]

        assert quiet(date(2026, 9, 30)) == [MeetingKind.DIALOGUE, MeetingKind.OWNER]
        assert quiet(date(2026, 10, 1)) == [MeetingKind.DECISION, MeetingKind.OWNER]
        assert quiet(date(2026, 12, 30)) == [MeetingKind.DECISION, MeetingKind.OWNER]
        assert quiet(date(2026, 12, 31)) == [MeetingKind.DECISION]
        assert quiet(date(2027, 1, 1)) == list(MeetingKind)


def test_the_alert_lists_guided_branches_missing_a_kind_this_quarter(app, branch):  # noqa: F811
    from crm.accounts.models import Role
    from crm.review import alerts

    today = date(2026, 11, 27)
    with app.app_context():
        guided = db.session.get(f.Branch, branch.id)
        complete = f.AssignmentFactory(started_on=date(2024, 1, 1)).branch
        for kind in MeetingKind:
            f.MeetingFactory(branch=complete, kind=kind, held_on=date(2026, 10, 9))
            f.MeetingFactory(branch=guided, kind=kind, held_on=date(2026, 9, 9))  # last quarter
        f.MeetingFactory(branch=guided, kind=MeetingKind.OWNER, held_on=date(2026, 11, 2))
        nobody = f.BranchFactory()  # no instructor: the unassigned rule's, not this one's
        reviewer = f.AccountFactory(roles=[Role.REVIEWER])
        flagged = db.session.scalars(alerts.statement("quiet_meetings", reviewer, today)).all()
        assert [b.id for b in flagged] == [branch.id]
        assert nobody.id not in [b.id for b in flagged]
        assert alerts.counts(reviewer, today)["quiet_meetings"] == 1
