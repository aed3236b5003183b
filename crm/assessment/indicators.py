"""The computed part of the annual assessment (年度考核·日常工作): five indicators of each
instructor's year, each a share from 0 to 1, taken from the records as of the year's end (or
of today, for the year in progress) by the rules' one definitions:

- on-site visits within cadence: crm.visits.overdue (the phone's due list, the alerts);
- problems solved by their due date: crm.problems (due date, solved, closing day);
- 三会 by calendar quarter (crm.meetings: a meeting that stands) and the two cards kept
  (crm.cards: the year's goal card, vanguard entries that count);
- pairing activities: crm.pairings (a pairing in force, its activities);
- visits sent back and corrected in time: crm.review (VisitComment).

A branch counts for each instructor by the days they held it (a handover mid-year shares it:
crm.assignments, held_at: on the handover day the branch is the new instructor's). An event
(a problem falling due) counts for whoever held the branch on its day.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import Select, and_, distinct, func, select

from crm import clock
from crm.assignments.models import Assignment
from crm.assignments.services import held_at, held_during
from crm.branches.models import Branch
from crm.cards.models import GoalCard, VanguardCard, VanguardEntry
from crm.db import local_day
from crm.extensions import db
from crm.meetings.models import Meeting, MeetingKind
from crm.members.models import Member
from crm.pairings.models import Pairing, PairingActivity
from crm.problems.models import Problem, ProblemStatus
from crm.review.models import VisitComment
from crm.visits import overdue
from crm.visits.models import Visit, VisitKind

INSTRUCTORS_PER_BATCH = 500  # a province is read this many instructors at a time


@dataclass(frozen=True)
class Indicator:
    key: str
    title: str
    formula: str  # shown on the page and in the registration form, in Chinese
    unit: str  # what the numerator and the denominator count


def _indicators() -> tuple[Indicator, ...]:
    return (
        Indicator(
            "visits",
            "实地走访按期率",
            "年内联系党组织的每一天中，该党组织未处于“超期未走访”的天数 ÷ 联系天数。"
            "超期未走访：接手满 {cadence} 天后，{cadence} 天内没有任何一次实地走访。",
            "党组织·天",
        ),
        Indicator(
            "problems",
            "问题按期解决率",
            "年内到期的问题中，到期日当天或之前已解决的个数 ÷ 年内到期的问题个数；"
            "问题算给到期日当天联系该党组织的指导员。",
            "个问题",
        ),
        Indicator(
            "meetings_cards",
            "三会两卡",
            "（三会：每季度三类会议开了几类 ÷ 3，按该季度联系天数加权；"
            "两卡：有本年度书记履职目标卡记 0.5，"
            "党员先锋储绩卡本年有得分记录的党员占比 × 0.5，按联系天数加权）÷ 2。",
            "党组织·天",
        ),
        Indicator(
            "pairings",
            "结对共建活动",
            "年内有结对的联系党组织中，本年开展过结对共建活动的联系天数 ÷ 有结对的联系天数。",
            "党组织·天",
        ),
        Indicator(
            "corrections",
            "退回走访按时修改率",
            "年内被退回的走访中，{fix_days} 天内修改的次数 ÷ 被退回的次数。",
            "次退回",
        ),
    )


def indicators() -> tuple[Indicator, ...]:
    """The five, their formulas with this deployment's settings written in."""
    settings = {
        "cadence": current_app.config["VISIT_CADENCE_DAYS"],
        "fix_days": current_app.config["RETURN_FIX_DAYS"],
    }
    return tuple(
        Indicator(i.key, i.title, i.formula.format(**settings), i.unit) for i in _indicators()
    )


@dataclass(frozen=True)
class Share:
    """An indicator's figure: `met` of `out_of` (days, problems, returns); None when there was
    nothing to count (no problem fell due, no visit was sent back)."""

    met: float
    out_of: float

    @property
    def value(self) -> float | None:
        return self.met / self.out_of if self.out_of else None


@dataclass(frozen=True)
class Evidence:
    """One record behind an indicator (a branch held, a problem, a visit sent back): what it
    is, what it added to the figure, and the page it is on."""

    label: str
    detail: str
    met: float
    out_of: float
    endpoint: str
    values: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Span:
    """Days an instructor held a branch within the year (first and last inclusive), and the
    day their assignment began (the grace before a first visit is due runs from it)."""

    instructor_id: int
    branch_id: int
    first: date
    last: date
    started_on: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def days_within(self, first: date, last: date) -> int:
        return max((min(self.last, last) - max(self.first, first)).days + 1, 0)

    def __str__(self) -> str:
        return f"{_day(self.first)} 至 {_day(self.last)} 联系 {self.days} 天"


