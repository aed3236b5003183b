"""The main menu: the sections a user's roles open, and the one the page belongs to."""

from dataclasses import dataclass

from flask import request, url_for

from crm.core.roles import HoldsRoles, Role


@dataclass(frozen=True)
class Section:
    url: str
    label: str
    current: bool = False


# (endpoint, label, the roles that see it), in the menu's order.
SECTIONS = (
    ("branches.index", "我的党组织", (Role.INSTRUCTOR,)),
    ("problems.index", "问题台账", (Role.INSTRUCTOR, Role.ADMIN, Role.REVIEWER)),
    ("review.overview", "概览", (Role.ADMIN, Role.REVIEWER)),
    ("review.alerts_page", "预警", (Role.ADMIN, Role.REVIEWER)),
    ("review.checks", "抽查", (Role.REVIEWER,)),
    ("instructors.index", "指导员", (Role.ADMIN, Role.REVIEWER)),
    ("branches.index", "党组织", (Role.ADMIN, Role.REVIEWER)),
    ("organizations.index", "两新组织", (Role.ADMIN, Role.REVIEWER)),
    ("pairings.index", "结对共建", (Role.ADMIN, Role.REVIEWER)),
    ("reports.index", "月报", (Role.INSTRUCTOR, Role.ADMIN, Role.REVIEWER)),
    ("assessment.index", "年度考核", (Role.INSTRUCTOR, Role.ADMIN, Role.REVIEWER)),
    ("assignments.index", "联系指导", (Role.ADMIN,)),
    ("assignments.unassigned", "待分配", (Role.ADMIN,)),
    ("transfer.index", "导入导出", (Role.ADMIN,)),
    ("reminders.settings", "提醒", (Role.ADMIN,)),
    ("accounts.index", "账号与安全", (Role.SECURITY_ADMIN,)),
    ("audit.index", "审计日志", (Role.AUDITOR,)),
)


def sections(account: HoldsRoles) -> list[Section]:
    """The account's menu, the section of the current page marked: the one whose address
    begins the page's address the longest way (/review/alerts is 预警, not 概览)."""
    found: list[Section] = []
    for endpoint, label, roles in SECTIONS:
        url = url_for(endpoint)
        if account.has_role(*roles) and all(s.url != url for s in found):
            found.append(Section(url, label))
    path = request.path
    within = [s for s in found if path == s.url or path.startswith(s.url.rstrip("/") + "/")]
    if within:
        here = max(within, key=lambda s: len(s.url))
        found = [Section(s.url, s.label, s is here) for s in found]
    return found
