"""List pages run a fixed number of SQL statements, however many rows they show."""

import pytest
import sqlalchemy as sa

from crm.accounts.models import Role
from crm.audit.services import acting_as
from crm.branches.models import BranchKind
from crm.cards import services as cards
from crm.extensions import db
from crm.instructors.models import Instructor
from crm.organizations.models import District
from tests import factories as f


def fill(app, n: int) -> None:
    with app.app_context(), acting_as("test"):
        districts = db.session.scalars(sa.select(District).order_by(District.position)).all()
        for number in range(n):
            assignment = f.AssignmentFactory()
            f.PairingFactory(branch=assignment.branch)
            f.BranchFactory(organizations=[f.OrganizationFactory(), f.OrganizationFactory()],
                            kind=BranchKind.JOINT)  # fmt: skip
            # A district reviewer in a district not yet shown (the list names each one's district).
            f.AccountFactory(roles=[Role.REVIEWER], scope_district=districts[(3 * number + n) % 20])


@pytest.mark.parametrize(
    ("username", "role", "url"),
    [
        ("admin", Role.ADMIN, "/instructors/"),
        ("admin", Role.ADMIN, "/branches/"),
        ("admin", Role.ADMIN, "/organizations/"),
        ("admin", Role.ADMIN, "/assignments/"),
        ("admin", Role.ADMIN, "/assignments/unassigned"),
        ("reviewer", Role.REVIEWER, "/instructors/"),
        ("auditor", Role.AUDITOR, "/audit/"),
        ("security", Role.SECURITY_ADMIN, "/accounts/"),
    ],
)
def test_list_pages_do_not_query_per_row(app, client, auth, count_queries, username, role, url):
    with app.app_context():
        f.AccountFactory(username=username, roles=[role])
    auth.login(username)
    fill(app, 2)
    with count_queries() as few:
        assert client.get(url).status_code == 200
    fill(app, 8)
    with count_queries() as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few), "\n".join(many)
    assert len(few) <= 12  # a fixed handful: the caseload table runs seven aggregates


def test_the_instructor_home_does_not_query_per_branch(app, client, auth, count_queries):
    with app.app_context():
        instructor = f.InstructorFactory(account__username="zdy001")
        f.AssignmentFactory(instructor=instructor)
        instructor_id = instructor.id
    auth.login("zdy001")
    with count_queries() as one:
        client.get("/branches/")
    with app.app_context():
        for _ in range(6):
            f.AssignmentFactory(instructor=db.session.get(Instructor, instructor_id))
    with count_queries() as seven:
        page = client.get("/branches/")
    assert page.text.count("card branch-card") == 7
    assert len(seven) == len(one)


def test_the_problem_ledger_and_the_branch_page_do_not_query_per_row(
    app, client, auth, count_queries
):
    with app.app_context():
        me = f.InstructorFactory(account__username="zdy001")
        branch = f.AssignmentFactory(instructor=me).branch
        branch_id, instructor_id = branch.id, me.id

    def add(n):
        with app.app_context():
            who = db.session.get(Instructor, instructor_id)
            where = db.session.get(f.Branch, branch_id)
            for _ in range(n):
                visit = f.VisitFactory(instructor=who, branch=where,
                                       photos=[f.photo_row(who.account_id)])  # fmt: skip
                f.ProblemFactory(branch=where, visit_id=visit.id)

    auth.login("zdy001")
    add(2)
    with count_queries() as few_ledger:
        client.get("/problems/")
    with count_queries() as few_branch:
        client.get(f"/branches/{branch_id}")
    add(6)
    with count_queries() as many_ledger:
        page = client.get("/problems/")
    assert page.text.count('class="card"') == 8
    with count_queries() as many_branch:
        client.get(f"/branches/{branch_id}")
    assert len(many_ledger) == len(few_ledger)
    assert len(many_branch) == len(few_branch), "\n".join(many_branch)


@pytest.mark.parametrize("page", ["members", "meetings"])
def test_the_members_and_meetings_lists_do_not_query_per_row(
    app, client, auth, count_queries, page
):
    with app.app_context():
        me = f.InstructorFactory(account__username="zdy001")
        branch_id = f.AssignmentFactory(instructor=me).branch_id

    def add(n):
        with app.app_context():
            branch = db.session.get(f.Branch, branch_id)
            for _ in range(n):
                member = f.MemberFactory(branch=branch)
                f.VanguardEntryFactory(card__member=member, confirmed_on=f.clock.today())
                f.MeetingFactory(branch=branch, attendees=[member])

    auth.login("zdy001")
    add(2)
    with count_queries() as few:
        client.get(f"/branches/{branch_id}/{page}")
    add(6)
    with count_queries() as many:
        assert client.get(f"/branches/{branch_id}/{page}").status_code == 200
    assert len(many) == len(few), "\n".join(many)


