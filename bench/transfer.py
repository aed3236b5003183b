"""Excel at province scale: import 25,000 organizations, export 25,000 rows.

Targets (issue 5): the import in under 60 s on SQLite; the export in under 15 s with flat
memory (openpyxl's write-only mode). Run: .venv/bin/python bench/transfer.py
"""

import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import FLASK, ROOT, use_project_path

use_project_path()

ROWS = 25_000
KINDS = ("非公企业", "社会组织", "小微企业", "个体工商户", "专业市场")
DISTRICTS = ("章贡区", "南康区", "赣县区", "信丰县", "于都县", "瑞金市", "龙南市", "赣州经开区")


def organizations_file(path: Path, rows: int) -> None:
    from openpyxl import Workbook

    from tests.factories import valid_credit_code

    rng = random.Random(5)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("名册")
    sheet.append(["省两新组织名册"])
    sheet.append(
        [
            "统一社会信用代码",
            "组织名称",
            "组织类型",
            "县市区",
            "从业人数",
            "党组织名称",
            "党组织类型",
            "成立日期",
        ]
    )
    for n in range(rows):
        sheet.append([valid_credit_code(500_000 + n), f"测试组织{n:05d}有限公司", rng.choice(KINDS),
                      rng.choice(DISTRICTS), rng.randint(1, 800), f"测试组织{n:05d}党支部", "党支部",
                      f"20{rng.randint(10, 23)}/{rng.randint(1, 12)}/{rng.randint(1, 28)}"])  # fmt: skip
    book.save(path)


EXPORT = """
import resource, sys, time
from crm import create_app
from crm.accounts import services
from crm.accounts.models import Role
from crm.extensions import db
app = create_app()
with app.app_context():
    services.create_account("bench-admin", "管理员", "Bench@2026-pw", [Role.ADMIN])
    db.session.commit()
app.config["WTF_CSRF_ENABLED"] = False
client = app.test_client()
client.post("/login", data={"username": "bench-admin", "password": "Bench@2026-pw"})
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
response = client.get("/transfer/export/organizations.xlsx")
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
assert response.status_code == 200
print(f"{seconds:.1f} {before / 1024:.0f} {peak / 1024:.0f} {len(response.data) / 1024:.0f}")
"""


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        # The benchmark's admin signs in with a password alone (no TOTP code to give).
        env = dict(os.environ, CRM_SECRET_KEY="bench", CRM_DATABASE_URL=f"sqlite:///{folder}/bench.sqlite3",
                   CRM_TOTP_REQUIRED_ROLES="[]")  # fmt: skip
        subprocess.run(
            [*FLASK, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True
        )
        path = Path(folder) / "orgs.xlsx"
        organizations_file(path, ROWS)
        started = time.perf_counter()
        run = subprocess.run([*FLASK, "transfer", "import", "organizations", str(path), "--commit"],
                             env=env, cwd=ROOT, capture_output=True, text=True)  # fmt: skip
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"import {ROWS:,} organizations with their branches: {seconds:.1f} s "
              f"(target < 60 s), peak {peak:.0f} MB; {run.stdout.strip().splitlines()[-2]}")  # fmt: skip
        again = subprocess.run([*FLASK, "transfer", "import", "organizations", str(path), "--commit"],
                               env=env, cwd=ROOT, capture_output=True, text=True)  # fmt: skip
        print(f"the same file again: {again.stdout.strip().splitlines()[-2]}")
        out = subprocess.run([sys.executable, "-c", EXPORT], env=env, cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.split()  # fmt: skip
        print(f"export {ROWS:,} organizations: {out[0]} s (target < 15 s), memory {out[1]} MB "
              f"before, {out[2]} MB peak, file {out[3]} KiB")  # fmt: skip


if __name__ == "__main__":
    main()
