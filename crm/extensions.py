"""Extensions, created unbound and bound in create_app()."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy.exc import IntegrityError

from crm.db import Base
from crm.locking import write_lock

T = TypeVar("T")

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "accounts.login"
login_manager.login_message = "请先登录。"
login_manager.login_message_category = "warning"


@contextmanager
def writing() -> Iterator[None]:
    """Run the block in a transaction of its own that may write.

    Ends the request's read transaction (nothing is pending in it), so on SQLite the write
    lock is taken at the block's first statement and held only until the caller commits.
    Objects loaded before are expired and load again, current, inside the block.
    """
    db.session.commit()
    with write_lock():
        yield


def add_once(record: T, existing: Callable[[], T | None]) -> T:
    """Add a record the phone may send more than once (a retry, a double tap).

    A unique constraint on its client key refuses the twin; then the one stored first is
    returned instead, so the caller answers as the first request did.
    """
    try:
        with db.session.begin_nested():
            db.session.add(record)
    except IntegrityError:
        if (stored := existing()) is not None:
            return stored
        raise
    return record
