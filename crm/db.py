"""The declarative base, column types and mixins shared by every feature's models."""

import enum
from datetime import UTC, date, datetime
from typing import Any, Self

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, registry

from crm import clock

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timestamp stored as naive UTC and read back as an aware UTC datetime.

    SQLite keeps no time zone, so every database stores the same naive UTC value.
    """

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; pass an aware one")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def as_utc(value: datetime | str | None) -> datetime | None:
    """An aggregate (max, min) skips the column type: SQLite hands back naive UTC or even text."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class local_day(sa.sql.expression.FunctionElement[date]):  # noqa: N801 (used like func.x)
    """The day in 赣州 of a timestamp column stored as naive UTC, in SQL: compiled for each
    database, so a query can group or compare by local day wherever it runs."""

    type = sa.Date()
    inherit_cache = True
    name = "local_day"


@compiles(local_day, "postgresql")
def _local_day_postgresql(element: local_day, compiler: Any, **kw: Any) -> str:
    (column,) = element.clauses
    zone = clock.LOCAL_TIME.key
    return f"CAST(timezone('{zone}', timezone('UTC', {compiler.process(column, **kw)})) AS DATE)"


@compiles(local_day)
def _local_day_sqlite(element: local_day, compiler: Any, **kw: Any) -> str:
    # SQLite has no time zones; China keeps one fixed offset all year.
    (column,) = element.clauses
    hours = clock.LOCAL_TIME.utcoffset(datetime(2000, 1, 1)).total_seconds() / 3600
    return f"date({compiler.process(column, **kw)}, '{hours:+.0f} hours')"


class LabeledEnum(enum.StrEnum):
    """A string enum whose members carry the Chinese label shown to users.

    Declared as `ADMIN = "admin", "管理员"`; the code is stored, the label is shown.
    """

    label: str

    def __new__(cls, value: str, label: str) -> Self:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    @classmethod
    def parse(cls, value: str | None) -> Self | None:
        """The member whose code is `value`, or None (a query argument may hold anything)."""
        try:
            return cls(value)
        except ValueError:
            return None

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(member.value, member.label) for member in cls]


class Base(DeclarativeBase):
    # Given as a registry: Flask-SQLAlchemy subclasses this base, and SQLAlchemy refuses a
    # per-class type_annotation_map on a subclass.
    registry = registry(
        metadata=sa.MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={
            datetime: UTCDateTime(),
            # Enums are stored by value as plain strings: no database enum types to migrate.
            enum.Enum: sa.Enum(
                enum.Enum,
                native_enum=False,
                length=32,
                values_callable=lambda members: [member.value for member in members],
            ),
        },
    )


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Versioned:
    """A record two people may edit at once. Each save raises `version`: an edit form carries
    the version it showed, and a save from an older one is refused with a message (see
    crm.core.forms.submit); two saves racing each other are told apart by the UPDATE's
    `WHERE version = …` (SQLAlchemy's version counter). Never a silent overwrite."""

    version: Mapped[int] = mapped_column(default=1, server_default="1")

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805  (declared_attr passes the class)
        return {"version_id_col": cls.__table__.c.version}


class Withdrawable:
    """A record withdrawn (撤回) rather than deleted: kept and shown, marked, with who withdrew
    it and why, and out of every count. Each count asks `standing`; the trace of the change is
    a crm.corrections Correction."""

    withdrawn_on: Mapped[date | None]
    withdrawn_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("account.id"))
    withdraw_reason: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")

    @hybrid_property
    def standing(self) -> bool:
        """Not withdrawn: it counts, and it is shown as it stands."""
        return self.withdrawn_on is None

    @standing.inplace.expression
    @classmethod
    def _standing(cls) -> sa.ColumnElement[bool]:
        return cls.withdrawn_on.is_(None)


class Audited:
    """Marks a model whose every insert, update and delete goes to the audit log.

    `__audit_masked__` names columns whose change is logged without the values;
    `__audit_phones__` names phone numbers, logged masked (138****1234): the log is kept for
    years and read by the auditor, who has no need of the numbers.
    """

    __audit_masked__: frozenset[str] = frozenset()
    __audit_phones__: frozenset[str] = frozenset()


def render_migration_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Write UTCDateTime into migrations as a plain DateTime, so they never import app code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False
