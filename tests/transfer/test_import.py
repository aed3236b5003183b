"""Importing the messy files people really keep. Expected counts are worked out by hand here."""

from datetime import date

import sqlalchemy as sa

from crm.accounts.models import Role
from crm.audit.services import acting_as
from crm.branches.models import Branch, BranchKind
from crm.extensions import db
from crm.instructors.models import Instructor
from crm.organizations.models import Organization
from crm.pairings.models import Pairing, PairingStatus
from crm.transfer import services
from crm.transfer import tasks as transfer_tasks
from tests import factories as f
from tests.transfer.conftest import EXCEL_DATE

HUAWEI, TENCENT = "914403001922038216", "9144030071526726XG"


def codes(n: int) -> list[str]:
    return [f.valid_credit_code(1000 + i) for i in range(n)]


def messy_organizations(xlsx, name="orgs.xlsx", bad_row=False):
    """A title row, a two-level header with merged cells, headers out of order with full-width
    characters and notes, values with full-width digits and trailing spaces, dates four ways,
    one duplicate row, a joint branch over two rows."""
    c = codes(4)
    header_top = ["序号", "基本信息", None, None, None, "党组织", None, None, "其他"]
    header = [None, "统一社会信用代码（１８位）", " 组织 名称 ", "组织类型", "县市区", "党组织名称",
              "党组织类型", "成立日期", "从业人数"]  # fmt: skip
    rows = [
        header_top, header,
        [1, c[0], "赣州恒达家具有限公司  ", "非公企业", "南康区", "恒达家具党支部", "党支部", "2022-06-20", "１２０"],
        [2, c[1], "章贡区李记粉店", "个体工商户", "赣州市章贡区", "文清路联合党支部", "联合党支部", "2022/6/20", 3],
        [3, c[2], "章贡区王记超市", "个体工商户", "章贡区", "文清路联合党支部", "联合党支部", "2022年6月20日", 5],
        [4, c[3], "赣州宏远物流有限公司", "非公企业", "赣州经开区", "", "", EXCEL_DATE, 80],
        [4, c[3], "赣州宏远物流有限公司", "非公企业", "赣州经开区", "", "", EXCEL_DATE, 80],  # the same again
        [5, HUAWEI, "已登记的公司（新名）", "非公企业", "章贡区", "", "", "", 300],
    ]  # fmt: skip
    if bad_row:
        rows.append(
            [6, "91440300192203821X", "校验位错的公司", "非公企业", "章贡区", "", "", "", 1]
        )
    return xlsx(name, rows, title_rows=[["赣州市两新组织名册（2026年）"]],
                merges=["A2:A3", "B2:E2", "F2:H2"])  # fmt: skip


def test_a_messy_file_is_read_right(app, xlsx):
    path = messy_organizations(xlsx)
    with app.app_context():
        f.OrganizationFactory(name="已登记的公司", credit_code=HUAWEI, headcount=10)
        with acting_as("test"):
            dry = transfer_tasks.preview_file("organizations", path)
        assert dry.problems == []
        assert dict(dry.counts) == {"created": 4, "updated": 1, "duplicate": 1}
        assert (
            db.session.execute(sa.select(sa.func.count()).select_from(Organization)).scalar() == 1
        )

        with acting_as("test"):
            done = transfer_tasks.import_file("organizations", path)
        assert done.committed
        orgs = {o.credit_code: o for o in db.session.execute(sa.select(Organization)).scalars()}
        assert len(orgs) == 5
        first = orgs[codes(1)[0]]
        assert (first.name, first.headcount, first.district.name) == (
            "赣州恒达家具有限公司",
            120,
            "南康区",
        )
        assert orgs[HUAWEI].name == "已登记的公司（新名）"
        joint = db.session.execute(
            sa.select(Branch).where(Branch.name == "文清路联合党支部")
        ).scalar_one()
        assert joint.kind is BranchKind.JOINT
        assert len(joint.organizations) == 2
        founded = {b.founded_on for b in db.session.execute(sa.select(Branch)).scalars()}
        assert founded == {date(2022, 6, 20)}


