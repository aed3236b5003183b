"""The imports' tasks, which end their own transaction (a view or a command only starts them):
a file imported whole and committed, or previewed and rolled back."""

from collections.abc import Callable
from pathlib import Path

from crm.audit import services as audit
from crm.extensions import db
from crm.transfer import services
from crm.transfer.services import Result


def import_file(
    kind: str,
    path: Path,
    *,
    progress: Callable[[int], None] | None = None,
    history: bool = False,
) -> Result:
    """Apply every row of the file in one transaction and commit it, audited, when no row had a
    problem; else roll it all back and say why."""
    result = services.read_and_apply(kind, path, progress, history=history)
    if result.ok:
        summary = services.summary(result, path) + ("（作为历史数据）" if history else "")
        audit.record("import", object_type=kind, summary=summary)
        db.session.commit()
        result.committed = True
    else:
        db.session.rollback()
    return result


def preview_file(
    kind: str,
    path: Path,
    *,
    progress: Callable[[int], None] | None = None,
    history: bool = False,
) -> Result:
    """What importing the file would do: every row applied, then all of it rolled back."""
    result = services.read_and_apply(kind, path, progress, history=history)
    db.session.rollback()
    return result
