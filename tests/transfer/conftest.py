from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook


def workbook(path: Path, rows: list[list], *, title_rows: list[list] = (), merges: list[str] = (),
             sheet: str = "Sheet1") -> Path:  # fmt: skip
    """An .xlsx built the way people build them: titles above, merged cells, whatever order."""
    book = Workbook()
    ws = book.active
    ws.title = sheet
    for row in [*title_rows, *rows]:
        ws.append(row)
    for cells in merges:
        ws.merge_cells(cells)
    book.save(path)
    return path


@pytest.fixture
def xlsx(tmp_path):
    def make(name: str, rows, **kwargs) -> Path:
        return workbook(tmp_path / name, rows, **kwargs)

    return make


EXCEL_DATE = datetime(2019, 5, 4)
