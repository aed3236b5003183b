"""Pages a second under gunicorn, against the floor: a hello-world Flask app under the same
gunicorn (issue 20.8).

Both servers run with 2 sync workers on the SQLite demo; 20 connections at once, from 4 client
processes, ask for one page for SECONDS; the figure is the answers a second, and the share of
the floor. Then, in one process, where each page's time goes: the share spent in SQL, and the
functions of the project that take the most.

Goals: the instructor's home ≥ 10 % of the floor, the review overview and the caseload table
≥ 5 %. Run: .venv/bin/python bench/throughput.py
"""

import cProfile
import http.client
import io
import multiprocessing
import os
import pstats
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import ROOT, demo_database, use_project_path

use_project_path()

SECONDS = 15
CONNECTIONS, CLIENTS = 20, 4
PASSWORD = os.environ.get("CRM_DEMO_PASSWORD", "Ganzhou@2026")
PAGES = {  # name → (who, path)
    "instructor home": ("zdy001", "/branches/"),
    "review overview": ("reviewer", "/review/"),
    "caseload table": ("reviewer", "/instructors/"),
}
HELLO = """from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "hello"
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(app: str, port: int, env: dict, folder: Path) -> subprocess.Popen:
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "--workers", "2", "--worker-class", "sync",
         "--bind", f"127.0.0.1:{port}", "--chdir", str(folder), app],
        env={**env, "PYTHONPATH": f"{ROOT}:{folder}"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    for _ in range(300):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{app} did not start")


def request(port: int, path: str, cookie: str = "", method: str = "GET", body: str = ""):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Cookie": cookie} if cookie else {}
    if body:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    connection.request(method, path, body=body or None, headers=headers)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response, data


def sign_in(port: int, username: str) -> str:
    """The session cookie of a signed-in user."""
    from urllib.parse import urlencode

    response, page = request(port, "/login")
    cookie = response.getheader("Set-Cookie", "").split(";")[0]
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page).group(1).decode()
    form = urlencode({"username": username, "password": PASSWORD, "csrf_token": token})
    response, _ = request(port, "/login", cookie, "POST", form)
    if response.status != 302:
        raise RuntimeError(f"{username} could not sign in: {response.status}")
    return response.getheader("Set-Cookie", "").split(";")[0] or cookie


def _client(args: tuple[int, str, str, float, int]) -> tuple[int, int]:
    """One client process: `threads` connections asking for the page until `until`."""
    port, path, cookie, until, threads = args
    counts = [0, 0]  # answered 200, other
    lock = threading.Lock()

    def ask() -> None:
        while time.time() < until:
            response, _ = request(port, path, cookie)
            with lock:
                counts[0 if response.status == 200 else 1] += 1

    workers = [threading.Thread(target=ask) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return counts[0], counts[1]


def rate(port: int, path: str, cookie: str = "") -> float:
    """Answers a second over SECONDS, 20 connections from 4 processes; errors fail the run."""
    request(port, path, cookie)  # warm the workers
    until = time.time() + SECONDS
    jobs = [(port, path, cookie, until, CONNECTIONS // CLIENTS)] * CLIENTS
    with multiprocessing.get_context("spawn").Pool(CLIENTS) as pool:
        results = pool.map(_client, jobs)
    good, bad = sum(r[0] for r in results), sum(r[1] for r in results)
    if bad:
        raise RuntimeError(f"{path}: {bad} answers were not 200")
    return good / SECONDS


def profile(env: dict, username: str, path: str, n: int = 30) -> str:
    """Where one page's time goes, in one process: the share in SQL, the top functions."""
    os.environ.update(env)
    from crm import create_app
    from crm.extensions import db

    app = create_app()
    client = app.test_client()
    page = client.get("/login").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    client.get(path)
    in_sql = [0.0]
    with app.app_context():
        engine = db.engine

    def before(conn, *args):
        conn.info["started"] = time.perf_counter()

    def after(conn, *args):
        in_sql[0] += time.perf_counter() - conn.info.pop("started")

    import sqlalchemy as sa

    sa.event.listen(engine, "before_cursor_execute", before)
    sa.event.listen(engine, "after_cursor_execute", after)
    profiler = cProfile.Profile()
    began = time.perf_counter()
    profiler.enable()
    for _ in range(n):
        client.get(path)
    profiler.disable()
    total = time.perf_counter() - began
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
    stats.print_stats(str(ROOT / "crm"), 12)
    lines = [
        line.strip()
        for line in out.getvalue().splitlines()
        if str(ROOT / "crm") in line and "__init__" not in line
    ][:8]
    head = (
        f"  {total / n * 1000:.0f} ms a page in one process, {in_sql[0] / total:.0%} of it in SQL;"
        " the project's functions taking the most (cumulative s over the run):"
    )
    return "\n".join([head, *("    " + line for line in lines)])


def main() -> None:
    print(f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d')}")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        env = demo_database(folder)
        (folder / "hello.py").write_text(HELLO)
        ports = free_port(), free_port()
        servers = [
            serve("wsgi:app", ports[0], env, ROOT),
            serve("hello:app", ports[1], env, folder),
        ]
        try:
            floor = rate(ports[1], "/")
            print(f"floor (hello world, same gunicorn): {floor:.0f} answers/s")
            cookies = {who: sign_in(ports[0], who) for who in {w for w, _ in PAGES.values()}}
            for page, (who, path) in PAGES.items():
                found = rate(ports[0], path, cookies[who])
                print(f"{page} ({path}): {found:.0f} answers/s, {found / floor:.1%} of the floor")
        finally:
            for server in servers:
                server.send_signal(signal.SIGTERM)
                server.wait(timeout=30)
        for page, (who, path) in PAGES.items():
            print(f"{page}:")
            print(profile(env, who, path))


if __name__ == "__main__":
    main()
