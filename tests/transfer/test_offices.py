"""Spreadsheets the way offices keep them (issue 18): totals and footnotes under the table,
header names that vary, a notes sheet, district names written every way, repeats that differ
only in spacing, names lined up with spaces, impossible dates. The files are built here and the
exact spreadsheet rows are checked."""

from pathlib import Path

import pytest
import sqlalchemy as sa

from crm.audit.services import acting_as
from crm.extensions import db
from crm.organizations.models import District, Organization
from crm.transfer import services
from crm.transfer import tasks as transfer_tasks
from crm.transfer.excel import header_key
from crm.transfer.importers import KINDS
from tests import factories as f
from tests.transfer.books import xlsx as book

HEADER = ["序号", "组织名称", "统一社会信用代码", "组织类型", "县市区", "从业人数"]


def run(app, path: Path, kind: str = "organizations", commit: bool = False):
    with app.app_context(), acting_as("test"):
        return (transfer_tasks.import_file if commit else transfer_tasks.preview_file)(kind, path)


def org_rows(n: int, district: str = "章贡区") -> list[list]:
    return [[i + 1, f"测试组织{i}有限公司", f.valid_credit_code(2000 + i), "非公企业", district, 10]
            for i in range(n)]  # fmt: skip


def test_totals_footnotes_and_lone_numbers_are_skipped_and_named(app, tmp_path):
    rows = [["2026 年两新组织名册"], HEADER, *org_rows(3), [4], [None, "合计", None, None, None, 30],
            [], ["注：从业人数按 2025 年年报填写。"], ["填表人：王芳", None, "审核人：李明"],
            ["制表日期：2026年11月30日"]]  # fmt: skip
    result = run(app, book(tmp_path / "totals.xlsx", {"名册": rows}))
    assert result.problems == []
    assert dict(result.counts) == {"created": 3}
    assert [n.text for n in result.notes] == [
        "第 6 行是只有序号的空行，已跳过",
        "第 7 行是合计行，已跳过",
        "第 9 行是表下的注释，已跳过",
        "第 10 行是表下的注释，已跳过",
        "第 11 行是表下的注释，已跳过",
    ]


@pytest.mark.parametrize(
    "header", ["县（市、区）", "所在县（市、区）", "所属县(市、区)", "县区", "区县"]
)
def test_every_way_of_heading_the_district_is_read(app, tmp_path, header):
    rows = [[*HEADER[:4], header, HEADER[5]], *org_rows(2)]
    result = run(app, book(tmp_path / "districts.xlsx", {"Sheet1": rows}))
    assert result.problems == []
    assert result.counts["created"] == 2


def test_one_synonym_table_and_no_header_names_two_columns():
    for kind, (_, importer) in KINDS.items():
        named: dict[str, str] = {}
        for column in importer.columns:
            for text in column.headers:
                assert named.setdefault(header_key(text), column.key) == column.key, (kind, text)


def test_a_notes_sheet_is_listed_as_ignored_not_refused(app, tmp_path):
    notes = [["字段", "说明"], ["组织名称", "营业执照上的全称"], ["统一社会信用代码", "18 位"],
             ["县市区", "章贡区等"]]  # fmt: skip
    path = book(tmp_path / "with-notes.xlsx", {"填表说明": notes, "名册": [HEADER, *org_rows(2)]})
    result = run(app, path)
    assert result.problems == []
    assert result.counts["created"] == 2
    assert [n.text for n in result.notes] == [
        "工作表“填表说明”的表头与模板不符，不是数据表，已忽略"
    ]


@pytest.mark.parametrize(
    ("written", "found", "note"),
    [
        ("赣州市章贡区", "章贡区", ""),
        ("江西省赣州市瑞金市", "瑞金市", ""),
        ("赣州经济技术开发区", "赣州经开区", ""),
        ("赣州蓉江新区", "蓉江新区", ""),
        ("南康市", "南康区", "南康市已于 2013 年撤市设区"),
        ("赣县", "赣县区", "赣县已于 2016 年撤县设区"),
    ],
)
def test_district_names_are_matched_exactly_or_by_alias(app, tmp_path, written, found, note):
    result = run(app, book(tmp_path / "d.xlsx", {"Sheet1": [HEADER, *org_rows(1, written)]}),
                 commit=True)  # fmt: skip
    assert result.problems == []
    with app.app_context():
        district = db.session.scalar(sa.select(District.name).join(Organization.district))
    assert district == found
    assert [n.text for n in result.notes] == ([f"“{written}”按{found}读入：{note}"] if note else [])


@pytest.mark.parametrize(("written", "candidates"),
                         [("赣", "赣县区"), ("赣州", "赣州经开区"), ("大", ""), ("章贡", "章贡区")])  # fmt: skip
