"""Spreadsheet downloads that are safe to open.

Every string is written as a string: xlsxwriter's conversion of text that looks
like a formula, number or URL is switched off, so a name typed as
`=HYPERLINK(...)` stays inert text in Excel and WPS.  Dates get a real date
format.  One writer for every export in the app.
"""

from __future__ import annotations

import io
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from services.core.formatting import LOCAL_TZ

WORKBOOK_OPTIONS = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "remove_timezone": True,
    "in_memory": True,
}
# Characters that make a spreadsheet treat a cell as a formula (OWASP's list).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

# Column widths, in Excel's units (about one Latin character; a Chinese one takes two).
COLUMN_PAD = 2  # room either side of the longest value
COLUMN_MIN = 6
COLUMN_CAP = 50  # a longer value wraps or is cut on paper rather than widen the sheet
KIND_WIDTHS = {"date": 10, "datetime": 16}  # yyyy-mm-dd, yyyy-mm-dd hh:mm


def text_width(text: str) -> int:
    """How many columns `text` takes on screen and paper: a CJK (wide or
    full-width) character counts 2, any other 1."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def column_width(longest: int) -> int:
    """The width of a column whose longest value (or header) takes `longest` columns."""
    return max(COLUMN_MIN, min(COLUMN_CAP, longest + COLUMN_PAD))


def print_as_offices_do(sheet: Worksheet, header_row: int = 0) -> None:
    """The print settings of every data sheet the program writes
    (docs/architecture.md, "Where each rule lives"): A4 landscape, as wide as
    the paper (as many pages down as needed), the header row repeated on every
    page, "n / N" at the foot."""
    sheet.set_paper(9)  # A4
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(header_row)
    sheet.set_margins(left=0.5, right=0.5, top=0.7, bottom=0.7)
    sheet.set_footer("&C&P / &N")


def write_sheet(workbook: xlsxwriter.Workbook, name: str, frame: pd.DataFrame, formats: dict[str, Format]) -> None:
    sheet = workbook.add_worksheet(name)
    for col, header in enumerate(frame.columns):
        sheet.write_string(0, col, str(header), formats["header"])
    longest = [text_width(str(h)) for h in frame.columns]
    for row_no, row in enumerate(frame.itertuples(index=False, name=None), start=1):
        for col, value in enumerate(row):
            if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT:
                continue
            if isinstance(value, datetime | pd.Timestamp):
                if value.tzinfo is not None:
                    value = value.astimezone(LOCAL_TZ).replace(tzinfo=None)
                sheet.write_datetime(row_no, col, value, formats["datetime"])
                longest[col] = max(longest[col], KIND_WIDTHS["datetime"])
            elif isinstance(value, date):
                sheet.write_datetime(row_no, col, datetime.combine(value, datetime.min.time()), formats["date"])
                longest[col] = max(longest[col], KIND_WIDTHS["date"])
            elif isinstance(value, bool):
                sheet.write_boolean(row_no, col, value)
            elif isinstance(value, Decimal):
                sheet.write_number(row_no, col, float(value), formats["money"])
                longest[col] = max(longest[col], len(f"{value:.2f}"))
            elif isinstance(value, int | float):
                sheet.write_number(row_no, col, value)
                longest[col] = max(longest[col], len(str(value)))
            else:
                text = str(value)
                sheet.write_string(row_no, col, text)
                longest[col] = max(longest[col], text_width(text))
    for col, width in enumerate(longest):
        sheet.set_column(col, col, column_width(width))
    sheet.freeze_panes(1, 0)
    print_as_offices_do(sheet)


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


def printable_sheet(
    sheet_name: str,
    title: str,
    info_lines: list[str],
    headers: list[str],
    widths: list[int],
    rows: list[list[str]],
    *,
    landscape: bool = False,
) -> bytes:
    """A sheet to print and pass round the room (签到表, 签收表): a title, a few
    lines of particulars, then a numbered, bordered table whose header repeats
    on every A4 page.  `headers`/`widths`/`rows` exclude the number column."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, WORKBOOK_OPTIONS)
    sheet = book.add_worksheet(sheet_name)
    title_fmt = book.add_format({"bold": True, "font_size": 16, "align": "center", "valign": "vcenter"})
    info_fmt = book.add_format({"font_size": 11, "align": "left"})
    head_fmt = book.add_format(
        {"bold": True, "border": 1, "align": "center", "valign": "vcenter", "bg_color": "#E8EEF4"}
    )
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


