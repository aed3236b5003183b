"""Several servers (issue 9, docs/deploy.md): two gunicorn servers and two scheduler processes
on one throwaway PostgreSQL, photos, PDFs and spreadsheets waiting for their import in one
shared folder, the sign-in rate limit in Redis. Both servers see the same data; a spreadsheet
previewed on one is imported by the other; the month's reports are made once; the rate limit
is counted across both servers."""

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from crm import ROOT, clock, create_app
from crm.accounts.models import Role
from crm.extensions import db
from crm.organizations.models import District
from crm.reports.models import Report, ScheduledReport
from tests import factories as f
from tests.conftest import PASSWORD, settings
from tests.postgres import _free_port, throwaway_postgres
from tests.reliability.test_crash import start_server
from tests.transfer.conftest import workbook

BIN = Path(sys.executable).parent  # the virtual environment's programs
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@contextmanager
def redis_server(folder: Path) -> Iterator[str]:
    port = _free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        import redis

        client = redis.Redis(port=port)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait()


class Browser:
    def __init__(self) -> None:
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def get(self, url: str) -> str:
        with self.opener.open(url, timeout=20) as answer:
            return answer.read().decode()

    def post(self, url: str, fields: dict[str, str], token_from: str) -> int:
        fields = {**fields, "csrf_token": TOKEN.search(self.get(token_from)).group(1)}
        try:
            with self.opener.open(
                url, urllib.parse.urlencode(fields).encode(), timeout=20
            ) as answer:
                answer.read()
                return answer.status
        except urllib.error.HTTPError as error:
            return error.code

    def upload(self, url: str, fields: dict[str, str], file: Path, token_from: str) -> str:
        """A multipart/form-data post with one file, as the import page sends it; the page."""
        fields = {**fields, "csrf_token": TOKEN.search(self.get(token_from)).group(1)}
        boundary = "----crm-test-boundary"
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
            for k, v in fields.items()
        ]
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file.name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n".encode()
            + file.read_bytes()
            + f"\r\n--{boundary}--\r\n".encode()
        )
        request = urllib.request.Request(url, b"".join(parts), headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}"})  # fmt: skip
        with self.opener.open(request, timeout=60) as answer:
            return answer.read().decode()


