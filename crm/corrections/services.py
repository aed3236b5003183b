"""The one rule of corrections, for every record users keep (三会, goals, progress notes,
deeds): the author corrects freely until the record settles (confirmed, on a rated card, or of
a closed month); after that a correction needs a reason and becomes a numbered version; a
withdrawal always needs a reason, keeps the record, and takes it out of every count. Each is
audited; a change to a closed month is 补录."""

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from crm import clock
from crm.accounts.models import Account
from crm.audit import services as audit
from crm.corrections.models import Correction
from crm.db import Withdrawable
from crm.extensions import db
from crm.rules import RuleError, in_closed_month

WITHDRAWN = "这条记录已撤回，不能再修改。"


@dataclass(frozen=True)
class Subject:
    """What the rule needs to know of a record: what people call it, its branch and date,
    and whether the one changing it may do so freely (its author, before it settles)."""

    record: Any  # a mapped record with an id (a Withdrawable, for amend and withdraw)
    what: str
    branch_id: int
    day: date
    free: bool


def shown(value: Any) -> str:
    """A value as a version shows it."""
    if value is None or value == "":
        return "（空）"
    if isinstance(value, Enum) and hasattr(value, "label"):
        return value.label
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "、".join(str(item) for item in value) or "（无）"
    return str(value)


def amend(
    subject: Subject,
    values: Mapping[str, Any],
    names: Mapping[str, str],
    *,
    reason: str,
    by: Account,
    show: Callable[[str, Any], str] = lambda _name, value: shown(value),
    also: tuple[list, ...] = (),
) -> Correction | None:
    """Put the values on the record. Free (the author, before it settles, in an open month):
    saved as it is, with no version. Otherwise a reason is needed and the change is kept as the
    record's next version, audited; `also` adds lines the change brings about (a confirmation
    undone). Raises RuleError: nothing changed, no reason."""
    record = subject.record
    if not record.standing:
        raise RuleError(WITHDRAWN)
    changed = [
        (name, getattr(record, name), value)
        for name, value in values.items()
        if _differs(getattr(record, name), value)
    ]
    if not changed:
        raise RuleError("没有任何改动。")
    late = in_closed_month(subject.day) or any(
        isinstance(value, date) and in_closed_month(value) for _, _, value in changed
    )
    versioned = late or not subject.free
    if versioned and not reason.strip():
        raise RuleError(_why_reason(subject, late), "reason")
    trace = [
        [names[name], show(name, before), show(name, after)] for name, before, after in changed
    ] + [list(line) for line in also]
    for name, _, value in changed:
        setattr(record, name, value)
    if not versioned:
        db.session.flush()
        return None
    return _keep(subject, reason, by, late=late, changes=trace)


def _differs(before: Any, after: Any) -> bool:
    """A list (of attendees) differs by what is in it, not by its order."""
    if isinstance(before, list) and isinstance(after, list):
        return set(before) != set(after)
    return before != after


def keep_change(
    subject: Subject, changes: list[list[str]], *, reason: str, by: Account
) -> Correction:
    """Keep a change made by a rule of the record's own (a visit corrected as sent back) as
    its next version: [[field, before, after], …], the reason, who and when, audited."""
    return _keep(subject, reason, by, late=in_closed_month(subject.day), changes=changes)


def withdraw(subject: Subject, *, reason: str, by: Account) -> Correction:
    """撤回: the record stays, marked, and leaves every count. A reason is always needed."""
    record = subject.record
    if not record.standing:
        raise RuleError("这条记录已经撤回。")
    if not reason.strip():
        raise RuleError("请说明撤回原因。", "reason")
    record.withdrawn_on, record.withdrawn_by_id = clock.today(), by.id
    record.withdraw_reason = reason.strip()[:200]
    return _keep(subject, reason, by, late=in_closed_month(subject.day), withdrawn=True)


def _why_reason(subject: Subject, late: bool) -> str:
    if late:
        return "这条记录所在月份已结束，更正将作为补录写入当月月报，请说明原因。"
    if subject.free is False:
        return "这条记录已确认或已评定（或不是您录入的），更正须说明原因。"
    return "请说明更正原因。"


def _keep(
    subject: Subject,
    reason: str,
    by: Account,
    *,
    late: bool,
    withdrawn: bool = False,
    changes: list | None = None,
) -> Correction:
    record = subject.record
    object_type = type(record).__tablename__
    earlier = db.session.scalar(
        select(func.max(Correction.number)).where(
            Correction.object_type == object_type, Correction.object_id == record.id
        )
    )
    correction = Correction(
        object_type=object_type,
        object_id=record.id,
        number=(earlier or 1) + 1,
        what=subject.what[:200],
        branch_id=subject.branch_id,
        day=subject.day,
        withdrawn=withdrawn,
        late=late,
        reason=reason.strip()[:200],
        changes=changes or [],
        made_at=clock.now(),
        by_id=by.id,
    )
    db.session.add(correction)
    db.session.flush()
    action = "withdraw" if withdrawn else "correct"
    audit.record(
        f"{object_type}.{action}",
        object_type=object_type,
        object_id=record.id,
        summary=(
            f"{'补录' if late else ''}{'撤回' if withdrawn else '更正'}{subject.what}"
            f"（第 {correction.number} 版）：{correction.summary if not withdrawn else ''}"
            f"{'' if withdrawn else '；'}原因：{correction.reason}"
        )[:200],
    )
    return correction


def history(record: Withdrawable) -> list[Correction]:
    """The record's versions after the first, oldest first."""
    return traces(type(record).__tablename__, [record.id])[record.id]


def traces(object_type: str, ids: Iterable[int]) -> dict[int, list[Correction]]:
    """The versions of many records of one table, in one query: id → its corrections."""
    found: dict[int, list[Correction]] = defaultdict(list)
    wanted = list(ids)
    if not wanted:
        return found
    for correction in db.session.scalars(
        select(Correction)
        .where(Correction.object_type == object_type, Correction.object_id.in_(wanted))
        .options(selectinload(Correction.by))
        .order_by(Correction.object_id, Correction.number)
    ):
        found[correction.object_id].append(correction)
    return found
