"""Server time of posting a visit with two problems, on SQLite with the demo data.

Posts go as the phone's script sends them (Accept: application/json, answered 201), so no
flash message piles up in a session that never follows the redirect.

Targets (issue 3): p95 <= 50 ms over 200 sequential posts; p95 <= 150 ms with 20 concurrent
clients under gunicorn. Run: .venv/bin/python bench/visit_post.py
"""

import asyncio
import http.cookiejar
import re
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from common import ROOT, demo_database, summary, use_project_path

use_project_path()

PASSWORD = "Ganzhou@2026"
FORM = {
    "kind": "onsite", "summary": "与书记座谈，了解用工和党员教育情况。", "people_met": "书记、业主",
    "clarified": "people", "problems-0-category": "hiring", "problems-0-description": "缺熟练工",
    "problems-0-department": "区人社局", "problems-0-due_on": "",
    "problems-1-category": "policy", "problems-1-description": "想了解稳岗补贴",
    "problems-1-department": "", "problems-1-due_on": "",
}  # fmt: skip


class Phone:
    """One signed-in instructor talking HTTP to the server, with its own cookies."""

    def __init__(self, base: str, username: str) -> None:
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))
        token = self._token(self.get("/login"))
        self.post("/login", {"username": username, "password": PASSWORD, "csrf_token": token})
        home = self.get("/branches/")
        self.form_url = re.search(r'href="(/branches/\d+/visits/new)"', home).group(1)
        self.token = self._token(self.get(self.form_url))

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path) as response:
            return response.read().decode()

    def post(self, path: str, data: dict) -> int:
        body = urllib.parse.urlencode(data).encode()
        with self.opener.open(self.base + path, body) as response:
            response.read()
            return response.status

    @staticmethod
    def _token(page: str) -> str:
        return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)

    def visit_data(self, n: int) -> dict[str, str]:
        return {**FORM, "csrf_token": self.token, "client_key": f"bench{id(self)}x{n:06d}",
                "visited_at": local_now()}  # fmt: skip


def local_now() -> str:
    """The phone's clock: 赣州 time, as the form's default is (this machine keeps UTC)."""
    return datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%dT%H:%M")


def sequential(env: dict) -> list[float]:
    """200 posts one after another, timed inside the process around the WSGI call."""
    import os

    os.environ.update(env)
    from crm import create_app

    app = create_app()
    client = app.test_client()
    page = client.get("/login").text
    token = Phone._token(page)
    client.post("/login", data={"username": "zdy001", "password": PASSWORD, "csrf_token": token})
    home = client.get("/branches/").text
    url = re.search(r'href="(/branches/\d+/visits/new)"', home).group(1)
    token = Phone._token(client.get(url).text)
    millis = []
    for n in range(200):
        data = {**FORM, "csrf_token": token, "client_key": f"sequential{n:06d}",
                "visited_at": local_now()}  # fmt: skip
        started = time.perf_counter()
        response = client.post(url, data=data, headers={"Accept": "application/json"})
        millis.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 201, response.status_code
    return millis


async def _post_visits(phone: Phone, each: int, start: asyncio.Event) -> list[float]:
    """One phone's posts, one after another, each on a connection of its own (as gunicorn's
    sync workers answer); the milliseconds from connecting until the whole answer is in."""
    host, port = urllib.parse.urlsplit(phone.base).netloc.split(":")
    cookie = "; ".join(f"{c.name}={c.value}" for c in phone.cookies)
    await start.wait()
    millis = []
    for n in range(each):
        body = urllib.parse.urlencode(phone.visit_data(n)).encode()
        head = (f"POST {phone.form_url} HTTP/1.1\r\nHost: {host}:{port}\r\nCookie: {cookie}\r\n"
                "Accept: application/json\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")  # fmt: skip
        started = time.perf_counter()
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(head.encode() + body)
        answer = await reader.read()
        writer.close()
        millis.append((time.perf_counter() - started) * 1000)
        assert answer.startswith(b"HTTP/1.1 201"), answer[:200]
    return millis


async def _all_phones(phones: list[Phone], each: int) -> list[float]:
    start = asyncio.Event()
    tasks = [asyncio.create_task(_post_visits(phone, each, start)) for phone in phones]
    await asyncio.sleep(0.1)  # every task waiting at the start line
    start.set()
    return [ms for millis in await asyncio.gather(*tasks) for ms in millis]


def concurrent(env: dict, log: Path, clients: int = 20, each: int = 20,
               workers: int = 2) -> list[float]:  # fmt: skip
    """`clients` instructors posting at once to gunicorn, `each` visits apiece. Returns what
    the clients saw; gunicorn writes its own time of each request to `log`.

    The clients are coroutines in this one process, not a process each: on a 2-core machine
    20 Python processes speaking urllib took a fifth of the CPU the server needed (about 3.5 ms
    a post), which phones in a factory yard do not take from the server. Two workers: with
    SQLite's one writer at a time, a third only adds switching (116 against 129 posts/s)."""
    port = 8917
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{port}",
         "--access-logfile", str(log), "--access-logformat", "%(m)s %(s)s %(D)s", "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(base + "/healthz")
        phones = [Phone(base, f"zdy{n:03d}") for n in range(1, clients + 1)]
        return asyncio.run(_all_phones(phones, each))
    finally:
        server.terminate()
        server.wait(timeout=10)


def _wait_for(url: str) -> None:
    for _ in range(100):
        try:
            urllib.request.urlopen(url).read()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not start")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        env = demo_database(Path(folder))
        print(summary("200 sequential posts (in-process, WSGI time)", sequential(env)))
        log = Path(folder) / "access.log"
        seen = concurrent(env, log)
        server = [int(line.split()[2]) / 1000 for line in log.read_text().splitlines()
                  if line.startswith("POST 201")]  # fmt: skip
        print(summary("20 clients x 20 posts, gunicorn 2 workers, as the clients saw it", seen))
        print(summary("the same, as gunicorn timed each request", server))


if __name__ == "__main__":
    main()