@pytest.mark.slow
def test_two_servers_and_two_schedulers_share_one_database(tmp_path):
    with throwaway_postgres("crm_servers") as url, redis_server(tmp_path) as redis_url:
        app = create_app(settings(url))
        with app.app_context():
            upgrade()
            # Two districts rather than 20: the schedulers' month is then 4 PDFs, not 22.
            db.session.execute(
                sa.delete(District).where(District.name.not_in(("章贡区", "南康区")))
            )
            last_month = (clock.today().replace(day=1) - timedelta(days=1)).replace(day=15)
            assignment = f.AssignmentFactory(instructor__account__username="zdy",
                                             started_on=last_month.replace(day=1))  # fmt: skip
            f.VisitFactory(instructor=assignment.instructor, branch=assignment.branch,
                           visited_at=datetime.combine(last_month, datetime.min.time(), clock.LOCAL_TIME))  # fmt: skip
            branch_id = assignment.branch_id
            f.AccountFactory(username="admin", roles=[Role.ADMIN])
            districts = db.session.scalar(sa.select(sa.func.count()).select_from(District))
            db.engine.dispose()
        shared = tmp_path / "shared"
        env = {**os.environ, "CRM_DATABASE_URL": url, "CRM_SECRET_KEY": "two-servers",
               "CRM_MEDIA_DIR": str(shared / "media"), "CRM_REPORTS_DIR": str(shared / "reports"),
               "CRM_UPLOADS_DIR": str(shared / "uploads"), "CRM_TOTP_REQUIRED_ROLES": "[]",
               "CRM_RATELIMIT_STORAGE_URI": redis_url, "CRM_LOGIN_RATE_LIMIT": "5 per minute"}  # fmt: skip
        ports = [_free_port(), _free_port()]
        processes = [start_server(port, env, tmp_path / f"server-{port}.log") for port in ports]
        processes += [
            subprocess.Popen([str(BIN / "flask"), "--app", "wsgi", "jobs", "run"], cwd=ROOT,
                             env=env, stdout=(tmp_path / f"jobs-{n}.log").open("wb"),
                             stderr=subprocess.STDOUT, start_new_session=True)
            for n in (1, 2)
        ]  # fmt: skip
        try:
            a, b = (f"http://127.0.0.1:{port}" for port in ports)
            phone = Browser()
            assert (
                phone.post(f"{a}/login", {"username": "zdy", "password": PASSWORD}, f"{a}/login")
                == 200
            )
            form = f"/branches/{branch_id}/visits/new"
            saved = phone.post(a + form, {
                "client_key": "two-servers-0001", "visited_at": clock.now().strftime("%Y-%m-%dT%H:%M"),
                "kind": "onsite", "summary": "在甲服务器上记录的走访", "problems-0-category": "hiring",
                "problems-0-description": ""}, a + form)  # fmt: skip
            assert saved == 200  # (the redirect, followed)
            assert "在甲服务器上记录的走访" in phone.get(
                f"{b}/branches/{branch_id}"
            )  # the other server

            # A roster previewed on one server, its import confirmed on the other (the
            # uploads folder is shared).
            office = Browser()
            assert office.post(f"{b}/login", {"username": "admin", "password": PASSWORD},
                               f"{b}/login") == 200  # fmt: skip
            roster = workbook(tmp_path / "名册.xlsx", [
                ["姓名", "用户名", "手机号码", "县市区", "聘用日期", "状态"],
                ["陈晓", "zdy200", "13807971234", "章贡区", "2023-03-01", "在岗"]])  # fmt: skip
            preview = office.upload(f"{a}/transfer/preview", {"kind": "instructors"}, roster,
                                    f"{a}/transfer/")  # fmt: skip
            ticket = re.search(r'name="token" value="([^"]+)"', preview).group(1)
            assert office.post(f"{b}/transfer/commit", {"token": ticket}, f"{b}/transfer/") == 200
            assert "zdy200" in office.get(f"{a}/instructors/?q=zdy200")
            assert not list((shared / "uploads").iterdir())  # the imported file is gone

            stranger = Browser()
            codes = [stranger.post(f"{server}/login", {"username": "zdy", "password": "wrong-pass-1"},
                                   f"{server}/login") for server in (b, a, b, a, b)]  # fmt: skip
            # Five a minute from one address, counted across both servers: the phone's sign-in
            # on the first and the office's on the second were two of them.
            assert codes == [422, 422, 422, 429, 429]

            with app.app_context():
                expected = 1 + districts + 1  # the instructor, every district, the city
                deadline = time.monotonic() + 240
                while time.monotonic() < deadline:
                    made = db.session.scalar(sa.select(sa.func.count()).select_from(Report))
                    pending = db.session.scalar(sa.select(sa.func.count()).select_from(ScheduledReport)
                                                .where(ScheduledReport.report_id.is_(None)))  # fmt: skip
                    db.session.rollback()
                    if made >= expected and pending == 0:
                        break
                    time.sleep(1)
                subjects = db.session.execute(
                    sa.select(Report.subject, Report.month, sa.func.count()).group_by(Report.subject, Report.month)
                ).all()  # fmt: skip
                db.engine.dispose()
            assert len(subjects) == expected
            assert {count for _, _, count in subjects} == {
                1
            }  # each report made once, by one scheduler
            assert {month for _, month, _ in subjects} == {last_month.replace(day=1)}
            pdfs = list((shared / "reports").rglob("*.pdf"))
            assert len(pdfs) == expected
        finally:
            for process in processes:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)
