from datetime import timedelta

import sqlalchemy as sa

from crm import clock
from crm.accounts.models import Role
from crm.extensions import db
from crm.pairings.models import PairingActivity
from tests import factories as f


def activity_form(**changes):
    return {"client_key": "a" * 20, "held_on": clock.today().isoformat(), "kind": "policy",
            "description": "宣讲稳岗政策", "resources": "政策手册 50 份", "people_reached": "40",
            **changes}  # fmt: skip


def activities(app) -> int:
    with app.app_context():
        return db.session.execute(sa.select(sa.func.count()).select_from(PairingActivity)).scalar()


def test_the_branch_instructor_logs_an_activity_once(app, client, auth, world):
    auth.login("zdy-a")
    url = f"/pairings/{world.pairing}/activities/new"
    assert client.post(url, data=activity_form()).status_code == 303
    assert client.post(url, data=activity_form()).status_code == 303
    assert activities(app) == 1
    assert "宣讲稳岗政策" in client.get(f"/pairings/{world.pairing}").text


def test_activity_dates_stay_inside_the_pairing_and_the_past(app, client, auth, world):
    auth.login("zdy-a")
    url = f"/pairings/{world.pairing}/activities/new"
    future = client.post(
        url, data=activity_form(held_on=(clock.today() + timedelta(days=1)).isoformat())
    )
    assert "活动日期不能晚于今天" in future.text
    before = client.post(url, data=activity_form(held_on="2020-01-01"))
    assert "活动日期应在结对期间内" in before.text
    assert activities(app) == 0


def test_others_cannot_log_or_see(app, client, auth, world):
    auth.login("zdy-b")
    assert client.get(f"/pairings/{world.pairing}").status_code == 404
    assert client.post(f"/pairings/{world.pairing}/activities/new",
                       data=activity_form()).status_code == 404  # fmt: skip
    auth.logout()
    auth.login("reviewer")
    assert client.get(f"/pairings/{world.pairing}").status_code == 200
    assert client.get(f"/pairings/{world.pairing}/activities/new").status_code == 403


def test_a_pair_is_recorded_once_and_only_agency_with_two_new(app, client, auth, world):
    auth.login("admin")
    same = client.post("/pairings/new", data={"agency_branch_id": world.agency_branch,
                       "branch_id": world.branch_a, "started_on": "2025-01-01"})  # fmt: skip
    assert "二者已经结对" in same.text
    wrong = client.post("/pairings/new", data={"agency_branch_id": world.branch_b,
                        "branch_id": world.branch_a, "started_on": "2025-01-01"})  # fmt: skip
    assert "结对一方应是机关企事业单位党组织" in wrong.text
    made = client.post("/pairings/new", data={"agency_branch_id": world.agency_branch,
                       "branch_id": world.branch_b, "started_on": "2025-01-01"})  # fmt: skip
    assert made.status_code == 303


def test_unpaired_branches_and_overloaded_agencies_are_flagged(app, client, auth):
    app.config["PAIRINGS_PER_AGENCY_MAX"] = 2
    with app.app_context():
        f.AccountFactory(username="admin", roles=[Role.ADMIN])
        busy = f.AgencyBranchFactory(name="很忙的机关党支部")
        calm = f.AgencyBranchFactory(name="从容的机关党支部")
        for n in range(3):
            f.PairingFactory(agency_branch=busy, branch=f.BranchFactory(name=f"已结对{n}"))
        f.PairingFactory(agency_branch=calm, branch=f.BranchFactory(name="已结对3"))
        f.PairingFactory(agency_branch=calm, branch=f.BranchFactory(name="结对已结束"),
                         ended_on=clock.today())  # fmt: skip
        f.BranchFactory(name="从未结对")
    auth.login("admin")
    unpaired = client.get("/pairings/?view=unpaired").text
    assert "从未结对" in unpaired
    assert "结对已结束" in unpaired
    assert "已结对0" not in unpaired
    overloaded = client.get("/pairings/?view=overloaded").text
    assert "很忙的机关党支部" in overloaded
    assert "从容的机关党支部" not in overloaded


def test_ending_a_pairing(app, client, auth, world):
    auth.login("admin")
    early = client.post(f"/pairings/{world.pairing}/end", data={"ended_on": "2020-01-01"})
    assert "结束日期不能早于开始日期" in early.text
    assert client.post(f"/pairings/{world.pairing}/end",
                       data={"ended_on": clock.today().isoformat()}).status_code == 303  # fmt: skip
    assert "已结束" in client.get(f"/pairings/{world.pairing}").text
