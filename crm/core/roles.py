"""The roles an account may hold: what the access declarations of every view (crm.core.access)
and the menu are written in. Who holds which is the accounts feature's (crm.accounts)."""

from typing import Protocol

from crm.db import LabeledEnum


class Role(LabeledEnum):
    INSTRUCTOR = "instructor", "指导员"
    REVIEWER = "reviewer", "审阅"
    ADMIN = "admin", "管理员"
    SECURITY_ADMIN = "security_admin", "安全管理员"
    AUDITOR = "auditor", "审计员"


class HoldsRoles(Protocol):
    """What core asks of an account: crm.accounts.models.Account is one."""

    def has_role(self, *roles: Role) -> bool: ...
