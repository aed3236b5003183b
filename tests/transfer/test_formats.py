"""The formats offices send (issue 18.11, 18.13): the same table as .xlsx, .xls, .ods, a GBK
CSV, a UTF-8 CSV with a byte-order mark and Excel's UTF-16 "Unicode text" reads the same,
row for row; what is not a table is named; files that would make the server build far more
than they hold are refused before they are built. Page and command line read alike."""

import io
import zipfile
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from crm.accounts.models import Role
from crm.audit.services import acting_as
from crm.extensions import db
from crm.organizations.models import Organization
from crm.transfer import tasks as transfer_tasks
from crm.transfer.formats import FileRefusedError
from tests import factories as f
from tests.transfer import books

HEADER = [None, "序号", "组织名称", "统一社会信用代码", "组织类型", "县（市、区）", "从业人数",
          "党组织名称", "党组织类型", "成立日期"]  # fmt: skip


def office_table() -> list[list]:
    """The table starts in column B under a title and a blank row, as offices lay it out."""
    code = f.valid_credit_code
    return [
        [None, "赣州市两新组织名册（2026年）"],
        [],
        HEADER,
        [None, 1, "赣州甲科技有限公司", code(7001), "非公企业", "章贡区", 10, "甲党支部", "党支部",
         date(2022, 6, 20)],
        [None, 2, "赣州乙商贸有限公司", code(7002), "非公企业", "赣州市南康区", "25", "乙党支部",
         "党支部", "2021年3月5日"],
        [None, 3, "赣州丙物流有限公司", code(7003), "非公企业", "于都县", 7, "丙党支部", "党支部",
         "2026年2月30日"],
        [None, 4, "赣州丁电子有限公司", code(7004), "非公企业", "赣县", 3, "丁党支部", "党支部",
         date(2020, 1, 2)],
        [None, None, "合计", None, None, None, 45],
        [None, "注：本表由各县（市、区）委组织部填报。"],
    ]  # fmt: skip


def write(kind: str, folder: Path, rows: list[list]) -> Path:
    if kind == "xlsx":
        return books.xlsx(folder / "名册.xlsx", {"名册": rows})
    if kind == "xls":
        return books.xls(folder / "名册.xls", {"名册": rows})
    if kind == "ods":
        return books.ods(folder / "名册.ods", {"名册": rows})
    encoding, delimiter, suffix = {
        "gbk": ("gbk", ",", ".csv"),
        "utf-8-bom": ("utf-8-sig", ",", ".csv"),
        "utf-16-tabs": ("utf-16", "\t", ".txt"),
        "tabs-named-xls": ("gb18030", "\t", ".xls"),  # what some systems export as "Excel"
    }[kind]
    return books.text_table(folder / f"名册{suffix}", rows, encoding=encoding, delimiter=delimiter)


FORMATS = ["xlsx", "xls", "ods", "gbk", "utf-8-bom", "utf-16-tabs", "tabs-named-xls"]


def run(app, path: Path, kind: str = "organizations", commit: bool = False):
    with app.app_context(), acting_as("test"):
        return (transfer_tasks.import_file if commit else transfer_tasks.preview_file)(kind, path)


@pytest.mark.parametrize("kind", FORMATS)
def test_the_same_table_reads_the_same_in_every_format(app, tmp_path, kind):
    rows = office_table()
    result = run(app, write(kind, tmp_path, rows))

    # Expected from the table as laid out above: row n of the list is spreadsheet row n + 1.
    header_row = rows.index(HEADER) + 1
    impossible = next(i for i, r in enumerate(rows, 1) if "2026年2月30日" in r)
    total = next(i for i, r in enumerate(rows, 1) if "合计" in r)
    renamed = next(i for i, r in enumerate(rows, 1) if "赣县" in r)
    records = [r for r in rows[header_row:] if len(r) > 3 and r[3]]
    assert [(p.row, p.column) for p in result.problems] == [(impossible, "J 成立日期")]
    assert "不是存在的日期" in result.problems[0].reason
    assert [(n.row, n.text) for n in result.notes] == [
        (renamed, "“赣县”按赣县区读入：赣县已于 2016 年撤县设区"),
        (total, f"第 {total} 行是合计行，已跳过"),
        (len(rows), f"第 {len(rows)} 行是表下的注释，已跳过"),
    ]
    [sheet] = result.sheets
    assert (sheet.header, sheet.last, sheet.skipped, sheet.refused) == (
        header_row, len(rows), 2, 1)  # fmt: skip
    assert sheet.rows_read == f"第 {header_row + 1}–{len(rows)} 行"
    assert sheet.records == dict(result.counts)["created"] == len(records) - 1


