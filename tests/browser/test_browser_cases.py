"""Issue 5's journey in a real browser: the leader records a case, submits it (after a
question), withdraws it and submits it again; the principal confirms it with a reason and
prints the decision notice, which LibreOffice converts (#14 §4); the person drops out of the
finalisable award list and their pay is withheld with the reason; the appeal is overturned
and the back-pay list names them."""

from __future__ import annotations

from services.core import db
from services.core.formatting import local_today
from services.core.i18n import translate
from services.core.permissions import Role
from services.devdata import demo
from services.ledger import unit
from services.sanctions import awards, lifecycle
from tests.browser.harness import (
    CHROMIUM_ARGS,
    click_row,
    commit_typing,
    screenshot,
    sign_in,
    streamlit_server,
    wait_idle,
)
from tests.conftest import STRONG_PASSWORD

YEAR = local_today().year


def L(msgid: str, **params) -> str:
    """The page's label in Chinese, from the same catalog the app uses."""
    return translate("zh_CN", msgid, **params)


def _setup(url: str) -> tuple[dict[str, str], dict]:
    """The demo unit, and a nominee with no case who waits to be finalised."""
    engine = db.get_engine(url)
    db.upgrade_to_head(engine)
    unit.initialise(
        engine,
        unit_name="阳光实验小学",
        district="朝阳区",
        leader_name="王老师",
        principal_name="李校长",
        admin_username="admin",
        admin_display_name="管理员",
        admin_password=STRONG_PASSWORD,
    )
    result = demo.load_demo(engine, staff=40)
    from services.accounts import auth

    leader = auth.authenticate(engine, "demo_leader", {n: p for n, _, p in result.accounts}["demo_leader"])
    frame = awards.list_nominations(engine, leader, YEAR)
    from sqlalchemy import select

    from models import ViolationCase
    from services.core.db import read_session

    with read_session(engine) as s:
        with_cases = set(s.execute(select(ViolationCase.employee_id)).scalars())
        case_count = len(s.execute(select(ViolationCase.id)).all())
    waiting = frame[frame["eligible"] & ~frame["finalised"] & ~frame["employee_id"].isin(with_cases)]
    target = waiting.iloc[0].to_dict()
    target["case_no"] = f"{YEAR}-{case_count + 1:03d}"
    engine.dispose()
    db.get_engine.cache_clear()
    assert Role.LEADER
    return {name: password for name, _, password in result.accounts}, target


def _sign_in(page, base, username, password):
    sign_in(page, base, username, password)
    wait_idle(page)


def _menu(page, title: str):
    page.get_by_test_id("stSidebar").get_by_text(L(title), exact=True).click()
    page.get_by_role("heading", name=L(title)).first.wait_for()
    wait_idle(page)


def _open_case(page, case_no: str):
    _menu(page, "Violation cases")
    page.get_by_label(L("Search")).fill(case_no)
    page.get_by_label(L("Search")).press("Enter")
    wait_idle(page)
    click_row(page, 0)
    page.get_by_role("heading", name=L("Case {case_no}", case_no=case_no)).wait_for()
    wait_idle(page)


def _decide(page, action_label: str, reason: str | None, done: str):
    from playwright.sync_api import expect

    page.get_by_role("button", name=L(action_label)).click()
    wait_idle(page)
    if reason:
        page.get_by_role("textbox", name=L("Reason")).fill(reason)
        commit_typing(page)
    page.get_by_role("button", name=L("Yes, record this decision")).click()
    expect(page.get_by_text(L(done))).to_be_visible()
    wait_idle(page)


def _answer(page, action: str, done: str):
    """Take a leader's step that asks first: its button, then yes."""
    from playwright.sync_api import expect

    step = lifecycle.TRANSITIONS[action]
    page.get_by_role("button", name=L(step.button), exact=True).click()
    yes = page.get_by_role("button", name=L("Yes: {action}", action=L(step.button)))
    yes.wait_for()
    wait_idle(page)
    yes.click()
    expect(page.get_by_text(L(done))).to_be_visible()
    wait_idle(page)


def _converted_text(download, tmp_path) -> str:
    """The downloaded .docx converted to PDF by LibreOffice, read back as text."""
    import subprocess

    from pypdf import PdfReader

    folder = tmp_path / "notice"
    folder.mkdir(exist_ok=True)
    source = folder / "notice.docx"
    download.save_as(source)
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
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
    converted = folder / "notice.pdf"
    assert converted.exists() and converted.stat().st_size > 0
    return "".join(page.extract_text() for page in PdfReader(converted).pages).replace("\n", "").replace(" ", "")


def _choose(page, label: str, option: str):
    page.get_by_test_id("stSelectbox").filter(has_text=label).locator("input").click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_idle(page)


