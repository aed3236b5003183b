import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

# this is the Alembic Config object, which provides
# access to the values within the .ini file in use.
config = context.config

# Interpret the config file for Python logging.
# This line sets up loggers basically.
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")


def get_engine():
    return current_app.extensions["migrate"].db.engine


def get_engine_url():
    try:
        return get_engine().url.render_as_string(hide_password=False).replace("%", "%%")
    except AttributeError:
        return str(get_engine().url).replace("%", "%%")


# add your model's MetaData object here
# for 'autogenerate' support
# from myapp import mymodel
# target_metadata = mymodel.Base.metadata
config.set_main_option("sqlalchemy.url", get_engine_url())
target_db = current_app.extensions["migrate"].db

# other values from the config, defined by the needs of env.py,
# can be acquired:
# my_important_option = config.get_main_option("my_important_option")
# ... etc.


def get_metadata():
    if hasattr(target_db, "metadatas"):
        return target_db.metadatas[None]
    return target_db.metadata


def run_migrations_offline():
    """Run migrations in 'offline' mode.

    This configures the context with just a URL
    and not an Engine, though an Engine is acceptable
    here as well.  By skipping the Engine creation
    we don't even need a DBAPI to be available.

    Calls to context.execute() here emit the given string to the
    script output.

    """
    url = config.get_main_option("sqlalchemy.url")
    context.configure(url=url, target_metadata=get_metadata(), literal_binds=True)

    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    """Run migrations in 'online' mode.

    In this scenario we need to create an Engine
    and associate a connection with the context.

    """

    # this callback is used to prevent an auto-migration from being generated
    # when there are no changes to the schema
    # reference: http://alembic.zzzcomputing.com/en/latest/cookbook.html
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    conf_args = current_app.extensions["migrate"].configure_args
    if conf_args.get("process_revision_directives") is None:
        conf_args["process_revision_directives"] = process_revision_directives

    connectable = get_engine()

    with connectable.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            _foreign_keys(connection, on=False)
        # One transaction for the whole upgrade, on SQLite too (its DDL is transactional, but
        # Alembic commits after each step there unless told): a step that fails leaves the
        # database at the revision it started from, never half-way.
        context.configure(
            connection=connection,
            target_metadata=get_metadata(),
            transactional_ddl=True,
            **conf_args,
        )
        # crm.core.kept changes data_version's token at each commit that wrote: not while
        # migrating, before that table exists (a migration's data is new records anyway).
        connection.info["migrating"] = True
        connection.info["revisions_applied"] = _revisions_applied()
        try:
            with context.begin_transaction():
                context.run_migrations()
                if sqlite:
                    _check_foreign_keys(connection)
        finally:
            connection.info.pop("migrating", None)
            if sqlite:
                _foreign_keys(connection, on=True)


def _revisions_applied():
    """The revisions this upgrade runs, for a data migration that must know whether the
    database comes from a release before another migration (0.4.0's known_since: records of
    a release that counted them by their dates keep counting so). Empty for a downgrade."""
    script = context.script
    try:
        current = context.get_context().get_current_heads()
        target = context.get_revision_argument() or "head"
        return {s.revision for s in script.iterate_revisions(target, current or "base")}
    except Exception:
        return set()


def _foreign_keys(connection, *, on):
    """SQLite: with foreign keys enforced, Alembic's batch mode (which rebuilds a table as
    copy, DROP TABLE, rename) cascades the DROP into every table that references it, or fails
    on it. They are switched off for the migration's connection, outside any transaction
    (SQLite ignores the pragma inside one), and checked before the commit instead."""
    connection.connection.dbapi_connection.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def _check_foreign_keys(connection):
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        rows = "、".join(
            f"{table} 第 {rowid} 行指向 {parent}" for table, rowid, parent, _ in broken[:5]
        )
        raise RuntimeError(
            f"有 {len(broken)} 行的外键指向不存在的记录（{rows}{' 等' if len(broken) > 5 else ''}；"
            "可能在升级前就已如此）。升级已撤销，数据库保持原样：请先改正或删除这些行，再升级。"
        )


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
