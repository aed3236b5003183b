from flask import request
from sqlalchemy import select
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import Length

from crm import clock
from crm.assignments import services
from crm.branches.models import Branch, Sector
from crm.core.forms import Form, date_field, options
from crm.core.names import pinyin_order
from crm.extensions import db
from crm.http import whole_number
from crm.instructors.models import Instructor, InstructorStatus


class AssignForm(Form):
    """The choices of instructor_id and branch_id are filled by assign_form()."""

    instructor_id = SelectField("指导员", coerce=whole_number)
    branch_id = SelectField("党组织", coerce=whole_number)
    started_on = date_field("开始日期")
    reassign = BooleanField("改派：结束现任指导员的联系指导")


class EndForm(Form):
    ended_on = date_field("结束日期")
    reason = StringField("原因", validators=[Length(max=100)], default="")


def assign_form(
    *, instructor: Instructor | None = None, branch: Branch | None = None
) -> AssignForm:
    """An AssignForm offering the instructor's district's branches, or the branch's district's
    instructors, each labelled with who holds it or how many it holds."""
    form = AssignForm()
    if request.method == "GET":
        form.started_on.data = clock.today()
    if instructor is not None:
        form.instructor_id.choices = options([(instructor.id, instructor.name)])
        form.instructor_id.data = instructor.id
        form.branch_id.choices = options(_branch_choices(instructor.district_id))
    if branch is not None:
        form.branch_id.choices = options([(branch.id, branch.name)])
        form.branch_id.data = branch.id
        form.instructor_id.choices = options(_instructor_choices(branch.district_id))
    return form


def _branch_choices(district_id: int) -> list[tuple[int, str]]:
    branches = (
        db.session.execute(
            select(Branch)
            .where(
                Branch.district_id == district_id,
                Branch.sector == Sector.TWO_NEW,
                Branch.under_guidance.is_(True),
            )
            .order_by(Branch.name)
        )
        .scalars()
        .all()
    )
    guides = services.current_instructors(b.id for b in branches)
    return [
        (
            b.id,
            f"{b.name}（现由 {guides[b.id].name} 指导）"
            if b.id in guides
            else f"{b.name}（待分配）",
        )
        for b in sorted(branches, key=lambda b: b.id in guides)
    ]


def _instructor_choices(district_id: int) -> list[tuple[int, str]]:
    instructors = (
        db.session.execute(
            select(Instructor).where(
                Instructor.district_id == district_id, Instructor.status == InstructorStatus.ACTIVE
            )
        )
        .scalars()
        .all()
    )
    counts = services.current_counts(i.id for i in instructors)
    _, high = services.caseload_bounds()
    return [
        (i.id, f"{i.name}（已指导 {counts[i.id]}/{high}）")
        for i in sorted(instructors, key=lambda i: (counts[i.id], pinyin_order(i.name)))
    ]
