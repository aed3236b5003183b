import sqlalchemy as sa

from crm.accounts.models import Role
from crm.audit.models import AuditEntry
from crm.audit.services import acting_as
from crm.extensions import db
from crm.organizations import services
from tests import factories as f


def entries(object_type: str) -> list[AuditEntry]:
    return list(
        db.session.execute(
            sa.select(AuditEntry).where(AuditEntry.object_type == object_type)
            .order_by(AuditEntry.id)
        ).scalars()
    )  # fmt: skip


def test_create_update_and_delete_are_logged_with_the_fields_changed(app):
    with app.app_context(), acting_as("cli:test"):
        organization = f.OrganizationFactory(name="旧名称有限公司", headcount=10)
        services.update_organization(organization, name="新名称有限公司", headcount=12)
        db.session.commit()
        db.session.delete(organization)
        db.session.commit()

        logged = [(e.action, e.actor_name, e.object_id, e.changes) for e in entries("organization")]
    assert logged == [
        ("organization.create", "cli:test", str(organization.id), None),
        ("organization.update", "cli:test", str(organization.id),
         {"name": ["旧名称有限公司", "新名称有限公司"], "headcount": [10, 12]}),
        ("organization.delete", "cli:test", str(organization.id), None),
    ]  # fmt: skip


def test_a_change_made_through_the_web_names_the_user_and_address(app, client, auth):
    with app.app_context():
        f.AccountFactory(username="admin", roles=[Role.ADMIN])
        organization = f.OrganizationFactory(name="某某有限公司")
        form = {
            "name": "某某科技有限公司", "kind": "enterprise", "credit_code": organization.credit_code,
            "district_id": organization.district_id, "headcount": 3, "party_member_count": 1,
            "version": 1,
        }  # fmt: skip
        org_id = organization.id
    auth.login("admin")
    response = client.post(f"/organizations/{org_id}/edit", data=form,
                           environ_base={"REMOTE_ADDR": "10.1.2.3"})  # fmt: skip
    assert response.status_code == 302
    with app.app_context():
        update = entries("organization")[-1]
        assert (update.action, update.actor_name, update.ip) == (
            "organization.update",
            "admin",
            "10.1.2.3",
        )
        assert update.changes["name"] == ["某某有限公司", "某某科技有限公司"]
        assert update.at.tzinfo is not None


def test_password_changes_are_logged_without_the_hashes(app):
    with app.app_context():
        from crm.accounts import services as accounts

        account = f.AccountFactory(username="zdy001")
        accounts.set_password(account, "Another-long-pw1")
        db.session.commit()
        update = entries("account")[-1]
        assert update.changes["password_hash"] == ["******", "******"]
        assert set(update.changes) == {"password_hash", "password_changed_at", "session_version"}


def test_the_auditor_filters_the_log(app, client, auth):
    with app.app_context():
        f.AccountFactory(username="auditor", roles=[Role.AUDITOR])
        f.OrganizationFactory(name="甲有限公司")
        f.BranchFactory(name="乙党支部", organizations=[])
    auth.login("auditor")
    page = client.get("/audit/?action=branch").text
    assert "乙党支部" in page
    assert "甲有限公司" not in page
    page = client.get("/audit/?action=login").text
    assert "login.success" in page


def test_the_auditor_exports_what_the_filters_select_and_the_export_is_logged(app, client, auth):
    import io

    from openpyxl import load_workbook

    with app.app_context():
        f.AccountFactory(username="auditor", roles=[Role.AUDITOR])
        f.OrganizationFactory(name="甲有限公司")
        f.BranchFactory(name="乙党支部", organizations=[])
        f.BranchFactory(name="丙党支部", organizations=[])
    auth.login("auditor")
    response = client.get("/audit/export.xlsx?action=branch.create")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data), read_only=True).active
    header, *rows = list(sheet.values)
    assert header[4] == "操作"
    assert [(row[4], row[7]) for row in rows] == [("branch.create", "乙党支部"),
                                                  ("branch.create", "丙党支部")]  # fmt: skip
    with app.app_context():
        exported = entries("audit_entry")
    assert [(e.action, e.actor_name, e.summary) for e in exported] == [
        ("audit.export", "auditor", "action=branch.create")
    ]


def test_admins_can_neither_read_nor_export_the_log(app, client, auth):
    with app.app_context():
        f.AccountFactory(username="admin", roles=[Role.ADMIN])
    auth.login("admin")
    assert client.get("/audit/").status_code == 403
    assert client.get("/audit/export.xlsx").status_code == 403
