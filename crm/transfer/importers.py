"""One importer a kind of list: its columns, and how one row becomes rows of ours.

An importer's `apply(row)` checks the whole row before it changes anything, and answers
"created", "updated", "unchanged" or "duplicate"; a broken rule raises RowError naming the
column. The import runs in one transaction, so a dry run and the real one count alike.
"""

import difflib
import secrets
from datetime import date
from typing import Any

from sqlalchemy import select

from crm.accounts import services as accounts
from crm.accounts.models import Role
from crm.assignments import services as assignments
from crm.branches.models import Branch, BranchKind, Sector
from crm.extensions import db
from crm.instructors import services as instructors
from crm.instructors.models import Instructor, InstructorStatus
from crm.instructors.services import normalize_phone
from crm.organizations import creditcode
from crm.organizations.models import District, Organization, OrganizationKind
from crm.pairings import services as pairings
from crm.pairings.models import Pairing, PairingStatus
from crm.rules import RuleError
from crm.transfer.excel import (
    Column,
    Row,
    clean_text,
    close_cjk_spaces,
    parse_bool,
    parse_date,
    parse_int,
)


class RowError(ValueError):
    """A row that cannot be imported; `column` is the key of the column at fault."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column, self.reason = column, reason


# One table of the names offices give a column, for every importer (issue 18.2). A header is
# compared after excel.header_key: half-width, no spaces, no bracketed notes — so
# 县（市、区） is read as 县 and 所属县(市、区) as 所属县.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "district": (
        "县市区",
        "所属县市区",
        "所在县市区",
        "县",
        "所属县",
        "所在县",
        "县区",
        "区县",
        "所属区县",
        "所在区县",
        "地区",
        "所属地区",
    ),
    "person": ("姓名", "指导员姓名", "指导员"),
    "username": ("用户名", "登录名", "账号", "登录账号", "指导员用户名"),
    "phone": ("手机号码", "手机", "手机号", "联系电话", "电话", "联系方式"),
    "hired_on": ("聘用日期", "入职日期", "聘用时间", "入职时间"),
    "status": ("状态", "在岗状态"),
    "org_name": ("组织名称", "单位名称", "企业名称", "两新组织名称", "组织全称"),
    "credit_code": ("统一社会信用代码", "信用代码", "社会信用代码", "统一代码"),
    "org_kind": ("组织类型", "类型", "组织类别"),
    "industry": ("行业", "所属行业", "行业类别"),
    "address": ("地址", "详细地址", "单位地址", "注册地址"),
    "headcount": ("从业人数", "职工人数", "员工人数", "从业人员数"),
    "party_member_count": ("党员人数", "党员数"),
    "owner_name": ("业主姓名", "负责人", "法定代表人", "出资人"),
    "branch_name": ("党组织名称", "党组织全称"),
    "branch_kind": ("党组织类型", "组织形式", "党组织形式"),
    "secretary_name": ("书记姓名", "党组织书记", "书记"),
    "secretary_phone": ("书记电话", "书记手机", "书记联系电话"),
    "founded_on": ("成立日期", "党组织成立日期", "成立时间"),
    "started_on": ("开始日期", "结对日期", "结对时间", "建立日期", "联系指导开始日期"),
    "ended_on": ("结束日期", "解除日期"),
}


def headers(key: str, *first: str) -> tuple[str, ...]:
    """The names a column is known by: the template's own first, then the shared synonyms."""
    return tuple(dict.fromkeys((*first, *SYNONYMS[key])))


def _field(row: Row, key: str, parse, *, required: bool = False, title: str = "") -> Any:
    raw = row.values.get(key)
    if required and row.text(key) == "":
        raise RowError(key, f"{title or key}不能为空")
    try:
        return parse(raw)
    except ValueError as error:
        raise RowError(key, str(error)) from error


def _changed(obj: Any, values: dict[str, Any]) -> bool:
    """Set the values that differ; whether any did."""
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


# Other names of 赣州's districts (issue 18.4): the official full names of the two zones, and
# counties renamed since (read under the new name, with a note in the preview).
DISTRICT_ALIASES: dict[str, tuple[str, str]] = {
    "赣州经济技术开发区": ("赣州经开区", ""),
    "经济技术开发区": ("赣州经开区", ""),
    "经开区": ("赣州经开区", ""),
    "赣州蓉江新区": ("蓉江新区", ""),
    "南康市": ("南康区", "南康市已于 2013 年撤市设区"),
    "赣县": ("赣县区", "赣县已于 2016 年撤县设区"),
    "龙南县": ("龙南市", "龙南县已于 2020 年撤县设市"),
}
PREFIXES = ("江西省赣州市", "江西省", "赣州市")