@pytest.mark.parametrize("kind", FORMATS)
def test_every_format_commits_the_same_values(app, tmp_path, kind):
    rows = [r for r in office_table() if "2026年2月30日" not in r]
    assert run(app, write(kind, tmp_path, rows), commit=True).committed
    with app.app_context():
        stored = db.session.execute(
            sa.select(Organization.name, Organization.credit_code, Organization.headcount).order_by(
                Organization.name
            )
        ).all()
    expected = sorted(
        (r[2], r[3], int(r[6])) for r in rows if len(r) > 3 and r[3] and r[1] != "序号"
    )
    assert sorted(stored) == expected


def test_a_merged_two_row_header_in_an_xls_is_read(app, tmp_path):
    rows = [["名册"], ["基本信息", None, None, None, "县市区"],
            ["组织名称", "统一社会信用代码", "组织类型", "从业人数", None],
            ["赣州戊有限公司", f.valid_credit_code(7101), "非公企业", 5, "章贡区"]]  # fmt: skip
    # 基本信息 merged across A2:D2, 县市区 down E2:E3
    path = books.xls(tmp_path / "merged.xls", {"Sheet1": rows}, merged=((1, 1, 0, 3), (1, 2, 4, 4)))
    result = run(app, path)
    assert result.problems == []
    assert result.counts["created"] == 1
    assert result.sheets[0].header == 3


def test_a_csv_that_changes_encoding_half_way_names_the_line(app, tmp_path):
    head = "组织名称,统一社会信用代码,组织类型,县市区\r\n"
    line = "赣州某某有限公司,{},非公企业,章贡区\r\n"
    good = [line.format(f.valid_credit_code(8000 + n)) for n in range(6000)]  # past the sample
    body = (head + "".join(good)).encode("gbk") + "赣州坏行有限公司".encode("utf-16-le") + b"\r\n"
    path = tmp_path / "mixed.csv"
    path.write_bytes(body)
    with pytest.raises(
        FileRefusedError, match=f"第 {len(good) + 2} 行有不是 GB18030/GBK 编码的文字"
    ):
        run(app, path)


def raw(content: bytes):
    def build(path: Path) -> Path:
        path.write_bytes(content)
        return path

    return build


