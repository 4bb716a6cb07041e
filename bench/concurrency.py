"""`python -m bench.concurrency [--staff 30000] [--sessions 10] [--postgresql]`:
several people using one Taizhang server at once.

Starts one `streamlit run app.py` on a generated unit (the cached file of
bench/scale.py, copied; with --postgresql the database bench/scale.py generates
on the server named by TAIZHANG_DATABASE_URL), creates one principal account per
session, and drives that many headless Chromium sessions at the same time (one
browser, one context per person, Playwright's async API).  Each person opens
the app, signs in, and visits every page of the menu in app.py their role
may see (read at run time, so pages added later are visited too), the staff
list, one household record (opened from the list) and the audit trail
included.

A page is ready when the run its click started has finished: the browser has
received Streamlit's `script_finished` message on the websocket (after the
page's last element), and no further run (st.rerun) starts within 0.3 s.
Printed: failures (timeouts, exceptions shown on a page), p50/p95/max
page-ready time per page and overall, and the server's peak memory (VmHWM of
the server process from /proc, or psutil's RSS sampled when there is no /proc).
Nothing is asserted: the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import math
import os
import secrets
import shutil
import sys
import tempfile
import threading
import time
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from tests.browser.harness import CHROMIUM_ARGS as BROWSER_TEST_ARGS

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    *BROWSER_TEST_ARGS,
    "--disable-dev-shm-usage",
    # Several sessions share one browser: none of them is a throttled background tab.
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]
ROLE = "principal"  # the role that sees the most pages (ledger, reports, compliance, audit trail)
STAFF_PAGE = "pages/staff.py"
RECORD_PAGE = "pages/staff_record.py"
AUDIT_PAGE = "pages/audit_trail.py"
LANG = "zh_CN"

# ---------------------------------------------------------------- the menu


@dataclass(frozen=True)
class MenuPage:
    file: str
    url_path: str
    title: str  # msgid
    permission: str  # "" for a page every signed-in account may open
    default: bool = False  # the default page lives at the app's root address

    @property
    def address(self) -> str:
        """The path the browser shows on this page."""
        return "" if self.default else self.url_path


def menu_pages() -> tuple[list[MenuPage], set[str]]:
    """MENU and HIDDEN_PAGES of app.py, read without running it (it is a Streamlit script)."""
    tree = ast.parse((ROOT / "app.py").read_text(encoding="utf-8"))
    pages: list[MenuPage] = []
    hidden: set[str] = set()
    default = None
    for node in tree.body:
        target = (
            node.target
            if isinstance(node, ast.AnnAssign)
            else node.targets[0]
            if isinstance(node, ast.Assign)
            else None
        )
        name = getattr(target, "id", None)
        if name == "MENU":
            for section in node.value.values:
                for entry in section.elts:
                    try:
                        file, url_path, title, _icon, permission = entry.elts
                        needs = "" if isinstance(permission, ast.Constant) else permission.attr  # None: everyone
                        pages.append(MenuPage(file.value, url_path.value, title.args[0].value, needs))
                    except (
                        AttributeError,
                        ValueError,
                        IndexError,
                    ):  # an entry of another shape: not a page we can visit
                        continue
        elif name == "HIDDEN_PAGES":
            hidden = {e.value for e in node.value.elts}
        elif name == "DEFAULT_PAGE":
            default = node.value.value
    # The default page lives at the app's root URL.
    return [MenuPage(p.file, p.url_path, p.title, p.permission, default=p.file == default) for p in pages], hidden


def pages_to_visit(role: str = ROLE) -> list[MenuPage]:
    """The visible menu pages `role` may open whose file exists: staff list first, audit trail next."""
    from services.core.permissions import ROLE_PERMISSIONS, Permission, Role

    allowed = ROLE_PERMISSIONS[Role(role)]
    pages, hidden = menu_pages()
    found = [
        p
        for p in pages
        if p.file not in hidden
        and (ROOT / p.file).exists()
        and (not p.permission or Permission[p.permission] in allowed)
    ]
    first = [p for f in (STAFF_PAGE, AUDIT_PAGE) for p in found if p.file == f]
    return first + [p for p in found if p not in first]


def record_page() -> MenuPage | None:
    return next((p for p in menu_pages()[0] if p.file == RECORD_PAGE), None)


# ---------------------------------------------------------------- server and database


class MemoryWatch:
    """Peak resident memory of a process: VmHWM from /proc, else psutil's RSS sampled."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.sampled = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _rss(self) -> int:
        status = Path(f"/proc/{self.pid}/status")
        if status.exists():
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
            return int(fields["VmRSS"].split()[0]) * 1024
        import psutil  # not on Linux: sample instead

        return psutil.Process(self.pid).memory_info().rss

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            try:
                self.sampled = max(self.sampled, self._rss())
            except (OSError, KeyError, ImportError):
                return

    def peak(self) -> tuple[int, str]:
        """(bytes, how it was measured)."""
        self._stop.set()
        status = Path(f"/proc/{self.pid}/status")
        if status.exists():
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024, "VmHWM"
        return self.sampled, "sampled RSS"


