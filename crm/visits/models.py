from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.branches.models import Branch
from crm.db import Audited, LabeledEnum, TimestampMixin
from crm.extensions import db
from crm.instructors.models import Instructor
from crm.photos.models import Photo
from crm.problems.models import Problem


class VisitKind(LabeledEnum):
    ONSITE = "onsite", "实地走访"
    ORGANIZATION_LIFE = "org_life", "参加组织生活"
    ACTIVITY = "activity", "指导活动"
    REMOTE = "remote", "电话/视频"


class Clarity(LabeledEnum):
    """五清五促: the five things an instructor should know about a branch."""

    PEOPLE = "people", "人员清"
    OPERATION = "operation", "组织运行清"
    NEEDS = "needs", "需求清"
    BASE = "base", "基础清"
    RESOURCES = "resources", "资源清"

    @property
    def column(self) -> str:
        return f"clarified_{self.value}"


visit_photo = sa.Table(
    "visit_photo",
    db.metadata,
    sa.Column("visit_id", sa.ForeignKey("visit.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("photo_id", sa.ForeignKey("photo.id"), primary_key=True, unique=True),
)


class Visit(Audited, TimestampMixin, db.Model):
    """走访记录: an instructor's visit to a branch (or call), what was done and who was met.

    `client_key` is made on the phone: the same form sent twice is one visit. `received_at`
    is the server's time; a visit received more than BACKFILL_DAYS after `visited_at` is 补录.
    """

    __tablename__ = "visit"
    __table_args__ = (
        sa.UniqueConstraint("instructor_id", "client_key"),
        sa.Index("ix_visit_branch_visited_at", "branch_id", "visited_at"),
        sa.Index("ix_visit_instructor_visited_at", "instructor_id", "visited_at"),
        # The review's counts by period, and the flagged-visit alert, from the index alone.
        sa.Index(
            "ix_visit_visited_at_flags", "visited_at", "backfilled", "far_from_branch", "branch_id"
        ),
        sa.Index("ix_visit_instructor_received_at", "instructor_id", "received_at"),
        # "Visited on site within the cadence?" answered from the index alone.
        sa.Index("ix_visit_branch_kind_visited_at", "branch_id", "kind", "visited_at"),
        # The few visits sent back, each instructor's found without reading their others (the
        # morning digests ask for 500 instructors' at once).
        sa.Index(
            "ix_visit_returned",
            "instructor_id",
            "returned_at",
            postgresql_where=sa.text("returned_at IS NOT NULL"),
            sqlite_where=sa.text("returned_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instructor_id: Mapped[int] = mapped_column(sa.ForeignKey("instructor.id"))
    branch_id: Mapped[int] = mapped_column(sa.ForeignKey("branch.id"))
    client_key: Mapped[str] = mapped_column(sa.String(64))
    visited_at: Mapped[datetime]
    received_at: Mapped[datetime]
    kind: Mapped[VisitKind]
    summary: Mapped[str] = mapped_column(sa.Text)
    people_met: Mapped[str] = mapped_column(sa.String(200), default="")
    clarified_people: Mapped[bool] = mapped_column(default=False)
    clarified_operation: Mapped[bool] = mapped_column(default=False)
    clarified_needs: Mapped[bool] = mapped_column(default=False)
    clarified_base: Mapped[bool] = mapped_column(default=False)
    clarified_resources: Mapped[bool] = mapped_column(default=False)
    latitude: Mapped[Decimal | None] = mapped_column(sa.Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(sa.Numeric(9, 6))
    accuracy_m: Mapped[int | None]
    distance_m: Mapped[int | None]
    far_from_branch: Mapped[bool] = mapped_column(default=False)
    backfilled: Mapped[bool] = mapped_column(default=False)
    # Set when a reviewer sends the visit back; cleared when the instructor corrects it.
    returned_at: Mapped[datetime | None]
    return_note: Mapped[str] = mapped_column(sa.String(500), default="")

    instructor: Mapped[Instructor] = relationship()
    branch: Mapped[Branch] = relationship()
    photos: Mapped[list[Photo]] = relationship(secondary=visit_photo, order_by=Photo.id)
    problems: Mapped[list[Problem]] = relationship(back_populates="visit", order_by=Problem.id)

    def __str__(self) -> str:
        return f"{self.kind.label} {self.branch_id} {self.visited_at:%Y-%m-%d}"

    @property
    def clarified(self) -> list[Clarity]:
        return [item for item in Clarity if getattr(self, item.column)]
