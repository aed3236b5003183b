import io

import sqlalchemy as sa
from openpyxl import load_workbook

from crm.audit.models import AuditEntry
from crm.extensions import db
from crm.instructors.models import Instructor


def sheet_rows(response) -> list[tuple]:
    book = load_workbook(io.BytesIO(response.data), read_only=True)
    return [tuple(row) for row in book.active.iter_rows(values_only=True)]


def test_exports_mask_phones_for_reviewers_and_not_for_admins(app, client, auth, world):
    with app.app_context():
        phone = db.session.get(Instructor, world.instructor_a).phone
    auth.login("reviewer-zg")
    rows = sheet_rows(client.get("/transfer/export/instructors.xlsx"))
    assert rows[0][:4] == ("姓名", "用户名", "县市区", "手机号码")
    assert [r[1] for r in rows[1:]] == ["zdy-a"]  # the district reviewer's district only
    assert rows[1][3] == f"{phone[:3]}****{phone[-4:]}"
    auth.logout()
    auth.login("admin")
    rows = sheet_rows(client.get("/transfer/export/instructors.xlsx"))
    assert sorted(r[1] for r in rows[1:]) == ["zdy-a", "zdy-b"]
    assert phone in {r[3] for r in rows[1:]}


def test_exports_keep_the_page_filters_and_are_audited(app, client, auth, world):
    auth.login("admin")
    every = sheet_rows(client.get("/transfer/export/branches.xlsx"))
    agency = sheet_rows(client.get("/transfer/export/branches.xlsx?sector=agency"))
    assert len(every) == 4  # header + branches a, b and the agency branch
    assert [r[1] for r in agency[1:]] == ["机关企事业单位党组织"]
    with app.app_context():
        exports = (
            db.session.execute(sa.select(AuditEntry.summary).where(AuditEntry.action == "export"))
            .scalars()
            .all()
        )
    assert exports == ["党组织 3 行 ", "党组织 1 行 sector=agency"]


def test_instructors_cannot_export(client, auth, world):
    auth.login("zdy-a")
    assert client.get("/transfer/export/branches.xlsx").status_code == 403