@dataclass(frozen=True)
class Year:
    """The year assessed, counted up to `last` (31 December, or today for the year in progress)."""

    number: int
    last: date

    @property
    def first(self) -> date:
        return date(self.number, 1, 1)

    @classmethod
    def of(cls, number: int, today: date) -> "Year":
        return cls(number, min(date(number, 12, 31), today))


Found = dict[str, dict[int, list[Evidence]]]  # indicator → instructor → records


def computed(year: Year, instructor_ids: Iterable[int]) -> Iterator[tuple[int, dict[str, Share]]]:
    """Each instructor's five shares, INSTRUCTORS_PER_BATCH at a time (constant memory over a
    province); an instructor who held no branch and had no visit sent back has all five
    empty."""
    for instructor_id, found in evidence(year, instructor_ids):
        yield instructor_id, {key: total(records) for key, records in found.items()}


def total(records: list[Evidence]) -> Share:
    return Share(sum(r.met for r in records), sum(r.out_of for r in records))


def evidence(
    year: Year, instructor_ids: Iterable[int]
) -> Iterator[tuple[int, dict[str, list[Evidence]]]]:
    """The records behind each instructor's five indicators, a batch at a time: the shares are
    their sums, so the figure and the records under it cannot disagree. Everything is read as
    columns (no ORM object is kept in the session), so memory stays flat over a province."""
    ids = sorted(set(instructor_ids))
    for start in range(0, len(ids), INSTRUCTORS_PER_BATCH):
        batch = ids[start : start + INSTRUCTORS_PER_BATCH]
        spans = held_spans(year, batch)
        branches = select(Assignment.branch_id).where(
            Assignment.instructor_id.in_(batch), held_during(year.first, year.last)
        )
        names = dict(
            db.session.execute(select(Branch.id, Branch.name).where(Branch.id.in_(branches)))
            .tuples()
            .all()
        )
        found: Found = {
            "visits": _visits(year, spans, branches, names),
            "problems": _problems(year, batch),
            "meetings_cards": _meetings_cards(year, spans, branches, names),
            "pairings": _pairings(year, spans, branches, names),
            "corrections": _corrections(year, batch),
        }
        for instructor_id in batch:
            yield instructor_id, {key: rows.get(instructor_id, []) for key, rows in found.items()}


def _day(value: date) -> str:
    return f"{value:%Y-%m-%d}"


def _branch_page(span: Span) -> tuple[str, tuple[tuple[str, int], ...]]:
    return "branches.detail", (("branch_id", span.branch_id),)


def held_spans(year: Year, instructor_ids: list[int]) -> list[Span]:
    """The days of the year each instructor held each branch (assignments.held_at, day by
    day): from the later of its start and 1 January to the day before it ended, or `last`."""
    rows = db.session.execute(
        select(
            Assignment.instructor_id,
            Assignment.branch_id,
            Assignment.started_on,
            Assignment.ended_on,
        ).where(
            Assignment.instructor_id.in_(instructor_ids),
            held_during(year.first, year.last),
        )
    )
    spans = []
    for instructor_id, branch_id, started_on, ended_on in rows:
        last = year.last if ended_on is None else min(ended_on - timedelta(days=1), year.last)
        first = max(started_on, year.first)
        if first <= last:  # an assignment that began and ended on one day held no day
            spans.append(Span(instructor_id, branch_id, first, last, started_on))
    return spans


# --- on-site visits within cadence ------------------------------------------------------------


def _visits(
    year: Year, spans: list[Span], branches: Select, names: dict[int, str]
) -> dict[int, list[Evidence]]:
    """The days of each span its branch was not overdue for an on-site visit, by the one
    definition (visits.overdue; the visits from a cadence before the year on are enough)."""
    visited = _onsite_days(branches, year.first - overdue.cadence(), year.last)
    found: dict[int, list[Evidence]] = defaultdict(list)
    for span in spans:
        days = visited.get(span.branch_id, [])
        late = overdue.days_overdue_within(span.started_on, days, span.first, span.last)
        met = span.days - late
        onsite = sum(span.first <= day <= span.last for day in days)
        found[span.instructor_id].append(
            Evidence(
                names[span.branch_id],
                f"{span}，其间实地走访 {onsite} 次；未超期 {met} 天，超期 {span.days - met} 天",
                met,
                span.days,
                *_branch_page(span),
            )
        )
    return found


