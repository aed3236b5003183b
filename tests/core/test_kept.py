"""Figures kept between requests (crm.core.kept): kept while nothing is written, counted again
after any write to the records, however it is written and by whichever process, and never
kept from a transaction that may still be rolled back."""

import re
from datetime import datetime, time, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from crm import clock, create_app
from crm.audit import services as audit
from crm.branches.models import Branch
from crm.core.kept import DataVersion
from crm.extensions import db, writing
from crm.instructors.models import Instructor
from crm.review.models import DayTally
from crm.visits import services as visits
from tests.conftest import settings

# The token is written through the driver's own cursor inside the commit: the writes run on
# both drivers.
on_both = pytest.mark.postgresql

RENAMED = "改名后的联合党支部"


def token(app) -> int:
    with app.app_context():
        return db.session.execute(sa.select(DataVersion.token)).scalar_one()


def old_name(app, world) -> str:
    with app.app_context():
        return db.session.get(Branch, world.branch_a).name


def test_the_home_page_is_kept_until_something_is_written(app, client, auth, world, count_queries):
    auth.login("zdy-a")
    with count_queries() as first:
        assert old_name(app, world) in client.get("/branches/").text
    with count_queries() as again:
        assert old_name(app, world) in client.get("/branches/").text
    # The due list's own statements (assignments, branches, organizations, instructors, last
    # visits, problems) are not run again; one reads the token.
    assert len(again) <= len(first) - 5, (first, again)
    assert sum("data_version" in s for s in again) == 1


def _orm(branch_id: int) -> None:
    db.session.get(Branch, branch_id).name = RENAMED


def _bulk(branch_id: int) -> None:
    db.session.execute(sa.update(Branch).where(Branch.id == branch_id).values(name=RENAMED))


def _text(branch_id: int) -> None:
    db.session.execute(
        sa.text("UPDATE branch SET name = :name WHERE id = :id"), {"name": RENAMED, "id": branch_id}
    )


def _cte(branch_id: int) -> None:
    db.session.execute(
        sa.text(
            "WITH renamed AS (SELECT :name AS name) "
            "UPDATE branch SET name = (SELECT name FROM renamed) WHERE id = :id"
        ),
        {"name": RENAMED, "id": branch_id},
    )


def _connection(branch_id: int) -> None:
    with db.engine.begin() as connection:  # a connection and a transaction of its own
        connection.execute(sa.update(Branch).where(Branch.id == branch_id).values(name=RENAMED))


WRITES = {
    "a flush": _orm,
    "a bulk update": _bulk,
    "SQL text": _text,
    "SQL text with a CTE": _cte,
    "a connection": _connection,
}


@on_both
@pytest.mark.parametrize("how", WRITES)
def test_any_write_to_the_records_is_seen_on_the_next_page(app, client, auth, world, how):
    auth.login("zdy-a")
    assert old_name(app, world) in client.get("/branches/").text
    before = token(app)
    with app.app_context():
        WRITES[how](world.branch_a)
        db.session.commit()
    assert token(app) != before
    page = client.get("/branches/").text
    assert RENAMED in page


@on_both
def test_a_write_by_another_process_is_seen(app, client, auth, world, migrated, tmp_path):
    """Another gunicorn worker, the scheduler, a command: another app with its own kept
    figures, writing to the same database."""
    auth.login("zdy-a")
    assert old_name(app, world) in client.get("/branches/").text
    other = create_app(settings(migrated, MEDIA_DIR=str(tmp_path / "other")))
    with other.app_context():
        _orm(world.branch_a)
        db.session.commit()
        db.engine.dispose()
    assert RENAMED in client.get("/branches/").text


@on_both
def test_writes_to_tables_no_figure_reads_keep_the_token(app, world):
    before = token(app)
    with app.app_context():
        audit.record("export", object_type="branch", summary="导出党组织")
        db.session.execute(sa.delete(DayTally))
        db.session.commit()
    assert token(app) == before


def test_what_a_transaction_read_after_writing_is_not_kept(app, client, auth, world):
    """Counted after a flush it may yet roll back: not kept, or the next page would show a
    name that was never committed."""
    auth.login("zdy-a")
    with app.test_request_context(), writing():
        instructor = db.session.get(Instructor, world.instructor_a)
        _orm(world.branch_a)
        db.session.flush()
        shown = visits.due_list(instructor, clock.today())
        assert [row.branch.name for row in shown] == [RENAMED]
        db.session.rollback()
    page = client.get("/branches/").text
    assert RENAMED not in page
    assert old_name(app, world) in page


def test_a_kept_list_is_not_shown_on_the_next_day(app, client, auth, world):
    """The due list counts days from today: tomorrow it is counted again, with nothing written
    (but the sign-in, made again, which is not what this is about: the day is in the key)."""
    today = clock.today()
    with time_machine.travel(datetime.combine(today, time(12), clock.LOCAL_TIME), tick=False):
        auth.login("zdy-a")
        (days,) = re.findall(r"(\d+) 天前", client.get("/branches/").text)
    tomorrow = today + timedelta(days=1)
    with time_machine.travel(datetime.combine(tomorrow, time(12), clock.LOCAL_TIME), tick=False):
        with app.test_request_context():
            instructor = db.session.get(Instructor, world.instructor_a)
            (row,) = visits.due_list(instructor, tomorrow)
            assert (row.today, row.days_since_visit) == (tomorrow, int(days) + 1)
        auth.login("zdy-a")
        assert re.findall(r"(\d+) 天前", client.get("/branches/").text) == [str(int(days) + 1)]


def test_the_setting_turns_keeping_off(app, client, auth, world, count_queries):
    app.config["KEEP_FIGURES"] = False
    auth.login("zdy-a")
    client.get("/branches/")
    with count_queries() as first:
        client.get("/branches/")
    with count_queries() as again:
        client.get("/branches/")
    assert len(again) == len(first)
    assert not any("data_version" in s for s in again)
