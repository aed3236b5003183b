"""The branches' ratings: who rates whom (a handover mid-year: both instructors held long
enough), the personal links (issued once the year starts, single use, the window, revoked
and reissued, unknown tokens answered alike and rate-limited), bad input kept, and a rating
submitted twice at once recorded once."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from crm import create_app
from crm.accounts.models import Account, Role
from crm.assessment import ratings
from crm.assessment.models import Rating, RatingLink, Scheme, Verdict
from crm.core.links import LinkError
from crm.extensions import db
from tests import factories as f
from tests.assessment.conftest import YEAR, issued, open_window
from tests.conftest import settings


def issue_all(client) -> list[str]:
    return list(issued(client.post(f"/assessment/{YEAR}/ratings").text).values())


def test_a_branch_rates_each_instructor_who_held_it_sixty_days(app, handover):
    with app.app_context():
        found = ratings.pairs(YEAR)
    assert {(p.branch_id, p.instructor_id, p.days) for p in found} == {
        (handover["branch"], handover["before"], 181),  # 1 January to 30 June
        (handover["branch"], handover["after"], 184),  # 1 July to 31 December
    }


def test_links_wait_for_the_year_to_start(app, client, auth, handover):
    open_window(app, started=False)
    auth.login("admin")
    answer = client.post(f"/assessment/{YEAR}/ratings")
    assert answer.status_code == 422
    assert f"请先开始{YEAR}年度考核" in answer.text


def test_a_secretary_rates_once_without_an_account(app, client, auth, handover):
    open_window(app)
    auth.login("admin")
    tokens = issue_all(client)
    assert len(tokens) == 2
    auth.logout()

    form = client.get(f"/assessment/rate/{tokens[0]}")
    assert form.status_code == 200
    assert "赣南脐橙合作社党支部书记，您好" in form.text
    done = client.post(f"/assessment/rate/{tokens[0]}",
                       data={"verdict": "fairly", "comment": "  上门次数可以再多些  "})  # fmt: skip
    assert done.status_code == 200
    assert "评议已提交" in done.text
    again = client.get(f"/assessment/rate/{tokens[0]}")
    assert again.status_code == 410
    assert "提交过评议，每个链接只能使用一次" in again.text
    twice = client.post(f"/assessment/rate/{tokens[0]}", data={"verdict": "satisfied"})
    assert twice.status_code == 410
    with app.app_context():
        (rating,) = db.session.scalars(sa.select(Rating)).all()
        assert (rating.verdict, rating.comment) == (Verdict.FAIRLY, "上门次数可以再多些")


def test_no_choice_is_refused_and_the_comment_kept(app, client, auth, handover):
    open_window(app)
    auth.login("admin")
    token = issue_all(client)[0]
    auth.logout()
    answer = client.post(f"/assessment/rate/{token}", data={"comment": "很负责"})
    assert answer.status_code == 422
    assert "请选择满意、基本满意或不满意。" in answer.text
    assert "很负责</textarea>" in answer.text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Rating)) == 0
    assert client.get(f"/assessment/rate/{token}").status_code == 200  # still usable


@pytest.mark.parametrize(
    ("shift", "message"),
    [(timedelta(days=-20), "年度评议已于"), (timedelta(days=20), "年度评议将于")],
)
def test_outside_the_window_a_link_is_refused(app, client, auth, handover, shift, message):
    open_window(app)
    auth.login("admin")
    token = issue_all(client)[0]
    auth.logout()
    with app.app_context():
        scheme = db.session.scalars(sa.select(Scheme)).one()
        scheme.rating_from += shift
        scheme.rating_until += shift
        db.session.commit()
    answer = client.get(f"/assessment/rate/{token}")
    assert answer.status_code == 410
    assert message in answer.text


def test_issuing_again_keeps_the_links_handed_out_and_adds_only_what_is_missing(
    app, client, auth, handover
):
    """A retried request, or the admin issuing again a week later: the printed links stay
    valid and nothing is doubled; a revoked one is replaced."""
    open_window(app)
    auth.login("admin")
    first = issued(client.post(f"/assessment/{YEAR}/ratings").text)
    again = client.post(f"/assessment/{YEAR}/ratings")
    assert again.status_code == 422
    assert "未评议的都已有有效的评议链接" in again.text
    assert issued(again.text) == {}
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RatingLink)) == 2
        link_id = db.session.scalars(
            sa.select(RatingLink.id).where(RatingLink.instructor_id == handover["before"])
        ).one()
    client.post(f"/assessment/rating-links/{link_id}/revoke")
    replaced = client.post(f"/assessment/{YEAR}/ratings")
    assert list(issued(replaced.text)) == ["陈指导"]
    auth.logout()
    assert client.get(f"/assessment/rate/{first['林指导']}").status_code == 200  # still valid
    assert client.get(f"/assessment/rate/{first['陈指导']}").status_code == 410


def test_a_revoked_or_reissued_link_is_refused_and_the_new_one_works(app, client, auth, handover):
    open_window(app)
    auth.login("admin")
    first = issued(client.post(f"/assessment/{YEAR}/ratings").text)["陈指导"]
    again = client.post(f"/assessment/{YEAR}/ratings/{handover['branch']}/{handover['before']}")
    assert list(issued(again.text)) == ["陈指导"]
    second = issued(again.text)["陈指导"]
    auth.logout()
    assert client.get(f"/assessment/rate/{first}").status_code == 410
    assert "已被收回" in client.get(f"/assessment/rate/{first}").text
    assert client.get(f"/assessment/rate/{second}").status_code == 200


def test_a_guessed_token_is_not_found_and_guessing_is_limited(migrated, handover):
    app = create_app(settings(migrated, RATELIMIT_ENABLED=True, LINK_RATE_LIMIT="3 per minute"))
    client = app.test_client()
    guesses = [client.get(f"/assessment/rate/{'x' * 42}{n}") for n in range(4)]
    assert [g.status_code for g in guesses] == [404, 404, 404, 429]
    assert "链接无效" in guesses[0].text


def test_a_rating_sent_twice_at_once_is_recorded_once(app, handover):
    open_window(app)
    with app.app_context():
        admin = db.session.scalars(sa.select(Account).where(Account.username == "admin")).one()
        first, _ = ratings.issue(YEAR, ratings.pairs(YEAR), by=admin)
        token = first.token
        db.session.commit()
        link = ratings.link_by_token(token)
        stale = db.session.get(type(link), link.id)
        ratings.rate(link, Verdict.SATISFIED, "")
        with pytest.raises(LinkError):
            ratings.rate(stale, Verdict.UNSATISFIED, "")  # read before the first was sent
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Rating)) == 1


def test_the_instructor_sees_counts_and_the_committee_the_comments_without_the_branch(
    app, client, auth, handover
):
    open_window(app)
    with app.app_context():
        f.AccountFactory(username="reviewer", roles=[Role.REVIEWER])
        db.session.commit()
    auth.login("admin")
    tokens = issued(client.post(f"/assessment/{YEAR}/ratings").text)
    auth.logout()
    client.post(f"/assessment/rate/{tokens['林指导']}", data={"verdict": "satisfied",
                                                              "comment": "帮我们办成了融资"})  # fmt: skip
    page = f"/assessment/{YEAR}/instructors/{handover['after']}"

    auth.login("reviewer")
    seen = client.get(page).text
    assert "【满意】帮我们办成了融资" in seen
    assert "满意 1 个，基本满意 0 个，不满意 0 个（共 1 个党组织评议）" in seen
    ratings_part = seen[seen.index('id="ratings"') : seen.index('id="visits"')]
    assert "赣南脐橙合作社党支部" not in ratings_part
    auth.logout()

    with app.app_context():
        username = db.session.get(f.Instructor, handover["after"]).account.username
    auth.login(username)
    own = client.get(page).text
    assert "满意 1 个，基本满意 0 个，不满意 0 个（共 1 个党组织评议）" in own
    assert "帮我们办成了融资" not in own
