from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from crm.accounts.models import Role
from crm.assignments import services
from crm.assignments.models import Assignment
from crm.audit.models import AuditEntry
from crm.branches.models import Sector
from crm.extensions import db
from crm.instructors.models import InstructorStatus
from crm.rules import RuleError
from tests import factories as f


def rows(model) -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def test_eleventh_assignment_is_refused_and_nothing_written(app):
    with app.app_context():
        instructor = f.InstructorFactory()
        for _ in range(10):
            services.assign(instructor, f.BranchFactory(), on=date(2026, 1, 5))
        db.session.commit()
        eleventh = f.BranchFactory()
        before = rows(Assignment), rows(AuditEntry)

        with pytest.raises(services.AssignmentLimitError, match="达到上限"):
            services.assign(instructor, eleventh, on=date(2026, 1, 5))
        db.session.rollback()

        assert (rows(Assignment), rows(AuditEntry)) == before
        assert services.current_count(instructor.id) == 10


def test_the_bounds_are_settings(app):
    app.config["ASSIGNMENT_MAX"] = 3
    with app.app_context():
        instructor = f.InstructorFactory()
        for _ in range(3):
            services.assign(instructor, f.BranchFactory(), on=date(2026, 1, 5))
        with pytest.raises(services.AssignmentLimitError, match="已联系指导 3 个"):
            services.assign(instructor, f.BranchFactory(), on=date(2026, 1, 5))


def test_a_branch_held_by_another_is_refused_unless_reassigned(app):
    with app.app_context():
        held = f.AssignmentFactory(started_on=date(2024, 3, 1))
        newcomer = f.InstructorFactory()
        with pytest.raises(services.BranchHeldError, match="如需改派"):
            services.assign(newcomer, held.branch, on=date(2026, 2, 1))
        db.session.rollback()
        assert services.current_assignment(held.branch_id).instructor_id == held.instructor_id


def test_reassignment_keeps_the_history(app):
    with app.app_context():
        first = f.AssignmentFactory(started_on=date(2024, 3, 1))
        successor = f.InstructorFactory()
        services.assign(successor, first.branch, on=date(2026, 2, 1), reassign=True)
        db.session.commit()

        history = services.history_of_branch(first.branch_id)
        assert [(a.instructor_id, a.started_on, a.ended_on) for a in history] == [
            (successor.id, date(2026, 2, 1), None),
            (first.instructor_id, date(2024, 3, 1), date(2026, 2, 1)),
        ]
        assert "改派" in history[1].end_reason


def test_reassignment_cannot_start_before_the_current_one(app):
    with app.app_context():
        held = f.AssignmentFactory(started_on=date(2025, 6, 1))
        with pytest.raises(RuleError, match="不能早于"):
            services.assign(f.InstructorFactory(), held.branch, on=date(2025, 5, 1), reassign=True)


def test_assigning_the_same_branch_twice_is_refused(app):
    with app.app_context():
        held = f.AssignmentFactory()
        with pytest.raises(services.BranchHeldError, match="已由"):
            services.assign(held.instructor, held.branch, on=date(2026, 1, 1))


def test_agency_branches_are_not_assigned(app):
    with app.app_context(), pytest.raises(RuleError, match="机关企事业单位党组织"):
        services.assign(f.InstructorFactory(), f.AgencyBranchFactory(), on=date(2026, 1, 1))


def test_an_instructor_who_left_gets_no_branches(app):
    with app.app_context():
        instructor = f.InstructorFactory(status=InstructorStatus.LEFT)
        with pytest.raises(RuleError, match="已离岗"):
            services.assign(instructor, f.BranchFactory(), on=date(2026, 1, 1))


def test_fewer_than_five_is_allowed_and_flagged(app):
    with app.app_context():
        admin = f.AccountFactory(roles=[Role.ADMIN])
        light = f.InstructorFactory()
        for _ in range(4):
            services.assign(light, f.BranchFactory(), on=date(2026, 1, 5))
        full = f.InstructorFactory()
        for _ in range(5):
            services.assign(full, f.BranchFactory(), on=date(2026, 1, 5))
        db.session.commit()
        flags = {row.instructor.id: (row.count, row.flag) for row in services.caseloads(admin)}
        assert flags == {light.id: (4, "under"), full.id: (5, "")}


def test_the_database_itself_refuses_two_current_holders(app):
    with app.app_context():
        held = f.AssignmentFactory()
        db.session.add(
            Assignment(instructor=f.InstructorFactory(), branch_id=held.branch_id,
                       started_on=date(2026, 1, 1))
        )  # fmt: skip
        with pytest.raises(IntegrityError):
            db.session.flush()


def test_ending_an_assignment_frees_the_branch(app):
    with app.app_context():
        held = f.AssignmentFactory(started_on=date(2024, 1, 1))
        services.end_assignment(held, on=date(2026, 3, 1), reason="调岗")
        db.session.commit()
        assert services.current_assignment(held.branch_id) is None
        queue = db.session.execute(services.unassigned_branches()).scalars().all()
        assert [b.id for b in queue] == [held.branch_id]
        assert held.branch.sector is Sector.TWO_NEW
