"""factory_boy factories. Use them inside an app context; each commits what it makes."""

import functools
import hashlib
import io
import os
from datetime import date, timedelta
from itertools import count
from pathlib import Path
from uuid import uuid4

import factory
from argon2 import PasswordHasher
from factory.alchemy import SQLAlchemyModelFactory
from flask import current_app
from PIL import Image
from sqlalchemy import select

from crm import clock
from crm.accounts.models import Account, AccountRole, Role
from crm.assignments.models import Assignment
from crm.branches.models import Branch, BranchKind, GuidanceSpell, Sector
from crm.cards.models import (
    Goal,
    GoalCard,
    VanguardCard,
    VanguardCategory,
    VanguardEntry,
)
from crm.extensions import db
from crm.instructors.models import Instructor, InstructorStatus
from crm.meetings.models import Meeting, MeetingKind
from crm.members.models import Member, MemberRole
from crm.organizations.models import District, Organization, OrganizationKind
from crm.pairings.models import Pairing
from crm.photos import services as photos
from crm.problems.models import Problem, ProblemCategory, ProblemStatus, ProblemStep
from crm.reports.models import Report, ReportKind
from crm.review.models import SpotCheck

__all__ = ["Branch", "Instructor"]
from crm.visits.models import Visit, VisitKind
from tests.conftest import PASSWORD, TEST_HASHING

# Hashed once, with the tests' cheap parameters (the app's in tests, so no rehash at sign-in).
PASSWORD_HASH = PasswordHasher(**TEST_HASHING).hash(PASSWORD)

_codes = count(100_000_000)  # far from the literal codes tests write (valid_credit_code(900))


