"""A throwaway PostgreSQL 15 server for the test session.

PostgreSQL refuses to run as root, so as root every server command goes through
`runuser -u postgres`, on a folder that user owns.
"""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BIN = Path(os.environ.get("CRM_PG_BIN", "/usr/lib/postgresql/15/bin"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def throwaway_postgres(database: str = "crm_test", settings: str = "") -> Iterator[str]:
    """Start a server in a temporary folder, yield its SQLAlchemy URL, then remove it all.
    `settings`: more server options, as `-c name=value ...`."""
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    root = Path(tempfile.mkdtemp(prefix="crm-pg-"))
    if as_root:
        owner = pwd.getpwnam("postgres")
        os.chown(root, owner.pw_uid, owner.pw_gid)
    data, port = root / "data", _free_port()

    def run(*command: str | Path) -> None:
        subprocess.run([*prefix, *map(str, command)], check=True, capture_output=True)

    try:
        run(BIN / "initdb", "-A", "trust", "--no-sync", "-U", "postgres", "-E", "UTF8",
            "--locale=C.UTF-8", "-D", data)  # fmt: skip
        options = (
            f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
            # A statement waiting on a lock fails, named, instead of hanging the run.
            " -c lock_timeout=120s -c idle_in_transaction_session_timeout=300s " + settings
        )
        run(BIN / "pg_ctl", "-D", data, "-l", root / "server.log", "-w", "-o", options, "start")
        try:
            run(BIN / "createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", database)
            yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/{database}"
        finally:
            run(BIN / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)