class Importer:
    columns: list[Column] = []
    sample: list[Any] = []

    def __init__(self, *, history: bool = False) -> None:
        # History (the go-live import of what was there): the records it creates count in
        # closed months from their own dates, not from today (Instructor.entered_as_history).
        self.history = history
        self.districts = {d.name: d for d in db.session.execute(select(District)).scalars()}
        self.seen: dict[Any, tuple[int, tuple]] = {}
        self.notes: list[str] = []

    def take_notes(self) -> list[str]:
        """What the last row's reading wants said in the preview (a renamed county)."""
        notes, self.notes = self.notes, []
        return notes

    def district(self, row: Row, key: str = "district") -> District:
        """The district a cell names: exactly, with or without 赣州市 before it, or by an alias;
        nothing matched by its first characters. Anything else is refused naming the closest
        names."""
        written = row.name(key)
        text = written
        for prefix in PREFIXES:
            if text.startswith(prefix) and text != prefix:
                text = text.removeprefix(prefix)
                break
        if text in self.districts:
            return self.districts[text]
        if text in DISTRICT_ALIASES:
            name, note = DISTRICT_ALIASES[text]
            if note:
                self.notes.append(f"“{written}”按{name}读入：{note}")
            return self.districts[name]
        if not text:
            raise RowError(key, "县市区不能为空")
        close = difflib.get_close_matches(
            text, [*self.districts, *DISTRICT_ALIASES], n=3, cutoff=0.3
        )
        hint = (
            f"，是否是：{'、'.join(close)}？"
            if close
            else "，请填写赣州的县（市、区）全称，如“章贡区”"
        )
        raise RowError(key, f"“{written}”不是赣州的县市区{hint}")

    def once(self, row: Row, key: Any) -> bool:
        """False for a row repeating an earlier one; RowError if it repeats it differently.
        Values are compared as read (full-width made half-width, spaces trimmed, "10" as 10)."""
        values = tuple(sorted((k, close_cjk_spaces(row.text(k))) for k in row.values))
        if key in self.seen:
            number, earlier = self.seen[key]
            if earlier != values:
                raise RowError(next(iter(row.values)), f"与第 {number} 行是同一条记录，但内容不同")
            return False
        self.seen[key] = (row.number, values)
        return True

    def apply(self, row: Row) -> str:
        raise NotImplementedError


def _enum(enum, aliases: dict[str, Any] | None = None):
    labels = {member.label: member for member in enum} | (aliases or {})

    def parse(value: Any) -> Any:
        text = clean_text(value)
        if text in labels:
            return labels[text]
        raise ValueError(f"“{text}”应为：{'、'.join(m.label for m in enum)}")

    return parse


class Instructors(Importer):
    columns = [
        Column("name", headers("person"), required=True),
        Column("username", headers("username"), required=True),
        Column("phone", headers("phone"), required=True),
        Column("district", headers("district"), required=True),
        Column("hired_on", headers("hired_on"), required=True),
        Column("status", headers("status")),
    ]
    sample = ["张伟", "zdy116", "13807971234", "章贡区", "2022-06-20", "在岗"]

    def __init__(self, *, history: bool = False) -> None:
        super().__init__(history=history)
        self.by_username = {
            i.account.username: i for i in db.session.execute(select(Instructor)).scalars()
        }

    def apply(self, row: Row) -> str:
        username = row.text("username")
        if not username:
            raise RowError("username", "用户名不能为空")
        values = {
            "name": row.name("name") or _missing("name", "姓名"),
            "phone": _phone(row.text("phone")) or _missing("phone", "手机号码"),
            "district_id": self.district(row).id,
            "hired_on": _field(row, "hired_on", parse_date, required=True, title="聘用日期"),
            "status": _field(row, "status", _enum(InstructorStatus))
            if row.text("status")
            else InstructorStatus.ACTIVE,
        }
        try:
            instructors.check_hired_on(values["hired_on"])
        except RuleError as error:
            raise RowError("hired_on", error.message.rstrip("。")) from error
        if not self.once(row, username):
            return "duplicate"
        instructor = self.by_username.get(username)
        if instructor is None:
            account = accounts.find_by_username(username)
            if account is not None:
                raise RowError("username", f"用户名“{username}”已被其他账号使用")
            # No password travels in a spreadsheet: the admin sets one before first sign-in.
            unusable = "!imported-" + secrets.token_hex(8)
            created = _create_instructor(username, values, unusable)
            created.entered_as_history = self.history
            self.by_username[username] = created
            return "created"
        changed = _changed(instructor.account, {"name": values.pop("name")})
        status = values.pop("status")
        if instructor.status is not status:
            _set_status(instructor, status)
            changed = True
        return "updated" if _changed(instructor, values) or changed else "unchanged"