def test_a_card_s_records_and_their_versions_do_not_query_per_row(app, client, auth, count_queries):
    """A member's deeds and a goal card's goals and notes, corrected and withdrawn: the pages
    read the versions of all of them at once."""
    with app.app_context():
        me = f.InstructorFactory(account__username="zdy001")
        branch_id = f.AssignmentFactory(instructor=me).branch_id
        branch = db.session.get(f.Branch, branch_id)
        secretary = f.MemberFactory(branch=branch, role=f.MemberRole.SECRETARY)
        card = f.GoalCardFactory(member=secretary)
        db.session.commit()
        member_id, card_id = secretary.id, card.id

    def add(n):
        with app.app_context(), acting_as("test"):
            account = db.session.get(Instructor, me_id).account
            other = f.AccountFactory(roles=[Role.ADMIN])
            card = db.session.get(f.GoalCard, card_id)
            member = db.session.get(f.Member, member_id)
            for number in range(n):
                entry = cards.add_entry(member, cards.NewEntry(
                    f"key-{n}-{number}", f.clock.today(), f"事迹 {number}",
                    f.VanguardCategory.VOLUNTEER, 3), by=account)  # fmt: skip
                cards.correct_entry(entry, cards.NewEntry(entry.client_key, entry.done_on,
                                    f"改正 {number}", entry.category, 2), reason="改", by=other)  # fmt: skip
                goal = cards.add_goal(card, cards.NewGoal(f"目标 {number}"))
                cards.withdraw_goal(goal, reason="撤", by=account)
                note = cards.add_note(card, on=f.clock.today(), text=f"进展 {number}", by=account)
                cards.withdraw_note(note, reason="撤", by=account)
            db.session.commit()

    with app.app_context():
        me_id = db.session.scalar(sa.select(Instructor.id))
    auth.login("zdy001")
    pages = [f"/members/{member_id}", f"/goal-cards/{card_id}"]
    add(1)
    few = []
    for url in pages:
        with count_queries() as statements:
            assert client.get(url).status_code == 200
        few.append(len(statements))
    add(5)
    for url, before in zip(pages, few, strict=True):
        with count_queries() as statements:
            page = client.get(url)
        assert page.status_code == 200
        assert page.text.count("第 2 版") >= 6
        assert len(statements) == before, "\n".join(statements)


@pytest.mark.parametrize(
    "url",
    ["/review/", "/instructors/", "/review/checks?quarter=2026Q4",
     *(f"/review/alerts?rule={rule}" for rule in
       ("overdue_visits", "overdue_problems", "caseload", "unassigned", "unpaired", "flagged_visits",
        "quiet_meetings")),
     "/review/alerts?rule=overdue_visits&sort=instructor&order=desc&q=测试",
     "/review/alerts?rule=flagged_visits&sort=instructor&q=测试"],
)  # fmt: skip
def test_review_pages_run_as_many_statements_for_many_rows_as_for_few(
    app, client, auth, count_queries, url
):
    from datetime import date, timedelta

    from crm import clock

    with app.app_context():
        f.AccountFactory(username="reviewer", roles=[Role.REVIEWER])

    def fill(n):
        with app.app_context():
            for _ in range(n):
                me = f.InstructorFactory()
                branch = f.AssignmentFactory(instructor=me, started_on=date(2024, 1, 1)).branch
                visit = f.VisitFactory(instructor=me, branch=branch, backfilled=True,
                                       visited_at=clock.local_midnight(date(2026, 10, 5)))  # fmt: skip
                f.SpotCheckFactory(quarter="2026Q4", visit=visit)
                f.ProblemFactory(branch=branch, raised_on=clock.today() - timedelta(days=50),
                                 due_on=clock.today() - timedelta(days=20))  # fmt: skip
                f.BranchFactory()
                f.MeetingFactory(branch=branch)

    def cold():
        """Both requests count and store the overview's days afresh (the second would
        otherwise recount only what fill() wrote late), so the counts compare."""
        from crm.review.models import DayTally, StockTally

        with app.app_context():
            db.session.execute(sa.delete(DayTally))
            db.session.execute(sa.delete(StockTally))
            db.session.commit()

    auth.login("reviewer")
    fill(2)
    cold()
    with count_queries() as few:
        assert client.get(url).status_code == 200
    fill(6)
    cold()
    with count_queries() as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few), "\n".join(many)
