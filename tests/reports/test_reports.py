"""Monthly reports: what they say (read back with poppler), versions, rights, the schedule.

Expected figures are counted here from the data the tests make, not by crm.reports.
"""

import io
import re
import subprocess
import threading
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import time_machine
from openpyxl import load_workbook

from crm import clock
from crm.accounts.models import Role
from crm.audit.models import AuditEntry
from crm.extensions import db
from crm.jobs import cli
from crm.problems.models import ProblemStatus
from crm.reports import services, tasks
from crm.reports.models import Report, ReportKind, ScheduledReport
from crm.visits.models import VisitKind
from tests import factories as f

NOON = datetime(2026, 11, 27, 12, 0, tzinfo=clock.LOCAL_TIME)
OCTOBER = date(2026, 10, 1)
PAGES = Path(__file__).resolve().parents[2] / "build" / "report-pages"  # named in the README


def at(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), clock.LOCAL_TIME) + timedelta(hours=10)


def text_of(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout  # fmt: skip


def keep_first_page(path: Path, name: str) -> None:
    """A page of each report as PNG, for a person to look at."""
    PAGES.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile",
                    str(path), str(PAGES / name)], check=True)  # fmt: skip


# A month's batch with two districts (the two_districts fixture): the city, each district, 钟华.
BATCH = 1 + 2 + 1


@pytest.fixture
def october(app):
    """One instructor's October in 章贡区: three visits to one branch, none to the other since
    1 September; problems raised, solved and overdue."""
    with time_machine.travel(NOON, tick=False), app.app_context():
        zg = f.district("章贡区")
        me = f.InstructorFactory(district=zg, account__name="钟华", account__username="zh")
        kept, late = (f.AssignmentFactory(instructor=me, branch__district=zg,
                                          started_on=date(2024, 1, 1)).branch for _ in range(2))  # fmt: skip
        for day in (3, 10, 20):
            f.VisitFactory(instructor=me, branch=kept, visited_at=at(date(2026, 10, day)))
        f.VisitFactory(instructor=me, branch=late, visited_at=at(date(2026, 9, 1)),
                       kind=VisitKind.ONSITE)  # fmt: skip
        f.VisitFactory(instructor=me, branch=kept, visited_at=at(date(2026, 11, 2)))  # next month
        f.ProblemFactory(branch=kept, raised_on=date(2026, 10, 5), due_on=date(2026, 10, 15),
                         description="缺少熟练缝纫工")  # fmt: skip
        f.ProblemFactory(branch=late, raised_on=date(2026, 10, 8), due_on=date(2026, 11, 8),
                         status=ProblemStatus.SOLVED, closed_on=date(2026, 10, 12))  # fmt: skip
        f.ProblemFactory(branch=late, raised_on=date(2026, 9, 1), due_on=date(2026, 11, 30))
        f.MeetingFactory(branch=kept, held_on=date(2026, 10, 9))
        return {"instructor": me.id, "district": zg.id, "late": late.name}


@time_machine.travel(NOON, tick=False)
def test_the_instructor_report_says_what_happened_in_the_month(app, october):
    with app.app_context():
        subject = services.Subject(ReportKind.INSTRUCTOR, october["instructor"])
        report = services.make(subject, OCTOBER, by=None)
        path = services.file_of(report)
        text = text_of(path)
        fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True).stdout
        keep_first_page(path, "instructor")
    assert "钟华同志党建指导工作月报" in text
    assert "2026-10-01 至 2026-10-31" in text
    assert (
        "本月共走访 3 次，登记问题 2 个，解决 1 个；截至月末超期未走访的党组织 1 个，超期问题 1 个"
        in text
    )
    assert "本月登记：2 个" in text
    assert "本月解决：1 个" in text
    assert "超期未办结（截至月末）：1 个" in text
    assert "缺少熟练缝纫工" in text
    assert "超过 30 天未实地走访" in text
    assert october["late"] in text
    assert re.search(r"第\s*1\s*页\s*共\s*2\s*页", text)
    assert "审核人（签字）" in text
    listed = fonts.splitlines()[2:]  # below the header and its rule
    assert all("Noto-Sans-CJK-SC" in line for line in listed)  # no fallback font
    embedded = [line for line in fonts.splitlines() if "NotoSansCJK" in line.replace("-", "")]
    assert embedded
    assert all(" yes " in line for line in embedded)
    assert "Type 3" not in fonts  # no glyph drawn as a fallback shape