@contextmanager
def streamlit_server(database_url: str, log_path: Path):
    """The browser tests' server (tests/browser.py), without file watching, so
    nothing reloads mid-run, and with more time to start at district scale."""
    from tests.browser.harness import streamlit_process

    with streamlit_process(
        database_url, log_path, start_timeout=120, extra_args=("--server.fileWatcherType", "none")
    ) as running:
        yield running


def database_for(staff: int, postgresql: bool, work: Path) -> str:
    """The URL of a generated unit of `staff` for this run (a copy: the run writes sign-ins to it)."""
    from bench import scale
    from services.core import db

    if postgresql:
        server = os.environ.get(db.DATABASE_URL_ENV, "")
        if not server.startswith("postgresql"):
            raise SystemExit(f"--postgresql needs {db.DATABASE_URL_ENV} to name a PostgreSQL server")
        return scale._postgresql(server, staff).url
    path = work / "concurrency.sqlite3"
    shutil.copyfile(scale._generated_sqlite(staff), path)
    url = f"sqlite:///{path}"
    db.upgrade_to_head(db.get_engine(url))
    return url


def create_accounts(url: str, count: int) -> list[tuple[str, str]]:
    """`count` principal accounts for the run: [(username, password)]."""
    from sqlalchemy import func, select

    from models import User
    from services.accounts import auth
    from services.core.db import get_engine, write_session
    from services.core.permissions import Role

    engine = get_engine(url)
    stamp = secrets.token_hex(3)
    accounts = [(f"load{stamp}{i:02d}", f"Load-{secrets.token_urlsafe(12)}") for i in range(1, count + 1)]
    users = [
        auth.new_user(name, f"负载测试{i:02d}", Role(ROLE), password) for i, (name, password) in enumerate(accounts, 1)
    ]
    with write_session(engine) as session:
        taken = set(session.execute(select(func.lower(User.username))).scalars())
        for user in users:
            if user.username.lower() not in taken:
                auth.add_user(session, None, user, via="bench")
    return accounts


# ---------------------------------------------------------------- the sessions


@dataclass
class Visit:
    person: int
    step: str
    seconds: float | None  # None: failed
    error: str = ""


@dataclass
class Run:
    visits: list[Visit] = field(default_factory=list)


QUIET = 0.3  # seconds without a new run after one finished: the page is ready (st.rerun chains runs)


class RunTracker:
    """Streamlit's runs in one browser page, read from its websocket: a run starts with
    a `new_session` message and ends with `script_finished` (FINISHED_EARLY_FOR_RERUN
    does not end a step: another run follows)."""

    def __init__(self) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        self._parse = ForwardMsg.FromString
        self._done = (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_WITH_COMPILE_ERROR)
        self.starts = 0
        self.finished = 0
        self.changed = asyncio.Event()

    def attach(self, page) -> None:
        page.on("websocket", lambda ws: ws.on("framereceived", self._frame))

    def _frame(self, payload: str | bytes) -> None:
        if isinstance(payload, str):
            return
        try:
            msg = self._parse(payload)
        except Exception:
            return
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            self.starts += 1
        elif kind == "script_finished" and msg.script_finished in self._done:
            self.finished += 1
        else:
            return
        self.changed.set()

    async def _changed(self, deadline: float) -> None:
        self.changed.clear()
        await asyncio.wait_for(self.changed.wait(), max(0.0, deadline - time.monotonic()))

    async def ready(self, mark: int, timeout: float) -> float:
        """Wait until a run finishes after `mark` finished runs and no other starts within
        QUIET seconds; the moment the last one finished."""
        deadline = time.monotonic() + timeout
        while True:
            while self.finished <= mark:
                await self._changed(deadline)
            ended, starts, mark = time.perf_counter(), self.starts, self.finished
            await asyncio.sleep(QUIET)
            if self.starts == starts:
                return ended