# ---------------------------------------------------------------- printable PDF

# Adobe's built-in simplified-Chinese font: referenced, not embedded, so no font
# file is needed; every PDF reader substitutes its Song (宋体) face.
PDF_FONT = "STSong-Light"
PDF_FONT_SIZES = (10.5, 9.0, 8.0, 7.0)  # a long cell shrinks through these, then wraps
PDF_ROW_HEIGHT = 28.0  # points (about 1 cm): room to sign by hand
PDF_CELL_PAD = 3.0
PDF_CELL_MAX_CHARS = 300  # longer is cut (with "…") so that no row outgrows a page
PDF_MARGIN = 12 * 72 / 25.4  # 12 mm, in points
PDF_FRAME_PAD = 6.0  # reportlab's default padding inside the page's frame


def pdf_font() -> str:
    """The CJK font every PDF the program writes uses (registered once)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if PDF_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(PDF_FONT))
    return PDF_FONT


def pdf_markup(text: str) -> str:
    """User text as Paragraph markup that prints literally: `<b>`, `&` stay text;
    runs of spaces (that separate particulars) stay wide."""
    from xml.sax.saxutils import escape

    escaped = escape(" ".join(str(text).splitlines()))
    # The CID font has no no-break space (and Paragraph collapses other spaces):
    # the gap is made of Helvetica's, which every PDF reader has.
    return re.sub(r" {2,}", lambda m: '<font name="Helvetica">' + "&nbsp;" * 2 * len(m.group()) + "</font>", escaped)


def printable_pdf(
    sheet_name: str,
    title: str,
    info_lines: list[str],
    headers: list[str],
    widths: list[int],
    rows: list[list[str]],
    *,
    landscape: bool = False,
) -> bytes:
    """The PDF twin of `printable_sheet`, same arguments: an A4 sheet to print
    and pass round the room.  Title centred, the particulars, then a numbered,
    bordered table of tall rows whose header repeats on every page, and "n / N"
    at the foot of each page.  Chinese is set in the built-in STSong-Light CID
    font; a cell too long for its column shrinks (down to 7 pt) and wraps, and
    user text is escaped so it never acts as markup.  `widths` are the xlsx
    column widths, used as proportions of the page width."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.pagesizes import landscape as turned
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus import (
        Flowable,
        LongTable,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
    )

    font = pdf_font()
    pagesize = turned(A4) if landscape else A4
    margin = PDF_MARGIN
    frame_width = pagesize[0] - 2 * (margin + PDF_FRAME_PAD)
    total = sum(widths) or 1
    col_widths = [frame_width * w / total for w in widths]

    cell_styles = {
        size: ParagraphStyle(
            f"cell{size}", fontName=font, fontSize=size, leading=size * 1.2, alignment=TA_CENTER, wordWrap="CJK"
        )
        for size in PDF_FONT_SIZES
    }

    def fitted(text: str, width: float) -> tuple[object, float]:
        """A cell's content and the height it needs: the plain string when it
        fits on one line (fast), else a Paragraph at the largest size that
        takes at most two lines, else wrapped at the smallest size."""
        inner = width - 2 * PDF_CELL_PAD
        if len(text) > PDF_CELL_MAX_CHARS:
            text = text[: PDF_CELL_MAX_CHARS - 1] + "…"
        if "\n" not in text and stringWidth(text, font, PDF_FONT_SIZES[0]) <= inner:
            return text, PDF_FONT_SIZES[0] * 1.2
        for size in PDF_FONT_SIZES:
            para = Paragraph(pdf_markup(text), cell_styles[size])
            _, height = para.wrap(inner, 1e6)
            if len(para.blPara.lines) <= 2 or size == PDF_FONT_SIZES[-1]:
                return para, height
        raise AssertionError("unreachable")

    table_rows, heights = [], []
    for n, cells in enumerate([headers, *rows]):
        texts = [str(t) for t in cells] if n == 0 else [str(n), *("" if v is None else str(v) for v in cells)]
        content = [fitted(text, w) for text, w in zip(texts, col_widths, strict=False)]
        table_rows.append([c for c, _ in content])
        lowest = PDF_ROW_HEIGHT if n else PDF_ROW_HEIGHT * 0.75
        heights.append(max(lowest, *(h + 2 * PDF_CELL_PAD for _, h in content)))

    table = LongTable(table_rows, colWidths=col_widths, rowHeights=heights, repeatRows=1)
    table.setStyle(
        [
            ("FONTNAME", (0, 0), (-1, -1), font),
            ("FONTSIZE", (0, 0), (-1, -1), PDF_FONT_SIZES[0]),
            ("ALIGN", (0, 0), (-1, -1), "CENTER"),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("GRID", (0, 0), (-1, -1), 0.6, colors.black),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E8EEF4")),
            *(
                ("LEFTPADDING", (0, 0), (-1, -1), PDF_CELL_PAD),
                ("RIGHTPADDING", (0, 0), (-1, -1), PDF_CELL_PAD),
                ("TOPPADDING", (0, 0), (-1, -1), PDF_CELL_PAD),
                ("BOTTOMPADDING", (0, 0), (-1, -1), PDF_CELL_PAD),
            ),
        ]
    )

    class Title(Flowable):
        """The title, centred and set bold (filled and stroked: the CID font has
        no bold face); shrunk to fit one line, wrapped if still too long."""

        def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
            self.width, self.size = avail_width, 18.0
            while self.size > 12 and stringWidth(title, font, self.size) > avail_width:
                self.size -= 1
            self.lines, line = [], ""
            for char in title:
                if line and stringWidth(line + char, font, self.size) > avail_width:
                    self.lines.append(line)
                    line = ""
                line += char
            self.lines.append(line)
            self.leading = self.size * 1.3
            return avail_width, self.leading * len(self.lines) + 6

        def draw(self) -> None:
            canvas = self.canv
            canvas.setFont(font, self.size)
            canvas.setLineWidth(self.size * 0.03)
            for n, line in enumerate(self.lines):
                text = canvas.beginText()
                text.setTextRenderMode(2)
                text.setFont(font, self.size)
                y = self.leading * (len(self.lines) - n - 1) + 6 + (self.leading - self.size) / 2
                text.setTextOrigin((self.width - stringWidth(line, font, self.size)) / 2, y)
                text.textOut(line)
                canvas.drawText(text)

    class NumberedCanvas(Canvas):
        """Holds pages back until the end so each footer can say "n / N"."""

        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            for n, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self.setFont(font, 9)
                self.drawCentredString(pagesize[0] / 2, margin / 2, f"{n} / {len(self._pages)}")
                super().showPage()
            super().save()

    info_style = ParagraphStyle("info", fontName=font, fontSize=10.5, leading=15, wordWrap="CJK")
    story = [Title(), *(Paragraph(pdf_markup(line), info_style) for line in info_lines), Spacer(1, 6), table]
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=pagesize,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=margin,
        title=title,
        subject=sheet_name,
        creator="Taizhang",
    )
    doc.build(story, canvasmaker=NumberedCanvas)
    return buffer.getvalue()


