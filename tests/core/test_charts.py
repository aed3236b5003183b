"""The trend chart writes each point's value by it (issue 19.7: a reviewer read the 12-month
chart's figures by eye against the grid)."""

import re

from crm.charts import line_chart


def test_every_point_of_the_trend_chart_is_labelled_with_its_value():
    visits, solved = [31, 47, 12, 58], [4, 9, 0, 13]
    svg = str(line_chart("近 4 个月", ["8月", "9月", "10月", "11月"],
                         [("走访", visits), ("解决问题", solved)]))  # fmt: skip
    labels = re.findall(r'<text[^>]*fill="[^"]+">(\d+)</text>', svg)
    assert labels == [str(v) for v in visits + solved]
    assert svg.count("<circle") == len(visits) + len(solved)
