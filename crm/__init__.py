"""两新党建指导员工作台: the work platform of 赣州's professional party-building instructors."""

from pathlib import Path
from typing import Any

from flask import Flask

from crm import config
from crm.http import IdConverter
from crm.version import __version__

__all__ = ["__version__", "create_app"]

ROOT = Path(__file__).resolve().parent.parent
FEATURES_WITH_PAGES = (
    "core",
    "accounts",
    "audit",
    "organizations",
    "branches",
    "instructors",
    "assignments",
    "photos",
    "problems",
    "visits",
    "members",
    "meetings",
    "cards",
    "pairings",
    "handover",
    "transfer",
    "review",
    "reports",
    "privacy",
    "offline",
    "reminders",
    "assessment",
)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application; `test_config` replaces the environment's settings."""
    app = Flask(
        __name__,
        template_folder=ROOT / "templates",
        static_folder=ROOT / "static",
        instance_path=str(ROOT / "instance"),
    )
    app.url_map.converters["int"] = IdConverter
    app.extensions["factory"] = create_app  # how a worker process builds the app it serves
    config.load(app, test_config)
    register_extensions(app)
    register_blueprints(app)
    register_commands(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    return app


def register_extensions(app: Flask) -> None:
    import crm.models  # noqa: F401  (every table known before Alembic compares)
    from crm.audit import listener
    from crm.branches import services as branches
    from crm.cards import services as cards
    from crm.core import security
    from crm.db import render_migration_item
    from crm.extensions import csrf, db, login_manager, migrate
    from crm.review import tally

    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=str(ROOT / "migrations"),
        render_as_batch=True,
        render_item=render_migration_item,
    )
    login_manager.init_app(app)
    csrf.init_app(app)
    security.install(app)
    listener.install()
    branches.install()
    cards.install()
    tally.install()


def register_blueprints(app: Flask) -> None:
    from importlib import import_module

    from crm.core.access import require_declared_access

    for feature in FEATURES_WITH_PAGES:
        app.register_blueprint(import_module(f"crm.{feature}.views").bp)
    require_declared_access(app)


def register_commands(app: Flask) -> None:
    from crm.accounts.cli import accounts_cli
    from crm.audit.cli import audit_cli
    from crm.backup.cli import backup_cli, install_upgrade
    from crm.core.cli import version
    from crm.demo.cli import demo_cli
    from crm.jobs.cli import jobs_cli
    from crm.reminders.cli import reminders_cli
    from crm.reports.cli import reports_cli
    from crm.transfer.cli import transfer_cli

    app.cli.add_command(accounts_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(backup_cli)
    install_upgrade()
    app.cli.add_command(version)
    app.cli.add_command(demo_cli)
    app.cli.add_command(transfer_cli)
    app.cli.add_command(reports_cli)
    app.cli.add_command(reminders_cli)
    app.cli.add_command(jobs_cli)


def register_errorhandlers(app: Flask) -> None:
    from crm.core.errors import register

    register(app)


def register_template_helpers(app: Flask) -> None:
    from crm.core.templating import register

    register(app)