# The printable documents' formats: one gathering of the data, either writer.
PRINT_FORMATS = {"xlsx": printable_sheet, "pdf": printable_pdf}


# ---------------------------------------------------------------- streamed sheets

# Column kinds of a streamed sheet: how a cell is written (and, for the year
# report, how it enters the checksum).
TEXT, INT, DATE, MONEY, HOURS = "text", "int", "date", "money", "hours"
# How much wider a number is shown than its checksum text ("85000.5" shows as 85000.50).
SHOWN_EXTRA = {MONEY: 3, HOURS: 2}


@contextmanager
def streamed_workbook(buffer: io.BytesIO) -> Iterator[tuple[xlsxwriter.Workbook, dict[str, Format]]]:
    """A workbook whose rows spill to temporary files as they are written
    (bounded memory, whatever the number of rows), closed into `buffer` on exit;
    yields it with the cell formats `SheetWriter` uses."""
    with tempfile.TemporaryDirectory(prefix="taizhang-xlsx-") as tmp:
        book = xlsxwriter.Workbook(
            buffer, {**WORKBOOK_OPTIONS, "in_memory": False, "constant_memory": True, "tmpdir": tmp}
        )
        formats = {
            "header": book.add_format({"bold": True, "bg_color": "#E8EEF4", "border": 1}),
            "date": book.add_format({"num_format": "yyyy-mm-dd"}),
            "money": book.add_format({"num_format": "0.00"}),
            "hours": book.add_format({"num_format": "0.0"}),
        }
        yield book, formats
        book.close()