def _set_status(instructor: Instructor, status: InstructorStatus) -> None:
    try:
        instructors.set_status(instructor, status)
    except RuleError as error:
        raise RowError("status", error.message.rstrip("。")) from error


def _create_instructor(username: str, values: dict, password_hash: str) -> Instructor:
    try:
        account = accounts.create_account(
            username, values["name"], "", [Role.INSTRUCTOR], password_hash=password_hash
        )
    except RuleError as error:
        raise RowError("username", error.message) from error
    instructor = Instructor(
        account=account,
        phone=values["phone"],
        district_id=values["district_id"],
        hired_on=values["hired_on"],
    )
    _set_status(instructor, values["status"])
    db.session.add(instructor)
    return instructor


def _missing(key: str, title: str):
    raise RowError(key, f"{title}不能为空")


def _phone(text: str) -> str:
    if not text:
        return ""
    try:
        return normalize_phone(text)
    except RuleError as error:
        raise RowError("phone", error.message) from error


class Organizations(Importer):
    """Organizations, each with the branch that covers it (several rows may name the same
    联合党支部). An organization is found by its credit code: updated, never duplicated."""

    columns = [
        Column("name", headers("org_name"), required=True),
        Column("credit_code", headers("credit_code"), required=True),
        Column("kind", headers("org_kind"), required=True),
        Column("district", headers("district"), required=True),
        Column("industry", headers("industry")),
        Column("address", headers("address")),
        Column("headcount", headers("headcount")),
        Column("party_member_count", headers("party_member_count")),
        Column("owner_name", headers("owner_name")),
        Column("owner_is_member", ("业主是否党员",)),
        Column("owner_is_secretary", ("业主是否兼任书记", "业主是否书记")),
        Column("branch_name", headers("branch_name")),
        Column("branch_kind", headers("branch_kind")),
        Column("secretary_name", headers("secretary_name")),
        Column("secretary_phone", headers("secretary_phone")),
        Column("founded_on", headers("founded_on")),
        Column("under_guidance", ("是否列入联系指导", "列入联系指导")),
    ]
    sample = [
        "赣州华兴电子科技有限公司",
        "914403001922038216",
        "非公企业",
        "章贡区",
        "电子信息",
        "赣州市章贡区文清路 8 号",
        120,
        9,
        "刘强",
        "是",
        "否",
        "赣州华兴电子科技有限公司党支部",
        "党支部",
        "钟华",
        "13907970000",
        "2018-07-01",
        "是",
    ]
    ORG_KINDS = staticmethod(
        _enum(
            OrganizationKind,
            {
                "企业": OrganizationKind.ENTERPRISE,
                "商会": OrganizationKind.SOCIAL,
                "行业协会": OrganizationKind.SOCIAL,
            },
        )
    )

    def __init__(self, *, history: bool = False) -> None:
        super().__init__(history=history)
        self.by_code = {
            o.credit_code: o for o in db.session.execute(select(Organization)).scalars()
        }
        self.branches = {
            (b.name, b.district_id): b
            for b in db.session.execute(
                select(Branch).where(Branch.sector == Sector.TWO_NEW)
            ).scalars()
        }

    def apply(self, row: Row) -> str:
        try:
            code = creditcode.validate(row.text("credit_code"))
        except creditcode.CreditCodeError as error:
            raise RowError("credit_code", str(error)) from error
        district = self.district(row)
        values = {
            "name": row.name("name") or _missing("name", "组织名称"),
            "kind": _field(row, "kind", self.ORG_KINDS, required=True, title="组织类型"),
            "district_id": district.id,
            "industry": row.text("industry")[:40],
            "address": row.text("address")[:200],
            "headcount": _field(row, "headcount", parse_int) or 0,
            "party_member_count": _field(row, "party_member_count", parse_int) or 0,
            "owner_name": row.name("owner_name")[:50],
            "owner_is_member": _field(row, "owner_is_member", parse_bool),
            "owner_is_secretary": _field(row, "owner_is_secretary", parse_bool),
        }
        branch_values = self._branch_values(row, district)
        if not self.once(row, code):
            return "duplicate"
        organization = self.by_code.get(code)
        if organization is None:
            organization = Organization(credit_code=code, **values)
            db.session.add(organization)
            self.by_code[code] = organization
            outcome = "created"
        else:
            outcome = "updated" if _changed(organization, values) else "unchanged"
        if branch_values and self._cover(organization, district, branch_values, row):
            outcome = "updated" if outcome == "unchanged" else outcome
        return outcome

    def _branch_values(self, row: Row, district: District) -> dict | None:
        name = row.name("branch_name")
        if not name:
            return None
        kind = (
            _field(row, "branch_kind", _enum(BranchKind))
            if row.text("branch_kind")
            else BranchKind.BRANCH
        )
        return {
            "name": name[:100],
            "kind": kind,
            "secretary_name": row.name("secretary_name")[:50],
            "secretary_phone": _phone(row.text("secretary_phone")),
            "founded_on": _field(row, "founded_on", parse_date),
            "under_guidance": _field(row, "under_guidance", parse_bool),
        }

    def _cover(
        self, organization: Organization, district: District, values: dict, row: Row
    ) -> bool:
        """Make the named branch cover the organization; whether anything changed."""
        key = (values["name"], district.id)
        branch = self.branches.get(key)
        changed = False
        if branch is None:
            branch = Branch(
                sector=Sector.TWO_NEW, district_id=district.id, member_count=0, **values
            )
            db.session.add(branch)
            self.branches[key] = branch
            changed = True
        else:
            changed = _changed(branch, values)
        holder = next(iter(organization.branches), None) if organization.id else None
        if holder is not None and holder is not branch:
            raise RowError("branch_name", f"该组织已由“{holder.name}”覆盖")
        if organization not in branch.organizations:
            if branch.kind is not BranchKind.JOINT and branch.organizations:
                raise RowError("branch_kind", f"“{branch.name}”不是联合党支部，只能覆盖 1 个组织")
            branch.organizations.append(organization)
            changed = True
        return changed


