"""The committee's part and the grades: each instructor's total from the three parts by the
scheme's weights, the grade its band gives, the 优秀 quota applied over everyone assessed (ties
at the quota's edge shown, never broken silently), and the committee's confirmation, which
locks the result.

The total: the parts' weighted mean, each out of 100. The computed part and the committee's
score are required; a part with nothing to count (no branch rated the instructor) gives its
weight to the others.
"""

from dataclasses import dataclass, replace
from datetime import date, datetime
from math import floor

from flask import current_app
from sqlalchemy import func, select

from crm import clock
from crm.accounts.models import Account, Role
from crm.assessment import ratings, services
from crm.assessment.indicators import Year
from crm.assessment.models import Appeal, CommitteeScore, Grade, Result, Scheme, SelfReport
from crm.core import kept, workdays
from crm.extensions import db
from crm.instructors.services import of_account
from crm.rules import RuleError

TOTAL_FORMULA = (
    "总分 = 日常工作得分 × 日常工作权重 + 服务对象评议得分 × 评议权重 + 组织评价得分 × 组织评价权重；"
    "某部分无可计（如无党组织评议）时，其权重按比例分给其余部分。"
)


@dataclass(frozen=True)
class Standing:
    """Where an instructor stands for the year: the parts, the total, the band's grade, the
    proposal after the quota (None when tied at its edge, or with no total yet), and the
    confirmed result's latest version."""

    instructor_id: int
    name: str
    district: str
    daily: float | None
    rating: float | None
    committee: float | None
    total: float | None
    band: Grade | None
    proposed: Grade | None
    tied: bool
    result: Result | None = None  # read for each request (an ORM object); the rest is kept
    # A confirmed result's figures are those it was confirmed with (it locks); the total the
    # records give now when a late correction has changed it, else None.
    recounted: float | None = None


def confirms(account: Account) -> bool:
    """The committee that confirms grades and decides appeals: the city-wide reviewers."""
    return account.has_role(Role.REVIEWER) and account.sees_everything


def _check_confirms(account: Account) -> None:
    if not confirms(account):
        raise RuleError("只有市级考核委员会（全市审阅）可以确认等次和处理申诉。")


def total(scheme: Scheme, daily: float | None, rating: float | None, committee: float | None):
    if daily is None or committee is None:
        return None
    parts = [
        (daily, scheme.daily_weight),
        (rating, scheme.rating_weight),
        (committee, scheme.committee_weight),
    ]
    counted = [(value, weight) for value, weight in parts if value is not None]
    weights = sum(weight for _, weight in counted)
    return round(sum(value * weight for value, weight in counted) / weights, 2) if weights else None


def band(scheme: Scheme, score: float | None) -> Grade | None:
    if score is None:
        return None
    if score >= scheme.excellent_min:
        return Grade.EXCELLENT
    if score >= scheme.competent_min:
        return Grade.COMPETENT
    if score >= scheme.basic_min:
        return Grade.BASIC
    return Grade.INCOMPETENT


def quota(scheme: Scheme, assessed: int) -> int:
    """How many may be 优秀: the quota's share of everyone assessed, rounded down."""
    return floor(assessed * scheme.excellent_quota / 100)


def standings(year: Year, account: Account | None = None) -> list[Standing]:
    """Everyone assessed in the year (the quota is the whole body's); those the account may
    see when given, by district and name."""
    results = latest_results(year.number)
    scheme = services.scheme_for(year.number)
    visible = None if account is None else {i for i, _, _ in services.assessed(account, year)}
    return [
        _as_confirmed(scheme, standing, results.get(standing.instructor_id))
        for standing in _figures(year)
        if visible is None or standing.instructor_id in visible
    ]


