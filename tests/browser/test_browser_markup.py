"""User text is never markup, as Chromium draws it: on a unit whose names,
titles, departments and display names carry an outside image, bold, LaTeX and
an HTML tag, the sign-in page and every page each role may open show that text
literally -- no image fetched, nothing bold, no KaTeX, no element made from the
tag, no link to the outside address.  (tests/app/test_app_markup.py checks
what the server sends, on more records and clicks.)"""

from __future__ import annotations

from services.core import db
from services.core.permissions import Role, UnitKind, roles_for
from tests.apptest import may_open, menu_pages
from tests.browser.harness import CHROMIUM_ARGS, Frames, commit_typing, screenshot, streamlit_server, wait_idle
from tests.conftest import STRONG_PASSWORD
from tests.factories import HOSTILE, HOSTILE_PARTS, hostile_unit

OUTSIDE = "127.0.0.1:9"

# What markup would have made of the hostile text, anywhere in the page.
MARKUP_MADE = """() => {
    const all = (selector) => [...document.querySelectorAll(selector)];
    return {
        outside_images: all('img').filter(i => (i.getAttribute('src') || '').includes('127.0.0.1:9')).length,
        tag_images: all('img[src="x"], [onerror]').length,
        bold_b: all('strong, b').filter(s => s.textContent.trim() === 'b').length,
        katex: all('.katex, .katex-display, math').length,
        outside_links: all('a[href*="127.0.0.1:9"]').length,
        text: document.body.innerText.replaceAll('\\u2060', ''),
        main: (document.querySelector('[data-testid="stMain"]') || document.body).innerText.replaceAll('\\u2060', ''),
    };
}"""

SCHOOL_ROLES = roles_for(UnitKind.SCHOOL)


def check(page, where: str, problems: list[str], literal: dict[str, int]) -> None:
    made = page.evaluate(MARKUP_MADE)
    for key in ("outside_images", "tag_images", "bold_b", "katex", "outside_links"):
        if made[key]:
            problems.append(f"{where}: {made[key]} {key}")
    if HOSTILE not in made["text"]:  # the unit's name, in the sidebar or on the sign-in page
        problems.append(f"{where}: the unit's name is not shown literally")
    literal[where] = sum(made["main"].count(part) for part in HOSTILE_PARTS)


def sign_in(page, base: str, username: str) -> None:
    page.goto(base)
    wait_idle(page)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码", exact=True).fill(STRONG_PASSWORD)
    commit_typing(page)
    page.get_by_role("button", name="登录", exact=True).click()
    page.get_by_role("button", name="退出登录").wait_for()
    wait_idle(page)


def test_hostile_text_reads_as_text_on_every_page(chromium_path, tmp_path):
    from playwright.sync_api import sync_playwright

    url = f"sqlite:///{tmp_path / 'taizhang.sqlite3'}"
    engine = db.get_engine(url)
    db.upgrade_to_head(engine)
    unit = hostile_unit(engine)
    engine.dispose()
    db.get_engine.cache_clear()
    records = {
        "pages/staff_record.py": unit.staff[0],
        "pages/session_record.py": unit.makeup_id,
        "pages/leaflet_record.py": unit.leaflet_id,
        "pages/case_record.py": unit.pending_case_id,
    }
    problems: list[str] = []
    literal: dict[str, int] = {}
    fetched: list[str] = []
    dialogs: list[str] = []

    with streamlit_server(url, tmp_path / "streamlit.log") as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        try:
            for role in [None, *SCHOOL_ROLES]:
                context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="zh-CN")
                page = context.new_page()
                page.set_default_timeout(30_000)
                page.on(
                    "request", lambda r: fetched.append(r.url) if OUTSIDE in r.url or r.url.endswith("/x") else None
                )
                page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
                frames = Frames(page)
                if role is None:  # before anyone signs in
                    page.goto(base)
                    wait_idle(page)
                    page.get_by_role("button", name="登录", exact=True).wait_for()
                    check(page, "sign-in page", problems, literal)
                    context.close()
                    continue
                actor = unit.actors[role]
                sign_in(page, base, actor.username)
                for file, url_path, permission in menu_pages():
                    if not may_open(actor, permission):
                        continue
                    path = f"/{url_path}" + (f"?id={records[file]}" if file in records else "")
                    frames.go(page, path)
                    check(page, f"{role.value} {path}", problems, literal)
                    if role == Role.PRINCIPAL and file == "pages/home.py":
                        screenshot(page, "markup-01-principal-overview")
                context.close()
        finally:
            browser.close()

    fetched = [f"fetched {address}" for address in dict.fromkeys(fetched)]
    dialogs = [f"dialog {message}" for message in dialogs]
    assert not (problems or fetched or dialogs), "\n".join(problems + fetched + dialogs)
    # Every page was walked (the sign-in page and 4 roles' menus), and record pages show the text literally.
    assert len(literal) == 1 + sum(
        1 for role in SCHOOL_ROLES for *_, permission in menu_pages() if may_open(unit.actors[role], permission)
    )
    assert all(literal[f"{role.value} /session?id={unit.makeup_id}"] > 0 for role in SCHOOL_ROLES), literal
    print(literal)