def _onsite_days(branches: Select, first: date, last: date) -> dict[int, list[date]]:
    """The 赣州 days each branch had an on-site visit (by anyone), from `first` to `last`,
    in order."""
    day = local_day(Visit.visited_at)
    found: dict[int, list[date]] = defaultdict(list)
    for branch_id, on in db.session.execute(
        select(Visit.branch_id, day)
        .where(
            Visit.branch_id.in_(branches),
            Visit.kind == VisitKind.ONSITE,
            Visit.visited_at >= clock.local_midnight(first),
            Visit.visited_at < clock.local_midnight(last + timedelta(days=1)),
        )
        .distinct()
        .order_by(Visit.branch_id, day)
    ):
        found[branch_id].append(on if isinstance(on, date) else date.fromisoformat(on))
    return found


# --- problems solved by their due date --------------------------------------------------------


def _problems(year: Year, instructor_ids: list[int]) -> dict[int, list[Evidence]]:
    """Problems due within the year, for whoever held their branch on the due date; met: solved
    on or before it."""
    found: dict[int, list[Evidence]] = defaultdict(list)
    for instructor_id, problem_id, name, category, due_on, status, closed_on in db.session.execute(
        select(
            Assignment.instructor_id,
            Problem.id,
            Branch.name,
            Problem.category,
            Problem.due_on,
            Problem.status,
            Problem.closed_on,
        )
        .join(
            Assignment,
            and_(Assignment.branch_id == Problem.branch_id, held_at(Problem.due_on)),
        )
        .join(Branch, Branch.id == Problem.branch_id)
        .where(
            Assignment.instructor_id.in_(instructor_ids),
            Problem.due_on.between(year.first, year.last),
        )
        .order_by(Problem.due_on, Problem.id)
    ):
        in_time = status is ProblemStatus.SOLVED and closed_on <= due_on
        state = f"{_day(closed_on)} {status.label}" if closed_on else status.label
        found[instructor_id].append(
            Evidence(
                f"{name} · {category.label}",
                f"{_day(due_on)} 到期，{state}：{'按期解决' if in_time else '未按期解决'}",
                int(in_time),
                1,
                "problems.detail",
                (("problem_id", problem_id),),
            )
        )
    return found


# --- 三会两卡 -----------------------------------------------------------------------------------


def _meetings_cards(
    year: Year, spans: list[Span], branches: Select, names: dict[int, str]
) -> dict[int, list[Evidence]]:
    """Half the 三会 (kinds held each quarter, by the days held in it), half the two cards
    (the year's goal card, and the share of members whose vanguard card has an entry that
    counts this year, by the days held)."""
    kinds = _kinds_by_quarter(year, branches)
    cards = _cards(year, branches)
    found: dict[int, list[Evidence]] = defaultdict(list)
    for span in spans:
        held = [
            (span.days_within(first, last), len(kinds.get((span.branch_id, quarter), ())))
            for quarter, (first, last) in enumerate(_quarters(year), start=1)
        ]
        meetings = sum(days * count / len(MeetingKind) for days, count in held) / 2
        goal, scored, members = cards.get(span.branch_id, (False, 0, 0))
        card_share = (0.5 if goal else 0) + (0.5 * scored / members if members else 0)
        quarters = "、".join(
            f"第{quarter}季度 {count} 类"
            for quarter, (days, count) in enumerate(held, start=1)
            if days
        )
        found[span.instructor_id].append(
            Evidence(
                names[span.branch_id],
                f"{span}；三会：{quarters}；履职目标卡：{'有' if goal else '无'}；"
                f"先锋储绩卡有得分的党员 {scored}/{members}",
                meetings + span.days * card_share / 2,
                span.days,
                *_branch_page(span),
            )
        )
    return found


def _quarters(year: Year) -> list[tuple[date, date]]:
    """The year's quarters, the last cut at `year.last`."""
    out = []
    for number in range(1, 5):
        first, last = clock.quarter_span(f"{year.number}Q{number}")
        out.append((first, min(last, year.last)))
    return out


