"""三会两卡 for the demo: members of the guided branches, their meetings and both cards,
over the same three years as the visits; bulk-inserted like them (see history.py)."""

import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from crm.cards.models import (
    Goal,
    GoalCard,
    GoalNote,
    Rating,
    VanguardCard,
    VanguardCategory,
    VanguardEntry,
)
from crm.demo import bulk, words
from crm.demo.history import Period, periods_of
from crm.meetings.models import Meeting, MeetingKind, meeting_attendee
from crm.members.models import Member, MemberRole
from crm.members.services import follow_all_members

MEETINGS_A_YEAR = {MeetingKind.DECISION: 1.4, MeetingKind.DIALOGUE: 1.0, MeetingKind.OWNER: 0.6}
TOPICS = {
    MeetingKind.DECISION: ("年度生产经营计划", "新厂房建设", "职工薪酬调整", "安全生产投入"),
    MeetingKind.DIALOGUE: ("加班与休假安排", "职工食堂改善", "技能培训计划", "高温作业防护"),
    MeetingKind.OWNER: ("支部年度工作计划", "党员示范岗设立", "发展党员工作", "主题党日活动安排"),
}
GOALS = (
    ("发展党员", "1—2 名", "按期转正"),
    ("主题党日", "每月 1 次", "活动记录"),
    ("党员示范岗", "设立 2 个", "岗位成效"),
    ("帮扶困难职工", "5 户", "帮扶台账"),
    ("三会一课", "按时召开", "会议记录"),
)
DEEDS = {
    VanguardCategory.VOLUNTEER: "参加社区志愿服务",
    VanguardCategory.POST: "带头完成生产攻关任务",
    VanguardCategory.STUDY: "完成党员学习教育",
    VanguardCategory.HELP: "结对帮扶困难职工",
    VanguardCategory.OTHER: "参与企业安全检查",
}


@dataclass
class Made:
    """Rows waiting for their bulk INSERT; children name their parent by its index."""

    meetings: list[dict] = field(default_factory=list)
    goal_cards: list[dict] = field(default_factory=list)
    vanguard: list[dict] = field(default_factory=list)


def load(rng: random.Random, last_day: date, counts: Counter) -> None:
    """Members, meetings and cards for every branch an instructor guides or guided."""
    periods = periods_of(last_day)
    branches = {p.branch.id: p.branch for p in periods}
    members = _members(rng, branches, counts)
    by_branch = defaultdict(list)
    for member in members:
        by_branch[member["branch_id"]].append(member)
    made = Made()
    for period in periods:
        _meetings(rng, period, by_branch[period.branch.id], made)
    _goal_cards(rng, periods, by_branch, last_day, made)
    _vanguard(rng, members, periods, last_day, made)
    _insert(made)
    counts.update(
        meetings=len(made.meetings),
        goal_cards=len(made.goal_cards),
        vanguard_entries=sum(len(card["entries"]) for card in made.vanguard),
    )


