"""A closed month does not move: making October's reports again after November's imports,
edits and handovers gives the same figures, byte for byte; only a record dated inside
October (a 补录 visit) changes them, and the new version names what changed."""

from datetime import date, datetime, time

import time_machine

from crm import clock
from crm.accounts.models import Role
from crm.assignments import services as assignments
from crm.audit.services import acting_as
from crm.extensions import db
from crm.instructors import services as instructors
from crm.instructors.models import InstructorStatus
from crm.pairings import services as pairings
from crm.problems import services as problems
from crm.problems.models import ProblemCategory, ProblemStatus
from crm.reports import services
from crm.reports.models import ReportKind
from crm.transfer import tasks as transfer_tasks
from crm.visits import services as visits
from crm.visits.models import VisitKind
from tests import factories as f
from tests.factories import valid_credit_code
from tests.transfer.conftest import workbook

OCTOBER = date(2026, 10, 1)


def at(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour), clock.LOCAL_TIME)


def test_october_stays_as_it_was_until_a_record_dated_in_october_arrives(app, tmp_path):
    with app.app_context(), acting_as("test"):
        admin = f.AccountFactory(username="admin", roles=[Role.ADMIN])
        with time_machine.travel(at(date(2026, 9, 1)), tick=False):
            zhang = f.InstructorFactory(account__name="张伟")
            li = f.InstructorFactory(account__name="李娜")
            leaver = f.InstructorFactory(account__name="王磊")
            held = [f.BranchFactory(name=f"党支部{n}") for n in range(6)]
            for branch in held[:5]:
                assignments.assign(zhang, branch, on=date(2026, 9, 1))
            assignments.assign(li, held[5], on=date(2026, 9, 1))
            pairing = f.PairingFactory(branch=held[0], started_on=date(2025, 3, 1))
            db.session.commit()
        with time_machine.travel(at(date(2026, 10, 12)), tick=False):
            for branch in held[:3]:
                f.VisitFactory(instructor=zhang, branch=branch, visited_at=at(date(2026, 10, 12)))
            late = problems.raise_problem(
                held[1], problems.NewProblem(ProblemCategory.HIRING, "招工难"), by=admin,
                on=date(2026, 10, 12),
            )  # fmt: skip
            db.session.commit()
        subjects = [
            services.Subject(ReportKind.INSTRUCTOR, zhang.id),
            services.Subject(ReportKind.DISTRICT, zhang.district_id),
            services.Subject(ReportKind.CITY),
        ]
        with time_machine.travel(at(date(2026, 11, 2)), tick=False):
            first = {s.key: services.make(s, OCTOBER, by=admin) for s in subjects}

        # November: imports, edits, handovers, a problem solved, a pairing ended, a leaver.
        with time_machine.travel(at(date(2026, 11, 20)), tick=False):
            _imports(tmp_path)
            problems.advance(late, ProblemStatus.SOLVED, note="已对接人社局", on=date(2026, 11, 20),
                             by=admin)  # fmt: skip
            assignments.hand_over(zhang, [assignments.Move(held[4], li)], on=date(2026, 11, 20),
                                  reason="工作调整")  # fmt: skip
            pairings.end_pairing(pairing, on=date(2026, 11, 20))
            instructors.set_status(leaver, InstructorStatus.LEFT, on=date(2026, 11, 20))
            db.session.commit()
            again = {s.key: services.make(s, OCTOBER, by=admin) for s in subjects}
        for key, report in again.items():
            assert report.version == 2
            assert report.changes == [], (key, report.changes)
            assert report.same_as_previous, key
            assert report.sha256 == first[key].sha256
            assert "完全相同" in report.change_summary

        # A visit to October, entered in December: 补录, and the only change.
        with time_machine.travel(at(date(2026, 12, 1)), tick=False):
            visit = visits.record_visit(zhang, held[3], visits.NewVisit(
                client_key="late-one", visited_at=at(date(2026, 10, 28), 15),
                kind=VisitKind.ONSITE, summary="补记十月走访",
            ))  # fmt: skip
            db.session.commit()
            assert visit.backfilled
            third = {s.key: services.make(s, OCTOBER, by=admin) for s in subjects}
        mine = third[subjects[0].key]
        assert not mine.same_as_previous
        assert "概况：本月走访的“数值”由 3 变为 4" in mine.changes
        assert any(line.startswith("走访记录新增：2026-10-28 15:00") and "补记十月走访" in line
                   for line in mine.changes)  # fmt: skip
        area = third[subjects[1].key]
        assert "主要指标：走访的“2026 年 10 月”由 3 变为 4" in area.changes
        assert "指导员工作量：张伟的“本月走访”由 3 变为 4" in area.changes
        assert "指导员工作量：合计的“本月走访”由 3 变为 4" in area.changes


def _imports(tmp_path) -> None:
    """Instructors hired long ago, a branch listed for guidance and a pairing begun in 2025,
    all entered now: none of them was on the platform in October."""
    hired = workbook(tmp_path / "i.xlsx", [
        ["姓名", "用户名", "手机号码", "县市区", "聘用日期", "状态"],
        ["陈晓", "zdy200", "13807971234", "章贡区", "2023-03-01", "在岗"],
        ["刘洋", "zdy201", "13807971235", "章贡区", "2024-05-01", "在岗"],
    ])  # fmt: skip
    assert transfer_tasks.import_file("instructors", hired).committed
    organizations = workbook(tmp_path / "o.xlsx", [
        ["组织名称", "统一社会信用代码", "组织类型", "县市区", "党组织名称", "是否列入联系指导"],
        ["赣州新办电子有限公司", valid_credit_code(900), "非公企业", "章贡区", "新办电子党支部", "是"],
    ])  # fmt: skip
    assert transfer_tasks.import_file("organizations", organizations).committed
    agency = f.AgencyBranchFactory(name="赣州市商务局机关党支部")
    paired = workbook(tmp_path / "p.xlsx", [
        ["机关党组织", "两新党组织", "结对日期"],
        [agency.name, "新办电子党支部", "2025-01-01"],
    ])  # fmt: skip
    assert transfer_tasks.import_file("pairings", paired).committed
