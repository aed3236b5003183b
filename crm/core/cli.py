"""`flask version`: this release, and the schema the database is at."""

import click
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from flask.cli import with_appcontext

from crm.extensions import db
from crm.version import __version__


@click.command("version")
@with_appcontext
def version() -> None:
    """This release's version, the database's schema revision and whether it is this release's.
    (`flask --version` names Flask's own, before any app is loaded.)"""
    config = current_app.extensions["migrate"].migrate.get_config()
    head = ScriptDirectory.from_config(config).get_current_head()
    with db.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    click.echo(f"两新党建指导员工作台 {__version__}")
    if current == head:
        click.echo(f"数据库结构：{current}（本版本）")
    else:
        click.echo(f"数据库结构：{current or '空'}，本版本为 {head}：请运行 flask db upgrade")