def test_importing_the_same_file_again_changes_nothing(app, xlsx):
    path = messy_organizations(xlsx)
    with app.app_context(), acting_as("test"):
        transfer_tasks.import_file("organizations", path)
        again = transfer_tasks.import_file("organizations", path)
        assert dict(again.counts) == {"unchanged": 5, "duplicate": 1}
        assert (
            db.session.execute(sa.select(sa.func.count()).select_from(Organization)).scalar() == 5
        )


def test_one_bad_row_and_nothing_is_written(app, xlsx):
    path = messy_organizations(xlsx, bad_row=True)
    with app.app_context(), acting_as("test"):
        result = transfer_tasks.import_file("organizations", path)
        assert not result.committed
        assert [(p.sheet, p.row, p.column, p.value) for p in result.problems] == [
            ("Sheet1", 10, "B 统一社会信用代码", "91440300192203821X")
        ]
        assert "校验位不符" in result.problems[0].reason
        assert (
            db.session.execute(sa.select(sa.func.count()).select_from(Organization)).scalar() == 0
        )


def test_a_duplicate_with_different_content_is_a_problem(app, xlsx):
    c = codes(1)[0]
    path = xlsx("dup.xlsx", [["统一社会信用代码", "组织名称", "组织类型", "县市区"],
                             [c, "甲公司", "非公企业", "章贡区"], [c, "乙公司", "非公企业", "章贡区"]])  # fmt: skip
    with app.app_context(), acting_as("test"):
        result = transfer_tasks.preview_file("organizations", path)
        assert "与第 2 行是同一条记录，但内容不同" in result.problems[0].reason


def test_a_sheet_without_our_headers_is_named(app, xlsx):
    path = xlsx("other.xlsx", [["姓名", "年龄"], ["张三", 30]])
    with app.app_context():
        result = transfer_tasks.preview_file("organizations", path)
        assert "没有找到表头" in result.problems[0].reason


def test_instructors_agency_branches_pairings_and_assignments(app, xlsx):
    with app.app_context(), acting_as("test"):
        path = xlsx("i.xlsx", [["姓名", "用户名", "手机号码", "县市区", "聘用日期", "状态"],
                               ["陈晓", "zdy200", "１３８０７９７１２３４", "章贡区", "2023/3/1", "在岗"]])  # fmt: skip
        assert transfer_tasks.import_file("instructors", path).committed
        path = xlsx(
            "a.xlsx",
            [["党组织名称", "县市区", "党员人数"], ["赣州市商务局机关党支部", "章贡区", 23]],
        )
        assert transfer_tasks.import_file("agency-branches", path).committed
        two_new = f.BranchFactory(name="华兴电子党支部")
        path = xlsx("p.xlsx", [["机关党组织", "两新党组织", "开始日期"],
                               ["赣州市商务局机关党支部", "华兴电子党支部", "2024年3月1日"]])  # fmt: skip
        assert transfer_tasks.import_file("pairings", path).counts["created"] == 1
        path = xlsx(
            "s.xlsx",
            [
                ["指导员用户名", "党组织名称", "开始日期"],
                ["zdy200", "华兴电子党支部", "2024-03-02"],
            ],
        )
        assert transfer_tasks.import_file("assignments", path).counts["created"] == 1
        from crm.assignments.services import current_assignment

        assert current_assignment(two_new.id).instructor.account.username == "zdy200"


def test_an_eleventh_assignment_in_a_file_is_a_row_problem(app, xlsx):
    with app.app_context(), acting_as("test"):
        me = f.InstructorFactory(account__username="busy")
        for _ in range(10):
            f.AssignmentFactory(instructor=me)
        f.BranchFactory(name="第十一个党支部")
        path = xlsx(
            "s.xlsx",
            [["指导员用户名", "党组织名称", "开始日期"], ["busy", "第十一个党支部", "2024-03-02"]],
        )
        result = transfer_tasks.import_file("assignments", path)
        assert not result.committed
        assert "达到上限" in result.problems[0].reason


def test_the_templates_read_back_without_problems(app, tmp_path):
    with app.app_context(), acting_as("test"):
        for kind in ("instructors", "organizations", "agency-branches"):
            path = tmp_path / f"{kind}.xlsx"
            path.write_bytes(services.template(kind))
            assert transfer_tasks.import_file(kind, path).committed, kind


