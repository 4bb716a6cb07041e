"""The district officer's journey in a real browser: sign in, upload several schools'
workbooks at once (made by the school program itself, one edited after generation),
read the problems, open a unit, download both roll-up files and have LibreOffice
convert them."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from datetime import datetime

from services.core.formatting import LOCAL_TZ, local_today
from services.core.permissions import Role, UnitKind
from tests.browser.harness import chromium_page, commit_typing, screenshot, streamlit_server, wait_idle
from tests.conftest import STRONG_PASSWORD, skip_or_fail

Y = local_today().year
DISTRICT = "演示区"


def _edited(workbook: bytes) -> bytes:
    """One number of 职工台账 (the second sheet) changed after generation: the checksum fails."""
    source = zipfile.ZipFile(io.BytesIO(workbook))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet2.xml":
                data = re.sub(rb'(<c r="A3"[^>]*>)<v>[^<]*</v>', rb"\g<1><v>99</v>", data, count=1)
            target.writestr(info, data)
    return out.getvalue()


def _setup(url: str, folder) -> list:
    """A district unit with its officer at `url`; three school workbooks in `folder`."""
    from services.accounts import auth
    from services.core import db
    from services.devdata.workbooks import demo_school, school_workbook
    from services.ledger import unit

    engine = db.get_engine(url)
    db.upgrade_to_head(engine)
    unit.initialise(
        engine,
        unit_name=DISTRICT,
        district=DISTRICT,
        leader_name="",
        principal_name="",
        admin_username="admin",
        admin_display_name="系统管理员",
        admin_password=STRONG_PASSWORD,
        kind=UnitKind.DISTRICT,
    )
    admin = auth.authenticate(engine, "admin", STRONG_PASSWORD)
    auth.create_user(engine, admin, "officer", "王专干", Role.DISTRICT_OFFICER, STRONG_PASSWORD)
    engine.dispose()
    db.get_engine.cache_clear()

    now = datetime(Y, 12, 20, 9, 30, tzinfo=LOCAL_TZ)
    small, larger = demo_school(folder / "s8.sqlite3", 8, seed=8), demo_school(folder / "s15.sqlite3", 15, seed=15)
    made = [school_workbook(small, "甲小学", Y, now=now), school_workbook(larger, "乙小学", Y, now=now)]
    name, data = school_workbook(larger, "丙小学", Y, now=now)
    made.append((name, _edited(data)))
    small.dispose()
    larger.dispose()
    paths = []
    for name, data in made:
        path = folder / name
        path.write_bytes(data)
        paths.append(path)
    return paths


def _converted_text(source) -> str:
    """The downloaded file at `source` converted to PDF by LibreOffice, read back as text."""
    from pypdf import PdfReader

    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        skip_or_fail("LibreOffice (soffice) is not installed (Debian libreoffice-calc-nogui libreoffice-writer-nogui)")
    folder = source.parent
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{folder / 'lo-profile'}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(folder),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    converted = source.with_suffix(".pdf")
    assert converted.exists() and converted.stat().st_size > 0
    return "".join(page.extract_text() for page in PdfReader(converted).pages).replace("\n", "").replace(" ", "")


def _click_row(page, table, row: int) -> None:
    """Click the selection cell of data row `row` (0-based) of a st.dataframe (a canvas)."""
    box = table.bounding_box()
    assert box is not None
    header, height = 35, 35  # Streamlit's default header and row heights
    page.mouse.click(box["x"] + 12, box["y"] + header + height * row + height / 2)


def test_district_officer_collects_reads_opens_a_unit_and_downloads(chromium_path, tmp_path):
    from playwright.sync_api import expect

    url = f"sqlite:///{tmp_path / 'district.sqlite3'}"
    schools = tmp_path / "schools"
    schools.mkdir()
    paths = _setup(url, schools)
    out = tmp_path / "downloads"
    out.mkdir()

    with (
        streamlit_server(url, tmp_path / "streamlit.log") as base,
        chromium_page(chromium_path) as page,
    ):
        page.goto(base)
        wait_idle(page)
        page.get_by_label("用户名").fill("officer")
        page.get_by_label("密码", exact=True).fill(STRONG_PASSWORD)
        commit_typing(page)
        page.get_by_role("button", name="登录", exact=True).click()
        expect(page.get_by_role("heading", name="区级汇总")).to_be_visible()
        sidebar = page.get_by_test_id("stSidebar")
        expect(sidebar.get_by_text("区级汇总")).to_be_visible()
        expect(sidebar.get_by_text("教职工")).to_have_count(0)
        expect(page.get_by_role("heading", name="教职工")).to_have_count(0)
        expect(page.get_by_text(f"{Y} 年度尚未收到任何报表。")).to_be_visible()
        wait_idle(page)

        # Several workbooks at once, through the page's uploader.
        page.locator('[data-testid="stFileUploader"]').first.locator('input[type="file"]').set_input_files(
            [str(p) for p in paths]
        )
        for path in paths:
            expect(page.get_by_role("button", name=f"Remove {path.name}")).to_be_attached()
        wait_idle(page)
        page.get_by_role("button", name="校验并收取").click()
        expect(page.get_by_text("已校验 3 个文件：计入 2 个，退回 1 个，重复 0 个。")).to_be_visible(timeout=120_000)
        wait_idle(page)

        metrics = page.get_by_test_id("stMetric")
        expect(metrics.filter(has_text="已报")).to_contain_text("2")
        expect(metrics.filter(has_text="退回")).to_contain_text("1")

        # The problems: the edited file is named, with its status.
        problems = page.get_by_test_id("stTable")
        expect(problems).to_contain_text("丙小学")
        expect(problems).to_contain_text("校验失败")
        screenshot(page, "district-01-officer-after-collecting")

        # Open a unit: its summary and the file received from it.
        table = page.get_by_test_id("stDataFrame").first
        table.scroll_into_view_if_needed()
        wait_idle(page)
        _click_row(page, table, 1)  # 乙小学 (the units in the order received: 甲, 乙, 丙)
        expect(page.get_by_role("heading", name="乙小学")).to_be_visible()
        expect(page.get_by_text("该单位汇总")).to_be_visible()
        expect(page.get_by_text("没有问题。")).to_be_visible()
        wait_idle(page)
        screenshot(page, "district-02-unit-opened")
        page.get_by_role("heading", name="图表").scroll_into_view_if_needed()
        expect(page.get_by_test_id("stVegaLiteChart")).to_have_count(4)
        wait_idle(page)
        screenshot(page, "district-03-charts")

        # Both files, built with a progress bar, named by the district and year.
        page.get_by_role("button", name="生成汇总文件").click()
        workbook_button = page.get_by_role("button", name="汇总表（xlsx）")
        expect(workbook_button).to_be_visible(timeout=120_000)
        wait_idle(page)
        with page.expect_download() as got:
            workbook_button.click()
        workbook = got.value
        assert workbook.suggested_filename == f"{DISTRICT}_{Y}年计划生育综合治理汇总.xlsx"
        workbook_path = out / workbook.suggested_filename
        workbook.save_as(workbook_path)
        with page.expect_download() as got:
            page.get_by_role("button", name="工作汇总初稿（docx）").click()
        summary = got.value
        assert summary.suggested_filename == f"{DISTRICT}_{Y}年计划生育综合治理工作汇总.docx"
        summary_path = out / summary.suggested_filename
        summary.save_as(summary_path)
        screenshot(page, "district-04-files-built")

    sheet_text = _converted_text(workbook_path)
    assert DISTRICT in sheet_text and "乙小学" in sheet_text
    summary_text = _converted_text(summary_path)
    assert DISTRICT in summary_text and "出生人口性别比" in summary_text
