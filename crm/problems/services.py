"""The problem ledger's rules: raising a problem, moving it along, and what is overdue."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import selectinload

from crm import clock
from crm.accounts.models import Account
from crm.assignments.services import branch_scope
from crm.branches.models import Branch
from crm.core.lists import contains
from crm.extensions import db
from crm.problems.models import (
    OPEN_STATUSES,
    Problem,
    ProblemCategory,
    ProblemStatus,
    ProblemStep,
)
from crm.rules import RuleError

NEXT_STATUSES = {
    ProblemStatus.OPEN: (
        ProblemStatus.COORDINATING,
        ProblemStatus.SOLVED,
        ProblemStatus.UNSOLVABLE,
    ),
    ProblemStatus.COORDINATING: (ProblemStatus.SOLVED, ProblemStatus.UNSOLVABLE),
    ProblemStatus.SOLVED: (),
    ProblemStatus.UNSOLVABLE: (),
}


@dataclass(frozen=True)
class NewProblem:
    """A problem as typed in a form, before it is raised."""

    category: ProblemCategory
    description: str
    department: str = ""
    responsible: str = ""
    due_on: date | None = None


def default_due(raised_on: date) -> date:
    return raised_on + timedelta(days=current_app.config["PROBLEM_DUE_DAYS"])


def raise_problem(branch: Branch, new: NewProblem, *, by: Account, on: date) -> Problem:
    """Record a problem the branch raised, due PROBLEM_DUE_DAYS later unless a date is given.
    Raises RuleError for an empty description or a due date before the day it was raised."""
    problem = new_problem(branch, new, by=by, on=on)
    db.session.add(problem)
    return problem


def new_problem(branch: Branch, new: NewProblem, *, by: Account, on: date) -> Problem:
    """The problem as raise_problem records it, not yet added: a visit adds its problems with
    itself, in one flush. Raises RuleError as raise_problem does."""
    if not new.description.strip():
        raise RuleError("请描述问题。", "description")
    if on > clock.today():
        raise RuleError("登记日期不能晚于今天。", "raised_on")
    due_on = new.due_on or default_due(on)
    if due_on < on:
        raise RuleError("办结期限不能早于登记日期。", "due_on")
    problem = Problem(
        branch=branch,
        raised_by=by,
        raised_on=on,
        category=new.category,
        description=new.description.strip(),
        department=new.department.strip(),
        responsible=new.responsible.strip(),
        due_on=due_on,
        status=ProblemStatus.OPEN,
    )
    problem.steps.append(
        ProblemStep(from_status=None, to_status=ProblemStatus.OPEN, note="登记问题", on=on, by=by)
    )
    return problem


def advance(
    problem: Problem,
    to: ProblemStatus,
    *,
    note: str,
    on: date,
    by: Account,
    department: str | None = None,
) -> ProblemStep:
    """Move a problem to its next status with a note, a date and who did it.

    待办 → 协调中 → 已解决, or to 无法解决 from either open status; a closed problem stays
    closed. 已解决 needs how it was solved and 无法解决 the reason, both in the note. Raises
    RuleError.
    """
    if to not in NEXT_STATUSES[problem.status]:
        raise RuleError(f"“{problem.status.label}”的问题不能改为“{to.label}”。", "to_status")
    note = note.strip()
    if not note:
        raise RuleError(_NOTE_NEEDED.get(to, "请填写处理情况。"), "note")
    if on < problem.raised_on:
        raise RuleError(f"日期不能早于登记日期 {problem.raised_on:%Y-%m-%d}。", "on")
    if on > clock.today():
        raise RuleError("日期不能晚于今天。", "on")
    step = ProblemStep(from_status=problem.status, to_status=to, note=note, on=on, by=by)
    problem.steps.append(step)
    problem.status = to
    if department is not None and department.strip():
        problem.department = department.strip()
    if to.is_closed:
        problem.resolution, problem.closed_on = note, on
    db.session.flush()
    return step


_NOTE_NEEDED = {
    ProblemStatus.SOLVED: "请说明问题是如何解决的。",
    ProblemStatus.UNSOLVABLE: "请说明无法解决的原因。",
    ProblemStatus.COORDINATING: "请说明正在与谁协调、如何协调。",
}


def open_at(day: date) -> ColumnElement[bool]:
    """The one definition of an open problem (待办 or 协调中) at the end of `day`: raised by then
    and not closed by then. For today, that is its status."""
    if day >= clock.today():  # nothing is raised after today (new_problem refuses it)
        return Problem.status.in_(OPEN_STATUSES)
    return and_(
        Problem.raised_on <= day,
        or_(Problem.status.in_(OPEN_STATUSES), Problem.closed_on > day),
    )


def overdue_at(day: date) -> ColumnElement[bool]:
    """The one definition of an overdue problem at the end of `day`: open then, and due
    before that day (due today is not yet overdue)."""
    return and_(open_at(day), Problem.due_on < day)


def status_at(problem: Problem, day: date) -> ProblemStatus:
    """The problem's status at the end of `day`, from its steps."""
    status = ProblemStatus.OPEN
    for step in problem.steps:
        if step.on <= day:
            status = step.to_status
    return status


