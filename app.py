"""Taizhang entry point: configuration, first-run and login gates, role-based
navigation.  `streamlit run app.py`."""

from __future__ import annotations

import streamlit as st
from sqlalchemy.engine import Engine

from models._common import utcnow
from pages import _cookie as cookie
from pages import _ui as ui
from pages._ui import t
from services.accounts import auth, sessions
from services.core.errors import ServiceError
from services.core.i18n import N_
from services.core.permissions import Actor, Permission, UnitKind
from services.ledger import unit

st.set_page_config(page_title="台账 Taizhang", page_icon=":material/menu_book:", layout="wide")

# (file, url path, title, icon, permission needed to see it -- None: every signed-in
# account), grouped into menu sections.  Which of them a unit offers depends on its kind
# (UNIT_KIND_PAGES).  Every url path differs from its file's name: with a `pages/` folder present,
# Streamlit's first run in a process (and every AppTest run) also resolves URLs
# by file name, which would run a page without this entry script around it.
MENU: dict[str, list[tuple[str, str, str, str, Permission | None]]] = {
    N_("District work"): [
        (
            "pages/district.py",
            "roll-up",
            N_("District roll-up"),
            ":material/account_tree:",
            Permission.READ_DISTRICT,
        ),
    ],
    N_("Ledger"): [
        ("pages/home.py", "overview", N_("Overview"), ":material/dashboard:", Permission.READ_LEDGER),
        ("pages/staff.py", "people", N_("Staff"), ":material/groups:", Permission.READ_LEDGER),
        (
            "pages/staff_record.py",
            "household",
            N_("Household record"),
            ":material/family_restroom:",
            Permission.READ_LEDGER,
        ),
        ("pages/import_data.py", "import", N_("Import"), ":material/upload_file:", Permission.EDIT_RECORDS),
    ],
    N_("Publicity and education"): [
        ("pages/sessions.py", "study", N_("Study sessions"), ":material/school:", Permission.READ_LEDGER),
        ("pages/session_record.py", "session", N_("Study session"), ":material/event_note:", Permission.READ_LEDGER),
        ("pages/leaflets.py", "publicity", N_("Leaflets"), ":material/campaign:", Permission.READ_LEDGER),
        ("pages/leaflet_record.py", "leaflet", N_("Leaflet"), ":material/description:", Permission.READ_LEDGER),
    ],
    N_("Rewards and sanctions"): [
        ("pages/cases.py", "violations", N_("Violation cases"), ":material/gavel:", Permission.READ_LEDGER),
        ("pages/case_record.py", "violation", N_("Violation case"), ":material/gavel:", Permission.READ_LEDGER),
        ("pages/awards.py", "honours", N_("Award nominations"), ":material/emoji_events:", Permission.RUN_REPORTS),
        ("pages/incentive_pay.py", "pay", N_("Incentive pay"), ":material/payments:", Permission.RUN_REPORTS),
    ],
    N_("Reports"): [
        (
            "pages/compliance.py",
            "standing",
            N_("Compliance overview"),
            ":material/monitoring:",
            Permission.READ_COMPLIANCE,
        ),
        ("pages/year_report.py", "annual", N_("Year-end report"), ":material/summarize:", Permission.READ_LEDGER),
    ],
    N_("System"): [
        ("pages/users.py", "accounts", N_("Accounts"), ":material/group:", Permission.ADMINISTER),
        ("pages/unit_profile.py", "unit", N_("Unit profile"), ":material/domain:", Permission.ADMINISTER),
        ("pages/backup.py", "backups", N_("Backup"), ":material/backup:", Permission.ADMINISTER),
        (
            "pages/categories.py",
            "violation-types",
            N_("Violation categories"),
            ":material/category:",
            Permission.ADMINISTER,
        ),
        ("pages/audit_trail.py", "audit", N_("Audit trail"), ":material/policy:", Permission.READ_AUDIT),
    ],
    N_("Me"): [
        ("pages/account.py", "me", N_("My account"), ":material/account_circle:", None),
    ],
}
# A school keeps its ledger; a district office keeps none: it collects the schools' year-end
# workbooks and rolls them up (docs/architecture.md, "Unit kinds").  A page a unit does not
# offer has no address in it: opening its URL lands on the default page.
DISTRICT_PAGES = {"pages/district.py", "pages/users.py", "pages/backup.py", "pages/audit_trail.py", "pages/account.py"}
UNIT_KIND_PAGES: dict[str, set[str]] = {
    UnitKind.SCHOOL: {path for entries in MENU.values() for path, *_ in entries} - {"pages/district.py"},
    UnitKind.DISTRICT: DISTRICT_PAGES,
}
DEFAULT_PAGE = "pages/home.py"  # a school's
DISTRICT_DEFAULT_PAGE = "pages/district.py"
# Reached from a list, not from the menu.
HIDDEN_PAGES = {"pages/staff_record.py", "pages/session_record.py", "pages/leaflet_record.py", "pages/case_record.py"}
# Setup and sign-in share one address, so moving from one to the other is not a
# page change (which would reset the sign-in form once).
GATE_URL = "start"

# Re-read the account (disabled? role changed?) at most this often, not on every rerun.
ACTOR_RECHECK_SECONDS = 60