def number_text(value: float | int | Decimal) -> str:
    """A number as the checksum sees it: the shortest decimal of its double, no trailing zeros."""
    number = float(value)
    if number.is_integer() and abs(number) < 2**53:  # the common case, without Decimal (same text)
        return str(int(number))
    text = format(Decimal(repr(number)).normalize(), "f")
    return "0" if text in ("-0", "0") else text


class SheetWriter:
    """One worksheet written row by row, every value typed by its column's kind.

    `formats` are `streamed_workbook`'s; `digest`, when given (the year report's
    checksum), receives each row as `row_text` of the cells' canonical texts;
    `widths` overrides a column's width (by index)."""

    def __init__(
        self,
        sheet: Worksheet,
        columns: list[tuple[str, str]],
        formats: dict[str, Format],
        digest: Any = None,
        widths: dict[int, int] | None = None,
    ) -> None:
        self.sheet = sheet
        self.kinds = [kind for _, kind in columns]
        self.formats = formats
        self.writers = self._cell_writers()
        self.digest = digest
        self.row_no = 0
        self.rows = 0
        headers = [h for h, _ in columns]
        # Columns fit their longest value (header included), growing as rows come;
        # `widths` fixes a column instead.
        self.fixed = dict(widths or {})
        self.longest = [text_width(h) for h in headers]
        self.applied: list[int | None] = [None] * len(headers)
        for col in range(len(headers)):
            self._fit(col)
        for col, header in enumerate(headers):
            sheet.write_string(0, col, header, formats["header"])
        sheet.freeze_panes(1, 0)
        print_as_offices_do(sheet)
        if digest is not None:
            digest.row(headers)

    def append(self, values: list[Any], kinds: list[str] | None = None) -> None:
        """Write one row; `kinds` overrides the columns' kinds for this row only."""
        writers = self.writers if kinds is None else self._cell_writers(kinds)
        self.row_no += 1
        self.rows += 1
        row = self.row_no
        canon = [
            "" if value is None or value == "" else write(row, col, value)
            for col, (write, value) in enumerate(zip(writers, values, strict=True))
        ]
        longest = self.longest
        for col, (text, kind) in enumerate(zip(canon, kinds or self.kinds, strict=True)):
            # Cheap test first: a value cannot be wider than twice its length.
            if 2 * len(text) + 3 > longest[col]:
                width = text_width(text) + SHOWN_EXTRA.get(kind, 0)
                if width > longest[col]:
                    longest[col] = width
                    self._fit(col)
        if self.digest is not None:
            self.digest.row_text("\x1f".join(canon))

    def _fit(self, col: int) -> None:
        width = self.fixed.get(col) or column_width(self.longest[col])
        if width != self.applied[col]:
            self.sheet.set_column(col, col, width)
            self.applied[col] = width

    def _cell_writers(self, kinds: list[str] | None = None) -> list[Callable[[int, int, Any], str]]:
        """Per column: write the value with its kind's type and format, return its checksum text
        (as `canonical` gives it for the value read back: an int's decimal digits equal
        the shortest form of its double below 2**53)."""
        sheet, formats = self.sheet, self.formats

        def text(row: int, col: int, value: Any) -> str:
            value = value if isinstance(value, str) else str(value)
            sheet.write_string(row, col, value)
            return value

        def integer(row: int, col: int, value: Any) -> str:
            value = int(value)
            sheet.write_number(row, col, value)
            return str(value)

        def day(row: int, col: int, value: date) -> str:
            sheet.write_datetime(row, col, datetime(value.year, value.month, value.day), formats["date"])
            return value.isoformat()

        def number(fmt: str) -> Callable[[int, int, Any], str]:
            def write(row: int, col: int, value: Any) -> str:
                value = float(value)
                sheet.write_number(row, col, value, formats[fmt])
                return number_text(value)

            return write

        by_kind = {TEXT: text, INT: integer, DATE: day, MONEY: number("money"), HOURS: number("hours")}
        return [by_kind[kind] for kind in (kinds or self.kinds)]