class AgencyBranches(Importer):
    columns = [
        Column("name", headers("branch_name", "党组织名称", "机关党组织名称"), required=True),
        Column("district", headers("district"), required=True),
        Column("kind", headers("branch_kind", "组织形式")),
        Column("secretary_name", headers("secretary_name")),
        Column("secretary_phone", headers("secretary_phone")),
        Column("member_count", headers("party_member_count")),
    ]
    sample = ["赣州市商务局机关党支部", "章贡区", "党支部", "王明", "13907971111", 23]

    def __init__(self, *, history: bool = False) -> None:
        super().__init__(history=history)
        self.by_name = {
            b.name: b
            for b in db.session.execute(
                select(Branch).where(Branch.sector == Sector.AGENCY)
            ).scalars()
        }

    def apply(self, row: Row) -> str:
        name = row.name("name") or _missing("name", "党组织名称")
        values = {
            "district_id": self.district(row).id,
            "kind": _field(row, "kind", _enum(BranchKind))
            if row.text("kind")
            else BranchKind.BRANCH,
            "secretary_name": row.name("secretary_name")[:50],
            "secretary_phone": _phone(row.text("secretary_phone")),
            "member_count": _field(row, "member_count", parse_int) or 0,
        }
        if not self.once(row, name):
            return "duplicate"
        branch = self.by_name.get(name)
        if branch is None:
            branch = Branch(name=name, sector=Sector.AGENCY, under_guidance=False, **values)
            db.session.add(branch)
            self.by_name[name] = branch
            return "created"
        return "updated" if _changed(branch, values) else "unchanged"


def _branch_named(sector: Sector, name: str, key: str) -> Branch:
    found = (
        db.session.execute(select(Branch).where(Branch.sector == sector, Branch.name == name))
        .scalars()
        .all()
    )
    if not found:
        raise RowError(key, f"没有名为“{name}”的{sector.label}")
    if len(found) > 1:
        raise RowError(key, f"有 {len(found)} 个名为“{name}”的党组织，请先在系统中区分")
    return found[0]


