"""A report's figures as tables: the .xlsx beside each PDF, and what tells two versions apart.

The tables are made from the same content (crm.reports.content) the PDF is laid out from, so
the workbook holds the PDF's numbers. Two kinds: a table of figures, whose first cell names
each row (compared cell by cell), and a list of records (compared row by row: what was
added, what went).
"""

import json
from dataclasses import asdict, dataclass
from typing import Any

from crm import clock
from crm.core.spreadsheets import write_sheets
from crm.core.templating import percent
from crm.reports.content import INSTRUCTOR_COLUMNS, AreaMonth, InstructorMonth
from crm.review.figures import METRIC, NAMES

TOTAL = "合计"


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[Any]]
    keyed: bool = True  # figures named by their first cell; else a list of records


def of_instructor(month: InstructorMonth) -> list[Table]:
    """The instructor report's tables: the month in figures, then its records by kind."""
    return [
        _instructor_summary(month),
        _instructor_branches(month),
        _instructor_visits(month),
        _instructor_problems(month),
        Table(
            "三会",
            ["日期", "党组织", "会议"],
            [[m.held_on.isoformat(), m.branch.name, m.kind.label] for m in month.meetings],
            keyed=False,
        ),
        *late_table(month.corrections),
    ]


def _instructor_summary(month: InstructorMonth) -> Table:
    rows = [
        ["联系指导党组织", month.held],
        ["本月走访", len(month.visits)],
        ["超期未走访", len(month.not_visited)],
        ["登记问题", len(month.raised)],
        ["解决问题", len(month.solved)],
        ["超期问题", len(month.overdue)],
        ["三会", len(month.meetings)],
        ["两卡记录", month.notes + month.entries],
        ["结对共建活动", len(month.activities)],
    ]
    return Table("概况", ["指标", "数值"], rows)


def _instructor_branches(month: InstructorMonth) -> Table:
    rows = [
        [
            line.branch.name,
            line.visits,
            line.last_onsite.isoformat() if line.last_onsite else "无",
            line.open_problems,
            "月内已移交" if not line.held_at_end else "超期未走访" if line.overdue else "正常",
        ]
        for line in month.branches
    ]
    headers = ["党组织", "本月走访", "最近一次实地走访", "未办结问题", "状态"]
    return Table("联系指导的党组织", headers, rows)


def _instructor_visits(month: InstructorMonth) -> Table:
    rows = [
        [
            v.visited_at.astimezone(clock.LOCAL_TIME).strftime("%Y-%m-%d %H:%M"),
            v.branch.name,
            v.kind.label,
            v.summary,
            "是" if v.backfilled else "",
        ]
        for v in month.visits
    ]
    return Table("走访记录", ["时间", "党组织", "方式", "情况", "补录"], rows, keyed=False)


def _instructor_problems(month: InstructorMonth) -> Table:
    """The month's problems under three headings: raised, solved, overdue at its end."""
    rows = [
        [
            heading,
            p.raised_on.isoformat(),
            p.branch.name,
            p.description,
            p.department,
            p.due_on.isoformat(),
            p.status.label,
        ]
        for heading, found in (
            ("本月登记", month.raised),
            ("本月解决", month.solved),
            ("超期未办结（截至月末）", month.overdue),
        )
        for p in found
    ]
    headers = ["类别", "登记日期", "党组织", "问题", "协调部门", "办结期限", "月末状态"]
    return Table("问题办理", headers, rows, keyed=False)


def late_table(corrections: list) -> list[Table]:
    """补录与更正: a table only when there is one, so a month never changed reads as before."""
    if not corrections:
        return []
    rows = [
        [
            c.made_at.astimezone(clock.LOCAL_TIME).strftime("%Y-%m-%d %H:%M"),
            c.branch.name,
            f"{c.what}（第 {c.number} 版）",
            c.summary,
            c.reason,
            c.by.name,
        ]
        for c in corrections
    ]
    return [
        Table(LATE, ["更正时间", "党组织", "记录", "改动", "原因", "更正人"], rows, keyed=False)
    ]


LATE = "补录与更正"


