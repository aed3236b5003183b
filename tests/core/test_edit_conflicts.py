"""Two people editing the same record: the second to save gets a clear conflict message and
their values back, never a silent overwrite of the first one's change."""

import re

import pytest
import sqlalchemy as sa

from crm.accounts.models import Role
from crm.branches.models import Branch
from crm.extensions import db
from crm.instructors.models import Instructor
from crm.members.models import Member
from crm.organizations.models import Organization
from tests import factories as f

FIELD = re.compile(r"<(input|select|textarea)\b([^>]*)>(?:([^<]*)</textarea>)?")


def form_of(page: str) -> dict[str, str | list[str]]:
    """The values a browser would post back from the edit page as it was shown."""
    values: dict[str, str | list[str]] = {}
    for tag, attributes, text in FIELD.findall(page):
        name = re.search(r'\bname="([^"]+)"', attributes)
        if not name:
            continue
        if tag == "textarea":
            values[name.group(1)] = text
        elif tag == "select":
            block = re.search(
                rf'<select[^>]*name="{name.group(1)}"[^>]*>(.*?)</select>', page, re.S
            )
            chosen = re.search(r"<option([^>]*\bselected[^>]*)>", block.group(1))
            value = re.search(r'value="([^"]*)"', chosen.group(1)) if chosen else None
            values[name.group(1)] = value.group(1) if value else ""
        elif 'type="checkbox"' in attributes:
            if "checked" in attributes:
                values[name.group(1)] = "y"
        else:
            value = re.search(r'\bvalue="([^"]*)"', attributes)
            values[name.group(1)] = value.group(1) if value else ""
    return values


EDITS = {
    "organization": (lambda w: f"/organizations/{w.organization_a}/edit", Organization, "organization_a", "name"),
    "branch": (lambda w: f"/branches/{w.branch_a}/edit", Branch, "branch_a", "name"),
    "instructor": (lambda w: f"/instructors/{w.instructor_a}/edit", Instructor, "instructor_a", "name"),
    "member": (lambda w: f"/members/{w.member_a}/edit", Member, "member_a", "name"),
}  # fmt: skip


@pytest.mark.parametrize("kind", list(EDITS))
def test_the_second_save_of_the_same_record_is_refused(app, world, kind):
    url_of, model, key, field = EDITS[kind]
    with app.app_context():
        f.AccountFactory(username="admin2", roles=[Role.ADMIN])
    first, second = app.test_client(), app.test_client()
    for client, username in ((first, "admin"), (second, "admin2")):
        client.post("/login", data={"username": username, "password": "Test@2026pw"})
    url = url_of(world)
    form_first, form_second = form_of(first.get(url).text), form_of(second.get(url).text)
    assert form_first["version"] == "1"

    saved = first.post(url, data={**form_first, field: "第一人改的名称"})
    assert saved.status_code in (302, 303), saved.text
    refused = second.post(url, data={**form_second, field: "第二人改的名称"})
    assert refused.status_code == 422
    assert "别人已修改并保存了这条记录" in refused.text
    assert "第二人改的名称" in refused.text  # the values typed are kept
    with app.app_context():
        record = db.session.get(model, getattr(world, key))
        assert getattr(record, field) == "第一人改的名称"
        assert record.version == 2

    again = second.post(url, data={**form_of(second.get(url).text), field: "第二人看过后改的"})
    assert again.status_code in (302, 303)


def test_a_save_that_loses_a_race_is_refused_too(app, world):
    """Both read version 1 and both pass the form check; the database lets one UPDATE through."""
    from sqlalchemy.orm.exc import StaleDataError

    with app.app_context():
        organization = db.session.get(Organization, world.organization_a)
        with db.session.no_autoflush:
            organization.name = "甲"  # read at version 1, changed, not yet saved
            db.session.execute(sa.update(Organization).where(Organization.id == organization.id)
                               .values(version=Organization.version + 1)
                               .execution_options(synchronize_session=False))  # another save, first  # fmt: skip
        with pytest.raises(StaleDataError):
            db.session.commit()
        db.session.rollback()


@pytest.mark.parametrize("kind", list(EDITS))
@pytest.mark.parametrize("version", [None, "", "abc", "-1", "99999999999999999999"])
def test_an_edit_without_a_usable_version_is_refused(app, client, auth, world, kind, version):
    """A form that drops or garbles its version is not taken as "no check" (issue 17.13)."""
    url_of, model, key, field = EDITS[kind]
    auth.login("admin")
    url = url_of(world)
    form = {**form_of(client.get(url).text), field: "没有版本的修改"}
    if version is None:
        form.pop("version")
    else:
        form["version"] = version
    refused = client.post(url, data=form)
    assert refused.status_code == 422
    assert "请刷新页面" in refused.text
    assert "没有版本的修改" in refused.text
    with app.app_context():
        record = db.session.get(model, getattr(world, key))
        assert getattr(record, field) != "没有版本的修改"
        assert record.version == 1
