import subprocess

import pytest
import sqlalchemy as sa

from crm import clock
from crm.extensions import db
from tests import factories as f


@pytest.mark.parametrize(
    "url",
    [
        "/members/{member_a}",
        "/members/{member_a}/edit",
        "/members/{member_a}/card.pdf",
        "/branches/{branch_a}/members",
        "/branches/{branch_a}/ranking.pdf",
        "/branches/{branch_a}/goal-card",
        "/branches/{branch_a}/meetings",
        "/branches/{branch_a}/meetings/new",
        "/branches/{branch_a}/entries/new",
        "/meetings/{meeting_a}",
    ],
)
def test_another_instructor_gets_404_for_members_meetings_and_cards(client, auth, world, url):
    auth.login("zdy-b")
    assert client.get(url.format(**vars(world))).status_code == 404
    auth.logout()
    auth.login("zdy-a")
    assert client.get(url.format(**vars(world))).status_code == 200


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/goal-cards/{card_a}/notes", {"on": "2026-01-01", "text": "x"}),
    ],
)
def test_another_instructor_cannot_act_on_them_either(app, client, auth, world, url, data):
    auth.login("zdy-b")
    assert client.post(url.format(**vars(world)), data=data).status_code == 404


def test_a_reviewer_of_another_district_cannot_confirm_a_deed(app, client, auth, world):
    """Entry a is in branch a (章贡区); a 南康区 reviewer gets 404, 章贡区's may confirm it."""
    with app.app_context():
        f.AccountFactory(
            username="reviewer-nk", roles=[f.Role.REVIEWER], scope_district=f.district("南康区")
        )
    auth.login("reviewer-nk")
    assert client.post(f"/entries/{world.entry_a}/confirm").status_code == 404
    auth.logout()
    auth.login("reviewer-zg")
    assert client.post(f"/entries/{world.entry_a}/confirm").status_code == 303


def pdf_text(body: bytes, tmp_path) -> tuple[str, int]:
    path = tmp_path / "card.pdf"
    path.write_bytes(body)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    fonts = subprocess.run(
        ["pdffonts", str(path)], capture_output=True, text=True, check=True
    ).stdout
    assert "Noto-Sans-CJK-SC" in fonts  # the Simplified Chinese face, embedded
    return text, pages


def test_the_member_card_pdf_holds_the_name_and_the_confirmed_total(app, client, auth, tmp_path):
    points = [(4, True), (3, True), (5, False), (2, True)] * 6  # 24 entries
    expected_total = sum(p for p, confirmed in points if confirmed)  # 9 × 6 = 54
    with app.app_context():
        me = f.InstructorFactory(account__username="zdy001")
        branch = f.AssignmentFactory(instructor=me).branch
        member = f.MemberFactory(branch=branch, name="欧阳晓梅")
        card = f.VanguardCardFactory(member=member)
        for n, (value, confirmed) in enumerate(points):
            f.VanguardEntryFactory(card=card, points=value, deed=f"第 {n + 1} 件事",
                                   confirmed_on=clock.today() if confirmed else None,
                                   confirmed_as="指导员" if confirmed else "")  # fmt: skip
        member_id = member.id
    auth.login("zdy001")
    response = client.get(f"/members/{member_id}/card.pdf")
    assert response.mimetype == "application/pdf"
    text, pages = pdf_text(response.data, tmp_path)
    assert "欧阳晓梅" in text
    assert f"已确认积分合计：{expected_total} 分" in text
    assert "待确认，不计分" in text
    assert pages == 1


def test_the_branch_ranking_pdf_fits_one_page(app, client, auth, tmp_path):
    with app.app_context():
        me = f.InstructorFactory(account__username="zdy001")
        branch = f.AssignmentFactory(instructor=me).branch
        for n in range(36):
            card = f.VanguardCardFactory(member=f.MemberFactory(branch=branch, name=f"党员{n:02d}"))
            f.VanguardEntryFactory(card=card, points=n % 7 + 1, confirmed_on=clock.today())
        branch_id = branch.id
        year = clock.today().year
    auth.login("zdy001")
    text, pages = pdf_text(client.get(f"/branches/{branch_id}/ranking.pdf?year={year}").data,
                           tmp_path)  # fmt: skip
    assert "共 36 名党员" in text
    assert pages == 1


def test_members_phone_numbers_are_masked_except_for_admins(app, client, auth, world):
    with app.app_context():
        from crm.members.models import Member

        phone = db.session.get(Member, world.member_a).phone
    auth.login("zdy-a")
    page = client.get(f"/branches/{world.branch_a}/members").text
    assert phone not in page
    assert f"{phone[:3]}****{phone[-4:]}" in page
    auth.logout()
    auth.login("admin")
    assert phone in client.get(f"/branches/{world.branch_a}/members").text


def test_a_branch_has_one_secretary(app, client, auth, world):
    auth.login("zdy-a")
    response = client.post(f"/branches/{world.branch_a}/members/new",
                           data={"name": "新书记", "role": "secretary", "active": "y"})  # fmt: skip
    assert response.status_code == 422
    assert "本支部书记已登记为" in response.text
    with app.app_context():
        from crm.members.models import Member

        assert db.session.execute(sa.select(sa.func.count()).select_from(Member)).scalar() == 1