def test_files_that_cannot_be_read_get_a_clear_message(app, client, auth, tmp_path, xlsx):
    with app.app_context():
        f.AccountFactory(username="admin", roles=[Role.ADMIN])
    auth.login("admin")
    big = tmp_path / "big.xlsx"
    with open(big, "wb") as out:
        out.truncate(21 * 1024 * 1024)
    many = tmp_path / "many.xlsx"
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["组织名称", "统一社会信用代码", "组织类型", "县市区"])
    for n in range(100_001):
        sheet.append([n])
    book.save(many)
    cases = [
        ("old.xls", b"\xd0\xcf\x11\xe0 old excel", "文件已损坏或不是 Excel 文件"),
        ("broken.xlsx", b"\x00\x01\x02 binary junk", "文件已损坏或不是 Excel 文件"),
        (big.name, big.read_bytes(), "文件超过 20 MB"),
        (many.name, many.read_bytes(), "超过 100,000 行"),
    ]
    app.config["MAX_CONTENT_LENGTH"] = 30 * 1024 * 1024
    for name, body, message in cases:
        import io

        response = client.post("/transfer/preview", data={"kind": "organizations",
                               "file": (io.BytesIO(body), name)}, content_type="multipart/form-data")  # fmt: skip
        assert response.status_code == 422, name
        assert message in response.text, name


def test_upload_preview_and_commit_on_the_web(app, client, auth, xlsx):
    import io

    with app.app_context():
        f.AccountFactory(username="admin", roles=[Role.ADMIN])
    auth.login("admin")
    body = messy_organizations(xlsx).read_bytes()
    preview = client.post("/transfer/preview", data={"kind": "organizations",
                          "file": (io.BytesIO(body), "名册.xlsx")}, content_type="multipart/form-data")  # fmt: skip
    assert preview.status_code == 200
    assert "确认导入" in preview.text
    token = preview.text.split('name="token" value="')[1].split('"')[0]
    with app.app_context():
        assert (
            db.session.execute(sa.select(sa.func.count()).select_from(Organization)).scalar() == 0
        )
    done = client.post("/transfer/commit", data={"token": token})
    assert done.status_code == 303
    with app.app_context():
        assert (
            db.session.execute(sa.select(sa.func.count()).select_from(Organization)).scalar() == 5
        )


def test_the_cli_exits_non_zero_on_row_problems(app, runner, xlsx):
    bad = messy_organizations(xlsx, "bad.xlsx", bad_row=True)
    result = runner.invoke(args=["transfer", "import", "organizations", str(bad), "--commit"])
    assert result.exit_code == 1
    assert "校验位不符" in result.output
    good = messy_organizations(xlsx, "good.xlsx")
    dry = runner.invoke(args=["transfer", "import", "organizations", str(good)])
    assert dry.exit_code == 0
    assert "预演完成" in dry.output
    done = runner.invoke(args=["transfer", "import", "organizations", str(good), "--commit"])
    assert done.exit_code == 0
    assert "新增 5，更新 0，未变 0，重复行 1" in done.output


def test_a_pairings_status_must_agree_with_its_dates(app, xlsx):
    with app.app_context(), acting_as("test"):
        f.AgencyBranchFactory(name="赣州市商务局机关党支部")
        f.BranchFactory(name="华兴电子党支部")
        f.BranchFactory(name="星光商贸党支部")
        f.BranchFactory(name="未来之光党支部")
        path = xlsx("p.xlsx", [
            ["机关党组织", "两新党组织", "结对日期", "状态", "结束日期"],
            ["赣州市商务局机关党支部", "华兴电子党支部", "2024-03-01", "已结束", ""],
            ["赣州市商务局机关党支部", "星光商贸党支部", "2024-03-01", "在册", "2025-01-01"],
            ["赣州市商务局机关党支部", "未来之光党支部", "2024-03-01", "已结束", "2023-01-01"],
        ])  # fmt: skip
        refused = transfer_tasks.import_file("pairings", path)
        assert not refused.committed
        messages = " ".join(problem.reason for problem in refused.problems)
        assert "状态为“已结束”的结对请填写结束日期" in messages
        assert "填写了结束日期的结对，状态应为“已结束”" in messages
        assert "结束日期不能早于开始日期" in messages
        path = xlsx("q.xlsx", [
            ["机关党组织", "两新党组织", "结对日期", "状态", "结束日期"],
            ["赣州市商务局机关党支部", "华兴电子党支部", "2024-03-01", "已结束", "2025-06-30"],
            ["赣州市商务局机关党支部", "星光商贸党支部", "2024-03-01", "", ""],
        ])  # fmt: skip
        assert transfer_tasks.import_file("pairings", path).committed
        found = {p.branch.name: p for p in db.session.scalars(sa.select(Pairing))}
    assert found["华兴电子党支部"].status is PairingStatus.ENDED
    assert found["星光商贸党支部"].status is PairingStatus.ACTIVE


