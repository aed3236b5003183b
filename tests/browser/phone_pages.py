"""Every page an instructor opens on a phone, with enough on it to show every kind of control."""

from datetime import timedelta
from uuid import uuid4

from crm import clock
from crm.accounts.models import Role
from crm.extensions import db
from crm.pairings.models import ActivityKind, PairingActivity
from tests import factories as f


def busy_instructor(app) -> list[str]:
    """zdy001 with two branches, members, a meeting, cards, a pairing, visits (one with a photo,
    one sent back) and open problems; returns the paths of the pages an instructor sees."""
    with app.app_context():
        me = f.InstructorFactory(account__username="zdy001", account__name="张伟")
        branch = f.AssignmentFactory(
            instructor=me, branch__name="赣州华兴电子有限公司党支部"
        ).branch
        f.AssignmentFactory(instructor=me, branch__name="章贡区物流协会党支部")
        secretary = f.MemberFactory(branch=branch, name="钟华", role=f.MemberRole.SECRETARY)
        member = f.MemberFactory(branch=branch, name="李明")
        f.GoalCardFactory(member=secretary, branch_id=branch.id)
        f.VanguardEntryFactory(card=f.VanguardCardFactory(member=member))
        meeting = f.MeetingFactory(
            branch=branch, created_by=me.account, attendees=[secretary, member]
        )
        photo = f.photo_row(me.account_id)
        visit = f.VisitFactory(
            instructor=me, branch=branch, kind=f.VisitKind.REMOTE, photos=[photo]
        )
        returned = f.VisitFactory(
            instructor=me, branch=branch, visited_at=clock.now() - timedelta(days=9)
        )
        returned.returned_at, returned.return_note = clock.now(), "请补充见到的人"
        problem = f.ProblemFactory(branch=branch, raised_by=me.account)
        f.ProblemFactory(branch=branch, raised_on=clock.today() - timedelta(days=40))  # overdue
        pairing = f.PairingFactory(branch=branch)
        db.session.add(PairingActivity(pairing=pairing, held_on=clock.today(), kind=next(iter(ActivityKind)),
                                       description="共建活动", client_key=uuid4().hex,
                                       created_by_id=me.account_id))  # fmt: skip
        reviewer = f.AccountFactory(username="reviewer", roles=[Role.REVIEWER])
        _reminders_sent(me.account_id)
        assessed = _graded(me.id, reviewer.id)
        db.session.commit()
        b, m = branch.id, member.id
        return [
            "/branches/", f"/branches/{b}", f"/branches/{b}/visits/new", f"/visits/{visit.id}",
            f"/visits/{returned.id}", f"/visits/{returned.id}/correct", "/problems/",
            f"/problems/{problem.id}", f"/branches/{b}/problems/new", f"/branches/{b}/meetings",
            f"/branches/{b}/meetings/new", f"/meetings/{meeting.id}", f"/branches/{b}/goal-card",
            f"/branches/{b}/members", f"/members/{m}", f"/branches/{b}/entries/new",
            f"/pairings/{pairing.id}", f"/pairings/{pairing.id}/activities/new", "/reports/",
            "/account/password", "/account/second-factor", "/account/reminders", "/assessment/",
            assessed,
        ]  # fmt: skip


def _graded(instructor_id: int, reviewer_id: int) -> str:
    """Last year's grade confirmed today: the instructor's page of that year offers an appeal."""
    from crm.assessment import services
    from crm.assessment.models import Grade, Result, Scheme

    year = clock.today().year - 1
    db.session.add(Scheme(year=year, locked_at=clock.now(), **services.defaults(),
                          **services.rating_window(year)))  # fmt: skip
    db.session.add(Result(year=year, instructor_id=instructor_id, daily=71.5, rating=None,
                          committee=80, total=74.3, proposed=Grade.COMPETENT,
                          grade=Grade.COMPETENT, by_id=reviewer_id, at=clock.now()))  # fmt: skip
    return f"/assessment/{year}/instructors/{instructor_id}"


def _reminders_sent(account_id: int) -> None:
    """A morning digest sent, and one given up with the longest reason the channels write."""
    from crm.reminders.models import Channel, MessageKind, MessageState, OutboxMessage

    for day, state, error in (
        (clock.today(), MessageState.SENT, ""),
        (clock.today() - timedelta(days=1), MessageState.GIVEN_UP,
         "企业微信用户“zhang.wei.ganzhou”不存在或不在应用可见范围内（错误码 60111）。"),
    ):  # fmt: skip
        db.session.add(OutboxMessage(
            account_id=account_id, kind=MessageKind.DAILY, day=day, channel=Channel.WECOM,
            recipient="zhang.wei.ganzhou", subject="待办提醒", body="正文", state=state,
            not_before=clock.now(), sent_at=clock.now() if state is MessageState.SENT else None,
            last_error=error,
        ))  # fmt: skip