def test_a_partial_district_name_is_refused_with_the_closest_names(
    app, tmp_path, written, candidates
):
    result = run(app, book(tmp_path / "d.xlsx", {"Sheet1": [HEADER, *org_rows(1, written)]}))
    assert [(p.row, p.column) for p in result.problems] == [(2, "E 县市区")]
    assert result.problems[0].reason.startswith(f"“{written}”不是赣州的县市区")
    assert candidates in result.problems[0].reason
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Organization)) == 0


def test_a_repeat_that_differs_only_in_spacing_or_number_type_is_a_duplicate(app, tmp_path):
    first = [1, "测试组织有限公司", f.valid_credit_code(3001), "非公企业", "章贡区", 10]
    again = [1, "测试组织有限公司 ", f.valid_credit_code(3001), "非公企业", "章贡区　", "10"]
    result = run(app, book(tmp_path / "dup.xlsx", {"Sheet1": [HEADER, first, again]}))
    assert result.problems == []
    assert dict(result.counts) == {"created": 1, "duplicate": 1}


def test_instructors_need_a_phone_and_names_lose_alignment_spaces(app, tmp_path):
    header = ["姓名", "用户名", "手机号码", "县市区", "聘用日期"]
    rows = [header, ["刘　军", "zdy301", "13807970001", "章贡区", "2023-03-01"],
            ["王 芳", "zdy302", "", "章贡区", "2023-03-01"],
            ["陈晓", "zdy303", "13807970003", "章贡区", "2026年2月30日"]]  # fmt: skip
    result = run(app, book(tmp_path / "people.xlsx", {"Sheet1": rows}), kind="instructors")
    assert [(p.row, p.column, p.reason) for p in result.problems] == [
        (3, "C 手机号码", "手机号码不能为空"),
        (4, "E 聘用日期", "“2026年2月30日”不是存在的日期（2026 年 2 月没有 30 日）"),
    ]
    fixed = [header, rows[1], ["王 芳", "zdy302", "13807970002", "章贡区", "2023-03-01"]]
    done = run(app, book(tmp_path / "people2.xlsx", {"Sheet1": fixed}), kind="instructors",
               commit=True)  # fmt: skip
    assert done.problems == []
    with app.app_context():
        names = set(db.session.scalars(sa.select(f.Account.name)))
    assert {"刘军", "王芳"} <= names


def test_a_latin_name_keeps_its_spaces(app, tmp_path):
    rows = [
        HEADER,
        [1, "ABC Technology 赣州 有限公司", f.valid_credit_code(3101), "非公企业", "章贡区", 5],
    ]
    assert run(app, book(tmp_path / "latin.xlsx", {"Sheet1": rows}), commit=True).problems == []
    with app.app_context():
        # between two Chinese characters a space is alignment, and goes
        assert db.session.scalar(sa.select(Organization.name)) == "ABC Technology 赣州有限公司"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("list.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, "无法读取"),
        ("list.csv", "组织名称,县市区\n某公司,章贡区\n".encode("gbk"), "缺少列：统一社会信用代码"),
        ("broken.xlsx", b"PK\x03\x04 not really a zip", "无法读取"),
        ("list.xlsx", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "这是 PDF 文件"),
    ],
)
def test_the_command_line_answers_a_file_it_cannot_read_in_chinese(app, runner, tmp_path, name,
                                                                    content, message):  # fmt: skip
    path = tmp_path / name
    path.write_bytes(content)
    result = runner.invoke(args=["transfer", "import", "organizations", str(path)])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert message in result.output
    assert "Traceback" not in result.output


def rewrite_part(path: Path, name: str, change) -> Path:
    """The workbook with one of its XML parts changed, the rest as they were."""
    import zipfile

    with zipfile.ZipFile(path) as source:
        parts = {info.filename: source.read(info.filename) for info in source.infolist()}
    parts[name] = change(parts.get(name, b"<sst></sst>"))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for part, data in parts.items():
            target.writestr(part, data)
    return path


def test_a_sheet_that_declares_its_size_as_a1_is_read_whole(app, tmp_path):
    import re

    path = book(tmp_path / "a1.xlsx", {"Sheet1": [HEADER, *org_rows(3)]})
    rewrite_part(path, "xl/worksheets/sheet1.xml",
                 lambda xml: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1"', xml))  # fmt: skip
    result = run(app, path)
    assert result.problems == []
    assert result.counts["created"] == 3


def test_a_spreadsheet_bomb_is_refused_before_it_is_parsed(app, tmp_path):
    """How fast is measured by bench/transfer.py; here, that it is refused by its parts."""
    path = book(tmp_path / "bomb.xlsx", {"Sheet1": [HEADER, *org_rows(1)]})
    filler = b"".join(b"<si><t>" + b"x" * 1000 + b"</t></si>" for _ in range(20_000))  # 20 MB
    rewrite_part(path, "xl/sharedStrings.xml",
                 lambda xml: xml.replace(b"</sst>", filler + b"</sst>"))  # fmt: skip
    assert path.stat().st_size < 200_000
    with pytest.raises(services.excel.FileRefusedError, match="不像正常的 Excel 文件"):
        run(app, path)
