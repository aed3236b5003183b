"""Excel at province scale: import 25,000 organizations from .xlsx, .xls and a GBK CSV, refuse
spreadsheet bombs, read ever more rows in flat memory, export 25,000 rows.

Targets (issues 5 and 18): the .xlsx import ≤ 60 s on SQLite, the .xls and the GBK CSV within
1.5× of it; a bomb refused in ≤ 2 s; the reader's memory flat in the number of rows; the export
under 15 s with flat memory (openpyxl's write-only mode). Run: .venv/bin/python bench/transfer.py
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
HEADER = ["统一社会信用代码", "组织名称", "组织类型", "县市区", "从业人数", "党组织名称",
          "党组织类型", "成立日期"]  # fmt: skip


def table(rows: int):
    """The title row, the header, then the organizations, each with its branch."""
    from tests.factories import valid_credit_code

    rng = random.Random(5)
    yield ["省两新组织名册"]
    yield HEADER
    for n in range(rows):
        yield [valid_credit_code(500_000 + n), f"测试组织{n:05d}有限公司", rng.choice(KINDS),
               rng.choice(DISTRICTS), rng.randint(1, 800), f"测试组织{n:05d}党支部", "党支部",
               f"20{rng.randint(10, 23)}/{rng.randint(1, 12)}/{rng.randint(1, 28)}"]  # fmt: skip


def organizations_file(path: Path, rows: int) -> None:
    """The table as .xlsx, .xls (Excel 97–2003, as WPS saves it too) or a CSV in GBK, as a
    Chinese Windows Excel saves "CSV (逗号分隔)"."""
    if path.suffix == ".xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("名册")
        for row in table(rows):
            sheet.append(row)
        book.save(path)
    elif path.suffix == ".xls":
        import xlwt

        book = xlwt.Workbook(encoding="utf-8")
        sheet = book.add_sheet("名册")
        for r, row in enumerate(table(rows)):
            for c, value in enumerate(row):
                sheet.write(r, c, value)
        book.save(str(path))
    else:
        import csv

        with path.open("w", encoding="gbk", newline="") as out:
            csv.writer(out, lineterminator="\r\n").writerows(table(rows))


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


BOMBS = """
import sys, time, zipfile
from pathlib import Path
from crm.transfer import excel, formats
from crm.transfer.importers import KINDS
columns = KINDS["organizations"][1].columns
path = Path(sys.argv[1])
started = time.perf_counter()
try:
    for sheet in excel.read(path, columns):
        for row in sheet.rows:
            pass
    print(f"read ({time.perf_counter() - started:.2f} s)")
except formats.FileRefusedError as error:
    print(f"{time.perf_counter() - started:.2f} s: {error}")
"""

READ = """
import resource, sys
from pathlib import Path
from crm.transfer import excel
from crm.transfer.importers import KINDS
count = 0
for sheet in excel.read(Path(sys.argv[1]), KINDS["organizations"][1].columns):
    for row in sheet.rows:
        count += 1
print(count, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def bombs(folder: Path) -> list[tuple[str, Path]]:
    """The spreadsheet bombs of issue 18.13, each a small file."""
    import zipfile

    import xlwt
    from openpyxl import Workbook

    made = []
    strings = folder / "strings.xlsx"  # 20 MB of shared strings in a small file
    book = Workbook()
    book.active.append(HEADER)
    book.save(strings)
    filler = "".join("<si><t>" + "x" * 1000 + "</t></si>" for _ in range(20_000))
    with zipfile.ZipFile(strings, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", f"<sst>{filler}</sst>")
    made.append(("20 MB of shared strings (.xlsx)", strings))
    wide = folder / "wide.xlsx"  # 200 rows × 2,000 cells
    book = Workbook(write_only=True)
    sheet = book.create_sheet("宽")
    sheet.append(HEADER)
    for _ in range(200):
        sheet.append(["x"] * 2000)
    book.save(wide)
    made.append(("200 rows × 2,000 cells (.xlsx)", wide))
    far = folder / "far.xls"  # a cell in A1 and one in IV65536
    book = xlwt.Workbook()
    sheet = book.add_sheet("远")
    sheet.write(0, 0, "组织名称")
    sheet.write(65535, 255, "x")
    book.save(str(far))
    made.append(("cells in A1 and IV65536 (.xls)", far))
    sys.path.insert(0, str(ROOT))
    from tests.transfer import books

    row = '<table:table-row table:number-rows-repeated="20000">'
    repeat = row + books.ods_cell("x", columns=2000) + "</table:table-row>"
    made.append(("a cell repeated 20,000 × 2,000 times (.ods)",
                 books.ods(folder / "repeat.ods", {"S1": [HEADER]}, raw_rows=repeat)))  # fmt: skip
    return made


def main() -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        print(f"# {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores")
        xlsx_seconds = 0.0
        for suffix in (".xlsx", ".xls", ".csv"):
            # The benchmark's admin signs in with a password alone (no TOTP code to give).
            env = dict(os.environ, CRM_SECRET_KEY="bench", CRM_TOTP_REQUIRED_ROLES="[]",
                       CRM_DATABASE_URL=f"sqlite:///{folder}/bench{suffix[1:]}.sqlite3")  # fmt: skip
            subprocess.run(
                [*FLASK, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True
            )
            path = folder / f"orgs{suffix}"
            organizations_file(path, ROWS)
            command = [*FLASK, "transfer", "import", "organizations", str(path), "--commit"]
            started = time.perf_counter()
            run = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
            seconds = time.perf_counter() - started
            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            xlsx_seconds = xlsx_seconds or seconds
            print(f"import {ROWS:,} organizations with their branches from {suffix} "
                  f"({path.stat().st_size / 1024:.0f} KiB): {seconds:.1f} s, "
                  f"{seconds / xlsx_seconds:.2f}× the .xlsx (target ≤ 60 s; .xls and CSV ≤ 1.5×), "
                  f"peak so far {peak:.0f} MB; {run.stdout.strip().splitlines()[0]}")  # fmt: skip
            if suffix == ".xlsx":
                again = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
                print(f"the same file again: {again.stdout.strip().splitlines()[0]}")
                out = subprocess.run([sys.executable, "-c", EXPORT], env=env, cwd=ROOT,
                                     capture_output=True, text=True, check=True).stdout.split()  # fmt: skip
                print(f"export {ROWS:,} organizations: {out[0]} s (target < 15 s), memory "
                      f"{out[1]} MB before, {out[2]} MB peak, file {out[3]} KiB")  # fmt: skip
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        for what, path in bombs(folder):
            out = subprocess.run([sys.executable, "-c", BOMBS, str(path)], env=env, cwd=ROOT,
                                 capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
            print(f"bomb, {what}, {path.stat().st_size / 1024:.0f} KiB: {out} (target ≤ 2 s)")
        for rows in (10_000, 25_000, 50_000, 99_000):
            for suffix in (".xlsx", ".csv"):
                path = folder / f"read{rows}{suffix}"
                organizations_file(path, rows)
                out = subprocess.run([sys.executable, "-c", READ, str(path)], env=env, cwd=ROOT,
                                     capture_output=True, text=True, check=True).stdout.split()  # fmt: skip
                print(f"read {int(out[0]):,} rows from {suffix}: peak {out[1]} MB")


if __name__ == "__main__":
    main()