class Pairings(Importer):
    columns = [
        Column("agency", ("机关党组织", "机关企事业单位党组织", "结对机关党组织"), required=True),
        Column("branch", ("两新党组织", "两新组织党组织", "结对两新党组织"), required=True),
        Column("started_on", headers("started_on"), required=True),
        Column("status", headers("status")),
        Column("ended_on", headers("ended_on")),
        Column("purpose", ("共建内容", "结对内容")),
    ]
    sample = [
        "赣州市商务局机关党支部",
        "赣州华兴电子科技有限公司党支部",
        "2023-03-01",
        "在册",
        "",
        "政策宣讲与惠企服务",
    ]

    def apply(self, row: Row) -> str:
        agency = _branch_named(
            Sector.AGENCY, row.name("agency") or _missing("agency", "机关党组织"), "agency"
        )
        branch = _branch_named(
            Sector.TWO_NEW, row.name("branch") or _missing("branch", "两新党组织"), "branch"
        )
        values = {
            "started_on": _field(row, "started_on", parse_date, required=True, title="开始日期"),
            "ended_on": _field(row, "ended_on", parse_date) if row.text("ended_on") else None,
            "purpose": row.text("purpose")[:200],
        }
        _pairing_dates(row, values)
        if not self.once(row, (agency.id, branch.id)):
            return "duplicate"
        pairing = db.session.execute(
            select(Pairing).where(
                Pairing.agency_branch_id == agency.id, Pairing.branch_id == branch.id
            )
        ).scalar_one_or_none()
        if pairing is None:
            db.session.add(
                Pairing(
                    agency_branch=agency,
                    branch=branch,
                    entered_as_history=self.history,
                    **values,
                )
            )
            return "created"
        return "updated" if _changed(pairing, values) else "unchanged"


def _pairing_dates(row: Row, values: dict) -> None:
    """The status column, where there is one, must say what the dates say: the status is
    derived from them (pairings.models.Pairing)."""
    status = _field(row, "status", _enum(PairingStatus)) if row.text("status") else None
    if status is PairingStatus.ENDED and values["ended_on"] is None:
        raise RowError("ended_on", "状态为“已结束”的结对请填写结束日期")
    if status is PairingStatus.ACTIVE and values["ended_on"] is not None:
        raise RowError("status", "填写了结束日期的结对，状态应为“已结束”")
    try:
        pairings.check_dates(values["started_on"], values["ended_on"])
    except RuleError as error:
        raise RowError(error.field or "started_on", error.message.rstrip("。")) from error


class Assignments(Importer):
    """Assignments under the 5–10 rule. A branch another instructor holds is not taken from
    them by a spreadsheet: that is a reassignment, done on the branch's page."""

    columns = [
        Column("username", headers("username", "指导员用户名"), required=True),
        Column(
            "branch",
            headers("branch_name", "党组织名称", "联系指导的党组织", "党组织"),
            required=True,
        ),
        Column("started_on", headers("started_on"), required=True),
    ]
    sample = ["zdy001", "赣州华兴电子科技有限公司党支部", "2024-01-02"]

    def apply(self, row: Row) -> str:
        username = row.text("username") or _missing("username", "指导员用户名")
        account = accounts.find_by_username(username)
        instructor = (
            account
            and db.session.execute(
                select(Instructor).where(Instructor.account_id == account.id)
            ).scalar_one_or_none()
        )
        if instructor is None:
            raise RowError("username", f"没有用户名为“{username}”的指导员")
        branch = _branch_named(
            Sector.TWO_NEW, row.name("branch") or _missing("branch", "党组织名称"), "branch"
        )
        started_on: date = _field(row, "started_on", parse_date, required=True, title="开始日期")
        if not self.once(row, branch.id):
            return "duplicate"
        held = assignments.current_assignment(branch.id)
        if held is not None and held.instructor_id == instructor.id:
            return "unchanged"
        try:
            assignments.assign(instructor, branch, on=started_on)
        except RuleError as error:
            raise RowError(
                "branch" if error.field == "branch_id" else "username", error.message
            ) from error
        return "created"


KINDS: dict[str, tuple[str, type[Importer]]] = {
    "instructors": ("指导员", Instructors),
    "organizations": ("两新组织及党组织", Organizations),
    "agency-branches": ("机关企事业单位党组织", AgencyBranches),
    "pairings": ("结对共建", Pairings),
    "assignments": ("联系指导关系", Assignments),
}