async def _step(
    run: Run,
    person: int,
    step: str,
    page,
    tracker: RunTracker,
    action,
    timeout_ms: float,
    url_path: str | None = None,
    title: str | None = None,
) -> bool:
    """Time `action` (which starts a Streamlit run) until that run has finished; record
    failures (a timeout, an exception shown, another page than `url_path`)."""
    try:
        mark = tracker.finished
        start = time.perf_counter()
        await action()
        seconds = await tracker.ready(mark, timeout_ms / 1000) - start
        if url_path is not None and not await _at(page, url_path, title):
            run.visits.append(Visit(person, step, None, f"landed on {page.url}{await _screenshot(page, person, run)}"))
            return False
        problems = await page.locator('[data-testid="stException"]').count()
        if problems:
            text = (await page.locator('[data-testid="stException"]').first.inner_text())[:200]
            run.visits.append(Visit(person, step, None, f"exception shown: {text}"))
            return False
        run.visits.append(Visit(person, step, seconds))
        return True
    except Exception as exc:
        state = f"{tracker.starts} runs started, {tracker.finished} finished, {await _state(page)}"
        run.visits.append(
            Visit(
                person,
                step,
                None,
                f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]} "
                f"({state}{await _screenshot(page, person, run)})",
            )
        )
        return False


async def _screenshot(page, person: int, run: Run) -> str:
    """A screenshot of a failed step in test-artifacts/: ', screenshot PATH' (or nothing)."""
    shot = ARTIFACTS / f"concurrency-{person:02d}-{len(run.visits):03d}.png"
    try:
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(shot), full_page=True)
    except Exception:
        return ""
    return f", screenshot {shot.relative_to(ROOT)}"


async def _at(page, url_path: str, title: str | None) -> bool:
    """The browser is on the page: its address shows `url_path`, or its menu link `title` is the
    current one (the first page change after signing in can leave the address at the root).
    Checked for up to 10 s after the run, not timed."""
    deadline = time.monotonic() + 10
    while True:
        if urlsplit(page.url).path.strip("/") == url_path:
            return True
        if (
            title is not None
            and await page.get_by_test_id("stSidebarNav").locator('a[aria-current="page"]', has_text=title).count()
        ):
            return True
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.2)


async def _state(page) -> str:
    try:
        return await page.evaluate(
            "`${document.querySelector('[data-testid=\"stApp\"]')?.getAttribute('data-test-script-state')}, "
            "${location.pathname}`"
        )
    except Exception as exc:
        return f"unknown ({type(exc).__name__})"


async def _nav_link(page, title: str):
    nav = page.get_by_test_id("stSidebarNav")
    link = nav.get_by_role("link", name=title, exact=True)
    if not await link.count():
        more = page.get_by_test_id("stSidebarNavViewButton")
        if await more.count():
            await more.click()
    return link


async def person_session(
    browser,
    base: str,
    person: int,
    username: str,
    password: str,
    pages: list[MenuPage],
    run: Run,
    timeout_ms: float,
    start_gate: asyncio.Event,
) -> None:
    from services.core.i18n import translate

    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = await context.new_page()
    tracker = RunTracker()
    tracker.attach(page)
    page.set_default_timeout(timeout_ms)
    try:
        await start_gate.wait()
        if not await _step(run, person, "open the app", page, tracker, lambda: page.goto(base), timeout_ms):
            return

        async def sign_in() -> None:
            await page.get_by_label(translate(LANG, "Username")).fill(username)
            await page.get_by_label(translate(LANG, "Password"), exact=True).fill(password)
            await page.keyboard.press("Tab")
            await page.wait_for_timeout(300)
            await page.get_by_role("button", name=translate(LANG, "Sign in")).click()

        # A person whose sign-in failed tries once more (both attempts are reported).
        if not await _step(run, person, "sign in", page, tracker, sign_in, timeout_ms) and not await _step(
            run, person, "sign in, second try", page, tracker, sign_in, timeout_ms
        ):
            return
        record = record_page()
        for entry in pages:
            title = translate(LANG, entry.title)

            async def click(title: str = title) -> None:
                await (await _nav_link(page, title)).click()

            opened = await _step(
                run, person, f"{title} ({entry.url_path})", page, tracker, click, timeout_ms, entry.address, title
            )
            if opened and entry.file == STAFF_PAGE and record is not None:

                async def open_record() -> None:
                    await page.get_by_role("button", name=translate(LANG, "Open record")).click()

                await _step(
                    run,
                    person,
                    f"{translate(LANG, record.title)} ({record.url_path})",
                    page,
                    tracker,
                    open_record,
                    timeout_ms,
                    record.address,
                )
    finally:
        await context.close()


