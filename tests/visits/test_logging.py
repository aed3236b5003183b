import io
from datetime import timedelta

import sqlalchemy as sa

from crm import clock
from crm.extensions import db
from crm.photos.models import Photo
from crm.problems.models import Problem
from crm.visits.models import Visit, VisitKind
from tests import factories as f
from tests.visits.conftest import visit_form


def count(app, model) -> int:
    with app.app_context():
        return db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def only_visit(app) -> Visit:
    with app.app_context():
        visit = db.session.execute(sa.select(Visit)).scalar_one()
        db.session.expunge(visit)
        return visit


def test_the_same_form_sent_twice_makes_one_visit_and_the_same_answer(app, client, guide):
    url = f"/branches/{guide.branch}/visits/new"
    first = client.post(url, data=visit_form())
    second = client.post(url, data=visit_form(summary="重发时内容不同也只算第一次"))
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"] == f"/branches/{guide.branch}"
    assert (count(app, Visit), count(app, Problem)) == (1, 2)
    assert only_visit(app).summary == "与书记座谈，了解招工和党员教育情况。"


def test_the_outbox_gets_the_same_json_answer_for_a_repeat(app, client, guide):
    url = f"/branches/{guide.branch}/visits/new"
    headers = {"Accept": "application/json"}
    first = client.post(url, data=visit_form(), headers=headers)
    second = client.post(url, data=visit_form(), headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json == second.json
    assert count(app, Visit) == 1


def test_a_visit_records_its_problems_and_five_clarities(app, client, guide):
    client.post(f"/branches/{guide.branch}/visits/new", data=visit_form())
    with app.app_context():
        visit = db.session.execute(sa.select(Visit)).scalar_one()
        assert [c.value for c in visit.clarified] == ["people", "needs"]
        assert [(p.category.value, p.department) for p in visit.problems] == [
            ("hiring", "区人社局"),
            ("policy", ""),
        ]
        today = clock.today()
        assert all(p.due_on == today + timedelta(days=30) for p in visit.problems)
        assert not visit.backfilled


def test_invalid_input_keeps_every_value_and_the_photos(app, client, guide):
    url = f"/branches/{guide.branch}/visits/new"
    photo = (io.BytesIO(f.image_bytes()), "现场.png")
    response = client.post(url, data=visit_form(summary="", photos=[photo]),
                           content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 422
    page = response.text
    assert "请简要写下这次走访做了什么" in page
    for kept in (
        "书记钟华、业主刘强",
        "缺少熟练缝纫工 20 人",
        "区人社局",
        'checked id="clarified-0" name="clarified" type="checkbox" value="people"',
    ):
        assert kept in page
    token = page.split('name="photo_token" value="')[1].split('"')[0]
    assert (count(app, Visit), count(app, Problem), count(app, Photo)) == (0, 0, 0)

    response = client.post(url, data=visit_form(photo_token=token))
    assert response.status_code == 303
    with app.app_context():
        visit = db.session.execute(sa.select(Visit)).scalar_one()
        assert len(visit.photos) == 1


def test_a_visit_entered_more_than_seven_days_late_is_backfilled(app, client, guide):
    late = (clock.now() - timedelta(days=8)).strftime("%Y-%m-%dT%H:%M")
    client.post(f"/branches/{guide.branch}/visits/new", data=visit_form(visited_at=late))
    visit = only_visit(app)
    assert visit.backfilled
    assert visit.received_at - visit.visited_at > timedelta(days=8)
    assert abs(visit.received_at - clock.now()) < timedelta(minutes=1)


def test_a_visit_in_the_future_is_refused(app, client, guide):
    later = (clock.now() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(f"/branches/{guide.branch}/visits/new",
                           data=visit_form(visited_at=later))  # fmt: skip
    assert response.status_code == 422
    assert "走访时间不能晚于现在" in response.text
    assert count(app, Visit) == 0


def test_a_visit_far_from_the_branch_is_flagged_not_refused(app, client, guide):
    # 0.018° of latitude north of the registered place: 0.018 × 111,195 m ≈ 2,002 m.
    response = client.post(f"/branches/{guide.branch}/visits/new", data=visit_form(
        latitude="25.868000", longitude="114.940000", accuracy_m="12"))  # fmt: skip
    assert response.status_code == 303
    visit = only_visit(app)
    assert (visit.far_from_branch, visit.accuracy_m) == (True, 12)
    assert abs(visit.distance_m - 2002) <= 2


def test_a_visit_nearby_is_not_flagged(app, client, guide):
    client.post(
        f"/branches/{guide.branch}/visits/new",
        data=visit_form(latitude="25.853000", longitude="114.940000"),
    )  # fmt: skip  (≈ 334 m)
    visit = only_visit(app)
    assert visit.far_from_branch is False
    assert abs(visit.distance_m - 334) <= 2


def test_no_location_is_stored_unless_shared(app, client, guide):
    client.post(f"/branches/{guide.branch}/visits/new", data=visit_form())
    visit = only_visit(app)
    assert (visit.latitude, visit.distance_m, visit.far_from_branch) == (None, None, False)


def test_another_instructors_branch_answers_404(app, client, guide):
    with app.app_context():
        other = f.AssignmentFactory().branch_id
    assert client.get(f"/branches/{other}/visits/new").status_code == 404
    assert client.post(f"/branches/{other}/visits/new", data=visit_form()).status_code == 404
    assert count(app, Visit) == 0


def test_the_form_defaults_to_now_and_the_most_used_kind(app, client, guide):
    with app.app_context():
        instructor = db.session.get(f.Instructor, guide.instructor)
        for kind in (VisitKind.REMOTE, VisitKind.REMOTE, VisitKind.ONSITE):
            f.VisitFactory(instructor=instructor, branch=f.BranchFactory(), kind=kind)
    page = client.get(f"/branches/{guide.branch}/visits/new").text
    assert '<option selected value="remote">' in page
    assert clock.now().strftime("%Y-%m-%dT%H:") in page


def test_each_new_form_carries_its_own_key(client, guide):
    keys = {
        client.get(f"/branches/{guide.branch}/visits/new").text.split('id="client_key"')[1][:60]
        for _ in range(2)
    }
    assert len(keys) == 2