@time_machine.travel(NOON, tick=False)
def test_the_district_and_city_reports_compare_with_the_month_before(app, october):
    with app.app_context():
        district = services.make(
            services.Subject(ReportKind.DISTRICT, october["district"]), OCTOBER, by=None
        )
        city = services.make(services.Subject(ReportKind.CITY), OCTOBER, by=None)
        texts = {
            name: text_of(services.file_of(r))
            for name, r in (("district", district), ("city", city))
        }
        keep_first_page(services.file_of(district), "district")
        keep_first_page(services.file_of(city), "city")
    for text in texts.values():
        # How 指导员 and 在册结对 are counted since 0.3 is said under the figures.
        flat = re.sub(r"\s", "", text)
        assert "口径：自0.3起，在岗指导员按录入平台的日期计入月末" in flat
        assert "口径：自0.3起，在册结对按录入平台的日期计入月末" in flat
        # October: 3 visits; September: 1. Raised: 2 against 1.
        assert re.search(r"走访\s+3\s+1\s+\+2", text), text[:800]
        assert re.search(r"登记问题\s+2\s+1\s+\+1", text)
        assert "<svg" not in text
        assert "近12个月走访与解决问题" in re.sub(r"\s", "", text)  # the chart, drawn as text
    assert "钟华" in texts["district"]
    assert "章贡区" in texts["city"]
    assert "南康区" in texts["city"]


@time_machine.travel(NOON, tick=False)
def test_making_again_adds_a_version_and_keeps_the_old_one(app, october):
    import hashlib

    with app.app_context():
        subject = services.Subject(ReportKind.INSTRUCTOR, october["instructor"])
        first = services.make(subject, OCTOBER, by=None)
        second = services.make(subject, OCTOBER, by=None)
        files = [services.file_of(r) for r in (first, second)]
        assert [r.version for r in (first, second)] == [1, 2]
        for report, path in zip((first, second), files, strict=True):
            assert hashlib.sha256(path.read_bytes()).hexdigest() == report.sha256
        logged = db.session.scalars(
            sa.select(AuditEntry.object_id).where(AuditEntry.action == "report.create")
        ).all()
        assert sorted(logged) == sorted(str(r.id) for r in (first, second))


@pytest.mark.parametrize(("username", "own", "other"), [
    ("zdy-a", 200, 404), ("zdy-b", 404, 200), ("reviewer-zg", 200, 404),
    ("reviewer", 200, 200), ("admin", 200, 200), ("auditor", 403, 403),
])  # fmt: skip
def test_downloads_only_for_those_allowed_and_each_is_audited(
    app, client, auth, world, username, own, other
):
    with app.app_context():
        from crm.instructors.models import Instructor

        other_report = f.report_row(db.session.get(Instructor, world.instructor_b)).id
    auth.login(username)
    got = client.get(f"/reports/{world.report_a}.pdf")
    assert got.status_code == own
    assert client.get(f"/reports/{other_report}.pdf").status_code == other
    with app.app_context():
        logged = db.session.scalars(
            sa.select(AuditEntry.object_id).where(AuditEntry.action == "report.download")
        ).all()
    assert len(logged) == [own, other].count(200)
    if own == 200:
        assert got.data.startswith(b"%PDF")
        assert str(world.report_a) in logged


@time_machine.travel(NOON, tick=False)
def test_the_reports_page_makes_a_report_and_shows_a_bad_month_beside_its_field(
    app, client, auth, october
):
    auth.login("zh")
    page = client.get("/reports/")
    assert page.status_code == 200
    assert "2026 年 10 月" in page.text
    assert "全市工作月报" not in page.text
    subject = f"instructor:{october['instructor']}"
    made = client.post("/reports/", data={"month": "2026-10", "subject": subject})
    assert made.status_code == 303
    assert "钟华同志党建指导工作月报" in client.get("/reports/").text
    refused = client.post("/reports/", data={"month": "2026-12", "subject": subject})
    assert refused.status_code == 422
    assert 'class="field has-error"' in refused.text
    other = client.post("/reports/", data={"month": "2026-10", "subject": "city"})
    assert other.status_code == 422
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 1


@time_machine.travel(NOON, tick=False)
def test_the_command_refuses_bad_input_with_exit_code_2(app, runner, october):
    for args, message in (
        (["--month", "2026-13"], "YYYY-MM"),
        (["--month", "2026-12"], "已经结束"),
        (["--month", "2019-01"], "早于"),
        (["--month", "2026-10", "--instructor", "nobody"], "nobody"),
        (["--month", "2026-10", "--district", "不存在区"], "不存在区"),
    ):
        result = runner.invoke(args=["reports", "monthly", *args])
        assert result.exit_code == 2, args
        assert message in result.output


@time_machine.travel(NOON, tick=False)
def test_the_command_makes_one_report_and_copies_it_out(app, runner, october, tmp_path):
    result = runner.invoke(args=["reports", "monthly", "--month", "2026-10", "--instructor", "zh",
                                 "--out", str(tmp_path / "out")])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert sorted(p.suffix for p in (tmp_path / "out").iterdir()) == [".pdf", ".xlsx"]


@pytest.mark.postgresql  # two schedulers claim at once: the unique row decides
@time_machine.travel(NOON, tick=False)
def test_two_schedulers_at_once_make_each_report_once(app, two_districts, october):
    errors: list[BaseException] = []

    def scheduler():
        try:
            with app.app_context():
                tasks.run_scheduled(OCTOBER, workers=0)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with app.app_context():
        made = db.session.execute(
            sa.select(Report.subject, sa.func.count()).group_by(Report.subject)
        ).all()
        claims = db.session.scalars(sa.select(ScheduledReport)).all()
    assert len(made) == BATCH
    assert all(n == 1 for _, n in made)
    assert len(claims) == BATCH
    assert all(c.report_id for c in claims)


