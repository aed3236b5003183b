"""Server time of posting a visit with two problems, on SQLite with the demo data.

Posts go as the phone's script sends them (Accept: application/json, answered 201), so no
flash message piles up in a session that never follows the redirect.

Targets (issue 3): p95 <= 50 ms over 200 sequential posts; p95 <= 150 ms with 20 concurrent
clients under gunicorn. Run: .venv/bin/python bench/visit_post.py
"""

import http.cookiejar
import multiprocessing
import re
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

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
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
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

    def post_visit(self, n: int) -> float:
        """Post one visit; return the milliseconds until the answer (a redirect, not followed)."""
        data = {**FORM, "csrf_token": self.token, "client_key": f"bench{id(self)}x{n:06d}",
                "visited_at": time.strftime("%Y-%m-%dT%H:%M")}  # fmt: skip
        request = urllib.request.Request(self.base + self.form_url, urllib.parse.urlencode(data).encode(),
                                         headers={"Accept": "application/json"})  # fmt: skip
        started = time.perf_counter()
        with self.opener.open(request) as response:
            response.read()
            assert response.status == 201, response.status
        return (time.perf_counter() - started) * 1000


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
                "visited_at": time.strftime("%Y-%m-%dT%H:%M")}  # fmt: skip
        started = time.perf_counter()
        response = client.post(url, data=data, headers={"Accept": "application/json"})
        millis.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 201, response.status_code
    return millis


def _client(args: tuple[str, str, int, object]) -> list[float]:
    base, username, each, start = args
    phone = Phone(base, username)
    start.wait()
    return [phone.post_visit(n) for n in range(each)]


def concurrent(env: dict, log: Path, clients: int = 20, each: int = 20,
               workers: int = 3) -> list[float]:  # fmt: skip
    """`clients` instructors, each its own process, posting at once to gunicorn, `each`
    visits apiece (processes, so the clients' own Python does not queue behind one GIL).
    Returns what the clients saw; gunicorn writes its own time of each request to `log`."""
    port = 8917
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{port}",
         "--access-logfile", str(log), "--access-logformat", "%(m)s %(s)s %(D)s", "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(base + "/healthz")
        with multiprocessing.Manager() as manager:
            start = manager.Barrier(clients)
            jobs = [(base, f"zdy{n:03d}", each, start) for n in range(1, clients + 1)]
            with multiprocessing.Pool(clients) as pool:
                return [ms for client in pool.map(_client, jobs) for ms in client]
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
        print(summary("20 clients x 20 posts, gunicorn 3 workers, as the clients saw it", seen))
        print(summary("the same, as gunicorn timed each request", server))


if __name__ == "__main__":
    main()