AREA_KEYS = (
    "instructors",
    "guided",
    "covered",
    "visits",
    "not_visited",
    "raised",
    "solved",
    "overdue",
    "meetings",
    "cards",
    "pairings",
)


# The rates, as a month's report names them (its problems were raised in the month).
AREA_RATES = (
    ("coverage", METRIC["coverage"].name),
    ("resolution_rate", "问题解决率（本月登记）"),
)


def of_area(area: AreaMonth) -> list[Table]:
    main = [
        [NAMES[k], area.total[k], area.then[k], area.total[k] - area.then[k]] for k in AREA_KEYS
    ]
    main += [
        [label, percent(getattr(area.total, k)), percent(getattr(area.then, k)), ""]
        for k, label in AREA_RATES
    ]
    tables = [Table("主要指标", ["指标", area.period.label, area.before.label, "增减"], main)]
    if area.district is None:
        rows = [
            [
                d.name,
                *(area.by_district[d.id][k] if d.id in area.by_district else 0 for k in AREA_KEYS),
            ]
            for d in area.districts
        ]
        rows.append([TOTAL, *(area.total[k] for k in AREA_KEYS)])
        tables.append(Table("各县市区", ["县（市、区）", *(NAMES[k] for k in AREA_KEYS)], rows))
    else:
        rows = [
            [
                i.name if i else "（当日无指导员）",
                *(getattr(line, k) for k, _ in INSTRUCTOR_COLUMNS),
            ]
            for i, line in area.instructors
        ]
        rows.append([TOTAL, *(area.instructor_total[k] for k, _ in INSTRUCTOR_COLUMNS)])
        tables.append(
            Table("指导员工作量", ["指导员", *(label for _, label in INSTRUCTOR_COLUMNS)], rows)
        )
    trend = [
        [m.short_label, *(series[n] for series in area.trend.values())]
        for n, m in enumerate(area.months)
    ]
    tables.append(Table("近12个月", ["月份", *area.trend], trend))
    return tables + late_table(area.corrections)


def workbook(tables: list[Table], title: str) -> bytes:
    """One sheet a table."""
    return write_sheets(((t.title, t.headers, t.rows) for t in tables), title=title)


def to_json(tables: list[Table]) -> list[dict]:
    return json.loads(json.dumps([asdict(t) for t in tables], default=str, ensure_ascii=False))


def differences(before: list[dict] | None, after: list[dict]) -> list[str]:
    """What changed from one version's tables to the next, one line each, in Chinese."""
    if before is None:
        return []
    lines = []
    old = {t["title"]: t for t in before}
    for table in after:
        was = old.get(table["title"])
        if was is None:
            lines.append(f"新增表：{table['title']}")
            if not table["keyed"]:  # a list (补录与更正): name what it lists
                lines += _row_changes({"rows": []}, table)
        elif table["keyed"]:
            lines += _cell_changes(was, table)
        else:
            lines += _row_changes(was, table)
    return lines


def _cell_changes(was: dict, now: dict) -> list[str]:
    old = {row[0]: row for row in was["rows"]}
    lines = []
    for row in now["rows"]:
        before = old.pop(row[0], None)
        if before is None:
            lines.append(f"{now['title']}：新增“{row[0]}”一行")
            continue
        for header, a, b in zip(now["headers"][1:], before[1:], row[1:], strict=False):
            if a != b:
                lines.append(f"{now['title']}：{row[0]}的“{header}”由 {a} 变为 {b}")
    lines += [f"{now['title']}：“{name}”一行已不在" for name in old]
    return lines


def _row_changes(was: dict, now: dict) -> list[str]:
    old = [json.dumps(r, ensure_ascii=False) for r in was["rows"]]
    new = [json.dumps(r, ensure_ascii=False) for r in now["rows"]]
    lines = []
    remaining = list(old)
    for text, row in zip(new, now["rows"], strict=True):
        if text in remaining:
            remaining.remove(text)
        else:
            lines.append(f"{now['title']}新增：{'，'.join(str(v) for v in row if v != '')}")
    for text in remaining:
        row = json.loads(text)
        lines.append(f"{now['title']}减少：{'，'.join(str(v) for v in row if v != '')}")
    return lines