def _kinds_by_quarter(year: Year, branches: Select) -> dict[tuple[int, int], set]:
    """The kinds of meeting each branch held in each quarter (1-4) of the year."""
    found: dict[tuple[int, int], set] = defaultdict(set)
    for branch_id, held_on, kind in db.session.execute(
        select(Meeting.branch_id, Meeting.held_on, Meeting.kind).where(
            Meeting.branch_id.in_(branches),
            Meeting.standing,
            Meeting.held_on.between(year.first, year.last),
        )
    ):
        found[(branch_id, (held_on.month - 1) // 3 + 1)].add(kind)
    return found


def _cards(year: Year, branches: Select) -> dict[int, tuple[bool, int, int]]:
    """Per branch: whether it has the year's goal card, and how many of its members (in the
    branch now, or who left it during the year or after) have a vanguard card for the year
    with an entry that counts, dated in the year, of how many."""
    with_goal = set(
        db.session.scalars(
            select(GoalCard.branch_id).where(
                GoalCard.branch_id.in_(branches), GoalCard.year == year.number
            )
        )
    )
    in_branch = and_(
        Member.branch_id.in_(branches),
        (Member.left_on.is_(None)) | (Member.left_on >= year.first),
    )
    members = dict(
        db.session.execute(
            select(Member.branch_id, func.count()).where(in_branch).group_by(Member.branch_id)
        ).all()
    )
    with_entries = dict(
        db.session.execute(
            select(Member.branch_id, func.count(distinct(Member.id)))
            .join(VanguardCard, VanguardCard.member_id == Member.id)
            .join(VanguardEntry, VanguardEntry.card_id == VanguardCard.id)
            .where(
                in_branch,
                VanguardCard.year == year.number,
                VanguardEntry.counts,
                VanguardEntry.done_on.between(year.first, year.last),
            )
            .group_by(Member.branch_id)
        ).all()
    )
    return {
        branch_id: (branch_id in with_goal, with_entries.get(branch_id, 0), count)
        for branch_id, count in members.items()
    } | dict.fromkeys(with_goal - set(members), (True, 0, 0))


# --- pairing activities ---------------------------------------------------------------------


def _pairings(
    year: Year, spans: list[Span], branches: Select, names: dict[int, str]
) -> dict[int, list[Evidence]]:
    """Of the days held of branches paired at some time in the year, those of branches that
    held a pairing activity in the year."""
    paired = set(
        db.session.scalars(
            select(Pairing.branch_id).where(
                Pairing.branch_id.in_(branches),
                Pairing.started_on <= year.last,
                (Pairing.ended_on.is_(None)) | (Pairing.ended_on > year.first),
            )
        )
    )
    activities = dict(
        db.session.execute(
            select(Pairing.branch_id, func.count())
            .join(PairingActivity, PairingActivity.pairing_id == Pairing.id)
            .where(
                Pairing.branch_id.in_(branches),
                PairingActivity.held_on.between(year.first, year.last),
            )
            .group_by(Pairing.branch_id)
        ).all()
    )
    found: dict[int, list[Evidence]] = defaultdict(list)
    for span in spans:
        if span.branch_id in paired:
            held = activities.get(span.branch_id, 0)
            found[span.instructor_id].append(
                Evidence(
                    names[span.branch_id],
                    f"{span}；本年结对共建活动 {held} 次",
                    span.days if held else 0,
                    span.days,
                    *_branch_page(span),
                )
            )
    return found


# --- visits sent back and corrected in time -----------------------------------------------------


def _corrections(year: Year, instructor_ids: list[int]) -> dict[int, list[Evidence]]:
    """Each time one of the instructor's visits was sent back within the year; met: corrected
    within RETURN_FIX_DAYS of it."""
    fix = timedelta(days=current_app.config["RETURN_FIX_DAYS"])
    found: dict[int, list[Evidence]] = defaultdict(list)
    for instructor_id, visit_id, name, at, corrected_at in db.session.execute(
        select(
            Visit.instructor_id, Visit.id, Branch.name, VisitComment.at, VisitComment.corrected_at
        )
        .join(Visit, Visit.id == VisitComment.visit_id)
        .join(Branch, Branch.id == Visit.branch_id)
        .where(
            Visit.instructor_id.in_(instructor_ids),
            VisitComment.returned,
            VisitComment.at >= clock.local_midnight(year.first),
            VisitComment.at < clock.local_midnight(year.last + timedelta(days=1)),
        )
        .order_by(VisitComment.at, VisitComment.id)
    ):
        in_time = corrected_at is not None and corrected_at - at <= fix
        sent = at.astimezone(clock.LOCAL_TIME)
        done = (
            f"{corrected_at.astimezone(clock.LOCAL_TIME):%Y-%m-%d %H:%M} 修改"
            if corrected_at
            else "尚未修改"
        )
        found[instructor_id].append(
            Evidence(
                name,
                f"{sent:%Y-%m-%d %H:%M} 退回，{done}：{'按时' if in_time else '未按时'}",
                int(in_time),
                1,
                "visits.detail",
                (("visit_id", visit_id),),
            )
        )
    return found
