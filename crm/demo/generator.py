"""Build the demo dataset: deterministic from a seed, at the city's real scale.

The figures follow the article: 115 instructors each guiding 5–10 branches, 2,260 two-new
branches (1,270 of them marked for guidance), 1,563 agency branches and pairings between them.
"""

import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from crm import clock
from crm.accounts import services as accounts
from crm.accounts.models import Role
from crm.assignments import services as assignments
from crm.assignments.models import Assignment
from crm.branches.models import Branch, BranchKind, GuidanceSpell, Sector
from crm.demo import assessment, bulk, followup, history, party, words
from crm.extensions import db
from crm.instructors import services as instructors
from crm.instructors.models import Instructor
from crm.organizations import creditcode
from crm.organizations.models import District, Organization, OrganizationKind
from crm.organizations.services import districts
from crm.pairings.models import Pairing

INSTRUCTORS = 115
TWO_NEW_BRANCHES = 2_260
JOINT_BRANCHES = 360
UNDER_GUIDANCE = 1_270
UNCOVERED_ORGANIZATIONS = 600
AGENCY_BRANCHES = 1_563
HISTORY_DAYS = 3 * 365  # the demo holds about three years of work up to yesterday

CENTRES = {
    "章贡区": (25.85, 114.94),
    "南康区": (25.66, 114.76),
    "赣县区": (25.86, 115.01),
    "信丰县": (25.39, 114.92),
    "大余县": (25.40, 114.36),
    "上犹县": (25.79, 114.55),
    "崇义县": (25.68, 114.31),
    "安远县": (25.14, 115.39),
    "定南县": (24.78, 115.03),
    "全南县": (24.74, 114.53),
    "宁都县": (26.47, 116.01),
    "于都县": (25.95, 115.42),
    "兴国县": (26.34, 115.36),
    "会昌县": (25.60, 115.79),
    "寻乌县": (24.96, 115.65),
    "石城县": (26.33, 116.35),
    "瑞金市": (25.89, 116.03),
    "龙南市": (24.91, 114.79),
    "赣州经开区": (25.82, 114.87),
    "蓉江新区": (25.76, 114.88),
}


@dataclass
class Demo:
    """What the generator made, by kind."""

    rng: random.Random
    districts: list[District]
    today: date
    used_names: set[str] = field(default_factory=set)
    used_codes: set[str] = field(default_factory=set)
    counts: Counter = field(default_factory=Counter)

    def unique(self, make) -> str:
        """A name from `make()` not yet used; adds a numeral when the words run out."""
        for _ in range(20):
            name = make()
            if name not in self.used_names:
                self.used_names.add(name)
                return name
        name = f"{make()}（{len(self.used_names)}）"
        self.used_names.add(name)
        return name

    def district(self) -> District:
        weights = [words.DISTRICT_WEIGHTS[d.name] for d in self.districts]
        return self.rng.choices(self.districts, weights)[0]

    def person(self) -> str:
        given = "".join(self.rng.sample(words.GIVEN_CHARS, self.rng.choice((1, 2, 2))))
        return self.rng.choice(words.SURNAMES) + given

    def mobile(self) -> str:
        return f"1{self.rng.choice('3578')}{self.rng.randrange(10**9):09d}"

    def day(self, first: date, last: date) -> date:
        return first + timedelta(days=self.rng.randrange((last - first).days + 1))

    @property
    def start(self) -> date:
        return self.today - timedelta(days=HISTORY_DAYS)


