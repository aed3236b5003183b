"""A week of use, as the release under test's own code makes it: run by build_release.py inside a
checkout of that release, on top of its demo, so that its database holds the record kinds the
demo leaves empty (a visit sent back and corrected, a pairing activity, photos, a report, a spot
check, an alert note, a changed password, an enrolled second factor, a failed sign-in).

Each step calls that release's services or test factories; a step the release cannot do (its
code has no such thing yet) is skipped and named, so one script serves every release.
"""

import importlib.abc
import importlib.machinery
import inspect
import sys
import traceback
from datetime import date, timedelta

import sqlalchemy as sa


class ThisCheckoutOnly(importlib.abc.MetaPathFinder):
    """The project's modules from this release's checkout only: the virtual environment's
    editable install of a later release would otherwise supply what this one lacks."""

    def find_spec(self, name, path, target=None):
        if name != "crm" and not name.startswith("crm."):
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None:
            raise ModuleNotFoundError(f"{name} is not in this release", name=name)
        return spec


sys.meta_path.insert(0, ThisCheckoutOnly())

from wsgi import app  # noqa: E402

done: list[str] = []
skipped: list[str] = []


def step(name):
    def run(function):
        try:
            function()
            db.session.commit()
            done.append(name)
        except Exception as error:
            db.session.rollback()
            skipped.append(f"{name}: {type(error).__name__}: {error}".splitlines()[0][:200])
            if "-v" in sys.argv:
                traceback.print_exc()
        return function

    return run


from crm.extensions import db  # noqa: E402


def one(model, *where):
    return db.session.execute(sa.select(model).where(*where).limit(1)).scalar_one()


context = app.app_context()  # as a command works: every transaction may write
context.push()
try:
    from crm.audit.services import acting_as

    acting_as("cli:week").__enter__()
except ImportError:
    pass
from crm.accounts.models import Account  # noqa: E402
from crm.assignments.models import Assignment  # noqa: E402
from crm.instructors.models import Instructor  # noqa: E402
from crm.visits.models import Visit  # noqa: E402

reviewer = one(Account, Account.username == "reviewer")
instructor = one(Instructor, Instructor.account.has(Account.username == "zdy001"))


@step("visits sent back, one corrected")
def _():
    from crm.review.services import comment
    from crm.visits.services import correct

    visits = db.session.scalars(
        sa.select(Visit)
        .where(Visit.instructor_id == instructor.id)
        .order_by(Visit.id.desc())
        .limit(3)
    ).all()
    for visit in visits:
        comment(visit, "请补充见到的人和谈了什么。", by=reviewer, send_back=True)
    comment(visits[2], "已阅。", by=reviewer, send_back=False)
    by = {"by": instructor.account} if "by" in inspect.signature(correct).parameters else {}
    correct(
        visits[0],
        summary="补充：与书记、业主谈了党员发展。",
        people_met="书记、业主",
        clarified=frozenset(),
        **by,
    )
    try:  # what the correction page does after it, in releases that have it
        from crm.review.services import visit_corrected
    except ImportError:
        return
    visit_corrected(visits[0])


@step("a pairing activity")
def _():
    from crm.pairings.models import ActivityKind, Pairing
    from crm.pairings.services import NewActivity, log_activity

    pairing = db.session.scalars(sa.select(Pairing).order_by(Pairing.id).limit(1)).one()
    log_activity(
        pairing,
        NewActivity(
            client_key="week-activity-1",
            held_on=date.today() - timedelta(days=2),
            kind=next(iter(ActivityKind)),
            description="联合开展主题党日",
            people_reached=12,
        ),
        by=reviewer,
    )


@step("a visit with a photo, a spot check, a report")
def _():
    from tests import factories as f

    assignment = db.session.scalars(
        sa.select(Assignment).where(
            Assignment.instructor_id == instructor.id, Assignment.ended_on.is_(None)
        )
    ).first()
    photo = f.photo_row(instructor.account_id)
    visit = f.VisitFactory(instructor=instructor, branch=assignment.branch, photos=[photo])
    f.SpotCheckFactory(visit=visit)
    f.report_row(instructor)


@step("an alert note")
def _():
    from crm.review.models import AlertNote

    rule = AlertNote.__table__.c.rule.type
    value = next(iter(rule.enum_class)) if getattr(rule, "enum_class", None) else "overdue_visit"
    db.session.add(
        AlertNote(rule=value, object_id=1, note="已电话提醒，下周走访。", by_id=reviewer.id)
    )


@step("a password changed")
def _():
    from crm.accounts.services import set_password

    set_password(one(Account, Account.username == "zdy002"), "Week@2026pass")


@step("a second factor enrolled")
def _():
    import pyotp

    from crm.accounts.services import enrol_second_factor

    secret = pyotp.random_base32()
    enrol_second_factor(
        one(Account, Account.username == "security"), secret, pyotp.TOTP(secret).now()
    )


@step("reminder settings and a reader's choices")
def _():
    from crm.reminders.models import Channel
    from crm.reminders.services import save_choice, save_settings

    save_settings(channels=[Channel.EMAIL], daily=True, weekly=True, stuck_days=14)
    save_choice(instructor.account, channels=[Channel.EMAIL], wecom_userid="", mobile="",
                email="zdy001@example.cn", daily=True, weekly=False)  # fmt: skip


@step("a message in the outbox")
def _():
    from crm.reminders.models import Channel, MessageKind
    from crm.reminders.outbox import queue_one

    queue_one(kind=MessageKind.DAILY, channel=Channel.EMAIL, recipient="sec@example.cn",
              addressee="刘书记", subject="今日提醒", body="有 2 个党组织待走访。")  # fmt: skip


@step("a secretary's confirmation link")
def _():
    from crm.branches.models import Branch
    from crm.cards.services import issue_link, secretary_of

    for branch in db.session.scalars(sa.select(Branch).order_by(Branch.id)):
        if secretary_of(branch.id) is not None:
            issue_link(branch, by=reviewer)
            return
    raise LookupError("no branch with a secretary")


@step("a meeting with a photo")
def _():
    from crm.meetings.models import Meeting
    from tests import factories as f

    meeting = db.session.scalars(sa.select(Meeting).order_by(Meeting.id.desc())).first()
    meeting.photos.append(f.photo_row(instructor.account_id))


def _():
    from crm.accounts.services import authenticate

    authenticate("zdy003", "wrong-password")


print("done:", *done, sep="\n  ")
print("skipped:", *skipped, sep="\n  ")