@time_machine.travel(NOON, tick=False)
def test_a_run_missed_while_down_is_made_at_start_and_only_once(app, two_districts, october):
    with app.app_context():
        assert cli.catch_up(NOON) == BATCH  # 27 November: October's run was due on the 1st
        assert cli.catch_up(NOON) == 0
        assert tasks.due_month(date(2026, 11, 1), hour_passed=False) == date(2026, 9, 1)
        assert tasks.due_month(date(2026, 11, 1), hour_passed=True) == OCTOBER


@time_machine.travel(NOON, tick=False)
def test_a_months_batch_runs_on_worker_processes(app, two_districts, runner, october):
    result = runner.invoke(args=["reports", "monthly", "--month", "2026-10", "--workers", "2"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        made = db.session.scalar(sa.select(sa.func.count()).select_from(Report))
    assert made == BATCH


@time_machine.travel(NOON, tick=False)
def test_a_months_batch_asked_for_from_the_web_shows_its_progress(
    app, two_districts, client, auth, october
):
    with app.app_context():
        f.AccountFactory(username="admin", roles=[Role.ADMIN])
        f.AccountFactory(username="reviewer-zg", roles=[Role.REVIEWER], scope_district=f.district())
    auth.login("reviewer-zg")
    refused = client.post("/reports/batches", data={"month": "2026-10"})
    assert refused.status_code == 422
    assert "只有管理员和市级审阅人员可以发起" in refused.text
    auth.logout()
    auth.login("admin")
    assert client.post("/reports/batches", data={"month": "2026-10"}).status_code == 303
    again = client.post("/reports/batches", data={"month": "2026-10"})
    assert again.status_code == 422
    assert "正在生成" in again.text
    queued = client.get("/reports/").text
    assert f"0/{BATCH}" in queued
    assert 'http-equiv="refresh"' in queued
    with app.app_context():
        assert tasks.run_queued(workers=0) is not None
        assert tasks.run_queued(workers=0) is None  # nothing left queued
    done = client.get("/reports/").text
    assert f"{BATCH}/{BATCH}" in done
    assert "已完成" in done
    assert 'http-equiv="refresh"' not in done


@time_machine.travel(NOON, tick=False)
def test_each_report_has_its_figures_as_a_workbook_with_the_pdfs_numbers(
    app, client, auth, october
):
    with app.app_context():
        f.AccountFactory(username="admin", roles=[Role.ADMIN])
        district = services.make(
            services.Subject(ReportKind.DISTRICT, october["district"]), OCTOBER, by=None
        )
        pdf_text = text_of(services.file_of(district))
        report_id = district.id
    auth.login("admin")
    answer = client.get(f"/reports/{report_id}.xlsx")
    assert answer.status_code == 200
    assert "attachment" in answer.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(answer.data))
    assert book.sheetnames == ["主要指标", "指导员工作量", "近12个月"]
    people = list(book["指导员工作量"].iter_rows(values_only=True))
    assert people[0][:4] == ("指导员", "联系指导", "本月走访", "超期未走访")
    # One row per instructor, then 合计: October's figures as counted in the fixture.
    assert people[1] == ("钟华", 2, 3, 1, 2, 1, 1, 1, 0)
    assert people[-1] == ("合计", 2, 3, 1, 2, 1, 1, 1, 0)
    # The PDF's row: the same numbers (联系指导 flagged 少于 5).
    assert re.search(r"钟华\s+2 少于 5\s+3\s+1\s+2\s+1\s+1\s+1\s+0", pdf_text)
    assert re.search(r"合计\s+2\s+3\s+1\s+2\s+1\s+1\s+1\s+0", pdf_text)
    main = {row[0]: row[1:] for row in book["主要指标"].iter_rows(min_row=2, values_only=True)}
    assert main["走访"] == (3, 1, 2)
    assert main["问题解决率（本月登记）"][0] == "50%"
    with app.app_context():
        f.AccountFactory(username="zdy-other", roles=[Role.INSTRUCTOR])
    auth.logout()
    auth.login("zdy-other")
    assert client.get(f"/reports/{report_id}.xlsx").status_code == 404


def test_a_report_is_offered_to_preview_and_to_download_under_its_chinese_name(
    app, client, auth, world
):
    """Issue 19.7: 预览 opens the PDF in the browser, 下载 saves it as an attachment whose name
    is the report's own, in Chinese."""
    from urllib.parse import unquote

    auth.login("admin")
    listed = client.get("/reports/").text
    assert f'href="/reports/{world.report_a}.pdf"' in listed
    assert f'href="/reports/{world.report_a}.pdf?download=1"' in listed
    preview = client.get(f"/reports/{world.report_a}.pdf")
    assert preview.headers["Content-Disposition"].startswith("inline")
    saved = client.get(f"/reports/{world.report_a}.pdf?download=1")
    disposition = saved.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    with app.app_context():
        from crm.reports.models import Report

        title = db.session.get(Report, world.report_a).title
    assert title in unquote(disposition)
    assert saved.data == preview.data