def load(seed: int, password: str, today: date) -> Counter:
    """Fill an empty database with the demo and return the number of rows made of each kind.

    The same seed and `today` give the same data; dates run up to the day before `today`.
    """
    demo = Demo(random.Random(seed), districts(), today)  # noqa: S311  (repeatable demo data, no secret)
    _staff_accounts(demo, password)
    branches = _two_new_branches(demo)
    agency = _agency_branches(demo)
    guided = _mark_for_guidance(demo, branches)
    staff = _instructors(demo, guided, password)
    _assignments(demo, staff, guided)
    _pairings(demo, branches, agency, guided)
    db.session.flush()
    bulk.analyze()
    history.load(demo.rng, demo.today - timedelta(days=1), demo.counts)
    bulk.analyze()
    party.load(demo.rng, demo.today - timedelta(days=1), demo.counts)
    bulk.analyze()
    followup.load(demo.rng, demo.today, demo.counts)
    assessment.load(random.Random(seed + 1), demo.today, demo.counts)  # noqa: S311  (demo data)
    return demo.counts


def _staff_accounts(demo: Demo, password: str) -> None:
    zhanggong = next(d for d in demo.districts if d.name == "章贡区")
    for username, name, role, scope in (
        ("admin", "系统管理员", Role.ADMIN, None),
        ("reviewer", "市小个专综合党委审阅", Role.REVIEWER, None),
        ("reviewer-zg", "章贡区小个专综合党委审阅", Role.REVIEWER, zhanggong.id),
        ("security", "安全管理员", Role.SECURITY_ADMIN, None),
        ("auditor", "审计员", Role.AUDITOR, None),
    ):
        accounts.create_account(username, name, password, [role], scope_district_id=scope)
        demo.counts["accounts"] += 1


# --- organizations and their branches -----------------------------------------------------------


