"""The Chinese interface is Chinese, as Chromium draws it: the leader, the principal
and the auditor of the demo unit sign in (Chinese is the default) and open every
page their menu offers and one record of each kind; the sidebar and the main area
-- hidden tabs such as 变更记录 included -- show no English word, no `None`, no
ISO timestamp and no raw field name.  A word that is legitimately Latin is in
ALLOWED, each with its reason."""

from __future__ import annotations

import re
import time

from sqlalchemy import select

from models import Employee, Leaflet, TrainingSession, ViolationCase
from services.core import db
from tests.apptest import may_open, menu_pages
from tests.browser.harness import CHROMIUM_ARGS, Frames, demo_unit, screenshot, sign_in, streamlit_server, wait_idle

ROLES = ["demo_leader", "demo_principal", "demo_auditor"]

# Latin words the Chinese interface may show, and why.
ALLOWED = {
    # File types named on download buttons and upload hints (the files' own names).
    "xlsx",
    "xls",
    "docx",
    "pdf",
    "csv",
    "txt",
    # The import hint names the encodings and the program a ledger comes from; they have no Chinese names.
    "utf",
    "gbk",
    "unicode",
    "excel",
    # The product's name.
    "taizhang",
    # 协调世界时（UTC）: the audit trail says which clock its stored times use.
    "utc",
}
# Words of the browser's user agent, shown as the device of a sign-in (我的账户, the audit trail).
DEVICE_WORDS = {"chrome", "headlesschrome", "chromium", "linux", "windows", "mac", "safari", "firefox"}
DEVICE_PAGES = ("pages/account.py", "pages/audit_trail.py")
# Streamlit's own text, which no option of st.file_uploader / st.date_input / st.dataframe translates:
# the dropzone's "Upload" button and "… per file" limit, the date field's "yyyy" mask, and the
# "true"/"false" of the hidden accessible grid behind a table cell drawn as a tick box.
STREAMLIT_OWN = {"uploader": {"upload", "per", "file"}, "date": {"yyyy"}, "grid": {"true", "false"}}

LATIN = re.compile(r"[A-Za-z]{3,}")
HEX = re.compile(r"\b[0-9a-f]{16,}\b")  # checksums (audit chain, backups) are hex, not words
ISO_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T")
FIELD_NAME = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b|_id\b")

# The text of the sidebar and the main area, hidden tab panels included, as
# [text, owner] pairs: owner names Streamlit's own widget the text is in, or "raw"
# for the 技术详情 expander, which shows the auditor the events as stored (account
# names, raw changes) on purpose.  Material icons' ligature names (drawn as icons,
# never read as words) are left out; so are the placeholders of filled fields.
TEXT = """() => {
    const roots = ['stSidebar', 'stMain']
        .map(id => document.querySelector(`[data-testid="${id}"]`)).filter(Boolean);
    const owner = (e) => {
        const expander = e.closest('[data-testid="stExpander"]');
        if (expander && expander.querySelector('summary').innerText.includes('技术详情')) return 'raw';
        if (e.closest('[data-testid="stFileUploaderDropzone"]')) return 'uploader';
        if (e.closest('[data-testid="stDateInput"]')) return 'date';
        if (e.closest('[data-testid^="glide-cell"]')) return 'grid';
        return '';
    };
    const out = [];
    for (const root of roots) {
        const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {acceptNode(node) {
            for (let e = node.parentElement; e && e !== root.parentElement; e = e.parentElement) {
                if (['STYLE', 'SCRIPT', 'NOSCRIPT'].includes(e.tagName)) return NodeFilter.FILTER_REJECT;
                if ((e.getAttribute('data-testid') || '').includes('Icon')) return NodeFilter.FILTER_REJECT;
            }
            return NodeFilter.FILTER_ACCEPT;
        }});
        while (walker.nextNode()) {
            const node = walker.currentNode;
            out.push([node.nodeValue.replaceAll('\\u2060', ''), owner(node.parentElement)]);
        }
        for (const field of root.querySelectorAll('[placeholder]')) {
            if (!field.value) out.push([field.getAttribute('placeholder'), owner(field)]);
        }
    }
    return out;
}"""


