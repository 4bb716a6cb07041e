"""Helpers for browser tests: a real `streamlit run` server and Debian's Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# Playwright's assertions wait 5 s by default; on a loaded two-core CI machine the
# first run of a fresh server (or a page switch) can take longer than that.
EXPECT_TIMEOUT_MS = 30_000
try:
    from playwright.sync_api import expect as _expect
except ImportError:  # the browser tests skip (or fail under CI) on their own
    pass
else:
    _expect.set_options(timeout=EXPECT_TIMEOUT_MS)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def streamlit_process(
    database_url: str, log_path: Path, *, start_timeout: float = 60, extra_args: tuple[str, ...] = ()
):
    """`streamlit run app.py` on a free port; yields (base URL, the server process).

    Shared by the browser tests and bench/concurrency.py."""
    port = free_port()
    env = {**os.environ, "TAIZHANG_DATABASE_URL": database_url}
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(ROOT / "app.py"),
                "--server.port",
                str(port),
                "--server.headless",
                "true",
                "--server.address",
                "127.0.0.1",
                "--browser.gatherUsageStats",
                "false",
                *extra_args,
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + start_timeout
            while True:
                try:
                    with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as resp:
                        if resp.status == 200:
                            break
                except OSError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"streamlit did not start; see {log_path}:\n{log_path.read_text()[-2000:]}")
                time.sleep(0.3)
            yield base, proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


@contextmanager
def streamlit_server(database_url: str, log_path: Path):
    """`streamlit run app.py` on a free port; yields the base URL."""
    with streamlit_process(database_url, log_path) as (base, _proc):
        yield base


@contextmanager
def chromium_page(executable_path: str):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable_path, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(30_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def wait_idle(page, timeout: float = 30_000) -> None:
    """Wait until Streamlit has finished the current run and drawn what it sent.

    Typing while a rerun is still rendering can land in a widget that is about to
    be replaced; a person is slower than that, a test is not.
    """
    page.wait_for_timeout(150)
    # The status widget appears only for runs longer than about half a second, so
    # it alone misses a short run whose elements are still arriving; the app root
    # says whether a run is in progress (as Streamlit's own browser tests use it).
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(
        state="attached", timeout=timeout
    )
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=timeout)
    page.wait_for_load_state("networkidle")


def commit_typing(page) -> None:
    """Leave the field just typed in, so Streamlit has taken its value before a
    form is submitted (a click straight after typing can beat it; a person can't).
    Outside a form, leaving the field reruns the page: wait for that run too."""
    page.keyboard.press("Tab")
    page.wait_for_timeout(300)
    wait_idle(page)


def click_until(page, target, shows, attempts: int = 6) -> None:
    """Click `target` until `shows` is visible; for idempotent clicks only.

    A click that lands while the page is still being replaced (just after a page
    switch, or during a rerun on a busy machine) can be lost; a person would click
    again, so the test does too."""
    from playwright.sync_api import expect

    for attempt in range(attempts):
        wait_idle(page, 60_000)
        target.click()
        try:
            expect(shows).to_be_visible(timeout=10_000)
            return
        except AssertionError:
            if attempt == attempts - 1:
                raise


def open_tab(page, name: str, shows) -> None:
    """Select the tab `name` (see `click_until`) until `shows`, a locator inside it, is visible."""
    click_until(page, page.get_by_role("tab", name=name), shows)


# Go to `path` inside the running app, as the browser's back and forward buttons do
# (a page load would start a new session, signed out).
GO = """(path) => {
    history.pushState({}, '', path);
    window.dispatchEvent(new PopStateEvent('popstate'));
}"""


class Frames:
    """Counts the messages the server sends the page: a page's run is over when
    some came after the switch and then none for a while."""

    def __init__(self, page) -> None:
        self.count = 0
        page.on("websocket", lambda ws: ws.on("framereceived", self._received))

    def _received(self, _frame) -> None:
        self.count += 1

    def go(self, page, path: str) -> None:
        before = self.count
        page.evaluate(GO, path)
        for _ in range(600):  # at most 30 s for the server to answer
            page.wait_for_timeout(50)
            if self.count > before:
                break
        else:
            raise AssertionError(f"{path}: the server sent nothing")
        while True:
            seen = self.count
            page.wait_for_timeout(400)
            if self.count == seen:
                break
        wait_idle(page)
        page.locator('[data-stale="true"]').first.wait_for(state="detached", timeout=30_000)


DEMO_UNIT_NAME = "阳光实验小学"


def demo_unit(url: str, staff: int = 40) -> dict[str, str]:
    """A set-up unit with the demo staff at `url`; returns the demo accounts' passwords by username."""
    from services.core import db
    from services.devdata import demo
    from services.ledger import unit
    from tests.conftest import STRONG_PASSWORD

    engine = db.get_engine(url)
    db.upgrade_to_head(engine)
    unit.initialise(
        engine,
        unit_name=DEMO_UNIT_NAME,
        district="朝阳区",
        leader_name="王老师",
        principal_name="李校长",
        admin_username="admin",
        admin_display_name="管理员",
        admin_password=STRONG_PASSWORD,
    )
    result = demo.load_demo(engine, staff=staff)
    engine.dispose()
    db.get_engine.cache_clear()
    return {name: password for name, _, password in result.accounts}


def sign_in(page, base: str, username: str, password: str) -> None:
    """Sign in through the form and wait for the overview."""
    page.goto(base)
    wait_idle(page)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码", exact=True).fill(password)
    commit_typing(page)
    page.get_by_role("button", name="登录", exact=True).click()
    page.get_by_role("heading", name=DEMO_UNIT_NAME).wait_for()


ROW_PX = 35  # the height of a header and of a row in st.dataframe's grid


def _grid_box(page, table: int):
    grid = page.get_by_test_id("stDataFrame").nth(table)
    grid.locator("canvas").first.wait_for()
    page.wait_for_timeout(500)
    return grid.bounding_box()


def click_row(page, row: int = 0, *, table: int = 0, x: float = 110) -> None:
    """Click a cell of row `row` (from 0) of the `table`-th table on the page, as a person opens a record."""
    wait_idle(page)
    box = _grid_box(page, table)
    page.mouse.click(box["x"] + x, box["y"] + ROW_PX * (row + 1) + ROW_PX / 2)


def tick_row(page, row: int = 0, *, table: int = 0) -> None:
    """Tick the selection box at the start of row `row` of a table whose rows are selected to act on."""
    wait_idle(page)
    box = _grid_box(page, table)
    page.mouse.click(box["x"] + 15, box["y"] + ROW_PX * (row + 1) + ROW_PX / 2)
    wait_idle(page)
