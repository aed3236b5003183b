from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import Audited, LabeledEnum, TimestampMixin, Versioned
from crm.extensions import db


class District(db.Model):
    """县市区: one of the 20 districts of 赣州."""

    __tablename__ = "district"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(6), unique=True)
    name: Mapped[str] = mapped_column(sa.String(20), unique=True)
    position: Mapped[int] = mapped_column(default=0)

    def __str__(self) -> str:
        return self.name


class OrganizationKind(LabeledEnum):
    ENTERPRISE = "enterprise", "非公企业"
    SOCIAL = "social", "社会组织"
    MICRO = "micro", "小微企业"
    INDIVIDUAL = "individual", "个体工商户"
    MARKET = "market", "专业市场"

    @property
    def is_xgz(self) -> bool:
        """小个专: the small, individual and market kinds the 小个专 committee oversees."""
        return self in (
            OrganizationKind.MICRO,
            OrganizationKind.INDIVIDUAL,
            OrganizationKind.MARKET,
        )


branch_organization = sa.Table(
    "branch_organization",
    db.metadata,
    sa.Column("branch_id", sa.ForeignKey("branch.id", ondelete="CASCADE"), primary_key=True),
    # An organization is covered by at most one branch.
    sa.Column(
        "organization_id",
        sa.ForeignKey("organization.id", ondelete="CASCADE"),
        primary_key=True,
        unique=True,
    ),
)


class Organization(Audited, Versioned, TimestampMixin, db.Model):
    """两新组织: a non-public enterprise, social organization or 小个专 business."""

    __tablename__ = "organization"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), index=True)
    kind: Mapped[OrganizationKind]
    credit_code: Mapped[str] = mapped_column(sa.String(18), unique=True)
    district_id: Mapped[int] = mapped_column(sa.ForeignKey("district.id"), index=True)
    industry: Mapped[str] = mapped_column(sa.String(40), default="")
    address: Mapped[str] = mapped_column(sa.String(200), default="")
    latitude: Mapped[Decimal | None] = mapped_column(sa.Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(sa.Numeric(9, 6))
    headcount: Mapped[int] = mapped_column(default=0)
    party_member_count: Mapped[int] = mapped_column(default=0)
    owner_name: Mapped[str] = mapped_column(sa.String(50), default="")
    owner_is_member: Mapped[bool] = mapped_column(default=False)
    owner_is_secretary: Mapped[bool] = mapped_column(default=False)

    district: Mapped[District] = relationship()
    branches: Mapped[list["Branch"]] = relationship(  # noqa: F821  (crm.branches.models)
        secondary=branch_organization, back_populates="organizations"
    )

    def __str__(self) -> str:
        return self.name

    @property
    def branch(self) -> "Branch | None":  # noqa: F821
        return self.branches[0] if self.branches else None
