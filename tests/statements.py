"""Which tests the PostgreSQL pass runs: every SQL statement the suite makes, at least once.

The SQLite pass records, for each test, the statements it runs, in the shape SQLAlchemy wrote
them (values and the length of IN lists aside), into build/statements/. The PostgreSQL pass
then runs:

- every test marked `postgresql`: what depends on how the database behaves, not only on what
  SQL it is sent (locks, several writers, triggers, sorting of text, the dialect's own
  branches in the code, the demo read on both); and
- among the rest, as few as run every statement shape the SQLite pass saw at least once,
  chosen greedily, the tests that add the most shapes for the fewest statements first.

A statement valid on SQLite and refused by PostgreSQL (a GROUP BY PostgreSQL finds incomplete,
a comparison of a date with text) therefore fails the pass, whichever test it lives in. When
no record is there (the PostgreSQL pass run alone) every test runs; `CRM_TEST_EVERY=1` forces
that.
"""

import json
import os
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

FOLDER = Path(__file__).resolve().parent.parent / "build" / "statements"
LISTING = FOLDER.parent / "postgresql-selection.txt"
IN_LIST = re.compile(r"\(\?(?:, \?)+\)")
SPACES = re.compile(r"\s+")
UNRECORDED = re.compile(r"\s*(BEGIN|COMMIT|ROLLBACK|PRAGMA|SAVEPOINT|RELEASE)", re.I)


def shape(statement: str) -> str:
    return SPACES.sub(" ", IN_LIST.sub("(?)", statement)).strip()


class Recorder:
    """The statements each test runs on SQLite, by test."""

    def __init__(self) -> None:
        self.current: str | None = None
        self.seen: dict[str, dict[str, int]] = {}

    def record(self, conn, cursor, statement, *args) -> None:
        if self.current is None or UNRECORDED.match(statement):
            return
        shapes = self.seen.setdefault(self.current, {})
        key = shape(statement)
        shapes[key] = shapes.get(key, 0) + 1

    def save(self, worker: str) -> None:
        FOLDER.mkdir(parents=True, exist_ok=True)
        (FOLDER / f"{worker}.json").write_text(json.dumps(self.seen, ensure_ascii=False))


RECORDER = Recorder()


def on_sqlite() -> bool:
    return os.environ.get("CRM_TEST_DATABASE") != "postgresql"


def pytest_configure(config: pytest.Config) -> None:
    """At the start of the SQLite pass (in the controller when run in parallel): forget the
    last pass's record, and listen to every engine."""
    if not on_sqlite():
        return
    if not hasattr(config, "workerinput"):
        for old in FOLDER.glob("*.json"):
            old.unlink()
    sa.event.listen(sa.engine.Engine, "before_cursor_execute", RECORDER.record)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    RECORDER.current = item.nodeid  # its set-up and tear-down too
    try:
        return (yield)
    finally:
        RECORDER.current = None


def pytest_sessionfinish(session: pytest.Session) -> None:
    if on_sqlite() and RECORDER.seen:
        worker = getattr(session.config, "workerinput", {}).get("workerid", "main")
        RECORDER.save(worker)


@pytest.hookimpl(trylast=True)  # after `-m` has chosen
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In the PostgreSQL pass, keep the tests marked `postgresql` and a cover of the recorded
    statements; deselect the others."""
    files = sorted(FOLDER.glob("*.json"))
    if on_sqlite() or os.environ.get("CRM_TEST_EVERY") == "1" or not files:
        return
    seen: dict[str, dict[str, int]] = {}
    for file in files:
        seen.update(json.loads(file.read_text()))
    kept = [item for item in items if item.get_closest_marker("postgresql")]
    covered = {s for item in kept for s in seen.get(item.nodeid, {})}
    candidates = {
        item.nodeid: item
        for item in items
        if not item.get_closest_marker("postgresql") and item.nodeid in seen
    }
    while True:

        def gain(nodeid: str) -> tuple[float, str]:
            new = [s for s in seen[nodeid] if s not in covered]
            cost = sum(seen[nodeid].values()) + 20  # a test's own set-up costs too
            return (len(new) / cost, nodeid)

        best = max(candidates, key=gain, default=None)
        if best is None or gain(best)[0] == 0:
            break
        kept.append(candidates.pop(best))
        covered.update(seen[best])
    unseen = [item for item in items if item.nodeid not in seen]
    kept += [item for item in unseen if item not in kept]  # new since the record: run them
    chosen = set(map(id, kept))
    config.hook.pytest_deselected(items=[item for item in items if id(item) not in chosen])
    items[:] = [item for item in items if id(item) in chosen]
    LISTING.parent.mkdir(parents=True, exist_ok=True)
    LISTING.write_text("".join(f"{item.nodeid}\n" for item in items))
