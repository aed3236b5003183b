"""The bundle (make bundle, made by `make test` before the tests) installs on a machine that
reaches no package index, migrates an empty database and serves: what a government intranet
gets (docs/upgrade.md)."""

import os
import socket
import subprocess
import tarfile
import time
import urllib.request
from pathlib import Path

import pytest

import crm

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "dist" / f"crm-{crm.__version__}.tar.gz"

pytestmark = pytest.mark.slow


def offline(tmp_path: Path) -> dict[str, str]:
    """An environment in which pip can reach no index: none named, and any it would try
    points at a closed port."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "CRM_"))}
    unreachable = "http://127.0.0.1:9/simple"
    env.update(PIP_INDEX_URL=unreachable, PIP_EXTRA_INDEX_URL="", PIP_NO_CACHE_DIR="1",
               PIP_CONFIG_FILE=os.devnull, HTTP_PROXY=unreachable, HTTPS_PROXY=unreachable,
               HOME=str(tmp_path))  # fmt: skip
    return env


def test_the_bundle_installs_migrates_and_serves_with_no_index(tmp_path):
    assert BUNDLE.exists(), f"{BUNDLE} is missing: `make bundle` (make test makes it first)"
    with tarfile.open(BUNDLE) as archive:
        archive.extractall(tmp_path, filter="data")
    folder = tmp_path / f"crm-{crm.__version__}"
    assert (folder / "wheels").is_dir()
    assert "postgresql=" in (folder / "debian-packages.txt").read_text()
    assert list((folder / "tests/upgrade/releases").glob("*.tar.gz"))  # the upgrade fixtures
    env = offline(tmp_path)

    installed = subprocess.run(["make", "install-offline"], cwd=folder, env=env,
                               capture_output=True, text=True, timeout=600)  # fmt: skip
    assert installed.returncode == 0, installed.stdout + installed.stderr

    env.update(CRM_SECRET_KEY="bundle-test", CRM_DATABASE_URL=f"sqlite:///{tmp_path}/crm.sqlite3")
    flask = [str(folder / ".venv/bin/flask"), "--app", "wsgi"]
    for command in (["db", "upgrade"], ["db", "check"], ["version"]):
        done = subprocess.run([*flask, *command], cwd=folder, env=env, capture_output=True,
                              text=True, timeout=300)  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
    assert "（本版本）" in done.stdout

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([str(folder / ".venv/bin/gunicorn"), "-b", f"127.0.0.1:{port}",
                               "wsgi:app"], cwd=folder, env=env)  # fmt: skip
    try:
        answer = _get(f"http://127.0.0.1:{port}/healthz")
        assert answer == f'{{"status":"ok","version":"{crm.__version__}"}}\n'
    finally:
        server.terminate()
        server.wait(timeout=30)


def _get(url: str, wait: float = 30) -> str:
    deadline = time.monotonic() + wait
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                return answer.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