def docx(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return path


def plain_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("名册.xlsx", b"PK")
    return path


@pytest.mark.parametrize(
    ("name", "build", "message"),
    [
        ("名册.xlsx", docx, "这是 Word 文档"),
        ("名册.xlsx", plain_zip, "这是一个 ZIP 压缩包"),
        ("名册.xls", raw(b"<html><body><table><tr><td>1</td></tr></table>"),
         "网页（HTML）格式"),
        ("名册.xls", raw(b'<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">'), "Excel 2003 XML"),
        ("名册.png", raw(b"\x89PNG\r\n\x1a\n" + bytes(64)), "图片"),
        ("名册.dat", raw(bytes(range(256)) * 4), "无法识别这个文件（.dat）"),
    ],
)  # fmt: skip
def test_what_is_not_a_table_is_named(app, tmp_path, name, build, message):
    with pytest.raises(FileRefusedError, match=message):
        run(app, build(tmp_path / name))


def test_an_xls_whose_cells_reach_far_is_refused_before_it_is_built(app, tmp_path):
    """A 6 KB .xls with one cell in A1 and one in IV65536 asks calamine for 16.7 million
    cells (measured: 1 GB, see bench/transfer.py)."""
    import xlwt

    path = tmp_path / "far.xls"

    workbook = xlwt.Workbook(encoding="utf-8")
    sheet = workbook.add_sheet("远")
    sheet.write(0, 0, "组织名称")
    sheet.write(65535, 255, "x")
    workbook.save(str(path))
    assert path.stat().st_size < 10_000
    with pytest.raises(FileRefusedError, match="工作表“远”的内容铺到了第 65,536 行、第 256 列"):
        run(app, path)


def test_an_ods_repeating_a_cell_millions_of_times_is_refused_before_it_is_built(app, tmp_path):
    """Unbounded, calamine aborts the whole process trying to allocate this one (measured)."""
    bomb = ('<table:table-row table:number-rows-repeated="20000">'
            + books.ods_cell("x", columns=2000) + "</table:table-row>")  # fmt: skip
    path = books.ods(tmp_path / "bomb.ods", {"S1": [["组织名称"]]}, raw_rows=bomb)
    assert path.stat().st_size < 10_000
    with pytest.raises(FileRefusedError, match="共约 40,002,000 个单元格"):
        run(app, path)


def test_an_ods_with_the_empty_rows_libreoffice_writes_is_read(app, tmp_path):
    filler = ('<table:table-row table:number-rows-repeated="1048570">'
              + books.ods_cell(None, columns=1024) + "</table:table-row>")  # fmt: skip
    rows = [["组织名称", "统一社会信用代码", "组织类型", "县市区"],
            ["赣州己有限公司", f.valid_credit_code(7201), "非公企业", "信丰县"]]  # fmt: skip
    result = run(app, books.ods(tmp_path / "lo.ods", {"Sheet1": rows}, raw_rows=filler))
    assert result.problems == []
    assert result.counts["created"] == 1


def test_a_row_of_thousands_of_cells_stops_the_read_at_that_row(app, tmp_path):
    rows = [["组织名称", "统一社会信用代码", "组织类型", "县市区"],
            ["赣州庚有限公司", f.valid_credit_code(7301), "非公企业", "章贡区"],
            ["x"] * 2000, *(["x"] * 2000 for _ in range(199))]  # fmt: skip
    path = books.xlsx(tmp_path / "wide.xlsx", {"宽": rows})
    with pytest.raises(FileRefusedError, match="工作表“宽”第 3 行有 2,000 个填了内容的单元格"):
        run(app, path)


def test_too_many_shared_strings_are_refused_by_their_size(app, tmp_path, monkeypatch):
    from crm.transfer import formats

    path = books.xlsx(tmp_path / "strings.xlsx", {"S": [["组织名称"]]})
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("xl/sharedStrings.xml", "<sst>" + "<si><t>名</t></si>" * 200 + "</sst>")
    monkeypatch.setattr(formats, "MAX_SHARED_STRINGS", 1_000)
    with pytest.raises(FileRefusedError, match="文字表解压后"):
        run(app, path)


# --- the page and the command line ----------------------------------------------------------


@pytest.mark.parametrize("kind", ["xls", "gbk"])
def test_the_page_previews_and_commits_an_xls_and_a_gbk_csv(app, client, auth, tmp_path, kind):
    with app.app_context():
        f.AccountFactory(username="admin", roles=[Role.ADMIN])
    auth.login("admin")
    rows = [r for r in office_table() if "2026年2月30日" not in r]
    path = write(kind, tmp_path, rows)
    response = client.post("/transfer/preview", data={"kind": "organizations",
                           "file": (io.BytesIO(path.read_bytes()), path.name)},
                           content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 200
    page = response.text
    assert "第 4–8 行" in page
    assert "第 7 行是合计行，已跳过" in page
    token = page.split('name="token" value="')[1].split('"')[0]
    done = client.post("/transfer/commit", data={"token": token})
    assert done.status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Organization.id))) == 3


def test_the_page_names_what_is_not_a_table_next_to_the_file_field(app, client, auth, tmp_path):
    with app.app_context():
        f.AccountFactory(username="admin", roles=[Role.ADMIN])
    auth.login("admin")
    response = client.post("/transfer/preview", data={"kind": "organizations",
                           "file": (io.BytesIO(docx(tmp_path / "a.docx").read_bytes()), "名册.docx")},
                           content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 422
    assert 'aria-describedby="file-error"' in response.text
    assert 'id="file-error"' in response.text
    assert "这是 Word 文档" in response.text


@pytest.mark.parametrize("kind", ["xls", "ods", "gbk", "utf-16-tabs"])
def test_the_command_line_imports_every_format(app, runner, tmp_path, kind):
    rows = [r for r in office_table() if "2026年2月30日" not in r]
    path = write(kind, tmp_path, rows)
    result = runner.invoke(args=["transfer", "import", "organizations", str(path), "--commit"])
    assert result.exit_code == 0, result.output
    assert "新增 3" in result.output
    assert "读取第 4–8 行，记录 3 条" in result.output
    assert "第 7 行是合计行，已跳过" in result.output
