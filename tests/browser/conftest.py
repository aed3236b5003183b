"""Browser tests: Debian's chromium driven by Playwright, against the app on a local port."""

import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
    "device_scale_factor": 3,
}


@pytest.fixture(scope="session")
def browser_type_launch_args():
    return {
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", "--disable-sync",
        ],
    }  # fmt: skip


@pytest.fixture(scope="session")
def browser_context_args():
    return PHONE


class Recorder:
    """The app, noting the method and path of every request that reaches it."""

    def __init__(self, app):
        self.app, self.seen = app, []

    def __call__(self, environ, start_response):
        self.seen.append((environ["REQUEST_METHOD"], environ["PATH_INFO"]))
        return self.app(environ, start_response)


@pytest.fixture
def served(app) -> Recorder:
    """What reached the server (to show that a page came from the phone, not the network)."""
    return Recorder(app)


@pytest.fixture
def live_server(app, served):
    """The app served by werkzeug on a free port of 127.0.0.1; yields its base URL."""
    server = make_server("127.0.0.1", 0, served, threaded=True)
    # Each request's thread is joined when the server closes: one still answering after its
    # test (a service worker's fetch) would use the app and database the next test empties.
    # (Suspected in a worker that crashed in SQLite's C code in a later test.)
    server.daemon_threads = False
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()  # joins the requests' threads
    thread.join(timeout=5)


AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="session")
def axe_present():
    assert AXE.exists(), f"{AXE} is missing: `make test` installs it (npm ci)"