def valid_credit_code(n: int) -> str:
    """A distinct valid code per n: 17 characters, then the check character, found by
    trying every candidate against the weighted sum mod 31 written out here again."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = [3**i % 31 for i in range(17)]
    first17 = f"91360702{n:09d}"
    for check in alphabet:
        total = sum(
            alphabet.index(c) * w for c, w in zip(first17 + check, [*weights, 1], strict=True)
        )
        if total % 31 == 0:
            return first17 + check
    raise AssertionError("no check character found")


def district(name: str = "章贡区") -> District:
    return db.session.execute(select(District).where(District.name == name)).scalar_one()


class Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"


class AccountFactory(Base):
    class Meta:
        model = Account

    username = factory.Sequence(lambda n: f"user{n:03d}")
    name = factory.Sequence(lambda n: f"用户{n}")
    password_hash = PASSWORD_HASH

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for role in extracted or [Role.INSTRUCTOR]:
            self.role_rows.append(AccountRole(role=role))
        if create:
            db.session.commit()


class InstructorFactory(Base):
    class Meta:
        model = Instructor

    account = factory.SubFactory(AccountFactory, roles=[Role.INSTRUCTOR])
    phone = factory.Sequence(lambda n: f"138{n:08d}")
    district = factory.LazyFunction(district)
    hired_on = date(2022, 3, 1)
    status = InstructorStatus.ACTIVE
    left_on = factory.LazyAttribute(
        lambda i: clock.today() if i.status is InstructorStatus.LEFT else None
    )
    # Entered when hired, as the instructors already on the platform were.
    created_at = factory.LazyAttribute(lambda i: clock.local_midnight(i.hired_on))


class OrganizationFactory(Base):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"赣州测试{n}有限公司")
    kind = OrganizationKind.ENTERPRISE
    credit_code = factory.LazyFunction(lambda: valid_credit_code(next(_codes)))
    district = factory.LazyFunction(district)
    address = "赣州市章贡区文清路1号"


class BranchFactory(Base):
    class Meta:
        model = Branch

    name = factory.Sequence(lambda n: f"测试党支部{n}")
    kind = BranchKind.BRANCH
    sector = Sector.TWO_NEW
    district = factory.LazyFunction(district)
    secretary_name = "李书记"
    secretary_phone = factory.Sequence(lambda n: f"139{n:08d}")
    member_count = 5
    under_guidance = True
    organizations = factory.LazyAttribute(
        lambda branch: (
            [OrganizationFactory(district=branch.district)]
            if branch.sector is Sector.TWO_NEW
            else []
        )
    )

    @factory.post_generation
    def listed_since(self, create, extracted, **kwargs):
        """A branch made listed has been listed since `listed_since` (2020-01-01 unless
        given), as the branches already on the platform were; listing one later writes a
        spell from that day (crm.branches.services)."""
        if create and self.under_guidance:
            spell = db.session.scalar(
                select(GuidanceSpell).where(GuidanceSpell.branch_id == self.id)
            )
            spell.started_on = extracted or date(2020, 1, 1)  # through the session's hooks
            db.session.commit()


class AgencyBranchFactory(BranchFactory):
    name = factory.Sequence(lambda n: f"赣州市某局机关第{n}党支部")
    sector = Sector.AGENCY
    under_guidance = False


class AssignmentFactory(Base):
    class Meta:
        model = Assignment

    instructor = factory.SubFactory(InstructorFactory)
    branch = factory.SubFactory(BranchFactory)
    started_on = date(2024, 1, 1)


class PairingFactory(Base):
    class Meta:
        model = Pairing

    agency_branch = factory.SubFactory(AgencyBranchFactory)
    branch = factory.SubFactory(BranchFactory)
    started_on = date(2024, 1, 1)
    created_at = factory.LazyAttribute(lambda p: clock.local_midnight(p.started_on))


class VisitFactory(Base):
    class Meta:
        model = Visit

    instructor = factory.SubFactory(InstructorFactory)
    branch = factory.SubFactory(BranchFactory)
    client_key = factory.LazyFunction(lambda: uuid4().hex)
    visited_at = factory.LazyFunction(lambda: clock.now() - timedelta(days=3))
    received_at = factory.LazyAttribute(lambda visit: visit.visited_at)
    kind = VisitKind.ONSITE
    summary = "了解企业用工情况，指导支部开展主题党日。"


class ProblemFactory(Base):
    class Meta:
        model = Problem

    branch = factory.SubFactory(BranchFactory)
    raised_by = factory.LazyAttribute(lambda problem: AccountFactory())
    raised_on = factory.LazyFunction(lambda: clock.today() - timedelta(days=5))
    category = ProblemCategory.HIRING
    description = "企业招工难，需要对接人社部门。"
    due_on = factory.LazyAttribute(lambda problem: problem.raised_on + timedelta(days=30))

    @factory.post_generation
    def first_step(self, create, extracted, **kwargs):
        """Its steps: raised on its day, closed on `closed_on` if it is closed."""
        self.steps.append(ProblemStep(from_status=None, to_status=ProblemStatus.OPEN,
                                      note="登记问题", on=self.raised_on, by=self.raised_by))  # fmt: skip
        if self.status is not ProblemStatus.OPEN:
            self.steps.append(ProblemStep(
                from_status=ProblemStatus.OPEN, to_status=self.status, note=self.resolution or "办理",
                on=self.closed_on or self.raised_on, by=self.raised_by))  # fmt: skip
        if create:
            db.session.commit()


def noisy_jpeg(size: tuple[int, int] = (2400, 1800)) -> bytes:
    """A photo-like JPEG: detail everywhere (random colours, smoothed), so it compresses as badly
    as a real one of a factory yard does."""
    rough = Image.frombytes(
        "RGB", (size[0] // 8, size[1] // 8), os.urandom(size[0] * size[1] * 3 // 64)
    )
    out = io.BytesIO()
    rough.resize(size, Image.BICUBIC).save(out, format="JPEG", quality=90)
    return out.getvalue()


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (40, 30), **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format=fmt, **save)
    return out.getvalue()


def stored_photo() -> photos.StoredPhoto:
    return photos.store_upload(io.BytesIO(image_bytes()), "test.png")


def photo_row(account_id: int):
    row = photos.save_rows([stored_photo()], account_id)[0]
    db.session.commit()
    return row


def pending_photo_token(account_id: int) -> str:
    return photos.pending_token(stored_photo(), account_id)


class MemberFactory(Base):
    class Meta:
        model = Member

    branch = factory.SubFactory(BranchFactory)
    name = factory.Sequence(lambda n: f"党员{n}")
    role = MemberRole.MEMBER
    phone = factory.Sequence(lambda n: f"137{n:08d}")
    joined_on = date(2015, 7, 1)


class MeetingFactory(Base):
    class Meta:
        model = Meeting

    branch = factory.SubFactory(BranchFactory)
    kind = MeetingKind.DIALOGUE
    held_on = factory.LazyFunction(lambda: clock.today() - timedelta(days=10))
    topics = "职工工资与福利"
    client_key = factory.LazyFunction(lambda: uuid4().hex)
    created_by = factory.SubFactory(AccountFactory)


class GoalCardFactory(Base):
    class Meta:
        model = GoalCard

    member = factory.SubFactory(MemberFactory, role=MemberRole.SECRETARY)
    branch_id = factory.LazyAttribute(lambda card: card.member.branch_id)
    year = factory.LazyFunction(lambda: clock.today().year)
    goals = factory.LazyFunction(
        lambda: [Goal(title="发展党员 2 名", target="2 名", measure="按期转正")]
    )


class VanguardEntryFactory(Base):
    class Meta:
        model = VanguardEntry

    card = factory.SubFactory("tests.factories.VanguardCardFactory")
    done_on = factory.LazyFunction(lambda: clock.today() - timedelta(days=1))
    deed = "带头参加社区志愿服务"
    category = VanguardCategory.VOLUNTEER
    points = 3
    client_key = factory.LazyFunction(lambda: uuid4().hex)
    created_by_id = factory.LazyFunction(lambda: AccountFactory().id)


class VanguardCardFactory(Base):
    class Meta:
        model = VanguardCard

    member = factory.SubFactory(MemberFactory)
    year = factory.LazyFunction(lambda: clock.today().year)


class SpotCheckFactory(Base):
    class Meta:
        model = SpotCheck

    quarter = factory.LazyFunction(
        lambda: f"{clock.today().year}Q{(clock.today().month - 1) // 3 + 1}"
    )
    visit = factory.SubFactory(VisitFactory)
    drawn_by_id = factory.LazyFunction(lambda: AccountFactory().id)


@functools.cache
def small_pdf() -> bytes:
    from weasyprint import HTML

    return HTML(string="<p>测试月报</p>").write_pdf()


def report_row(instructor: Instructor, month: date = date(2026, 10, 1)) -> Report:
    """A stored instructor report: a small real PDF under REPORTS_DIR and its row."""
    body = small_pdf()
    relative = Path("test") / f"{uuid4().hex}.pdf"
    target = Path(current_app.config["REPORTS_DIR"]) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(body)
    report = Report(
        kind=ReportKind.INSTRUCTOR, subject=f"instructor:{instructor.id}", title="测试月报",
        district_id=instructor.district_id, instructor_id=instructor.id, month=month, version=1,
        sha256=hashlib.sha256(body).hexdigest(), size=len(body), path=str(relative),
    )  # fmt: skip
    db.session.add(report)
    db.session.commit()
    return report