async def drive(
    base: str, accounts: list[tuple[str, str]], pages: list[MenuPage], timeout_ms: float, chromium: str
) -> tuple[Run, float]:
    from playwright.async_api import async_playwright

    run = Run()
    gate = asyncio.Event()
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            tasks = [
                asyncio.create_task(person_session(browser, base, i, name, password, pages, run, timeout_ms, gate))
                for i, (name, password) in enumerate(accounts, 1)
            ]
            await asyncio.sleep(1)  # every context is open: start together
            start = time.perf_counter()
            gate.set()
            await asyncio.gather(*tasks)
            wall = time.perf_counter() - start
        finally:
            await browser.close()
    return run, wall


# ---------------------------------------------------------------- report


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _width(text: str) -> int:
    """Columns `text` takes in a terminal (Chinese characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def report(run: Run, sessions: int, staff: int, kind: str, wall: float, peak: tuple[int, str]) -> str:
    steps: dict[str, list[Visit]] = {}
    for v in run.visits:
        steps.setdefault(v.step, []).append(v)
    header = ("step", "visits", "failed", "p50 (s)", "p95 (s)", "max (s)")
    rows = []

    def line(name: str, visits: list[Visit]) -> tuple:
        times = [v.seconds for v in visits if v.seconds is not None]
        failed = len(visits) - len(times)
        if not times:
            return (name, str(len(visits)), str(failed), "-", "-", "-")
        return (
            name,
            str(len(visits)),
            str(failed),
            f"{percentile(times, 0.5):.2f}",
            f"{percentile(times, 0.95):.2f}",
            f"{max(times):.2f}",
        )

    for name, visits in steps.items():
        rows.append(line(name, visits))
    pages_only = [v for v in run.visits if v.step not in ("open the app", "sign in", "sign in, second try")]
    rows.append(line("all page visits", pages_only))
    widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
    out = [f"{sessions} concurrent sessions, {staff:,} staff, {kind}; wall time {wall:.1f} s"]
    for r in [header, tuple("-" * w for w in widths), *rows]:
        pad = [" " * (w - _width(c)) for c, w in zip(r, widths, strict=True)]
        out.append("  ".join(c + p if i == 0 else p + c for i, (c, p) in enumerate(zip(r, pad, strict=True))))
    failures = [v for v in run.visits if v.seconds is None]
    out.append(f"failures: {len(failures)}")
    out += [f"  session {v.person}, {v.step}: {v.error}" for v in failures]
    out.append(f"server peak memory: {peak[0] / 2**20:.0f} MiB ({peak[1]} of the streamlit process)")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.concurrency", description=__doc__.split("\n\n")[0])
    parser.add_argument("--staff", type=int, default=30_000, help="staff of the generated unit (default 30000)")
    parser.add_argument("--sessions", type=int, default=10, help="browser sessions at once (default 10)")
    parser.add_argument("--postgresql", action="store_true", help="use the PostgreSQL server in TAIZHANG_DATABASE_URL")
    parser.add_argument(
        "--timeout", type=float, default=180, help="seconds one step may take before it fails (default 180)"
    )
    parser.add_argument("--chromium", default=CHROMIUM, help=f"Chromium executable (default {CHROMIUM})")
    options = parser.parse_args(argv)
    from bench import scale

    scale.use_bench_audit_key()

    work = Path(tempfile.mkdtemp(prefix="taizhang-concurrency-"))
    try:
        print(f"preparing a unit of {options.staff} staff ...", file=sys.stderr, flush=True)
        url = database_for(options.staff, options.postgresql, work)
        accounts = create_accounts(url, options.sessions)
        pages = pages_to_visit()
        print(f"pages: {', '.join(p.url_path for p in pages)}", file=sys.stderr, flush=True)
        log = work / "streamlit.log"
        with streamlit_server(url, log) as (base, proc):
            watch = MemoryWatch(proc.pid)
            baseline_memory = watch._rss()
            run, wall = asyncio.run(drive(base, accounts, pages, options.timeout * 1000, options.chromium))
            peak = watch.peak()
        print(
            report(run, options.sessions, options.staff, "postgresql" if options.postgresql else "sqlite", wall, peak)
        )
        print(f"server memory before the sessions: {baseline_memory / 2**20:.0f} MiB")
        if any(v.seconds is None for v in run.visits):
            tail = log.read_text(errors="replace")[-3000:]
            print(f"--- end of the server log ---\n{tail}", file=sys.stderr)
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
