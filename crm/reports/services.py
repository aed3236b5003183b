"""Making, keeping and finding the monthly reports."""

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from crm import clock
from crm.accounts.models import Account, Role
from crm.assignments.models import Assignment
from crm.assignments.services import caseload_bounds, instructor_scope
from crm.audit import anchors
from crm.core.pdf import render_pdf
from crm.extensions import db, writing
from crm.instructors.models import Instructor
from crm.instructors.services import in_post_at, in_post_during
from crm.organizations.models import District
from crm.reports import content, tables
from crm.reports.models import Report, ReportKind
from crm.review import figures
from crm.rules import RuleError

ISSUER = "中共赣州市小个专综合党委"


@dataclass(frozen=True)
class Subject:
    """What one report is about: an instructor, a district, or the city (neither)."""

    kind: ReportKind
    id: int | None = None

    @property
    def key(self) -> str:
        return self.kind.value if self.id is None else f"{self.kind.value}:{self.id}"

    @classmethod
    def parse(cls, key: str) -> "Subject":
        kind, _, number = key.partition(":")
        return cls(ReportKind(kind), int(number) if number else None)


def parse_month(text: str, today: date) -> date:
    """ "2026-10" → its first day; refused when it has not ended or no data can precede it."""
    try:
        year, number = (int(part) for part in text.strip().split("-"))
        first = date(year, number, 1)
    except ValueError:
        raise RuleError("月份格式应为 YYYY-MM，例如 2026-10。", "month") from None
    if first >= today.replace(day=1):
        raise RuleError("只能生成已经结束的月份的报告。", "month")
    if first < earliest_month():
        raise RuleError(
            f"{first:%Y-%m} 早于系统中最早的数据（{earliest_month():%Y-%m}）。", "month"
        )
    return first


def earliest_month() -> date:
    """The first month any assignment was in force: nothing can be reported before it."""
    first = db.session.scalar(select(func.min(Assignment.started_on)))
    return (first or clock.today()).replace(day=1)


def monthly_subjects(month: date | None = None) -> list[Subject]:
    """Every report of a month: the city, each district, each instructor in post at any time
    in it (without a month: each instructor in post now)."""
    if month is None:
        today = clock.today()
        in_post = in_post_at(today)
    else:
        period = content.period_of(month)
        in_post = in_post_during(period.first, period.last)
    instructors = db.session.scalars(select(Instructor.id).where(in_post).order_by(Instructor.id))
    districts = db.session.scalars(select(District.id).order_by(District.position))
    return [  # the city's and the districts' first: what a reviewer opens first
        Subject(ReportKind.CITY),
        *(Subject(ReportKind.DISTRICT, d) for d in districts),
        *(Subject(ReportKind.INSTRUCTOR, i) for i in instructors),
    ]


def make(subject: Subject, month: date, *, by: Account | None) -> Report:
    """Render the report and its workbook and keep them as the subject's next version for the
    month, with what differs from the version before (Report.changes).

    Rendering reads only; the files and their row are written together at the end, under the
    write lock, and committed here (a report is kept whole or not at all), so the lock is held
    for milliseconds rather than for the rendering.
    """
    period = content.period_of(month)
    prepared = _prepared(subject, period)
    made_at = clock.now()
    pdf = render_pdf(
        prepared.template,
        title=prepared.title,
        period=period,
        issuer=ISSUER,
        cadence=current_app.config["VISIT_CADENCE_DAYS"],
        **prepared.context,
    )
    workbook = tables.workbook(prepared.tables, prepared.title)
    for attempt in range(3):  # PostgreSQL: another maker may take the version number first
        try:
            return _keep(subject, month, prepared, pdf, workbook, made_at, by)
        except IntegrityError:
            db.session.rollback()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _keep(
    subject: Subject,
    month: date,
    prepared: "Prepared",
    pdf: bytes,
    workbook: bytes,
    made_at: datetime,
    by: Account | None,
) -> Report:
    digest = hashlib.sha256(pdf).hexdigest()
    figures_now = tables.to_json(prepared.tables)
    with writing():
        previous = db.session.scalar(
            select(Report)
            .where(Report.subject == subject.key, Report.month == month)
            .order_by(Report.version.desc())
            .limit(1)
        )
        version = 1 + (previous.version if previous else 0)
        relative = (
            Path(f"{month:%Y-%m}") / f"{subject.key.replace(':', '-')}-v{version}-{digest[:12]}.pdf"
        )
        target = Path(current_app.config["REPORTS_DIR"]) / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(pdf)  # before the row: a row never names a missing file
        target.with_suffix(".xlsx").write_bytes(workbook)
        report = Report(
            kind=subject.kind,
            subject=subject.key,
            title=prepared.title,
            month=month,
            version=version,
            sha256=digest,
            size=len(pdf),
            path=str(relative),
            made_at=made_at,
            made_by_id=by.id if by else None,
            district_id=prepared.district_id,
            instructor_id=subject.id if subject.kind == ReportKind.INSTRUCTOR else None,
            figures=figures_now,
            changes=tables.differences(previous.figures, figures_now) if previous else None,
            same_as_previous=previous is not None and previous.sha256 == digest,
        )
        db.session.add(report)
        db.session.commit()
    return report


