"""Extensions, created unbound and bound in create_app()."""

from collections.abc import Iterator
from contextlib import contextmanager

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from crm.db import Base, write_lock

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
