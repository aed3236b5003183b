"""Three years of visits and problems for the demo, uneven the way real work is.

About 12,000 visits a year across the city and about 6,200 problems solved in all; a tenth
of the instructors fall behind, a few branches are never visited, some problems run late.

This is made-up history, not work done through the services: it is written with bulk
INSERTs (the unit of work would take half a minute for 100,000 rows) and logged as one
audit entry per kind of row, naming how many.
"""

import math
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from crm import clock
from crm.assignments.models import Assignment
from crm.branches.models import Branch
from crm.demo import bulk
from crm.extensions import db
from crm.instructors.models import Instructor
from crm.problems.models import Problem, ProblemCategory, ProblemStatus, ProblemStep
from crm.visits.models import Clarity, Visit, VisitKind

OTHER_VISITS_A_MONTH = 0.12  # per branch: calls, activities, meetings attended
PROBLEM_CHANCE = 0.17  # of a visit raising one
NEVER_VISITED_SHARE = 0.02
BEHIND_SHARE = 0.10
OTHER_KINDS = ((VisitKind.ORGANIZATION_LIFE, 35), (VisitKind.ACTIVITY, 30), (VisitKind.REMOTE, 35))
TOPICS = (
    "用工",
    "党员教育",
    "生产经营",
    "支部换届",
    "主题党日",
    "发展党员",
    "安全生产",
    "志愿服务",
)
PROBLEMS = {
    ProblemCategory.BASICS: ("支部台账不规范，需要指导整理", "支部活动场所不固定"),
    ProblemCategory.ORGANIZATION_LIFE: ("三会一课开展不经常", "流动党员难以参加组织生活"),
    ProblemCategory.RECRUITMENT: ("入党积极分子培养缺少联系人", "青年职工入党意愿需要引导"),
    ProblemCategory.BUSINESS: ("订单下滑，希望对接销售渠道", "原材料价格上涨，成本压力大"),
    ProblemCategory.FINANCING: ("流动资金紧张，想申请创业担保贷款", "设备更新需要融资支持"),
    ProblemCategory.HIRING: ("招工难，缺少熟练技工", "旺季用工缺口较大"),
    ProblemCategory.POLICY: ("想了解稳岗补贴政策", "咨询小微企业减税政策"),
    ProblemCategory.DISPUTE: ("与供应商存在货款纠纷", "员工工资争议需要调解"),
    ProblemCategory.OTHER: ("厂区周边道路破损影响运输", "希望协调解决职工子女入学"),
}
DEPARTMENTS = (
    "结对机关党组织",
    "区人社局",
    "市场监管所",
    "税务分局",
    "区工信局",
    "街道办事处",
    "司法所",
    "区商务局",
)
RESOLUTIONS = (
    "已协调相关部门上门办理",
    "对接结对单位提供帮助，问题已解决",
    "指导企业按政策申报，已获批",
    "组织专场对接会，需求已满足",
    "经调解双方达成一致",
)


@dataclass(frozen=True)
class Period:
    instructor: Instructor
    branch: Branch
    first: date
    last: date


def load(rng: random.Random, last_day: date, counts: Counter) -> None:
    """Add visits and problems for every assignment, from its start to `last_day`.

    An instructor keeping up plans an on-site visit to each branch every 22–34 days, so now
    and then one runs a few days late; one falling behind leaves 35–75 days between them.
    Calls, activities and meetings attended come on top, about one a branch a quarter.
    """
    periods = periods_of(last_day)
    instructors = {p.instructor.id for p in periods}
    behind = {i for i in sorted(instructors) if rng.random() < BEHIND_SHARE}
    branches = sorted({p.branch.id for p in periods})
    never = set(rng.sample(branches, round(len(branches) * NEVER_VISITED_SHARE)))
    made = Made()
    for period in periods:
        if period.branch.id in never:
            continue
        gaps = (35, 75) if period.instructor.id in behind else (22, 34)
        day = period.first + timedelta(days=rng.randint(3, gaps[1]))
        while day <= period.last:
            _visit(rng, period, day, VisitKind.ONSITE, last_day, made)
            day += timedelta(days=rng.randint(*gaps))
        months = ((period.last - period.first).days + 1) / 30.4
        for _ in range(_poisson(rng, months * OTHER_VISITS_A_MONTH)):
            day = period.first + timedelta(
                days=rng.randrange((period.last - period.first).days + 1)
            )
            _visit(
                rng, period, day, rng.choices(*zip(*OTHER_KINDS, strict=True))[0], last_day, made
            )
    made.insert()
    counts.update(made.counts)


@dataclass
class Made:
    """Rows waiting to be inserted: each problem knows the index of its visit, each step the
    index of its problem, until the database hands out ids."""

    visits: list[dict] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)
    steps: list[dict] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)

    def insert(self) -> None:
        visit_ids = bulk.insert(Visit, self.visits, ids=True)
        for problem in self.problems:
            problem["visit_id"] = visit_ids[problem["visit_id"]]
        problem_ids = bulk.insert(Problem, self.problems, ids=True)
        for step in self.steps:
            step["problem_id"] = problem_ids[step["problem_id"]]
        bulk.insert(ProblemStep, self.steps)
        self.counts.update(visits=len(self.visits), problems=len(self.problems))


