"""Spreadsheet downloads that are safe to open.

Every string is written as a string: xlsxwriter's conversion of text that looks
like a formula, number or URL is switched off, so a name typed as
`=HYPERLINK(...)` stays inert text in Excel and WPS.  Dates get a real date
format.  One writer for every export in the app.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

import pandas as pd
import xlsxwriter
from sqlalchemy.engine import Engine

from services import audit
from services.formatting import LOCAL_TZ
from services.permissions import Actor

WORKBOOK_OPTIONS = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "remove_timezone": True,
    "in_memory": True,
}
# Characters that make a spreadsheet treat a cell as a formula (OWASP's list).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def write_sheet(workbook: xlsxwriter.Workbook, name: str, frame: pd.DataFrame, formats: dict) -> None:
    sheet = workbook.add_worksheet(name)
    for col, header in enumerate(frame.columns):
        sheet.write_string(0, col, str(header), formats["header"])
    widths = [max(6, min(40, len(str(h)) * 2 + 2)) for h in frame.columns]
    for row_no, row in enumerate(frame.itertuples(index=False, name=None), start=1):
        for col, value in enumerate(row):
            if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT:
                continue
            if isinstance(value, datetime | pd.Timestamp):
                if value.tzinfo is not None:
                    value = value.astimezone(LOCAL_TZ).replace(tzinfo=None)
                sheet.write_datetime(row_no, col, value, formats["datetime"])
            elif isinstance(value, date):
                sheet.write_datetime(row_no, col, datetime.combine(value, datetime.min.time()), formats["date"])
            elif isinstance(value, bool):
                sheet.write_boolean(row_no, col, value)
            elif isinstance(value, Decimal):
                sheet.write_number(row_no, col, float(value), formats["money"])
            elif isinstance(value, int | float):
                sheet.write_number(row_no, col, value)
            else:
                text = str(value)
                sheet.write_string(row_no, col, text)
                widths[col] = max(widths[col], min(60, len(text) * 2))
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width)
    sheet.freeze_panes(1, 0)


def frames_to_xlsx(sheets: dict[str, pd.DataFrame]) -> bytes:
    """An xlsx workbook with one sheet per frame (header row, then values)."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, WORKBOOK_OPTIONS)
    formats = {
        "header": workbook.add_format({"bold": True, "bg_color": "#E8EEF4", "border": 1}),
        "date": workbook.add_format({"num_format": "yyyy-mm-dd"}),
        "datetime": workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
        "money": workbook.add_format({"num_format": "0.00"}),
    }
    for name, frame in sheets.items():
        write_sheet(workbook, name, frame, formats)
    workbook.close()
    return buffer.getvalue()


def printable_sheet(sheet_name: str, title: str, info_lines: list[str], headers: list[str], widths: list[int],
                    rows: list[list[str]], *, landscape: bool = False) -> bytes:
    """A sheet to print and pass round the room (签到表, 签收表): a title, a few
    lines of particulars, then a numbered, bordered table whose header repeats
    on every A4 page.  `headers`/`widths`/`rows` exclude the number column."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, WORKBOOK_OPTIONS)
    sheet = book.add_worksheet(sheet_name)
    title_fmt = book.add_format({"bold": True, "font_size": 16, "align": "center", "valign": "vcenter"})
    info_fmt = book.add_format({"font_size": 11, "align": "left"})
    head_fmt = book.add_format({"bold": True, "border": 1, "align": "center", "valign": "vcenter", "bg_color": "#E8EEF4"})
    cell_fmt = book.add_format({"border": 1, "align": "center", "valign": "vcenter"})
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width)
    last = len(headers) - 1
    sheet.merge_range(0, 0, 0, last, title, title_fmt)
    sheet.set_row(0, 30)
    for n, line in enumerate(info_lines, start=1):
        sheet.merge_range(n, 0, n, last, line, info_fmt)
    header_row = len(info_lines) + 1
    for col, text in enumerate(headers):
        sheet.write_string(header_row, col, text, head_fmt)
    for n, cells in enumerate(rows, start=1):
        row = header_row + n
        sheet.set_row(row, 24)
        sheet.write_number(row, 0, n, cell_fmt)
        for col, value in enumerate(cells, start=1):
            sheet.write_string(row, col, str(value or ""), cell_fmt)
    sheet.set_paper(9)  # A4
    sheet.set_landscape() if landscape else sheet.set_portrait()
    sheet.center_horizontally()
    sheet.set_margins(left=0.5, right=0.5, top=0.7, bottom=0.7)
    sheet.repeat_rows(header_row)
    sheet.fit_to_pages(1, 0)
    sheet.set_footer("&C&P / &N")
    book.close()
    return buffer.getvalue()


def record_export(engine: Engine, actor: Actor, what: str, rows: int, **details: object) -> None:
    """Exports are writes in the audit sense: who took which data out, and when."""
    audit.record_standalone(engine, actor, "export", entity_type=what, details={"rows": rows, **details})