def _as_confirmed(scheme: Scheme, standing: Standing, result: Result | None) -> Standing:
    """The standing as every page shows it: a confirmed result with the figures it was
    confirmed with, and the total counted now if the records have changed it since."""
    if result is None:
        return standing
    return replace(
        standing,
        daily=result.daily,
        rating=result.rating,
        committee=None if result.committee is None else round(result.committee),  # whole points
        total=result.total,
        band=band(scheme, result.total),
        proposed=result.proposed,
        tied=False,
        result=result,
        recounted=None if standing.total == result.total else standing.total,
    )


@kept.until_changed
def _figures(year: Year) -> tuple[Standing, ...]:
    """Everyone's parts, total, band and proposal: computed from every record of the year
    (0.3 s for the city), so kept until the records change (crm.core.kept)."""
    scheme = services.scheme_for(year.number)
    everyone = services.daily_part(None, year)
    rated = ratings.summaries(year.number, [row.instructor_id for row in everyone])
    scores = dict(
        db.session.execute(
            select(CommitteeScore.instructor_id, CommitteeScore.score).where(
                CommitteeScore.year == year.number
            )
        )
        .tuples()
        .all()
    )
    totals = {
        row.instructor_id: total(
            scheme, row.score, rated[row.instructor_id].score, scores.get(row.instructor_id)
        )
        for row in everyone
    }
    proposed, tied = _proposals(scheme, totals)
    return tuple(
        Standing(
            instructor_id=row.instructor_id,
            name=row.name,
            district=row.district,
            daily=row.score,
            rating=rated[row.instructor_id].score,
            committee=scores.get(row.instructor_id),
            total=totals[row.instructor_id],
            band=band(scheme, totals[row.instructor_id]),
            proposed=proposed.get(row.instructor_id),
            tied=row.instructor_id in tied,
        )
        for row in everyone
    )


def _proposals(scheme: Scheme, totals: dict[int, float | None]) -> tuple[dict, set[int]]:
    """Each instructor's proposed grade: their band's, except that the 优秀 band holds at most
    the quota, the highest totals first; the rest of it are proposed 称职. Those tied at the
    quota's edge (the last place has the same total as the first one out) get no proposal and
    are returned apart: the committee decides."""
    proposed = {i: band(scheme, t) for i, t in totals.items()}
    candidates = sorted((t, i) for i, t in totals.items() if proposed[i] is Grade.EXCELLENT)[::-1]
    places = quota(scheme, len(totals))
    tied: set[int] = set()
    if len(candidates) <= places:
        return proposed, tied
    cut = candidates[places][0]  # the first total left out
    for _, instructor_id in candidates[places:]:
        proposed[instructor_id] = Grade.COMPETENT
    if places and candidates[places - 1][0] == cut:  # the last place in shares it
        for score, instructor_id in candidates:
            if score == cut:
                proposed[instructor_id] = None
                tied.add(instructor_id)
    return proposed, tied


def confirm_proposals(year: Year, *, by: Account) -> int:
    """Confirm every proposal at once: each instructor with a total and a proposed grade (not
    tied at the quota's edge) and no result yet; the ties and the changes are confirmed one by
    one. Returns how many were confirmed."""
    _check_confirms(by)
    if services.scheme_for(year.number).locked_at is None:
        raise RuleError(f"{year.number}年度考核尚未开始。")
    everyone = standings(year)
    chosen = [s for s in everyone if s.result is None and s.proposed is not None]
    excellent = sum(s.result is not None and s.result.grade is Grade.EXCELLENT for s in everyone)
    excellent += sum(s.proposed is Grade.EXCELLENT for s in chosen)
    places = quota(services.scheme_for(year.number), len(everyone))
    if excellent > places:
        raise RuleError(f"已确认的优秀与建议的优秀合计超过名额（{places} 名），请逐个确认。")
    now = clock.now()
    db.session.add_all(_first_result(year, s, s.proposed, "", by, now) for s in chosen)
    db.session.flush()
    return len(chosen)


