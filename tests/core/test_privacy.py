"""Phone numbers: masked for those without the right, revealed one at a time (audited), and
masked in the audit log. The scan of every answer the suite produces is tests/privacy_scan.py."""

import io

import sqlalchemy as sa
from flask import Response
from openpyxl import Workbook

from crm.audit.models import AuditEntry
from crm.branches.models import Branch
from crm.extensions import db
from crm.http import XLSX
from crm.instructors.models import Instructor
from crm.members.models import Member
from crm.organizations import services as organizations
from tests import factories as f
from tests.conftest import with_version
from tests.privacy_scan import WHOLE_NUMBER, readable_text


def reveals() -> list[tuple[str, str, str]]:
    return [
        (e.actor_name, e.object_type, e.object_id)
        for e in db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "phone.reveal"))
    ]  # fmt: skip


def test_a_reviewer_sees_numbers_masked_and_reveals_one_on_the_record(app, client, auth, world):
    with app.app_context():
        phone = db.session.get(Instructor, world.instructor_a).phone
    auth.login("reviewer-zg")
    page = client.get(f"/instructors/{world.instructor_a}").text
    assert f"{phone[:3]}****{phone[-4:]}" in page
    assert phone not in page
    answer = client.post(f"/reveal/instructor/{world.instructor_a}",
                         headers={"Accept": "application/json"})  # fmt: skip
    assert answer.json == {"phone": phone}
    with app.app_context():
        assert reveals() == [("reviewer-zg", "instructor", str(world.instructor_a))]


def test_nobody_reveals_a_number_of_a_record_they_cannot_see(app, client, auth, world):
    auth.login("reviewer-zg")  # 章贡区 only: instructor b is in 南康区
    assert client.post(f"/reveal/instructor/{world.instructor_b}").status_code == 404
    assert client.post(f"/reveal/branch/{world.branch_b}").status_code == 404
    assert client.post("/reveal/account/1").status_code == 404
    auth.logout()
    auth.login("zdy-b")
    assert client.post(f"/reveal/member/{world.member_a}").status_code == 404
    with app.app_context():
        assert reveals() == []


def test_an_instructor_reveals_a_member_of_their_own_branch(app, client, auth, world):
    with app.app_context():
        phone = db.session.get(Member, world.member_a).phone
    auth.login("zdy-a")
    page = client.post(f"/reveal/member/{world.member_a}")  # without script: a page
    assert page.status_code == 200
    assert phone in page.text
    assert "记入审计日志" in page.text


def test_the_audit_log_keeps_phone_changes_masked(app, world):
    with app.app_context():
        branch = db.session.get(Branch, world.branch_a)
        old = branch.secretary_phone
        branch.secretary_phone = "13912349876"
        db.session.commit()
        change = (
            db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "branch.update"))
            .one()
            .changes
        )
    assert change == {"secretary_phone": [f"{old[:3]}****{old[-4:]}", "139****9876"]}


def test_the_scan_reads_pages_workbooks_and_pdfs(app):
    page = Response("<td>13812345678</td><td>138****5678</td><input value='ab13812345678cd'>",
                    mimetype="text/html")  # fmt: skip
    assert WHOLE_NUMBER.findall(readable_text(page)) == ["13812345678"]

    workbook = Workbook()
    workbook.active.append(["电话", "13912345678"])
    body = io.BytesIO()
    workbook.save(body)
    assert WHOLE_NUMBER.findall(readable_text(Response(body.getvalue(), mimetype=XLSX))) == [
        "13912345678"
    ]
    from weasyprint import HTML

    pdf = HTML(string="<p>书记电话 13712345678，已遮蔽 137****5678</p>").write_pdf()
    assert WHOLE_NUMBER.findall(readable_text(Response(pdf, mimetype="application/pdf"))) == [
        "13712345678"
    ]


def test_an_organization_change_keeps_no_phone_whole(app, world):
    with app.app_context():
        organization = f.OrganizationFactory()
        organizations.update_organization(organization, name="改名有限公司")
        db.session.commit()
        texts = [str(e.changes) + e.summary for e in db.session.scalars(sa.select(AuditEntry))]
    assert [t for t in texts if WHOLE_NUMBER.search(t)] == []


def test_an_instructor_edits_a_member_without_seeing_or_losing_the_number(app, client, auth, world):
    with app.app_context():
        phone = db.session.get(Member, world.member_a).phone
    auth.login("zdy-a")
    form_page = client.get(f"/members/{world.member_a}/edit").text
    assert phone not in form_page
    masked = f"{phone[:3]}****{phone[-4:]}"
    assert f'value="{masked}"' in form_page
    url = f"/members/{world.member_a}/edit"
    refused = client.post(url, data=with_version(client, url, {
        "name": "", "role": "secretary", "phone": masked}))  # fmt: skip
    assert refused.status_code == 422
    assert phone not in refused.text
    saved = client.post(url, data=with_version(client, url, {
        "name": "改名", "role": "secretary", "phone": masked}))  # fmt: skip
    assert saved.status_code == 303
    with app.app_context():
        assert db.session.get(Member, world.member_a).phone == phone