def _members(rng: random.Random, branches: dict, counts: Counter) -> list[dict]:
    rows = []
    for branch_id in sorted(branches):
        branch = branches[branch_id]
        owner = next((o for o in branch.organizations if o.owner_is_member), None)
        for n in range(max(3, branch.member_count)):
            role = (
                MemberRole.SECRETARY
                if n == 0
                else (MemberRole.COMMITTEE if n <= branch.member_count // 5 else MemberRole.MEMBER)
            )
            name = (
                branch.secretary_name
                if n == 0 and branch.secretary_name
                else (owner.owner_name if n == 1 and owner else _person(rng))
            )
            rows.append(
                {
                    "branch_id": branch.id,
                    "name": name,
                    "role": role,
                    "phone": _phone(rng, branch if n == 0 else None),
                    "joined_on": date(1990, 1, 1) + timedelta(days=rng.randrange(12_400)),
                    "is_owner": n == 1 and owner is not None,
                    "is_manager": rng.random() < 0.2,
                    "is_staff_rep": rng.random() < 0.15,
                    "active": True,
                }
            )
    ids = bulk.insert(Member, (rows), ids=True)
    for row, member_id in zip(rows, ids, strict=True):
        row["id"] = member_id
    counts["members"] = len(rows)
    follow_all_members()  # the branches' 书记 and 党员人数 as the member lists have them
    return rows


def _phone(rng: random.Random, secretary_of: object | None) -> str:
    """A member's mobile; the secretary's is the one the branch lists (one person, one number)."""
    made = f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"
    return getattr(secretary_of, "secretary_phone", "") or made


def _person(rng: random.Random) -> str:
    given = "".join(rng.sample(words.GIVEN_CHARS, rng.choice((1, 2, 2))))
    return rng.choice(words.SURNAMES) + given


def _meetings(rng: random.Random, period: Period, members: list[dict], made: Made) -> None:
    years = ((period.last - period.first).days + 1) / 365
    for kind, rate in MEETINGS_A_YEAR.items():
        for _ in range(round(rng.gauss(rate * years, (rate * years) ** 0.5)) if years > 0 else 0):
            held = period.first + timedelta(
                days=rng.randrange((period.last - period.first).days + 1)
            )
            attendees = rng.sample(members, min(len(members), rng.randint(2, 5)))
            made.meetings.append(
                {
                    "branch_id": period.branch.id,
                    "kind": kind,
                    "held_on": held,
                    "topics": rng.choice(TOPICS[kind]),
                    "outcome": "形成会议纪要，明确责任人和时限",
                    "other_attendees": "业主、职工代表" if kind is not MeetingKind.DECISION else "",
                    "client_key": f"{rng.getrandbits(128):032x}",
                    "created_by_id": period.instructor.account_id,
                    "attendees": [m["id"] for m in attendees],
                }
            )


def _goal_cards(rng, periods, by_branch, last_day: date, made: Made) -> None:
    guide = {}
    for period in periods:  # who guided each branch at the end of each year
        for year in range(period.first.year, period.last.year + 1):
            guide[(period.branch.id, year)] = period.instructor.account_id
    for (branch_id, year), account_id in sorted(guide.items()):
        secretary = next(m for m in by_branch[branch_id] if m["role"] is MemberRole.SECRETARY)
        past = year < last_day.year
        rated = past and rng.random() < 0.9
        made.goal_cards.append(
            {
                "branch_id": branch_id,
                "member_id": secretary["id"],
                "year": year,
                "self_assessment": "全年履职目标基本完成，支部活动正常开展。" if past else "",
                "assessed_on": date(year, 12, 20) if past else None,
                "rating": rng.choices(list(Rating), (30, 45, 20, 5))[0] if rated else None,
                "rating_comment": "履职到位，成效明显" if rated else "",
                "rated_on": date(year, 12, 28) if rated else None,
                "rated_by_id": account_id if rated else None,
                "locked": rated,
                "goals": rng.sample(GOALS, 3),
                "notes": [
                    date(year, month, 15) for month in (4, 8) if date(year, month, 15) <= last_day
                ],
                "by": account_id,
            }
        )


def _vanguard(rng, members: list[dict], periods, last_day: date, made: Made) -> None:
    guide = {p.branch.id: p.instructor.account_id for p in periods if p.last == last_day}
    secretary = {m["branch_id"]: m["name"] for m in members if m["role"] is MemberRole.SECRETARY}
    first = min(p.first for p in periods)
    for member in members:
        if rng.random() > 0.3 or member["branch_id"] not in guide:
            continue
        for year in range(first.year, last_day.year + 1):
            entries = []
            for _ in range(rng.randint(1, 3)):
                done = date(year, 1, 1) + timedelta(days=rng.randrange(365))
                if done > last_day:
                    continue
                category = rng.choice(list(VanguardCategory))
                # Confirmed by the branch secretary through a link, never by the recorder; the
                # secretary's own deeds wait for a reviewer.
                own = member["role"] is MemberRole.SECRETARY
                confirmed = rng.random() < 0.85 and not own
                entries.append(
                    {
                        "done_on": done,
                        "deed": DEEDS[category],
                        "category": category,
                        "points": rng.randint(1, 10),
                        "client_key": f"{rng.getrandbits(128):032x}",
                        "created_by_id": guide[member["branch_id"]],
                        "confirmed_on": done + timedelta(days=3) if confirmed else None,
                        "confirmed_by_id": None,
                        "confirmed_as": f"书记{secretary[member['branch_id']]}（确认链接）"
                        if confirmed
                        else "",
                    }
                )
            if entries:
                made.vanguard.append({"member_id": member["id"], "year": year, "entries": entries})


def _insert(made: Made) -> None:
    meetings = made.meetings
    ids = bulk.insert(
        Meeting, ([{k: v for k, v in m.items() if k != "attendees"} for m in meetings]), ids=True
    )
    bulk.insert(
        meeting_attendee,
        [
            {"meeting_id": i, "member_id": member}
            for i, m in zip(ids, meetings, strict=True)
            for member in m["attendees"]
        ],
    )
    cards = made.goal_cards
    ids = bulk.insert(
        GoalCard,
        ([{k: v for k, v in c.items() if k not in ("goals", "notes", "by")} for c in cards]),
        ids=True,
    )
    bulk.insert(
        Goal,
        [
            {"card_id": i, "title": t, "target": g, "measure": m}
            for i, c in zip(ids, cards, strict=True)
            for t, g, m in c["goals"]
        ],
    )
    bulk.insert(
        GoalNote,
        [
            {"card_id": i, "noted_on": on, "text": "按计划推进，阶段目标已完成", "by_id": c["by"]}
            for i, c in zip(ids, cards, strict=True)
            for on in c["notes"]
        ],
    )
    vanguard = made.vanguard
    ids = bulk.insert(
        VanguardCard,
        ([{"member_id": v["member_id"], "year": v["year"]} for v in vanguard]),
        ids=True,
    )
    bulk.insert(
        VanguardEntry,
        ([{**e, "card_id": i} for i, v in zip(ids, vanguard, strict=True) for e in v["entries"]]),
    )