def _first_result(
    year: Year, standing: Standing, grade: Grade, reason: str, by: Account, at: datetime
) -> Result:
    """The confirmed result: the standing's figures as they are now, locked with the grade."""
    return Result(
        year=year.number,
        instructor_id=standing.instructor_id,
        version=1,
        daily=standing.daily,
        rating=standing.rating,
        committee=standing.committee,
        total=standing.total,
        proposed=standing.proposed,
        grade=grade,
        reason=reason[:500],
        by_id=by.id,
        at=at,
    )


def _check_quota(scheme: Scheme, found: dict[int, Standing]) -> None:
    confirmed = sum(
        s.result is not None and s.result.grade is Grade.EXCELLENT for s in found.values()
    )
    places = quota(scheme, len(found))
    if confirmed >= places:
        raise RuleError(f"优秀名额（{places} 名）已满。", "grade")


def versions(year: int, instructor_id: int) -> list[Result]:
    """Every version of the instructor's result, the first first."""
    return list(
        db.session.scalars(
            select(Result)
            .where(Result.year == year, Result.instructor_id == instructor_id)
            .order_by(Result.version)
        )
    )


# --- the committee's summary table --------------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    """How many of an area's instructors got each grade, and how many wait."""

    name: str
    counts: dict[Grade, int]
    pending: int

    @property
    def total(self) -> int:
        return sum(self.counts.values()) + self.pending


def tally(name: str, rows: list[Standing]) -> Tally:
    counts = dict.fromkeys(Grade, 0)
    for row in rows:
        if row.result is not None:
            counts[row.result.grade] += 1
    return Tally(name, counts, sum(row.result is None for row in rows))


def by_district(rows: list[Standing]) -> list[Tally]:
    """A tally for each district, in the rows' order (districts' own)."""
    names = list(dict.fromkeys(row.district for row in rows))
    return [tally(name, [row for row in rows if row.district == name]) for name in names]


SUMMARY_HEADERS = (
    "县市区",
    "指导员",
    "日常工作",
    "服务对象评议",
    "组织评价",
    "总分",
    "建议等次",
    "考核等次",
)


def summary_rows(rows: list[Standing]) -> list[tuple]:
    """The summary's lines as the spreadsheet holds them (numbers as numbers)."""
    return [
        (
            row.district,
            row.name,
            None if row.daily is None else round(row.daily, 1),
            None if row.rating is None else round(row.rating, 1),
            row.committee,
            row.total,
            "并列待定" if row.tied else (row.proposed.label if row.proposed else ""),
            row.result.grade.label if row.result else "未确认",
        )
        for row in rows
    ]


# --- the instructor's own report ----------------------------------------------------------------

SELF_REPORT_MAX = 5000  # characters


def self_report(year: int, instructor_id: int) -> SelfReport | None:
    return db.session.scalars(
        select(SelfReport).where(SelfReport.year == year, SelfReport.instructor_id == instructor_id)
    ).one_or_none()


def save_self_report(year: int, instructor_id: int, text: str) -> SelfReport:
    """The instructor writes or revises their 述职报告. Raises RuleError: empty, too long, or
    the grade already confirmed."""
    if instructor_id in latest_results(year):
        raise RuleError("考核等次已确认，述职报告不能再修改。")
    text = text.strip()
    if not text:
        raise RuleError("请填写述职报告。", "text")
    if len(text) > SELF_REPORT_MAX:
        raise RuleError(f"述职报告请写在 {SELF_REPORT_MAX} 字以内（现为 {len(text)} 字）。", "text")
    report = self_report(year, instructor_id) or SelfReport(year=year, instructor_id=instructor_id)
    report.text = text
    db.session.add(report)
    db.session.flush()
    return report


# --- appeals -------------------------------------------------------------------------------------


def appeal_until(result: Result) -> date:
    """The last day to appeal: APPEAL_WORKDAYS working days after the day of confirmation."""
    return workdays.workdays_after(clock.day_of(result.at), current_app.config["APPEAL_WORKDAYS"])


def appeal_of(year: int, instructor_id: int) -> Appeal | None:
    return db.session.scalars(
        select(Appeal).where(Appeal.year == year, Appeal.instructor_id == instructor_id)
    ).one_or_none()


