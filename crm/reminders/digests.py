"""What the digests say: the instructor's each working morning, the reviewer's each week.

A digest carries only what its reader already sees in the app, and no free text anyone typed
(no problem description, no note, no name of a member or a secretary, no phone number): it
leaves for 企业微信's, an SMS provider's or a mail server's hands. Branch names, categories,
dates and counts say what is due; every line links to the page where the reader acts, which
for an instructor is in the phone's offline set (crm.offline).

The instructors' digests are built in batches (INSTRUCTORS_PER_BATCH at a time, a few queries
each, whatever the count), so a province's are built in constant memory.
"""

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import Select, exists, func, or_, select
from werkzeug.routing import MapAdapter

from crm.accounts.models import Account, AccountRole, Role
from crm.assignments.models import Assignment
from crm.assignments.services import branch_scope
from crm.branches.models import Branch
from crm.extensions import db
from crm.instructors.models import Instructor
from crm.instructors.services import in_post_at
from crm.meetings import services as meetings
from crm.problems.models import OPEN_STATUSES, Problem, ProblemStep
from crm.reminders import services
from crm.review import alerts, caseload, scale
from crm.review.models import AlertNote, CaseloadFigures, CheckOutcome, SpotCheck
from crm.visits import services as visits
from crm.visits.models import Visit

VISIT_AHEAD_DAYS = 7  # a branch due for its on-site visit within this many days is listed
PROBLEM_AHEAD_DAYS = 3  # a problem due within this many days is listed
LINES_PER_SECTION = 5  # then "另有 N 项", linking to the list
INSTRUCTORS_PER_BATCH = 500


@dataclass(frozen=True)
class Line:
    text: str
    endpoint: str  # the page where the reader acts
    values: tuple[tuple[str, int | str], ...] = ()


@dataclass(frozen=True)
class Section:
    key: str  # its parameter in an SMS template
    title: str
    lines: tuple[Line, ...]
    total: int  # how many there are; lines holds the first LINES_PER_SECTION
    more: Line | None = None  # where the rest are listed


@dataclass(frozen=True)
class Digest:
    account_id: int
    kind: str  # "daily" or "weekly"
    day: date
    title: str
    sections: tuple[Section, ...]

    @property
    def counts(self) -> dict[str, int]:
        """Each section's total by its key, 0 for those with nothing (an SMS template's
        parameters: SECTION_KEYS of its kind)."""
        found = {section.key: section.total for section in self.sections}
        return {key: found.get(key, 0) for key in SECTION_KEYS[self.kind]}


SECTION_KEYS = {
    "daily": ("visits", "problems", "returned", "meetings"),
    "weekly": ("behind", "stuck", "alerts", "checks"),
}


def _section(
    key: str, title: str, found: list[Line] | tuple[list[Line], int], more: Line | None = None
) -> Section | None:
    """A section of what was found: every line, or the first ones and how many in all."""
    lines, total = found if isinstance(found, tuple) else (found, len(found))
    if not total:
        return None
    return Section(key, title, tuple(lines[:LINES_PER_SECTION]), total, more)


def _day(value: date) -> str:
    return f"{value.month} 月 {value.day} 日"


# --- the instructor's morning digest ------------------------------------------------------------


@dataclass
class _Found:
    visits: list[Line] = field(default_factory=list)
    problems: list[Line] = field(default_factory=list)
    returned: list[Line] = field(default_factory=list)
    meetings: list[Line] = field(default_factory=list)


