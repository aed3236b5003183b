import pytest
import sqlalchemy as sa

from crm import create_app
from crm.extensions import db
from tests.conftest import settings

pytestmark = pytest.mark.postgresql  # the migrations and the models agree on each database


def test_migrations_build_the_whole_schema(app, runner):
    """The session's database was migrated from empty; the models must not differ from it
    (`flask db check` fails on any difference, as the next test shows)."""
    result = runner.invoke(args=["db", "check"])
    assert result.exit_code == 0, result.exception


def test_the_check_notices_a_model_without_a_migration(app, runner):
    stray = sa.Table("stray", db.metadata, sa.Column("id", sa.Integer, primary_key=True))
    try:
        result = runner.invoke(args=["db", "check"])
    finally:
        db.metadata.remove(stray)
    assert result.exit_code != 0


def test_migrations_load_the_twenty_districts(app):
    with app.app_context():
        names = db.session.execute(sa.text("SELECT name FROM district ORDER BY position")).scalars()
        names = list(names)
    assert len(names) == 20
    assert names[0] == "章贡区"
    assert names[-2:] == ["赣州经开区", "蓉江新区"]


def test_downgrade_to_nothing_and_up_again(tmp_path):
    app = create_app(settings(f"sqlite:///{tmp_path / 'roundtrip.sqlite3'}"))
    runner = app.test_cli_runner()
    for args in (["db", "upgrade"], ["db", "downgrade", "base"], ["db", "upgrade"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    with app.app_context():
        assert "assignment" in sa.inspect(db.engine).get_table_names()