def file_appeal(year: int, instructor_id: int, text: str) -> Appeal:
    """The instructor appeals their confirmed grade. Raises RuleError: nothing confirmed, the
    period over, an appeal already filed, no reason given."""
    result = latest_results(year).get(instructor_id)
    if result is None:
        raise RuleError("考核等次尚未确认，无需申诉。")
    if appeal_of(year, instructor_id) is not None:
        raise RuleError("本年度已提出过申诉。")
    if clock.today() > appeal_until(result):
        raise RuleError(f"申诉期已于 {appeal_until(result):%Y-%m-%d} 结束。")
    if not text.strip():
        raise RuleError("请写明申诉的理由和依据。", "text")
    appeal = Appeal(
        year=year, instructor_id=instructor_id, result_id=result.id, text=text.strip()[:2000]
    )
    db.session.add(appeal)
    db.session.flush()
    return appeal


def decide(year: Year, appeal: Appeal, grade: Grade | None, reason: str, *, by: Account):
    """The committee decides an appeal: the grade kept (the same grade) or changed, a new
    version of the result with the reason (the old version is kept). Raises RuleError."""
    _check_confirms(by)
    if appeal.changed is not None:
        raise RuleError("这项申诉已经处理。")
    if grade is None:
        raise RuleError("请选择复核后的等次。", "grade")
    if not reason.strip():
        raise RuleError("请写明复核意见。", "reason")
    found = {s.instructor_id: s for s in standings(year)}
    current = found[appeal.instructor_id].result
    appeal.changed = grade is not current.grade
    appeal.decision, appeal.decided_by_id, appeal.decided_at = (
        reason.strip()[:500],
        by.id,
        clock.now(),
    )
    if appeal.changed:
        if grade is Grade.EXCELLENT:
            _check_quota(services.scheme_for(year.number), found)
        db.session.add(
            Result(
                year=current.year,
                instructor_id=current.instructor_id,
                version=current.version + 1,
                daily=current.daily,
                rating=current.rating,
                committee=current.committee,
                total=current.total,
                proposed=current.proposed,
                grade=grade,
                reason=f"申诉复核：{reason.strip()}"[:500],
                by_id=by.id,
                at=clock.now(),
            )
        )
    db.session.flush()
    return appeal


def latest_results(year: int) -> dict[int, Result]:
    newest = (
        select(Result.instructor_id, func.max(Result.version).label("version"))
        .where(Result.year == year)
        .group_by(Result.instructor_id)
        .subquery()
    )
    return {
        result.instructor_id: result
        for result in db.session.scalars(
            select(Result)
            .join(
                newest,
                (newest.c.instructor_id == Result.instructor_id)
                & (newest.c.version == Result.version),
            )
            .where(Result.year == year)
        )
    }


def committee_score(year: int, instructor_id: int) -> CommitteeScore | None:
    return db.session.scalars(
        select(CommitteeScore).where(
            CommitteeScore.year == year, CommitteeScore.instructor_id == instructor_id
        )
    ).one_or_none()


def save_score(year: int, instructor_id: int, score: int | None, note: str, *, by: Account):
    """The committee's score of an instructor. Raises RuleError: the year not started, the
    result already confirmed, a score outside 0–100."""
    scheme = services.scheme_for(year)
    if scheme.locked_at is None:
        raise RuleError(f"{year}年度考核尚未开始。")
    if instructor_id in latest_results(year):
        raise RuleError("考核结果已确认并锁定，组织评价不能再修改。")
    if score is None or not 0 <= score <= 100:
        raise RuleError("请填写 0 到 100 之间的整数。", "score")
    row = committee_score(year, instructor_id) or CommitteeScore(
        year=year, instructor_id=instructor_id
    )
    row.score, row.note, row.by_id = score, note.strip()[:500], by.id
    db.session.add(row)
    db.session.flush()
    return row


