from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import Audited, LabeledEnum, TimestampMixin, Versioned
from crm.extensions import db
from crm.organizations.models import District, Organization, branch_organization


class BranchKind(LabeledEnum):
    COMMITTEE = "committee", "党委"
    GENERAL = "general", "党总支"
    BRANCH = "branch", "党支部"
    JOINT = "joint", "联合党支部"


class Sector(LabeledEnum):
    TWO_NEW = "two_new", "两新组织党组织"
    AGENCY = "agency", "机关企事业单位党组织"


class Branch(Audited, Versioned, TimestampMixin, db.Model):
    """党组织: a party branch, of a two-new organization (or several: 联合党支部) or of an agency.

    `under_guidance` marks a two-new branch that should have an instructor now; when it was
    so is kept in GuidanceSpell (crm.branches.services keeps the two together).
    """

    __tablename__ = "branch"
    __audit_phones__ = frozenset({"secretary_phone"})
    __table_args__ = (
        # The branches under guidance of each district, counted from the index alone.
        sa.Index("ix_branch_guided_district", "sector", "under_guidance", "district_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), index=True)
    kind: Mapped[BranchKind]
    sector: Mapped[Sector] = mapped_column(index=True)
    district_id: Mapped[int] = mapped_column(sa.ForeignKey("district.id"), index=True)
    secretary_name: Mapped[str] = mapped_column(sa.String(50), default="")
    secretary_phone: Mapped[str] = mapped_column(sa.String(20), default="")
    member_count: Mapped[int] = mapped_column(default=0)
    founded_on: Mapped[date | None]
    under_guidance: Mapped[bool] = mapped_column(default=False, index=True)

    district: Mapped[District] = relationship()
    organizations: Mapped[list[Organization]] = relationship(
        secondary=branch_organization,
        back_populates="branches",
        order_by=[Organization.name, Organization.id],
    )

    def __str__(self) -> str:
        return self.name

    @property
    def address(self) -> str:
        return address_of(self.organizations)

    @property
    def place(self) -> tuple[Decimal, Decimal] | None:
        return place_of(self.organizations)


def address_of(organizations: Iterable[Any]) -> str:
    """A branch's address: the first of its organizations (by name) that has one. Anything
    with the organization's `address` will do: the ORM objects or rows of columns."""
    return next((org.address for org in organizations if org.address), "")


def place_of(organizations: Iterable[Any]) -> tuple[Decimal, Decimal] | None:
    """Where a map opens for a branch: the first of its organizations (by name) with a
    position."""
    return next(((org.latitude, org.longitude) for org in organizations if org.latitude), None)


class GuidanceSpell(db.Model):
    """列入联系指导的期间: a two-new branch listed for guidance from `started_on` until `ended_on`
    (open while it is listed). Written by crm.branches.services whenever a branch's
    `under_guidance` changes, however it changes (form, import): the month-end count of
    branches under guidance is read from here, so a later change never rewrites a closed
    month."""

    __tablename__ = "guidance_spell"
    __table_args__ = (
        sa.Index(
            "uq_guidance_spell_open_branch",
            "branch_id",
            unique=True,
            sqlite_where=sa.text("ended_on IS NULL"),
            postgresql_where=sa.text("ended_on IS NULL"),
        ),
        sa.CheckConstraint("ended_on IS NULL OR ended_on >= started_on", name="dates_in_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(sa.ForeignKey("branch.id"), index=True)
    started_on: Mapped[date]
    ended_on: Mapped[date | None]

    branch: Mapped[Branch] = relationship()

    def __str__(self) -> str:
        return f"列入指导 {self.started_on:%Y-%m-%d}—{self.ended_on or ''}"