def _credit_code(demo: Demo, kind: OrganizationKind, district: District) -> str:
    """A valid 统一社会信用代码: authority and category, district, organization code, check."""
    prefix = {
        OrganizationKind.ENTERPRISE: "91",
        OrganizationKind.MICRO: "91",
        OrganizationKind.MARKET: "91",
        OrganizationKind.INDIVIDUAL: "92",
        OrganizationKind.SOCIAL: demo.rng.choice(("51", "52")),
    }[kind]
    while True:
        body = f"{demo.rng.randrange(10**8):08d}"
        # GB 11714 organization code: 8 digits and their own check character.
        remainder = (
            11 - sum(int(c) * w for c, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
        )
        check = {10: "X", 11: "0"}.get(remainder, str(remainder))
        first17 = f"{prefix}{district.code}{body}{check}"
        code = first17 + creditcode.check_character(first17)
        if code not in demo.used_codes:
            demo.used_codes.add(code)
            return code


def _organization(demo: Demo, kind: OrganizationKind, district: District) -> Organization:
    rng, place = demo.rng, words.PLACE_PREFIXES[district.name]
    if kind is OrganizationKind.ENTERPRISE:
        trade, industry = rng.choice(words.ENTERPRISE_TRADES)
        name = demo.unique(
            lambda: (
                f"{place}{rng.choice(words.BRAND_WORDS)}{trade}{rng.choice(words.COMPANY_SUFFIXES)}"
            )
        )
        headcount = rng.randint(30, 1200)
    elif kind is OrganizationKind.MICRO:
        trade, industry = rng.choice(words.MICRO_TRADES)
        name = demo.unique(lambda: f"{place}{rng.choice(words.BRAND_WORDS)}{trade}")
        headcount = rng.randint(5, 49)
    elif kind is OrganizationKind.INDIVIDUAL:
        trade, industry = rng.choice(words.SHOP_TRADES)
        name = demo.unique(lambda: f"{district.name}{rng.choice(words.SURNAMES)}记{trade}")
        headcount = rng.randint(1, 8)
    elif kind is OrganizationKind.MARKET:
        industry = "专业市场"
        name = demo.unique(
            lambda: f"{place}{rng.choice(words.BRAND_WORDS)}{rng.choice(words.MARKETS)}"
        )
        headcount = rng.randint(50, 600)
    else:
        name, industry = _social_name(demo, district), "社会服务"
        headcount = rng.randint(5, 120)
    owner_is_member = rng.random() < 0.35
    latitude, longitude = CENTRES[district.name]
    return Organization(
        name=name,
        kind=kind,
        credit_code=_credit_code(demo, kind, district),
        district=district,
        industry=industry,
        address=f"赣州市{district.name}{rng.choice(words.STREETS)}{rng.randint(1, 399)}号",
        latitude=Decimal(f"{latitude + rng.uniform(-0.08, 0.08):.6f}"),
        longitude=Decimal(f"{longitude + rng.uniform(-0.08, 0.08):.6f}"),
        headcount=headcount,
        party_member_count=rng.randint(0, max(3, headcount // 12)),
        owner_name=demo.person(),
        owner_is_member=owner_is_member,
        owner_is_secretary=owner_is_member and rng.random() < 0.5,
    )


def _social_name(demo: Demo, district: District) -> str:
    rng, place = demo.rng, words.PLACE_PREFIXES[district.name]
    return demo.unique(
        lambda: rng.choice(
            (
                lambda: f"赣州市{rng.choice(words.HOME_PROVINCES)}商会",
                lambda: f"{district.name}{rng.choice(words.HOME_PROVINCES)}商会",
                lambda: f"{district.name}{rng.choice(words.ASSOCIATION_TRADES)}行业协会",
                lambda: (
                    f"{place}{rng.choice(words.BRAND_WORDS)}{rng.choice(words.SOCIAL_SERVICES)}"
                ),
            )
        )()
    )


SINGLE_KINDS = (
    (OrganizationKind.ENTERPRISE, 55),
    (OrganizationKind.SOCIAL, 20),
    (OrganizationKind.MICRO, 15),
    (OrganizationKind.MARKET, 10),
)
JOINT_KINDS = ((OrganizationKind.INDIVIDUAL, 60), (OrganizationKind.MICRO, 40))


def _pick_kind(demo: Demo, table) -> OrganizationKind:
    kinds, weights = zip(*table, strict=True)
    return demo.rng.choices(kinds, weights)[0]


def _two_new_branches(demo: Demo) -> list[Branch]:
    rng, branches = demo.rng, []
    for number in range(TWO_NEW_BRANCHES):
        district = demo.district()
        if number < JOINT_BRANCHES:
            members = [
                _organization(demo, _pick_kind(demo, JOINT_KINDS), district)
                for _ in range(rng.randint(2, 6))
            ]
            kind = BranchKind.JOINT
            name = demo.unique(
                lambda d=district: (
                    f"{d.name}{rng.choice(words.STREETS)}"
                    f"{rng.choice(('个体工商户', '小微企业', '商圈', '街区'))}联合党支部"
                )
            )
        else:
            members = [_organization(demo, _pick_kind(demo, SINGLE_KINDS), district)]
            kind = _single_kind(demo, members[0])
            name = f"{members[0].name}{kind.label}"
        branches.append(_branch(demo, name, kind, Sector.TWO_NEW, district, members))
    for _ in range(UNCOVERED_ORGANIZATIONS):
        district = demo.district()
        organization = _organization(demo, _pick_kind(demo, SINGLE_KINDS + JOINT_KINDS), district)
        db.session.add(organization)
        demo.counts["organizations"] += 1
    db.session.flush()
    return branches


def _single_kind(demo: Demo, organization: Organization) -> BranchKind:
    if organization.headcount > 800:
        return BranchKind.COMMITTEE
    if organization.headcount > 300 and demo.rng.random() < 0.5:
        return BranchKind.GENERAL
    return BranchKind.BRANCH


def _branch(
    demo: Demo,
    name: str,
    kind: BranchKind,
    sector: Sector,
    district: District,
    members: list[Organization],
) -> Branch:
    rng = demo.rng
    branch = Branch(
        name=name,
        kind=kind,
        sector=sector,
        district=district,
        organizations=members,
        secretary_name=demo.person(),
        secretary_phone=demo.mobile(),
        member_count=rng.randint(3, 12) * (3 if kind is BranchKind.COMMITTEE else 1),
        founded_on=demo.day(date(2008, 1, 1), date(2023, 12, 31)),
    )
    db.session.add(branch)
    demo.counts["organizations"] += len(members)
    demo.counts[f"branches.{sector.value}"] += 1
    return branch


def _agency_branches(demo: Demo) -> list[Branch]:
    units = [f"赣州市{unit}" for unit in words.AGENCY_UNITS]
    units += [f"{d.name}{unit}" for d in demo.districts for unit in words.AGENCY_UNITS]
    units += [f"{d.name}第{n}中学" for d in demo.districts for n in words.ORDINALS[:6]]
    units += [f"{d.name}{h}" for d in demo.districts for h in ("人民医院", "中医院")]
    by_name = {d.name: d for d in demo.districts}
    branches, rng = [], demo.rng
    while len(branches) < AGENCY_BRANCHES:
        unit = units[len(branches) % len(units)]
        round_ = len(branches) // len(units)
        district = next((d for n, d in by_name.items() if unit.startswith(n)), None)
        district = district or by_name["章贡区"]  # city agencies sit in 章贡区
        suffix = "机关党支部" if round_ == 0 else f"第{words.ORDINALS[round_]}党支部"
        kind = BranchKind.GENERAL if rng.random() < 0.1 else BranchKind.BRANCH
        branches.append(_branch(demo, f"{unit}{suffix}", kind, Sector.AGENCY, district, []))
    db.session.flush()
    return branches


def _mark_for_guidance(demo: Demo, branches: list[Branch]) -> list[Branch]:
    """Mark 1,270 branches for guidance, joint and small ones first as the article's are."""
    joint = [b for b in branches if b.kind is BranchKind.JOINT]
    rest = [b for b in branches if b.kind is not BranchKind.JOINT]
    guided = joint + demo.rng.sample(rest, UNDER_GUIDANCE - len(joint))
    for branch in guided:
        branch.under_guidance = True
    db.session.flush()  # the guidance spells begin today (crm.branches.services) ...
    db.session.execute(  # ... but in the demo they begin with its history
        sa.update(GuidanceSpell).values(started_on=demo.start)
    )
    demo.rng.shuffle(guided)  # so each instructor gets a mix of kinds
    return guided


# --- instructors, assignments, pairings ---------------------------------------------------------


def _instructors(demo: Demo, guided: list[Branch], password: str) -> list[Instructor]:
    """115 instructors spread over the districts in proportion to the branches to guide."""
    per_district = Counter(b.district_id for b in guided)
    shares = {d: INSTRUCTORS * n / len(guided) for d, n in per_district.items()}
    seats = {d: max(1, int(share)) for d, share in shares.items()}
    for d in sorted(shares, key=lambda d: shares[d] - int(shares[d]), reverse=True):
        if sum(seats.values()) >= INSTRUCTORS:
            break
        seats[d] += 1
    password_hash = accounts.hash_password(password)
    hired, number = [], 0
    for district in demo.districts:
        for _ in range(seats.get(district.id, 0)):
            number += 1
            name = "张伟" if number == 1 else demo.person()
            instructor = instructors.create_instructor(
                username=f"zdy{number:03d}",
                name=name,
                password_hash=password_hash,
                phone=demo.mobile(),
                district_id=district.id,
                hired_on=demo.day(date(2019, 3, 1), date(2023, 9, 1)),
            )
            instructor.created_at = clock.local_midnight(instructor.hired_on)  # entered then
            hired.append(instructor)
    demo.counts["instructors"] = len(hired)
    return hired


def _assignments(demo: Demo, staff: list[Instructor], guided: list[Branch]) -> None:
    """Give each instructor 5–10 branches of their district, then hand some over, mid-month,
    in the two years since. Written in bulk: the rules (crm.assignments.services) hold by
    construction here, and 949 assignments through the service took 17 s on PostgreSQL."""
    pool = defaultdict(list)
    for branch in guided:
        pool[branch.district_id].append(branch)
    rows = []
    for instructor in staff:
        wanted = demo.rng.choice((5, 6, 7, 8, 8, 9, 9, 10, 10, 10))
        for branch in pool[instructor.district_id][:wanted]:
            started = demo.day(demo.start, demo.start + timedelta(days=180))
            rows.append(
                {
                    "instructor_id": instructor.id,
                    "branch_id": branch.id,
                    "started_on": started,
                    "ended_on": None,
                    "end_reason": "",
                }
            )
        del pool[instructor.district_id][:wanted]
    _handovers(demo, staff, rows)
    bulk.insert(Assignment, rows)
    demo.counts["assignments"] = sum(row["ended_on"] is None for row in rows)


def _handovers(demo: Demo, staff: list[Instructor], rows: list[dict]) -> None:
    """Hand 30 branches from one instructor to another of the same district, within bounds."""
    counts = Counter(row["instructor_id"] for row in rows)
    low, high = assignments.caseload_bounds()
    names = {i.id: i.name for i in staff}
    for giver in demo.rng.sample(staff, 30):
        takers = [
            i
            for i in staff
            if i.district_id == giver.district_id and i is not giver and counts[i.id] < high
        ]
        if counts[giver.id] <= low or not takers:
            continue
        taker = demo.rng.choice(takers)
        current = [
            (n, r)
            for n, r in enumerate(rows)
            if r["instructor_id"] == giver.id and r["ended_on"] is None
        ]
        held = next(
            (
                r
                for _, r in sorted(
                    current, key=lambda nr: (nr[1]["started_on"], nr[0]), reverse=True
                )
                if r["started_on"] < demo.today - timedelta(days=700)
            ),
            None,
        )
        if held is None:
            continue
        on = demo.day(demo.today - timedelta(days=700), demo.today - timedelta(days=60))
        held.update(ended_on=on, end_reason=f"改派给{names[taker.id]}")
        rows.append(
            {
                "instructor_id": taker.id,
                "branch_id": held["branch_id"],
                "started_on": on,
                "ended_on": None,
                "end_reason": "",
            }
        )
        counts[giver.id] -= 1
        counts[taker.id] += 1
        demo.counts["handovers"] += 1


def _pairings(
    demo: Demo, branches: list[Branch], agency: list[Branch], guided: list[Branch]
) -> None:
    """Pair most guided branches and some others with agency branches of their district."""
    by_district = defaultdict(list)
    for branch in agency:
        by_district[branch.district_id].append(branch)
    guided_ids = {b.id for b in guided}
    rng, pairs = demo.rng, set()
    for branch in branches:
        chance = 0.8 if branch.id in guided_ids else 0.35
        if rng.random() >= chance or not by_district[branch.district_id]:
            continue
        for partner in rng.sample(by_district[branch.district_id], rng.choice((1, 1, 1, 2))):
            if (partner.id, branch.id) in pairs:
                continue
            pairs.add((partner.id, branch.id))
            started = demo.day(
                demo.today - timedelta(days=6 * 365), demo.today - timedelta(days=365)
            )
            ended = rng.random() < 0.08
            ended_on = started + timedelta(days=rng.randint(180, 600)) if ended else None
            db.session.add(
                Pairing(
                    agency_branch=partner,
                    branch=branch,
                    started_on=started,
                    ended_on=min(ended_on, demo.today - timedelta(days=1)) if ended_on else None,
                    created_at=clock.local_midnight(started),
                    purpose=rng.choice(
                        (
                            "党建引领企业发展",
                            "政策宣讲与惠企服务",
                            "组织生活共过",
                            "人才培训与招工对接",
                            "志愿服务共建",
                        )
                    ),
                )
            )
            demo.counts["pairings"] += 1
    db.session.flush()