def instructor_digests(day: date, account_ids: list[int] | None = None) -> Iterator[Digest]:
    """Each instructor in post with something to act on (none for one with nothing), in
    batches; only `account_ids` when given."""
    statement = (
        select(Instructor.id, Instructor.account_id)
        .join(Account, Account.id == Instructor.account_id)
        .where(in_post_at(day), Account.active)
        .order_by(Instructor.id)
    )
    if account_ids is not None:
        statement = statement.where(Instructor.account_id.in_(account_ids))
    after = 0
    while True:
        batch = db.session.execute(
            statement.where(Instructor.id > after).limit(INSTRUCTORS_PER_BATCH)
        ).all()
        if not batch:
            return
        found = _instructor_lines([i for i, _ in batch], day)
        for instructor_id, account_id in batch:
            lines = found.get(instructor_id)
            if lines is not None and (digest := _instructor_digest(account_id, day, lines)):
                yield digest
        after = batch[-1][0]
        db.session.expunge_all()  # constant memory over a province


def _instructor_digest(account_id: int, day: date, found: _Found) -> Digest | None:
    sections = [
        _section("visits", "需实地走访的党组织", found.visits),
        _section(
            "problems",
            "临近或超过期限的问题",
            found.problems,
            Line("全部问题台账", "problems.index"),
        ),
        _section("returned", "退回修改的走访", found.returned),
        _section("meetings", "本季度三会未开齐", found.meetings),
    ]
    sections = [s for s in sections if s is not None]
    if not sections:
        return None
    return Digest(account_id, "daily", day, f"{_day(day)}待办提醒", tuple(sections))


def _instructor_lines(instructor_ids: list[int], day: date) -> dict[int, _Found]:
    """Each instructor's lines: visits due soon, problems due soon, visits sent back, and
    meetings not yet held this quarter, for the branches they guide now."""
    found: dict[int, _Found] = defaultdict(_Found)
    guided = Assignment.instructor_id.in_(instructor_ids)
    branch_ids = select(Assignment.branch_id).where(guided, Assignment.ended_on.is_(None))
    held, names = _visit_lines(found, visits.due_rows(guided, day), day)
    _problem_lines(found, branch_ids, held, names, day)
    _returned_lines(found, instructor_ids)
    _meeting_lines(found, meetings.kept_up(branch_ids, day), held, names)
    return found


def _visit_lines(found: dict[int, _Found], due, day: date) -> tuple[dict[int, int], dict[int, str]]:
    """The visits due within VISIT_AHEAD_DAYS, most urgent first; returns each branch's
    instructor and name, for the other lines."""
    held: dict[int, int] = {}  # branch → instructor
    names: dict[int, str] = {}
    for row in sorted(due, key=lambda r: (r.urgency, r.branch.name)):
        held[row.branch.id] = row.instructor.id
        names[row.branch.id] = row.branch.name
        if row.due_on <= day + timedelta(days=VISIT_AHEAD_DAYS):
            when = (
                f"超期 {row.days_overdue} 天未实地走访"
                if row.overdue_for_visit
                else f"{_day(row.due_on)}前需实地走访"
            )
            found[row.instructor.id].visits.append(
                Line(f"{row.branch.name}：{when}", "visits.create", (("branch_id", row.branch.id),))
            )
    return held, names


def _problem_lines(found, branch_ids, held: dict[int, int], names: dict[int, str], day: date):
    """The open problems due within PROBLEM_AHEAD_DAYS or overdue, by due date."""
    for problem_id, branch_id, category, due_on in db.session.execute(
        select(Problem.id, Problem.branch_id, Problem.category, Problem.due_on)
        .where(
            Problem.branch_id.in_(branch_ids),
            Problem.status.in_(OPEN_STATUSES),
            Problem.due_on <= day + timedelta(days=PROBLEM_AHEAD_DAYS),
        )
        .order_by(Problem.due_on, Problem.id)
    ):
        when = f"已超期 {(day - due_on).days} 天" if due_on < day else f"{_day(due_on)}到期"
        found[held[branch_id]].problems.append(
            Line(
                f"{names[branch_id]} · {category.label}：{when}",
                "problems.detail",
                (("problem_id", problem_id),),
            )
        )


