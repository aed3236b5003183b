"""The annual assessment: the year's scheme (set, checked, locked when assessment starts), and
each instructor's computed part (日常工作) scored by it."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from crm import clock
from crm.accounts.models import Account
from crm.assessment import indicators
from crm.assessment.indicators import Share, Year
from crm.assessment.models import Scheme
from crm.assignments.services import instructor_scope
from crm.extensions import db
from crm.instructors.models import Instructor
from crm.instructors.services import in_post_during
from crm.organizations.models import District
from crm.rules import RuleError

PARTS = ("daily_weight", "rating_weight", "committee_weight")
BANDS = ("excellent_min", "competent_min", "basic_min")
FIRST_YEAR = 2019  # the instructors were hired from 2019 (the article)


def defaults() -> dict[str, int]:
    """The scheme's settings as a year starts with them (the columns' defaults)."""
    return {
        column.name: column.default.arg
        for column in Scheme.__table__.columns
        if column.default is not None and isinstance(column.default.arg, int)
    }


def weight_fields() -> tuple[str, ...]:
    return tuple(f"{indicator.key}_weight" for indicator in indicators.indicators())


def scheme_for(year: int) -> Scheme:
    """The year's stored scheme, or (not stored) the defaults."""
    stored = db.session.scalars(select(Scheme).where(Scheme.year == year)).one_or_none()
    return stored or Scheme(year=year, **defaults(), **rating_window(year))


def rating_window(year: int) -> dict[str, date]:
    """The branches rate their instructors from 1 December to 15 January, unless set."""
    return {"rating_from": date(year, 12, 1), "rating_until": date(year + 1, 1, 15)}


def years(today: date) -> list[int]:
    """The years that can be assessed, the latest first: this one back to FIRST_YEAR."""
    return list(range(today.year, FIRST_YEAR - 1, -1))


def check_year(year: int, today: date) -> None:
    if not FIRST_YEAR <= year <= today.year:
        raise LookupError(year)


def save_scheme(
    year: int, values: dict[str, int | None], window: dict[str, date | None], *, by: Account
) -> Scheme:
    """Store the year's scheme. Raises RuleError, beside the field at fault: a scheme already
    locked, a figure missing or outside 0–100, parts or indicators not adding up to 100, bands
    out of order, a rating window missing, reversed or not about the year's end."""
    scheme = scheme_for(year)
    if scheme.locked_at is not None:
        raise RuleError(f"{year}年度考核已开始，方案已锁定，不能再修改。")
    for name, value in values.items():
        if value is None or not 0 <= value <= 100:
            raise RuleError("请填写 0 到 100 之间的整数。", name)
    _check_window(year, window)
    _check_sum(values, PARTS, "三部分权重")
    _check_sum(values, weight_fields(), "日常工作五项指标的权重")
    excellent, competent, basic = (values[name] for name in BANDS)
    if not excellent > competent > basic:
        raise RuleError("分数线应从高到低：优秀 > 称职 > 基本称职。", "competent_min")
    for name, value in {**values, **window}.items():
        setattr(scheme, name, value)
    db.session.add(scheme)
    db.session.flush()
    return scheme


def _check_window(year: int, window: dict[str, date | None]) -> None:
    first, last = window["rating_from"], window["rating_until"]
    for name, day in window.items():
        if day is None:
            raise RuleError("请填写日期，如 2026-12-01。", name)
        if not date(year, 1, 1) <= day <= date(year + 1, 12, 31):
            raise RuleError(f"评议应在 {year} 年或 {year + 1} 年内进行。", name)
    if first > last:
        raise RuleError("评议截止日不能早于开始日。", "rating_until")


def _check_sum(values: dict[str, int | None], names: tuple[str, ...], what: str) -> None:
    total = sum(values[name] or 0 for name in names)
    if total != 100:
        raise RuleError(f"{what}合计应为 100%，现为 {total}%。", names[0])


def start(year: int, *, by: Account) -> Scheme:
    """Assessment of the year starts: its scheme (the defaults, if never saved) is locked.
    Raises RuleError when it already started."""
    scheme = scheme_for(year)
    if scheme.locked_at is not None:
        raise RuleError(f"{year}年度考核已于 {clock.day_of(scheme.locked_at):%Y-%m-%d} 开始。")
    scheme.locked_at, scheme.locked_by_id = clock.now(), by.id
    db.session.add(scheme)
    db.session.flush()  # audited as the scheme's change (Audited)
    return scheme


# --- the computed part -----------------------------------------------------------------------


@dataclass(frozen=True)
class Daily:
    """An instructor's computed part: the five shares and the part's score out of 100 (the
    indicators' weighted mean, over those with something to count; None when none had)."""

    instructor_id: int
    name: str
    district: str
    shares: dict[str, Share]
    score: float | None


def score(scheme: Scheme, shares: dict[str, Share]) -> float | None:
    """The weighted mean of the indicators' values (each out of 100). An indicator with nothing
    to count (no problem fell due) gives its weight to the others rather than a zero or full
    marks."""
    counted = {key: share.value for key, share in shares.items() if share.value is not None}
    weights = {key: scheme.weight_of(key) for key in counted}
    if not sum(weights.values()):
        return None
    return sum(100 * counted[key] * weight for key, weight in weights.items()) / sum(
        weights.values()
    )


def assessed(
    account: Account | None, year: Year, instructor_id: int | None = None
) -> list[tuple[int, str, str]]:
    """(id, name, district) of the instructors in post at some time in the year that the
    account may see (all of them without an account: the quota is the whole body's; only
    `instructor_id`, when given), by district and name."""
    statement = (
        select(Instructor.id, Account.name, District.name.label("district"))
        .join(Account, Account.id == Instructor.account_id)
        .join(District, District.id == Instructor.district_id)
        .where(in_post_during(year.first, year.last))
        .order_by(District.position, Account.name, Instructor.id)
    )
    if account is not None:
        statement = statement.where(instructor_scope(account))
    if instructor_id is not None:
        statement = statement.where(Instructor.id == instructor_id)
    return [(row.id, row.name, row.district) for row in db.session.execute(statement)]


def daily_part(account: Account | None, year: Year) -> list[Daily]:
    """Each instructor's computed part that the account may see (all without one), by
    district and name."""
    scheme = scheme_for(year.number)
    people = assessed(account, year)
    found = dict(indicators.computed(year, [i for i, _, _ in people]))
    return [
        Daily(i, name, district, found[i], score(scheme, found[i])) for i, name, district in people
    ]


def instructor_part(
    account: Account, year: Year, instructor_id: int
) -> tuple[Daily, dict[str, list[indicators.Evidence]]] | None:
    """One instructor's computed part and the records under each indicator; None when the
    account may not see them or they were not in post that year."""
    found = assessed(account, year, instructor_id)
    if not found:
        return None
    _, name, district = found[0]
    records = dict(indicators.evidence(year, [instructor_id]))[instructor_id]
    shares = {key: indicators.total(rows) for key, rows in records.items()}
    daily = Daily(instructor_id, name, district, shares, score(scheme_for(year.number), shares))
    return daily, records