@dataclass(frozen=True)
class Prepared:
    """What a report is made from: its template and context, and its figures as tables."""

    template: str
    title: str
    context: dict
    district_id: int | None
    tables: list[tables.Table]


def _prepared(subject: Subject, period: figures.Period) -> Prepared:
    low, high = caseload_bounds()
    if subject.kind == ReportKind.INSTRUCTOR:
        instructor = db.session.get(Instructor, subject.id)
        if instructor is None:
            raise RuleError("没有这名指导员。", "instructor")
        month = content.instructor_month(instructor, period)
        line = f"指导员：{instructor.name}（{instructor.district.name}）"
        return Prepared(
            "reports/instructor.html",
            f"{instructor.name}同志党建指导工作月报",
            {"month": month, "subject_line": line},
            instructor.district_id,
            tables.of_instructor(month),
        )
    district = None
    if subject.kind == ReportKind.DISTRICT:
        district = db.session.get(District, subject.id)
        if district is None:
            raise RuleError("没有这个县（市、区）。", "district")
    area = content.area_month(district, period)
    where = district.name if district else "全市"
    title = f"{district.name if district else '赣州市'}两新组织党建指导工作月报"
    context = {
        # The city's report anchors the audit log on paper: its head at the month's end.
        "audit_anchor": anchors.head_at(period.stop) if district is None else None,
        "area": area,
        "metrics": [figures.METRIC[k] for k in tables.AREA_KEYS],
        "rates": tables.AREA_RATES,
        "low": low,
        "high": high,
        "subject_line": f"范围：{where}",
        "instructor_columns": content.INSTRUCTOR_COLUMNS,
    }
    return Prepared(
        "reports/area.html", title, context, district.id if district else None, tables.of_area(area)
    )


def file_of(report: Report) -> Path:
    return Path(current_app.config["REPORTS_DIR"]) / report.path


def report_scope(account: Account) -> ColumnElement[bool]:
    """The reports an account may see: an instructor their own, a district reviewer their
    district's (not the city's), admins and city reviewers all."""
    if account.sees_everything:
        return true()
    visible = []
    if account.has_role(Role.REVIEWER):
        visible.append(
            and_(Report.district_id == account.scope_district_id, Report.kind != ReportKind.CITY)
        )
    if account.has_role(Role.INSTRUCTOR):
        own = select(Instructor.id).where(Instructor.account_id == account.id)
        visible.append(Report.instructor_id.in_(own))
    return or_(*visible) if visible else false()


def visible_report(account: Account, report_id: int) -> Report | None:
    return db.session.scalar(select(Report).where(Report.id == report_id, report_scope(account)))


def reports_of(account: Account) -> Select:
    return (
        select(Report)
        .where(report_scope(account))
        .options(selectinload(Report.made_by))
        .order_by(Report.month.desc(), Report.kind, Report.subject, Report.version.desc())
    )


def subjects_for(account: Account) -> list[tuple[str, str, str]]:
    """(subject key, label, group) of every report the account may make, in three groups:
    全市, 县市区, 指导员 (the picker's optgroups)."""
    choices: list[tuple[str, str, str]] = []
    if account.sees_everything:
        choices.append((Subject(ReportKind.CITY).key, "全市工作月报", "全市"))
    districts = db.session.scalars(select(District).order_by(District.position)).all()
    for district in districts:
        if account.sees_everything or (
            account.has_role(Role.REVIEWER) and account.scope_district_id == district.id
        ):
            choices.append(
                (
                    Subject(ReportKind.DISTRICT, district.id).key,
                    f"{district.name}工作月报",
                    "县市区",
                )
            )
    instructors = db.session.scalars(
        select(Instructor)
        .join(Instructor.account)
        .where(instructor_scope(account))
        .options(selectinload(Instructor.account), selectinload(Instructor.district))
        .order_by(Instructor.district_id, Instructor.id)
    ).all()
    choices += [
        (
            Subject(ReportKind.INSTRUCTOR, i.id).key,
            f"{i.name}（{i.district.name}）指导员月报",
            "指导员",
        )
        for i in instructors
    ]
    return choices


def past_months(today: date) -> list[date]:
    """Every ended month with data, newest first."""
    months, month = [], (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    first = earliest_month()
    while month >= first:
        months.append(month)
        month = (month - timedelta(days=1)).replace(day=1)
    return months