def _returned_lines(found: dict[int, _Found], instructor_ids: list[int]) -> None:
    """The visits sent back and not yet corrected, the oldest first."""
    for visit_id, instructor_id, name, visited_at in db.session.execute(
        select(Visit.id, Visit.instructor_id, Branch.name, Visit.visited_at)
        .join(Branch, Branch.id == Visit.branch_id)
        .where(Visit.instructor_id.in_(instructor_ids), Visit.returned_at.is_not(None))
        .order_by(Visit.returned_at, Visit.id)
    ):
        found[instructor_id].returned.append(
            Line(
                f"{name} · {_day(visited_at.date())}的走访被退回，请修改",
                "visits.correct",
                (("visit_id", visit_id),),
            )
        )


def _meeting_lines(found, kept, held: dict[int, int], names: dict[int, str]) -> None:
    """The branches with one of the three meetings not yet held this quarter."""
    for branch_id in held:
        quiet = [record.kind.label for record in kept[branch_id] if record.quiet]
        if quiet:
            found[held[branch_id]].meetings.append(
                Line(
                    f"{names[branch_id]}：本季度尚未召开{'、'.join(quiet)}",
                    "meetings.create",
                    (("branch_id", branch_id),),
                )
            )


# --- the reviewer's weekly digest ---------------------------------------------------------------


def reviewers(account_ids: list[int] | None = None) -> list[Account]:
    statement = (
        select(Account)
        .join(AccountRole, AccountRole.account_id == Account.id)
        .where(AccountRole.role == Role.REVIEWER, Account.active)
        .order_by(Account.id)
    )
    if account_ids is not None:
        statement = statement.where(Account.id.in_(account_ids))
    return list(db.session.scalars(statement))


def reviewer_digest(account: Account, day: date) -> Digest | None:
    """For the reviewer's scope: instructors falling behind, problems stuck, alerts no one has
    followed up, spot checks waiting. None when all is well."""
    stuck_days = services.settings().stuck_days
    sections = [
        _section(
            "behind",
            "工作滞后的指导员",
            _behind(account, day),
            Line("指导员工作量", "instructors.index"),
        ),
        _section(
            "stuck",
            f"超过 {stuck_days} 天未推进的问题",
            _stuck(account, day, stuck_days),
            Line("问题台账", "problems.index"),
        ),
        _section("alerts", "尚无跟进的预警", _not_followed(account, day)),
        _section("checks", "待核查的抽查", _checks_waiting(account), Line("抽查", "review.checks")),
    ]
    sections = [s for s in sections if s is not None]
    if not sections:
        return None
    return Digest(account.id, "weekly", day, f"{_day(day)}当周督导提醒", tuple(sections))


def _behind(account: Account, day: date) -> tuple[list[Line], int]:
    """Instructors in the scope with branches overdue for a visit or problems past due, most
    branches overdue first: the first LINES_PER_SECTION, and how many. Counted for a scope up
    to REVIEW_LIVE_LIMIT, read from the stored caseload figures beyond it (crm.review.scale)."""
    if scale.counted_live(account):
        rows = [
            row
            for row in caseload.rows(account, day, sort="overdue_branches", descending=True)
            if row.overdue_branches or row.overdue_problems
        ]
        rows.sort(key=lambda r: (-r.overdue_branches, r.instructor.name))
        total, rows = len(rows), rows[:LINES_PER_SECTION]
    else:
        behind = caseload.stored_rows(account, sort="overdue_branches", descending=True).where(
            or_(CaseloadFigures.overdue_branches > 0, CaseloadFigures.overdue_problems > 0)
        )
        total = _count(behind)
        rows = caseload.from_stored(db.session.scalars(behind.limit(LINES_PER_SECTION)).all())
    lines = [
        Line(
            f"{row.instructor.name}（{row.instructor.district}）：" + _behind_text(row),
            "instructors.detail",
            (("instructor_id", row.instructor.id),),
        )
        for row in rows
    ]
    return lines, total