def test_case_confirmed_blocks_award_and_pay_and_overturn_brings_back_pay(chromium_path, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    url = f"sqlite:///{tmp_path / 'taizhang.sqlite3'}"
    passwords, target = _setup(url)
    name, staff_no, award, case_no = target["name"], target["staff_no"], target["award_name"], target["case_no"]
    chip = f"{staff_no} · {name}"
    with streamlit_server(url, tmp_path / "streamlit.log") as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        pages: dict[str, object] = {}

        def session(user: str):
            """A new browser session signed in as `user` (a case page keeps the version it was
            first opened at for the whole session, so a later decision starts a new one)."""
            page = browser.new_context(viewport={"width": 1280, "height": 1100}).new_page()
            page.set_default_timeout(30_000)
            _sign_in(page, base, user, passwords[user])
            pages[user] = page
            return page

        try:
            leader, principal = session("demo_leader"), session("demo_principal")

            # Before: the nominee is finalisable (the leader finalises).
            _menu(leader, "Award nominations")
            _choose(leader, L("Award to finalise"), award)
            expect(leader.get_by_text(chip, exact=True)).to_be_visible()

            # The leader records the case and submits it.
            _menu(leader, "Violation cases")
            leader.get_by_role("button", name=L("Record a new case")).click()
            leader.get_by_role("heading", name=L("Record a violation case")).wait_for()
            wait_idle(leader)
            leader.get_by_label(L("Find the staff member")).fill(staff_no)
            leader.get_by_label(L("Find the staff member")).press("Enter")
            wait_idle(leader)
            # The date field is three segments; typing fills them in turn, as a person would.
            leader.get_by_role("spinbutton", name=f"year, {L('Date of the violation')}").click()
            leader.keyboard.type(local_today().strftime("%Y%m%d"), delay=80)
            commit_typing(leader)
            wait_idle(leader)
            leader.get_by_label(L("Facts")).fill("经街道核查，该同志重复申领育儿补贴3600元，属实。")
            commit_typing(leader)
            leader.get_by_role("button", name=L("Save draft")).click()
            expect(leader.get_by_text(L("Draft saved. Check it, then submit it for decision."))).to_be_visible()
            # The draft opens on its own page; let that page finish before the next click.
            leader.get_by_role("heading", name=L("Case {case_no}", case_no=case_no)).wait_for()
            leader.get_by_role("heading", name=L("History of this case")).wait_for()
            wait_idle(leader)
            leader.wait_for_timeout(500)
            # Submitting asks first; answering no leaves the draft as it was.
            leader.get_by_role("button", name=L("Submit for decision")).click()
            expect(
                leader.get_by_text(
                    L(
                        "Submit case {case_no} to the principal for decision? While it waits for the "
                        "decision it cannot be changed; until the principal decides it, you can withdraw "
                        "it back to draft, change it and submit it again.",
                        case_no=case_no,
                    )
                )
            ).to_be_visible()
            leader.get_by_role("button", name=L("Cancel"), exact=True).click()
            expect(leader.get_by_role("button", name=L("Cancel"), exact=True)).to_have_count(0)
            wait_idle(leader)
            _answer(leader, "submit", "Case submitted for decision.")
            screenshot(leader, "cases-01-submitted")

            # The leader takes it back (it is a draft again), then submits it once more.
            _answer(leader, "withdraw", "Case withdrawn; it is a draft again.")
            expect(leader.get_by_role("heading", name=L("Edit the draft"))).to_be_visible()
            _answer(leader, "submit", "Case submitted for decision.")

            # The principal confirms it, with the reason the notice prints.
            _open_case(principal, case_no)
            _decide(principal, "Confirm the case", "事实清楚，依据充分，予以确认。", "Case confirmed.")

            # The decision notice downloads and LibreOffice opens it: the person's name and the appeal route.
            principal.get_by_role("button", name=L("Prepare the notices")).click()
            wait_idle(principal)
            with principal.expect_download() as download:
                principal.get_by_role("button", name=L("Decision notice (Word)")).click()
            assert download.value.suggested_filename == f"处理决定书_{case_no}.docx"
            text = _converted_text(download.value, tmp_path)
            assert name in text and "申诉" in text and "事实清楚，依据充分，予以确认。" in text
            screenshot(principal, "cases-01b-notices")

            # The nominee is out of the finalisable list, named with the reason instead.
            _menu(leader, "Award nominations")
            _choose(leader, L("Award to finalise"), award)
            blocked = leader.get_by_text(
                L("{name} ({staff_no}): {reason}", name=name, staff_no=staff_no, reason=""), exact=False
            )
            expect(blocked).to_be_visible()
            expect(blocked).to_contain_text(case_no)
            expect(leader.get_by_text(chip, exact=True)).to_have_count(0)
            screenshot(leader, "cases-02-award-blocked")

            # Every pay line is withheld, with the reason.
            _menu(principal, "Incentive pay")
            withheld = principal.get_by_text(f"{name}（{staff_no}）：扣发", exact=False)
            expect(withheld).to_be_visible()
            expect(withheld).to_contain_text(case_no)
            screenshot(principal, "cases-03-pay-withheld")

            # Later: the leader records the appeal, the principal overturns the case.
            leader.context.close()
            principal.context.close()
            leader, principal = session("demo_leader"), session("demo_principal")
            _open_case(leader, case_no)
            leader.get_by_label(L("Grounds of appeal")).fill("当事人提交了街道出具的更正说明。")
            commit_typing(leader)
            leader.get_by_role("button", name=L("Record appeal")).click()
            expect(leader.get_by_text(L("Appeal recorded; it waits for the principal's decision."))).to_be_visible()

            _open_case(principal, case_no)
            _decide(
                principal,
                "Overturn the case on appeal",
                "街道更正说明证实系登记错误，原认定撤销。",
                "Case overturned on appeal.",
            )

            # The back-pay list names the person; the award is finalisable again.
            _menu(principal, "Incentive pay")
            owed = principal.get_by_text(f"{name}（{staff_no}）：应补发", exact=False)
            expect(owed).to_be_visible()
            expect(owed).to_contain_text(case_no)
            expect(principal.get_by_text(f"{name}（{staff_no}）：扣发", exact=False)).to_have_count(0)
            screenshot(principal, "cases-04-back-pay")
            _menu(leader, "Award nominations")
            _choose(leader, L("Award to finalise"), award)
            expect(leader.get_by_text(chip, exact=True)).to_be_visible()
        except Exception:
            for who, page in pages.items():
                if not page.is_closed():
                    screenshot(page, f"cases-failed-{who}")
            raise
        finally:
            browser.close()