def problems_in(texts: list[list[str]], *, device_page: bool) -> list[str]:
    found = []
    allowed = ALLOWED | (DEVICE_WORDS if device_page else set())
    english: set[str] = set()
    for text, owner in texts:
        if owner == "raw":
            continue
        for word in LATIN.findall(HEX.sub(" ", text)):
            if word.lower() not in allowed | STREAMLIT_OWN.get(owner, set()):
                english.add(f"{word} (in {text.strip()[:60]!r})")
    if english:
        found.append(f"English {sorted(english)}")
    shown = "\n".join(text for text, owner in texts if owner != "raw")
    if stamps := ISO_TIMESTAMP.findall(shown):
        found.append(f"ISO timestamps x{len(stamps)}")
    if names := sorted(set(FIELD_NAME.findall(shown))):
        found.append(f"field names {names}")
    return found


def record_ids(url: str) -> dict[str, int]:
    engine = db.get_engine(url)
    with engine.connect() as conn:
        decided = conn.execute(
            select(ViolationCase.id).where(ViolationCase.decided_by_id.is_not(None)).order_by(ViolationCase.id)
        ).first()
        case = decided or conn.execute(select(ViolationCase.id).order_by(ViolationCase.id)).first()
        ids = {
            "pages/staff_record.py": conn.execute(select(Employee.id).order_by(Employee.id)).scalar(),
            "pages/session_record.py": conn.execute(select(TrainingSession.id).order_by(TrainingSession.id)).scalar(),
            "pages/leaflet_record.py": conn.execute(select(Leaflet.id).order_by(Leaflet.id)).scalar(),
            "pages/case_record.py": case[0] if case else None,
        }
    engine.dispose()
    db.get_engine.cache_clear()
    assert all(ids.values()), ids  # the demo unit has a record of each kind
    return ids


def test_leader_principal_and_auditor_see_no_english(chromium_path, tmp_path):
    from playwright.sync_api import sync_playwright

    from services.core.permissions import Actor
    from services.devdata.demo import DEMO_ACCOUNTS

    started = time.monotonic()
    url = f"sqlite:///{tmp_path / 'taizhang.sqlite3'}"
    passwords = demo_unit(url, staff=30)
    records = record_ids(url)
    roles = {username: role for username, role, _ in DEMO_ACCOUNTS}
    problems: list[str] = []
    visited: list[str] = []

    with streamlit_server(url, tmp_path / "streamlit.log") as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        try:
            for username in ROLES:
                actor = Actor(0, username, username, roles[username])
                context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="zh-CN")
                page = context.new_page()
                page.set_default_timeout(30_000)
                frames = Frames(page)
                sign_in(page, base, username, passwords[username])
                wait_idle(page)
                for file, url_path, permission in menu_pages():
                    if file == "pages/district.py" or not may_open(actor, permission):
                        continue  # the district roll-up is a district's page, not a school's
                    path = f"/{url_path}" + (f"?id={records[file]}" if file in records else "")
                    frames.go(page, path)
                    where = f"{username} {path}"
                    visited.append(where)
                    for problem in problems_in(page.evaluate(TEXT), device_page=file in DEVICE_PAGES):
                        problems.append(f"{where}: {problem}")
                    if username == "demo_leader" and file in ("pages/staff_record.py", "pages/case_record.py"):
                        screenshot(page, f"chinese-{url_path}")
                    if username == "demo_auditor" and file == "pages/audit_trail.py":
                        screenshot(page, "chinese-audit-trail")
                context.close()
        finally:
            browser.close()

    assert not problems, "\n".join(problems)
    # Every role walked its menu and the four record pages.
    for username in ROLES:
        for file in records:
            assert any(w.startswith(username) and f"?id={records[file]}" in w for w in visited), (username, file)
    print(f"{len(visited)} pages in {time.monotonic() - started:.0f} s")