def menu_for(actor: Actor, kind: str) -> dict[str, list[st.Page]]:
    """The menu of `actor` in a unit of `kind`: the pages the unit offers and the role may open."""
    offered = UNIT_KIND_PAGES[kind]
    default = DISTRICT_DEFAULT_PAGE if kind == UnitKind.DISTRICT else DEFAULT_PAGE
    sections: dict[str, list[st.Page]] = {}
    for section, entries in MENU.items():
        pages = [
            st.Page(
                path,
                title=t(title),
                icon=icon,
                url_path=url_path,
                default=path == default,
                visibility="hidden" if path in HIDDEN_PAGES else "visible",
            )
            for path, url_path, title, icon, permission in entries
            if path in offered and (permission is None or actor.can(permission))
        ]
        if pages:
            sections[t(section)] = pages
    return sections


# What a tab says when its session ended on the server (services.accounts.sessions).
SESSION_ENDED = {
    "idle_timeout": ("info", N_("Your session ended after 30 minutes without activity. Please sign in again.")),
    "account_disabled": ("warning", N_("This account is disabled. Ask the administrator.")),
    "session_expired": ("info", N_("Your session reached its time limit. Please sign in again.")),
    "role_changed": ("info", N_("Your role was changed. Please sign in again.")),
    "password_changed": ("info", N_("The password of this account was changed. Please sign in again.")),
}
SIGNED_OUT_ELSEWHERE = N_("You were signed out in another tab, another browser or by the administrator.")


def signed_out(reason: str) -> None:
    """Sign this tab out (its session ends, if it had not) and say why on the next run."""
    ui.sign_out(reason)
    kind, message = SESSION_ENDED.get(reason, ("info", SIGNED_OUT_ELSEWHERE))
    ui.flash(kind, t(message))


def check_session(engine: Engine) -> None:
    """End the session after 30 idle minutes, or when the account was disabled."""
    now = utcnow()
    actor = ui.current_actor()
    assert actor is not None  # main() checks the session of a signed-in user only
    token = st.session_state.get(ui.SESSION_TOKEN_KEY)
    if token is not None:
        # The server's record, shared by every tab of the browser, decides (every run).
        result = sessions.check(engine, token, now)
        if result.actor is None:
            signed_out(result.reason or "revoked")
            return
        st.session_state[ui.ACTOR_KEY] = result.actor
        st.session_state[ui.LAST_ACTIVITY_KEY] = now
        return
    # A tab holding an actor without a session record (page tests set one directly).
    if auth.session_expired(st.session_state.get(ui.LAST_ACTIVITY_KEY), now):
        signed_out("idle_timeout")
        return
    checked = st.session_state.get("actor_checked_at")
    if checked is None or (now - checked).total_seconds() > ACTOR_RECHECK_SECONDS:
        fresh = auth.current_actor(engine, actor.id)
        if fresh is None:
            signed_out("account_disabled")
            return
        st.session_state[ui.ACTOR_KEY] = fresh
        st.session_state["actor_checked_at"] = now
    st.session_state[ui.LAST_ACTIVITY_KEY] = now


def login_pages() -> list[st.Page]:
    """The sign-in form at its own address, and at every page's: a bookmark or a link
    (`/household?id=3`) keeps its address while the user signs in, and lands there."""
    title, icon = t("Sign in"), ":material/login:"
    return [st.Page("pages/login.py", title=title, icon=icon, url_path=GATE_URL, default=True)] + [
        st.Page("pages/login.py", title=title, icon=icon, url_path=url_path)
        for entries in MENU.values()
        for _path, url_path, *_ in entries
    ]


def sidebar(actor: Actor) -> None:
    with st.sidebar:
        profile = unit.get_unit(ui.engine())
        if profile:
            st.caption(ui.md(profile.name))
        st.markdown(f"**{ui.md(actor.display_name)}** · {ui.role_label(actor.role)}")
        ui.language_picker("sidebar_language")
        if st.button(t("Sign out"), icon=":material/logout:", key="sign_out"):
            ui.sign_out()
            ui.flash("success", t("You have signed out."))
            st.rerun()


def main() -> None:
    try:
        engine = ui.engine()
        initialised = st.session_state.get("initialised") or unit.is_initialised(engine)
    except ServiceError as err:
        ui.show_error(err)
        st.stop()
    if not initialised:
        page = st.navigation(
            [st.Page("pages/setup.py", title=t("First-run setup"), icon=":material/rocket_launch:", url_path=GATE_URL)],
            position="hidden",
        )
    else:
        st.session_state["initialised"] = True
        if ui.current_actor() is not None:
            check_session(engine)
        elif cookie.try_resume():
            pass  # signed in again from the browser's cookie: a reload, a bookmark, a second tab
        actor = ui.current_actor()
        if actor is None:
            page = st.navigation(login_pages(), position="hidden")
        else:
            sidebar(actor)
            # A unit's kind is fixed at setup: read once per browser session, not on every rerun.
            kind = st.session_state.get("unit_kind") or st.session_state.setdefault("unit_kind", unit.unit_kind(engine))
            page = st.navigation(menu_for(actor, kind))
    ui.note_visit(page.url_path, st.query_params.get("id"))
    ui.widget_words()
    ui.show_flashes()
    cookie.write()
    page.run()


main()
