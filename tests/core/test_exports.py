"""Every workbook the program writes prints as offices print it (issue 14, §8):
A4 landscape, as wide as the paper, the header row on every page, columns as
wide as their content.  Read from the xlsx's own XML, as a spreadsheet reads it."""

from __future__ import annotations

import zipfile
from datetime import date
from decimal import Decimal
from io import BytesIO
from xml.etree import ElementTree

import pandas as pd
import pytest

from services.core import exports
from services.core.permissions import Role
from services.devdata import demo
from services.ledger import templates
from services.year import report as rpt
from tests.conftest import make_unit_and_users

NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
}


def sheets_xml(data: bytes) -> dict[str, tuple[ElementTree.Element, str | None]]:
    """Sheet name -> (its worksheet XML, its print titles as the workbook defines them)."""
    book = zipfile.ZipFile(BytesIO(data))
    workbook = ElementTree.fromstring(book.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(book.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target") for r in rels.findall("rel:Relationship", NS)}
    sheets = workbook.findall("m:sheets/m:sheet", NS)
    titles = {
        int(d.get("localSheetId")): d.text
        for d in workbook.findall("m:definedNames/m:definedName", NS)
        if d.get("name") == "_xlnm.Print_Titles"
    }
    out = {}
    for index, sheet in enumerate(sheets):
        target = targets[sheet.get(f"{{{NS['r']}}}id")]
        out[sheet.get("name")] = (ElementTree.fromstring(book.read("xl/" + target)), titles.get(index))
    return out


def column_widths(sheet: ElementTree.Element) -> dict[int, float]:
    widths = {}
    for col in sheet.findall("m:cols/m:col", NS):
        for n in range(int(col.get("min")), int(col.get("max")) + 1):
            widths[n - 1] = int(float(col.get("width")))  # xlsxwriter adds its 0.71 of padding
    return widths


def header_texts(data: bytes, sheet_name: str) -> list[str]:
    import openpyxl

    book = openpyxl.load_workbook(BytesIO(data), read_only=True)
    return [c.value for c in next(book[sheet_name].iter_rows(max_row=1))]


def assert_prints_like_an_office(data: bytes, header_row: int = 1) -> None:
    for name, (sheet, titles) in sheets_xml(data).items():
        setup = sheet.find("m:pageSetup", NS)
        assert setup is not None, name
        assert setup.get("orientation") == "landscape", name
        assert setup.get("paperSize") == "9", name  # A4
        assert setup.get("fitToWidth") in (None, "1"), name  # 1 is the default
        assert setup.get("fitToHeight") == "0", name  # as many pages down as needed
        assert sheet.find("m:sheetPr/m:pageSetUpPr", NS).get("fitToPage") == "1", name
        assert titles is not None and titles.endswith(f"!${header_row}:${header_row}"), (name, titles)
        widths = column_widths(sheet)
        assert widths, name


def test_text_width_counts_chinese_twice():
    assert exports.text_width("T0001") == 5
    assert exports.text_width("身份证号") == 8
    assert exports.text_width("110105198001011234") == 18
    assert exports.text_width("Ｘ号") == 4  # full-width counts 2 as well
    assert exports.column_width(200) == exports.COLUMN_CAP
    assert exports.column_width(0) == exports.COLUMN_MIN


def test_demo_year_report_prints_landscape_one_page_wide_with_whole_id_numbers(sqlite_engine):
    actors = make_unit_and_users(sqlite_engine)
    demo.load_demo(sqlite_engine, staff=36)
    year = date.today().year
    report = rpt.build_report(sqlite_engine, actors[Role.LEADER], year)
    assert_prints_like_an_office(report.workbook)
    sheets = sheets_xml(report.workbook)
    assert set(sheets) == {"汇总", *rpt.SHEETS}
    staff, _ = sheets["职工台账"]
    headers = header_texts(report.workbook, "职工台账")
    widths = column_widths(staff)
    id_col = headers.index("身份证号")
    assert widths[id_col] >= 18 + exports.COLUMN_PAD  # the whole number shows, not ########
    assert widths[headers.index("姓名")] < widths[id_col]  # fitted, not one width for all
    # A Chinese header is counted twice: 独生子女证号 (12) fits.
    assert widths[headers.index("独生子女证号")] >= 12
    import openpyxl

    labels = [r[0] for r in openpyxl.load_workbook(BytesIO(report.workbook), read_only=True)["汇总"].values]
    assert column_widths(sheets["汇总"][0])[0] >= max(exports.text_width(str(x)) for x in labels)


def test_frames_workbook_fits_its_columns_and_prints_landscape():
    frame = pd.DataFrame(
        {
            "姓名": ["张三", "欧阳娜娜"],
            "身份证号": ["110105198001011234", "110105198001015678"],
            "金额": [Decimal("85000.50"), Decimal("1.00")],
            "日期": [date(2026, 1, 2), date(2026, 3, 4)],
            "备注": ["很" * 100, ""],
        }
    )
    data = exports.frames_to_xlsx({"名单": frame})
    assert_prints_like_an_office(data)
    widths = column_widths(sheets_xml(data)["名单"][0])
    assert widths[0] == exports.column_width(8)  # 欧阳娜娜
    assert widths[1] == exports.column_width(18)
    assert widths[2] == exports.column_width(len("85000.50"))
    assert widths[3] == exports.column_width(10)
    assert widths[4] == exports.COLUMN_CAP


def test_streamed_sheets_grow_their_columns_and_keep_fixed_widths():
    buffer = BytesIO()
    with exports.streamed_workbook(buffer) as (book, formats):
        writer = exports.SheetWriter(
            book.add_worksheet("表"),
            [("姓名", exports.TEXT), ("金额", exports.MONEY), ("原因", exports.TEXT)],
            formats,
            widths={2: 60},
        )
        writer.append(["欧阳娜娜娜", 85000.5, "x"])
        writer.append(["张三", 1, "y" * 200])
    data = buffer.getvalue()
    assert_prints_like_an_office(data)
    widths = column_widths(sheets_xml(data)["表"][0])
    # 欧阳娜娜娜 is 10 wide; 85000.5 shows as 85000.50 (counted up to 3 more for the decimals).
    assert widths == {0: exports.column_width(10), 1: exports.column_width(7 + 3), 2: 60}


@pytest.mark.parametrize("kind", ["staff", "family"])
def test_import_templates_print_landscape_too(kind):
    data = templates.staff_template_xlsx("zh_CN") if kind == "staff" else templates.family_template_xlsx("zh_CN")
    assert_prints_like_an_office(data)
    for name, (sheet, _) in sheets_xml(data).items():
        headers = [h for h in header_texts(data, name) if h]
        widths = column_widths(sheet)
        for col, header in enumerate(headers):
            assert widths[col] >= exports.text_width(header), (name, header)
