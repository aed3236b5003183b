"""The web server killed (SIGKILL) in the middle of a stream of 1,000 visit posts.

Four phones post visits to gunicorn, every tenth with a photo, each retrying a post that got
no answer with the same key (as the outbox does). After about 400 answers the whole server
is killed, then started again. Afterwards the database passes its integrity check, holds every
visit whose post was answered with success, each once, and every photo a visit names is on disk.
"""

import http.client
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
from flask_migrate import upgrade

from crm import ROOT, create_app
from crm.extensions import db
from tests import factories as f
from tests.conftest import PASSWORD, settings
from tests.postgres import _free_port

BIN = Path(sys.executable).parent  # the virtual environment's programs
POSTS, PHONES, KILL_AFTER = 1000, 4, 400


def start_server(port: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the kill takes master and workers
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return server
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not start: {log.read_text()[-2000:]}")


def multipart(fields: dict[str, str], photo: bytes | None) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in fields.items()]  # fmt: skip
    if photo is not None:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; filename="p.jpg"\r\n'
                     "Content-Type: image/jpeg\r\n\r\n".encode() + photo + b"\r\n")  # fmt: skip
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class Phone(threading.Thread):
    def __init__(self, base: str, branch_id: int, keys: list[str], photo: bytes):
        super().__init__(daemon=True)
        self.base, self.branch_id, self.keys, self.photo = base, branch_id, keys, photo
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        self.acknowledged: list[str] = []
        self.failures = 0
        self.refused: list[str] = []  # an answer that was not success: the test fails on it

    def open(self, path: str, data: bytes | None = None, content_type: str | None = None):
        request = urllib.request.Request(
            self.base + path, data=data, headers={"Accept": "application/json"}
        )
        if content_type:
            request.add_header("Content-Type", content_type)
        return self.opener.open(request, timeout=10)

    def run(self) -> None:
        try:
            self._send_all()
        except Exception as error:  # a phone that stops for another reason must fail the test
            self.refused.append(f"stopped: {error!r}")

    def _send_all(self) -> None:
        form_path = f"/branches/{self.branch_id}/visits/new"
        page = self.opener.open(self.base + "/login", timeout=10).read().decode()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        body = f"csrf_token={token}&username=zdy&password={urllib.request.quote(PASSWORD)}".encode()
        self.opener.open(urllib.request.Request(self.base + "/login", data=body), timeout=10).read()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                          self.opener.open(self.base + form_path, timeout=10).read().decode()).group(1)  # fmt: skip
        for number, key in enumerate(self.keys):
            fields = {"csrf_token": token, "client_key": key, "visited_at": time.strftime("%Y-%m-%dT%H:%M"),
                      "kind": "onsite", "summary": f"压力走访 {key}",
                      "problems-0-category": "hiring", "problems-0-description": ""}  # fmt: skip
            data, content_type = multipart(fields, self.photo if number % 10 == 0 else None)
            while True:  # the outbox: the same key until the server answers
                try:
                    with self.open(form_path, data, content_type) as answer:
                        answer.read()  # all of it, so the connection closes at once
                except urllib.error.HTTPError as error:
                    self.refused.append(f"{error.code} {error.read()[:300]!r}")
                    return
                except (urllib.error.URLError, OSError, http.client.HTTPException):
                    # No answer, or half of one (killed while it wrote it, IncompleteRead): the
                    # server is down. The phone keeps the visit and sends it again.
                    self.failures += 1
                    time.sleep(0.2)
                    continue
                if answer.status != 201:
                    self.refused.append(str(answer.status))
                    return
                self.acknowledged.append(key)
                break


@pytest.mark.slow
def test_a_killed_server_loses_no_acknowledged_visit_and_doubles_none(tmp_path):
    database = tmp_path / "crash.sqlite3"
    app = create_app(settings(f"sqlite:///{database}", MEDIA_DIR=str(tmp_path / "media")))
    with app.app_context():
        upgrade()
        branch_id = f.AssignmentFactory(instructor__account__username="zdy").branch_id
        db.engine.dispose()
    env = {**os.environ, "CRM_DATABASE_URL": f"sqlite:///{database}", "CRM_SECRET_KEY": "crash-test",
           "CRM_MEDIA_DIR": str(tmp_path / "media"), "CRM_REPORTS_DIR": str(tmp_path / "reports")}  # fmt: skip
    port, log = _free_port(), tmp_path / "gunicorn.log"
    server = start_server(port, env, log)
    keys = [uuid.uuid4().hex for _ in range(POSTS)]
    photo = f.image_bytes("JPEG", (640, 480))
    phones = [
        Phone(f"http://127.0.0.1:{port}", branch_id, keys[i::PHONES], photo) for i in range(PHONES)
    ]
    try:
        for phone in phones:
            phone.start()
        while sum(len(p.acknowledged) for p in phones) < KILL_AFTER:
            assert [r for p in phones for r in p.refused] == []
            assert any(p.is_alive() for p in phones)
            time.sleep(0.01)
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
        answered_before_kill = {key for p in phones for key in p.acknowledged}
        time.sleep(1)  # posts fail while it is down
        server = start_server(port, env, log)
        deadline = time.monotonic() + 240
        for phone in phones:
            phone.join(timeout=max(1, deadline - time.monotonic()))
        assert not any(phone.is_alive() for phone in phones)
        assert [r for p in phones for r in p.refused] == []
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait()

    acknowledged = {key for p in phones for key in p.acknowledged}
    assert len(acknowledged) == POSTS
    assert len(answered_before_kill) >= KILL_AFTER
    assert sum(p.failures for p in phones) > 0  # the kill did land in the stream
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        stored = [row[0] for row in connection.execute("SELECT client_key FROM visit")]
        photos = [row[0] for row in connection.execute(
            "SELECT p.stored_name FROM photo p JOIN visit_photo vp ON vp.photo_id = p.id")]  # fmt: skip
    assert answered_before_kill <= set(stored)
    assert sorted(stored) == sorted(keys)  # every visit once: none lost, none doubled
    assert len(photos) == POSTS // 10
    missing = [name for name in photos if not (tmp_path / "media" / "photos" / name).exists()]
    assert missing == []