def _count(statement: Select) -> int:
    counted = select(func.count()).select_from(statement.order_by(None).subquery())
    return db.session.execute(counted).scalar_one()


def _behind_text(row: caseload.Row) -> str:
    parts = [
        f"{row.overdue_branches} 个党组织超期未走访" if row.overdue_branches else "",
        f"{row.overdue_problems} 个问题超期" if row.overdue_problems else "",
    ]
    return "，".join(part for part in parts if part)


def _stuck(account: Account, day: date, stuck_days: int) -> tuple[list[Line], int]:
    """Open problems in the scope with no step (nor their raising) in the last `stuck_days`,
    the longest stuck first: the first LINES_PER_SECTION, and how many."""
    since = day - timedelta(days=stuck_days)
    last_step = (
        select(func.max(ProblemStep.on))
        .where(ProblemStep.problem_id == Problem.id)
        .scalar_subquery()
    )
    moved = func.coalesce(last_step, Problem.raised_on)
    stuck = (
        select(Problem.id, Branch.name, Problem.category, moved)
        .join(Branch, Branch.id == Problem.branch_id)
        .where(Problem.status.in_(OPEN_STATUSES), branch_scope(account), moved < since)
        .order_by(moved, Problem.id)
    )
    lines = [
        Line(
            f"{name} · {category.label}：已 {(day - last).days} 天未推进",
            "problems.detail",
            (("problem_id", problem_id),),
        )
        for problem_id, name, category, last in db.session.execute(stuck.limit(LINES_PER_SECTION))
    ]
    return lines, (_count(stuck) if len(lines) == LINES_PER_SECTION else len(lines))


def _not_followed(account: Account, day: date) -> list[Line]:
    """Per alert rule, how many of the objects it flags in the scope have no follow-up note."""
    lines = []
    for rule in alerts.RULES:
        flagged = alerts.rows(rule.key, account, day).subquery()
        noted = exists().where(AlertNote.rule == rule.key, AlertNote.object_id == flagged.c.id)
        count = db.session.execute(
            select(func.count()).select_from(flagged).where(~noted)
        ).scalar_one()
        if count:
            lines.append(
                Line(
                    f"{rule.label}：{count} 项尚无跟进", "review.alerts_page", (("rule", rule.key),)
                )
            )
    return lines


def _checks_waiting(account: Account) -> list[Line]:
    count = db.session.execute(
        select(func.count())
        .select_from(SpotCheck)
        .join(Visit, Visit.id == SpotCheck.visit_id)
        .join(Branch, Branch.id == Visit.branch_id)
        .where(SpotCheck.outcome == CheckOutcome.PENDING, branch_scope(account))
    ).scalar_one()
    return [Line(f"{count} 条走访待核查", "review.checks")] if count else []


# --- links --------------------------------------------------------------------------------------


def url_of(line: Line, adapter: MapAdapter | None = None) -> str:
    """The line's page as an address the reader's phone opens: under PUBLIC_URL (a digest is
    built by the scheduler, outside any request). `adapter`: public_urls(), bound once for
    many lines."""
    adapter = adapter or public_urls()
    return adapter.build(line.endpoint, dict(line.values), force_external=True)


def public_urls() -> MapAdapter:
    base = urlsplit(current_app.config["PUBLIC_URL"])
    return current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme
    )


def as_text(digest: Digest) -> str:
    """The digest as plain text, each line followed by its address: the preview, the email's
    text part, and 企业微信's text message."""
    out, urls = [digest.title], public_urls()
    for section in digest.sections:
        out.append("")
        out.append(f"【{section.title}】{section.total} 项")
        for line in section.lines:
            out.append(f"· {line.text}")
            out.append(f"  {url_of(line, urls)}")
        if section.total > len(section.lines):
            rest = section.total - len(section.lines)
            out.append(
                f"· 另有 {rest} 项" + (f"：{url_of(section.more, urls)}" if section.more else "")
            )
    return "\n".join(out)