def test_an_instructor_hired_after_today_is_refused_with_the_row_named(app, xlsx):
    with app.app_context(), acting_as("test"):
        path = xlsx("i.xlsx", [["姓名", "用户名", "手机号码", "县市区", "聘用日期"],
                               ["陈晓", "zdy300", "13807971234", "章贡区", "2099-03-01"]])  # fmt: skip
        result = transfer_tasks.import_file("instructors", path)
        assert not result.committed
        assert [(p.row, p.reason) for p in result.problems] == [
            (2, "聘用日期不能晚于今天；请在入职后再登记")
        ]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Instructor)) == 0


def test_the_go_live_import_of_history_counts_from_its_dates(app, client, auth, runner, xlsx):
    """An instructor roster and the pairings imported at go-live, as history, count in closed
    months from their own dates (the 0.2 meaning); the same files imported later as ordinary
    records count only from the day they were entered (a closed month does not move)."""
    import io

    from crm.instructors.services import in_post_at
    from crm.pairings.services import in_force_at

    with app.app_context():
        f.AccountFactory(username="admin", roles=[Role.ADMIN])
        agency = f.AgencyBranchFactory(name="赣州市商务局机关党支部")
        f.BranchFactory(name="新办电子党支部")
        agency_name = agency.name
    roster = [["姓名", "用户名", "手机号码", "县市区", "聘用日期", "状态"],
              ["陈晓", "zdy200", "13807971234", "章贡区", "2023-03-01", "在岗"]]  # fmt: skip
    paired = [
        ["机关党组织", "两新党组织", "结对日期"],
        [agency_name, "新办电子党支部", "2025-01-01"],
    ]
    auth.login("admin")
    body = xlsx("roster.xlsx", roster).read_bytes()
    preview = client.post("/transfer/preview", content_type="multipart/form-data",
                          data={"kind": "instructors", "history": "1",
                                "file": (io.BytesIO(body), "名册.xlsx")})  # fmt: skip
    assert "作为上线时的历史数据导入" in preview.text
    token = preview.text.split('name="token" value="')[1].split('"')[0]
    assert client.post("/transfer/commit", data={"token": token}).status_code == 303
    cli = runner.invoke(args=["transfer", "import", "pairings", str(xlsx("p.xlsx", paired)),
                              "--commit", "--history"])  # fmt: skip
    assert cli.exit_code == 0, cli.output
    later = [["姓名", "用户名", "手机号码", "县市区", "聘用日期", "状态"],
             ["刘洋", "zdy201", "13807971235", "章贡区", "2023-03-01", "在岗"]]  # fmt: skip
    assert runner.invoke(args=["transfer", "import", "instructors", str(xlsx("l.xlsx", later)),
                               "--commit"]).exit_code == 0  # fmt: skip

    last_year = date(date.today().year - 1, 12, 31)
    with app.app_context():
        in_post = db.session.scalars(
            sa.select(Instructor).where(in_post_at(last_year)).order_by(Instructor.id)
        ).all()
        in_force = db.session.scalars(sa.select(Pairing).where(in_force_at(last_year))).all()
        assert [i.account.username for i in in_post] == ["zdy200"]
        assert [p.branch.name for p in in_force] == ["新办电子党支部"]
        audit_lines = db.session.scalars(
            sa.text("SELECT summary FROM audit_entry WHERE action = 'import' ORDER BY id")
        ).all()
    assert ["（作为历史数据）" in line for line in audit_lines] == [True, True, False]
