"""Make the upgrade fixture of a release: `python -m tests.upgrade.build_release COMMIT`.

Run at each release (docs/upgrade.md). In a checkout of COMMIT, with that release's own code:
migrate an empty SQLite database, load its demo, then a week of use (tests/upgrade/week.py).
The database is then cut down to a sample that keeps every table's kinds of rows (the first and
last rows, one row for each value of every column with few values, one with and one without a
value in every column that may be empty), every row those rows point to, and the audit log's
first entries, so that its chain still verifies. Last, that release's own `flask backup create`
backs the sample up with its photos and PDFs: tests/upgrade/releases/COMMIT.tar.gz, a backup as
an operator of that release holds one. The suite restores it, upgrades it and compares it.
"""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RELEASES = Path(__file__).resolve().parent / "releases"
FIRST, LAST, FEW_VALUES, AUDIT_PREFIX = 15, 15, 10, 200


def main(commit: str) -> None:
    work = Path(tempfile.mkdtemp(prefix="crm-release-"))
    checkout = work / "checkout"
    try:
        subprocess.run(["git", "-C", ROOT, "worktree", "add", "--detach", checkout, commit],
                       check=True, capture_output=True)  # fmt: skip
        commit = subprocess.run(["git", "-C", checkout, "rev-parse", "--short", "HEAD"],
                                check=True, capture_output=True, text=True).stdout.strip()  # fmt: skip
        shutil.copy(Path(__file__).with_name("week.py"), checkout / "week.py")
        env = {**os.environ, "PYTHONPATH": str(checkout), "CRM_SECRET_KEY": "release-fixture"}
        flask = [str(ROOT / ".venv/bin/flask"), "--app", "wsgi"]
        for command in (["db", "upgrade"], ["demo", "load"]):
            subprocess.run([*flask, *command], cwd=checkout, env=env, check=True)
        subprocess.run(
            [str(ROOT / ".venv/bin/python"), "week.py"], cwd=checkout, env=env, check=True
        )
        instance = checkout / "instance"
        sample = work / "sample.sqlite3"
        with sqlite3.connect(instance / "crm.sqlite3") as full:
            full.execute("VACUUM INTO ?", (str(sample),))
        kept = cut_down(sample)
        backups = work / "backups"
        env["CRM_DATABASE_URL"] = f"sqlite:///{sample}"
        subprocess.run(
            [*flask, "backup", "create", "--out", backups], cwd=checkout, env=env, check=True
        )
        (made,) = backups.glob("crm-backup-*.tar.gz")
        RELEASES.mkdir(exist_ok=True)
        shutil.copy(made, RELEASES / f"{commit}.tar.gz")
        if (instance / "audit_key").exists():
            shutil.copy(instance / "audit_key", RELEASES / f"{commit}.audit_key")
        print(json.dumps({"release": commit, "rows": kept}, ensure_ascii=False))
    finally:
        subprocess.run(["git", "-C", ROOT, "worktree", "remove", "--force", checkout], check=False)
        shutil.rmtree(work, ignore_errors=True)


def cut_down(path: Path) -> dict[str, int]:
    """Keep a sample of every table and the rows it points to; returns the rows kept."""
    connection = sqlite3.connect(path, isolation_level=None)
    tables = [name for (name,) in connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]  # fmt: skip
    keep = {table: _sample(connection, table) for table in tables}
    changed = True
    while changed:  # every row a kept row points to is kept too
        changed = False
        for table in tables:
            for _, _, parent, column, parent_column, *_ in connection.execute(
                f'PRAGMA foreign_key_list("{table}")'
            ):
                if not keep[table]:
                    continue
                marks = ",".join("?" * len(keep[table]))
                needed = {rowid for (rowid,) in connection.execute(
                    f'SELECT p.rowid FROM "{parent}" p JOIN "{table}" c ON c."{column}" = p."{parent_column or "id"}"'
                    f" WHERE c.rowid IN ({marks})", sorted(keep[table]))}  # fmt: skip
                if not needed <= keep[parent]:
                    keep[parent] |= needed
                    changed = True
    connection.execute("PRAGMA foreign_keys = OFF")
    connection.execute("BEGIN")
    for table in tables:
        connection.execute("CREATE TEMP TABLE kept_rows AS SELECT 0 AS id WHERE 0")
        connection.executemany("INSERT INTO kept_rows VALUES (?)", [(r,) for r in keep[table]])
        connection.execute(f'DELETE FROM "{table}" WHERE rowid NOT IN (SELECT id FROM kept_rows)')
        connection.execute("DROP TABLE kept_rows")
    assert not connection.execute("PRAGMA foreign_key_check").fetchall()
    connection.execute("COMMIT")
    connection.execute("VACUUM")
    counts = {t: connection.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    connection.close()
    return counts


def _sample(connection: sqlite3.Connection, table: str) -> set[int]:
    if table == "audit_entry":  # a prefix of the chain verifies; a sample of it would not
        return {
            r
            for (r,) in connection.execute(
                f"SELECT rowid FROM audit_entry ORDER BY rowid LIMIT {AUDIT_PREFIX}"
            )
        }
    rows = {
        r
        for (r,) in connection.execute(f'SELECT rowid FROM "{table}" ORDER BY rowid LIMIT {FIRST}')
    }
    rows |= {
        r
        for (r,) in connection.execute(
            f'SELECT rowid FROM "{table}" ORDER BY rowid DESC LIMIT {LAST}'
        )
    }
    for _, column, *_ in connection.execute(f'PRAGMA table_info("{table}")'):
        quoted = f'"{column}"'
        (distinct,) = connection.execute(
            f'SELECT count(DISTINCT {quoted}) FROM "{table}"'
        ).fetchone()
        if distinct <= FEW_VALUES:
            rows |= {
                r
                for (r,) in connection.execute(
                    f'SELECT min(rowid) FROM "{table}" GROUP BY {quoted}'
                )
            }
        for test in ("IS NULL", "IS NOT NULL", "= ''"):
            rows |= {r for (r,) in connection.execute(
                f'SELECT min(rowid) FROM "{table}" WHERE {quoted} {test}') if r is not None}  # fmt: skip
    return rows


if __name__ == "__main__":
    main(sys.argv[1])