def confirm(year: Year, instructor_id: int, grade: Grade | None, reason: str, *, by: Account):
    """The committee confirms an instructor's grade: the proposal, or another with a reason
    (a tie at the quota's edge has no proposal: a reason is asked too). The result locks.
    Raises RuleError: no total yet, already confirmed, no reason, the 优秀 quota full."""
    _check_confirms(by)
    found = {s.instructor_id: s for s in standings(year)}
    standing = found.get(instructor_id)
    if standing is None or standing.total is None:
        raise RuleError("日常工作和组织评价都有得分后才能确认等次。")
    if standing.result is not None:
        raise RuleError("该指导员的考核结果已确认并锁定；如有异议，请通过申诉处理。")
    if grade is None:
        raise RuleError("请选择等次。", "grade")
    reason = reason.strip()
    if grade is not standing.proposed and not reason:
        raise RuleError("确认的等次与建议不同（或并列待定），请写明理由。", "reason")
    scheme = services.scheme_for(year.number)
    if grade is Grade.EXCELLENT:
        _check_quota(scheme, found)
    result = _first_result(year, standing, grade, reason, by, clock.now())
    db.session.add(result)
    db.session.flush()
    return result


def since_confirmed(result: Result | None, daily: float | None, rating: float | None) -> str:
    """What the records give now where a correction made after the grade was confirmed has
    changed a part ('' when nothing has): the result keeps the figures it was confirmed with."""
    if result is None:
        return ""
    changed = [
        f"{name}得分现为 {_shown(now)}（确认时 {_shown(then)}）"
        for name, now, then in (
            ("日常工作", daily, result.daily),
            ("服务对象评议", rating, result.rating),
        )
        if _shown(now) != _shown(then)
    ]
    if not changed:
        return ""
    return f"确认后记录有更正：{'，'.join(changed)}。考核结果按确认时的得分，不变。"


def _shown(score: float | None) -> str:
    return "—" if score is None else f"{score:.1f}"


# --- one instructor's case ----------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """What one instructor's page shows beside the computed part, for one reader."""

    standing: Standing | None  # the parts and the proposal: the committee's (reviewers) only
    score: CommitteeScore | None
    versions: list[Result]  # the confirmed result's versions, the first first
    appeal: Appeal | None
    report: SelfReport | None
    own: bool  # the reader is the instructor
    rated: ratings.Summary
    comments: list | None  # without who wrote them: the committee's only

    @property
    def result(self) -> Result | None:
        return self.versions[-1] if self.versions else None

    @property
    def appeal_until(self) -> date | None:
        return appeal_until(self.result) if self.result else None

    @property
    def can_appeal(self) -> bool:
        return (
            self.own
            and self.result is not None
            and self.appeal is None
            and clock.today() <= self.appeal_until
        )

    @property
    def can_report(self) -> bool:
        """The instructor writes and revises their 述职报告 until the grade is confirmed."""
        return self.own and self.result is None


def case(year: Year, instructor_id: int, reader: Account) -> Case:
    """The instructor's case as the reader may see it (the reader's scope is checked by the
    caller, with the computed part)."""
    reviewing = reader.has_role(Role.ADMIN, Role.REVIEWER)
    versions_ = versions(year.number, instructor_id)
    standing = None
    if reviewing:
        standing = next((s for s in _figures(year) if s.instructor_id == instructor_id), None)
    if standing is not None:
        standing = _as_confirmed(
            services.scheme_for(year.number), standing, versions_[-1] if versions_ else None
        )
    return Case(
        standing=standing,
        score=committee_score(year.number, instructor_id),
        versions=versions_,
        appeal=appeal_of(year.number, instructor_id),
        report=self_report(year.number, instructor_id),
        own=getattr(of_account(reader.id), "id", None) == instructor_id,
        rated=ratings.summaries(year.number, [instructor_id])[instructor_id],
        comments=ratings.comments(year.number, instructor_id) if reviewing else None,
    )