def periods_of(last_day: date) -> list[Period]:
    held = db.session.execute(
        select(Assignment)
        .options(
            selectinload(Assignment.instructor).selectinload(Instructor.account),
            selectinload(Assignment.branch).selectinload(Branch.organizations),
        )
        .order_by(Assignment.id)
    ).scalars()
    # A handover day is the new instructor's (crm.review.holders): the old one's last is the eve.
    return [
        Period(
            a.instructor,
            a.branch,
            a.started_on,
            a.ended_on - timedelta(days=1) if a.ended_on else last_day,
        )
        for a in held
    ]


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method; the means here are small (a few dozen at most)."""
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def _visit(
    rng: random.Random, period: Period, day: date, kind: VisitKind, last_day: date, made: Made
) -> None:
    visited_at = datetime.combine(day, time(8, 30), clock.LOCAL_TIME) + timedelta(
        minutes=rng.randrange(9 * 60)
    )
    late = rng.random() < 0.04 and (last_day - day).days > 25
    received_at = visited_at + (
        timedelta(days=rng.randint(8, 20)) if late else timedelta(minutes=rng.randint(3, 240))
    )
    branch, instructor = period.branch, period.instructor
    visit = {
        "instructor_id": instructor.id,
        "branch_id": branch.id,
        "client_key": f"{rng.getrandbits(128):032x}",
        "visited_at": visited_at,
        "received_at": received_at,
        "kind": kind,
        "backfilled": late,
        "summary": f"{kind.label}：与{branch.secretary_name or '支部'}交流，了解{rng.choice(TOPICS)}情况并给予指导。",
        "people_met": f"书记{branch.secretary_name}" if branch.secretary_name else "",
        "latitude": None,
        "longitude": None,
        "accuracy_m": None,
        "distance_m": None,
        "far_from_branch": False,
        **{item.column: rng.random() < 0.25 for item in Clarity},
    }
    if kind is VisitKind.ONSITE and rng.random() < 0.6:
        _locate(rng, visit, branch)
    made.visits.append(visit)
    if rng.random() < PROBLEM_CHANCE:
        _problem(rng, len(made.visits) - 1, period, day, last_day, made)


def _locate(rng: random.Random, visit: dict, branch: Branch) -> None:
    place = next((o for o in branch.organizations if o.latitude is not None), None)
    if place is None:
        return
    far = rng.random() < 0.03
    meters = rng.uniform(1500, 5000) if far else rng.uniform(5, 300)
    bearing = rng.uniform(0, 2 * math.pi)
    dlat = meters * math.cos(bearing) / 111_195
    dlon = meters * math.sin(bearing) / (111_195 * math.cos(math.radians(float(place.latitude))))
    visit.update(
        latitude=Decimal(f"{float(place.latitude) + dlat:.6f}"),
        longitude=Decimal(f"{float(place.longitude) + dlon:.6f}"),
        accuracy_m=rng.randint(5, 60),
        distance_m=round(meters),
        far_from_branch=far,
    )


def _problem(
    rng: random.Random, visit_index: int, period: Period, day: date, last_day: date, made: Made
) -> None:
    category = rng.choice(list(PROBLEMS))
    by = period.instructor.account_id
    problem = {
        "branch_id": period.branch.id,
        "visit_id": visit_index,
        "raised_by_id": by,
        "raised_on": day,
        "category": category,
        "description": rng.choice(PROBLEMS[category]),
        "department": rng.choice(DEPARTMENTS),
        "responsible": "",
        "due_on": day + timedelta(days=30),
        "status": ProblemStatus.OPEN,
        "resolution": "",
        "closed_on": None,
    }
    made.problems.append(problem)
    index = len(made.problems) - 1
    steps = [_step_row(index, None, ProblemStatus.OPEN, "走访时登记", day, by)]
    chance = rng.random()  # most within the 30 days given, some late, a few much later
    takes = timedelta(
        days=rng.randint(3, 28)
        if chance < 0.78
        else rng.randint(29, 75)
        if chance < 0.95
        else rng.randint(76, 240)
    )
    if rng.random() < 0.6 and day + takes / 3 <= last_day:
        steps.append(
            _step_row(
                index,
                ProblemStatus.OPEN,
                ProblemStatus.COORDINATING,
                f"已与{problem['department']}联系协调",
                day + takes / 3,
                by,
            )
        )
    closing = ProblemStatus.UNSOLVABLE if rng.random() < 0.04 else ProblemStatus.SOLVED
    note = (
        "企业已停产，暂无法推进" if closing is ProblemStatus.UNSOLVABLE else rng.choice(RESOLUTIONS)
    )
    if day + takes <= last_day:
        steps.append(_step_row(index, steps[-1]["to_status"], closing, note, day + takes, by))
        problem.update(resolution=note, closed_on=day + takes)
        made.counts["problems.resolved"] += closing is ProblemStatus.SOLVED
    problem["status"] = steps[-1]["to_status"]
    made.steps.extend(steps)


def _step_row(
    problem_index: int,
    from_status: ProblemStatus | None,
    to: ProblemStatus,
    note: str,
    on: date,
    by: int,
) -> dict:
    at = datetime.combine(on, time(17), clock.LOCAL_TIME)
    return {
        "problem_id": problem_index,
        "from_status": from_status,
        "to_status": to,
        "note": note,
        "on": on,
        "by_id": by,
        "at": at,
    }
