"""Every file the app hands out is in the audit log (issue 17.12): walked over every route, for
every role, so a new download that forgets cannot pass."""

import pytest
import sqlalchemy as sa

from crm.audit.models import AuditEntry
from crm.core.access import PUBLIC, SIGNED_IN, declared_access
from crm.extensions import db
from tests.core.test_access import ROLES, build, every_rule, url_ids


def is_document(mimetype: str) -> bool:
    """A document someone takes away (a PDF, a workbook), not what a page shows (a photo, the
    service worker's script)."""
    return not mimetype.startswith(("image/", "text/")) and "javascript" not in mimetype


def entries(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))


@pytest.mark.parametrize("username", ["admin", "zdy-a", "reviewer", "auditor"])
def test_every_file_handed_out_is_audited(app, client, auth, world, username):
    auth.login(username)
    ids = url_ids(world)
    files = []
    for rule, method in every_rule(app):
        access = declared_access(app.view_functions[rule.endpoint])
        if method != "GET" or not (access in (PUBLIC, SIGNED_IN) or ROLES[username] in access):
            continue
        before = entries(app)
        response = client.get(build(rule, ids))
        if "Content-Disposition" not in response.headers or not is_document(response.mimetype):
            continue
        files.append(rule.rule)
        with app.app_context():
            added = db.session.scalars(
                sa.select(AuditEntry).order_by(AuditEntry.id.desc()).limit(entries(app) - before)
            ).all()
        assert added, f"{rule.rule}: handed out a file and left no audit entry"
        assert any(e.actor_name == username for e in added), rule.rule
    assert files  # every role takes some file: a PDF, a workbook
