"""Revealing a masked phone number (audited) to those who may see its record."""

from crm.accounts.models import Account
from crm.assignments.services import visible_branch, visible_instructor
from crm.audit import services as audit
from crm.members.services import visible_member

# What a number may be revealed of: the record, found only within the account's scope.
REVEALABLE = {
    "instructor": (visible_instructor, "phone", "指导员电话"),
    "branch": (visible_branch, "secretary_phone", "书记电话"),
    "member": (visible_member, "phone", "党员电话"),
}


def reveal(account: Account, kind: str, object_id: int) -> str | None:
    """The whole number of a record the account may see, with an audit entry saying who saw
    it; None when there is no such record for this account (the view answers 404)."""
    if kind not in REVEALABLE:
        return None
    find, field, label = REVEALABLE[kind]
    record = find(account, object_id)
    if record is None or not getattr(record, field):
        return None
    audit.record(
        "phone.reveal", object_type=kind, object_id=object_id, summary=f"查看{label}：{record}"
    )
    return getattr(record, field)