@dataclass(frozen=True)
class ProblemCounts:
    open: int = 0
    overdue: int = 0


def counts_by_branch(branch_ids: Select | Sequence[int], today: date) -> dict[int, ProblemCounts]:
    """Open and overdue problems of each branch, in one query; `branch_ids` may be a statement
    selecting them."""
    rows = db.session.execute(
        select(
            Problem.branch_id,
            func.count(),
            func.count().filter(overdue_at(today)),
        )
        .where(Problem.branch_id.in_(branch_ids), open_at(today))
        .group_by(Problem.branch_id)
    )
    return {branch_id: ProblemCounts(n_open, n_overdue) for branch_id, n_open, n_overdue in rows}


def ledger(
    account: Account,
    show: str,
    today: date,
    *,
    text: str = "",
    category: ProblemCategory | None = None,
) -> Select:
    """The problem ledger's rows the account may see: `show` the open ones (by due date), the
    overdue, the closed (the latest closed first) or all; their branch or text containing
    `text`; of one category."""
    statement = (
        select(Problem)
        .join(Branch, Branch.id == Problem.branch_id)
        .where(problem_scope(account))
        .options(selectinload(Problem.branch))
        .order_by(Problem.due_on, Problem.id)
    )
    if text:
        statement = statement.where(
            or_(contains(Branch.name, text), contains(Problem.description, text))
        )
    if show == "open":
        statement = statement.where(Problem.status.in_(OPEN_STATUSES))
    elif show == "overdue":
        statement = statement.where(overdue_at(today))
    elif show == "closed":
        statement = (
            statement.where(Problem.status.not_in(OPEN_STATUSES))
            .order_by(None)
            .order_by(Problem.closed_on.desc())
        )
    if category is not None:
        statement = statement.where(Problem.category == category)
    return statement


def problem_scope(account: Account) -> ColumnElement[bool]:
    """Problems of the branches the account may see."""
    return Problem.branch_id.in_(select(Branch.id).where(branch_scope(account)))


def visible_problem(account: Account, problem_id: int) -> Problem | None:
    return db.session.execute(
        select(Problem).where(Problem.id == problem_id, problem_scope(account))
    ).scalar_one_or_none()


def of_branch(branch_id: int) -> list[Problem]:
    """The branch's problems: open ones first by due date, then closed ones, newest first."""
    return list(
        db.session.execute(
            select(Problem)
            .where(Problem.branch_id == branch_id)
            .order_by(Problem.status.not_in(OPEN_STATUSES), Problem.due_on, Problem.id.desc())
        ).scalars()
    )
