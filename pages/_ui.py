"""What every page shares: the engine, the signed-in actor, translation, guards.

Pages stay thin: they call services with the actor and show the outcome; this
module only adapts services to Streamlit (session state, caching, messages).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, Concatenate, ParamSpec, TypeVar

import pandas as pd
import streamlit as st
from sqlalchemy.engine import Engine

from models._common import utcnow
from services.accounts import auth, sessions
from services.audit import guard
from services.audit.access import authorize
from services.core.db import get_engine
from services.core.errors import ServiceError
from services.core.exports import text_width
from services.core.i18n import DEFAULT_LANGUAGE, LANGUAGES, Msg, translate
from services.core.permissions import ROLE_LABELS, Actor, Permission
from services.ledger import roster

ACTOR_KEY = "actor"
LANG_KEY = "lang"
LAST_ACTIVITY_KEY = "last_activity"
FLASH_KEY = "flash"
# This tab's session (services.accounts.sessions; the cookie: pages/_cookie.py), when it
# ends, and the last token this tab saw ended (not tried again; cleared from the cookie).
SESSION_TOKEN_KEY = "session_token"
SESSION_EXPIRES_KEY = "session_expires_at"
SESSION_ENDED_KEY = "session_token_ended"


def lang() -> str:
    return st.session_state.get(LANG_KEY, DEFAULT_LANGUAGE)


def t(msgid: str, **params: Any) -> str:
    """The UI string for `msgid` in the user's language (plain text: for widgets
    that show text as it is -- option lists, tables, inputs -- or inside `tmd`)."""
    return translate(lang(), msgid, **params)


# ---------------------------------------------------------------- user text is never markup
#
# Streamlit renders Markdown (CommonMark, GFM, $LaTeX$, :directives[...], :emoji:,
# HTML) in st.markdown, st.write, st.caption, titles and headers, st.info & co.,
# toasts, and in the labels of widgets, metrics, expanders, tabs and page links.
# Text a person typed (a name, a title, a department) goes into those only
# through `md` (or `tmd` for a translated sentence with such values in it);
# tables, option lists and inputs show text as it is and take it unchanged.

# Every ASCII punctuation character: CommonMark lets each be backslash-escaped, and
# together they start every construct (emphasis, links and images, code, HTML,
# $ for LaTeX, : for directives, emoji and icons, | for tables, # - + for blocks).
_MARKUP_CHARACTERS = re.compile(r"([!-/:-@\[-`{-~])")
_LINE_BREAKS = re.compile(r"\s*[\r\n\u2028\u2029]+\s*")
# GFM turns addresses in plain text into links (http://, www., e-mail addresses) after
# escapes are read, so escaping alone leaves them links; an invisible word joiner
# (U+2060) after "http(s):", "www" and "@" keeps them text.
_AUTOLINKS = re.compile(r"(?<=\\:)(?=\\/\\/)|(?i:(?<=www)(?=\\\.))|(?<=\\@)")
WORD_JOINER = "\u2060"


def md(value: object) -> str:
    """`value` (text a person typed) to be shown literally by an element that renders
    Markdown: every markup character backslash-escaped, addresses kept from becoming
    links, line breaks made spaces (so a value never starts a block of its own)."""
    escaped = _MARKUP_CHARACTERS.sub(r"\\\1", _LINE_BREAKS.sub(" ", str(value)))
    return _AUTOLINKS.sub(WORD_JOINER, escaped)


def md_params(params: dict[str, Any]) -> dict[str, Any]:
    """`params` of a message with every text value made literal (`md`); message ids
    (translated in the sentence) and numbers are left as they are."""
    return {k: md(v) if isinstance(v, str) and not isinstance(v, Msg) else v for k, v in params.items()}


def tmd(msgid: str, **params: Any) -> str:
    """`t` for an element that renders Markdown: the translated sentence keeps its
    own markup, the values put into it (names, titles...) are shown literally."""
    return translate(lang(), msgid, **md_params(params))


def error_text(err: ServiceError) -> list[str]:
    """A refusal's reason in the user's language, one line per field problem, its
    values (a name, a title quoted back) shown literally where Markdown renders."""
    problems = getattr(err, "problems", None) or [err]
    return [tmd(p.msgid, **p.params) for p in problems]


@st.cache_resource(show_spinner=False)
def _engine_at_head(url: str | None) -> Engine:
    engine = get_engine(url)
    # The newest schema, the audit guards in place (re-created and recorded if
    # missing), today's checkpoint of the audit chain.
    guard.startup(engine, via="app start")
    return engine


def engine() -> Engine:
    """The process's engine, started once per process (services.audit.guard.startup)."""
    from services.core.db import database_url

    return _engine_at_head(database_url())


def current_actor() -> Actor | None:
    return st.session_state.get(ACTOR_KEY)


def sign_in(actor: Actor, token: str | None = None, expires_at: datetime | None = None) -> None:
    """`actor` signed in, in a session of their own (`token` None: a new one is opened)."""
    now = utcnow()
    if token is None:
        agent = st.context.headers.get("User-Agent")
        token = sessions.open_session(engine(), actor, agent if isinstance(agent, str) else None, now)
        expires_at = now + sessions.max_age()
    st.session_state[ACTOR_KEY] = actor
    st.session_state[LAST_ACTIVITY_KEY] = now
    st.session_state[SESSION_TOKEN_KEY] = token
    st.session_state[SESSION_EXPIRES_KEY] = expires_at
    st.session_state.pop(SESSION_ENDED_KEY, None)
    st.session_state[LANG_KEY] = auth.user_language(engine(), actor.id)


def sign_out(reason: str = "logout") -> None:
    actor = current_actor()
    token = st.session_state.get(SESSION_TOKEN_KEY)
    if token is not None:
        # Ends the session for every tab that shares it (recorded, unless it had ended already).
        sessions.end(engine(), token, reason)
    elif actor is not None:
        auth.logout(engine(), actor, reason)
    # Forget everything of this user's session except the language choice.
    # (Keys are deleted one by one: clear() would also drop Streamlit's own.)
    for key in list(st.session_state.keys()):
        if key != LANG_KEY:
            del st.session_state[key]
    if token is not None:
        st.session_state[SESSION_ENDED_KEY] = token
    st.cache_data.clear()


def flash(kind: str, message: str) -> None:
    """A message shown once at the top of the next page run."""
    st.session_state.setdefault(FLASH_KEY, []).append((kind, message))


VISIT_KEY = "visit"
ARRIVED_KEY = "arrived"
V = TypeVar("V")


def note_visit(url_path: str, record_id: str | None) -> None:
    """Remember which page (and record) this run shows, and whether the user just arrived there."""
    visit = (url_path, record_id)
    st.session_state[ARRIVED_KEY] = st.session_state.get(VISIT_KEY) != visit
    st.session_state[VISIT_KEY] = visit


def base_version(key: str, current: V) -> V:
    """The record version the user's edits are based on (or, for a table saved per row,
    each row's version: a mapping).

    Taken afresh each time the user arrives at the record, then kept across
    reruns, so a save after someone else's change is refused instead of
    silently overwriting it -- and coming back later starts from what is stored.
    """
    if st.session_state.get(ARRIVED_KEY, True) or key not in st.session_state:
        st.session_state[key] = current
    return st.session_state[key]


def just_arrived() -> bool:
    """Whether this run is the user's arrival at the page (or record), not a rerun on it."""
    return bool(st.session_state.get(ARRIVED_KEY, True))


def show_flashes() -> None:
    # One container whether or not there is a message: the page's elements keep their places,
    # so an expander the user opened is not drawn anew (closed) on the run after a message.
    with st.container():
        for kind, message in st.session_state.pop(FLASH_KEY, []):
            getattr(st, kind)(message)


def role_label(role: str) -> str:
    return t(ROLE_LABELS[role]) if role in ROLE_LABELS else role


def signed_in_actor() -> Actor:
    """The guard of a page every account may open (its own account): stop unless signed in."""
    actor = current_actor()
    if actor is None:
        st.error(t("Please sign in first."))
        st.stop()
    return actor


def require(permission: Permission, what: str = "") -> Actor:
    """The page's guard: stop with a clear message unless the actor may do this.

    Navigation already hides pages a role may not open; this catches a page
    reached any other way, and records the denial like any refused service call.
    """
    actor = signed_in_actor()
    try:
        authorize(engine(), actor, permission, what)
    except ServiceError as err:
        show_error(err)
        st.stop()
    return actor


def show_error(err: ServiceError) -> None:
    """The refusal's reason; every field problem when a form had several."""
    st.error("\n\n".join(error_text(err)))


@contextmanager
def reporting_errors() -> Iterator[None]:
    """Show a refused action's reason instead of a traceback."""
    try:
        yield
    except ServiceError as err:
        show_error(err)


class FieldSlots:
    """Places right under a page's widgets where a refusal's field problems appear
    (beside their field, not under the whole form): call `slot(field)` just after
    drawing the widget, then pass the slots to `run_action(..., fields=slots)`.
    A problem with no slot is shown as `show_error` shows it."""

    def __init__(self) -> None:
        self._slots: dict[str, Any] = {}

    def slot(self, *fields: str) -> None:
        place = st.empty()
        for field in fields:
            self._slots[field] = place

    def error(self, field: str, text: str) -> None:
        """A page's own check (two passwords differ) shown under its field."""
        self._slots[field].error(text)

    def show(self, err: ServiceError) -> None:
        by_place: dict[int, tuple[Any, list[str]]] = {}
        rest = []
        for problem in getattr(err, "problems", None) or [err]:
            place = self._slots.get(getattr(problem, "field", None) or "")
            if place is None:
                rest.append(tmd(problem.msgid, **problem.params))
            else:
                by_place.setdefault(id(place), (place, []))[1].append(tmd(problem.msgid, **problem.params))
        for place, texts in by_place.values():
            place.error("\n\n".join(texts))
        if rest:
            st.error("\n\n".join(rest))


def run_action(action: Callable[[], Any], success: str | None = None, fields: FieldSlots | None = None) -> Any | None:
    """Run a write; on success clear cached reads and show `success`; a refusal is
    shown beside its fields when the page gave `fields`."""
    try:
        result = action()
    except ServiceError as err:
        (fields.show if fields else show_error)(err)
        return None
    st.cache_data.clear()
    if success:
        st.success(success)
    return result if result is not None else True


# ---------------------------------------------------------------- cached reads

P = ParamSpec("P")
R = TypeVar("R")

# One st.cache_data function per service read (and ttl, max_entries), made once per process.
_READERS: dict[tuple[str, float, int | None], Callable[..., Any]] = {}


def _reader(service: Callable[..., Any], ttl: float, max_entries: int | None) -> Callable[..., Any]:
    """The st.cache_data function that keeps `service`'s results.

    Each service gets a cache of its own, named after it: st.cache_data names a
    function's cache by its module, qualified name and source, so the one `read`
    below would otherwise be a single cache for every service, emptied whenever
    a call with another ttl or max_entries came in.  (A page script's functions
    all live in "__main__", hence its file in the name.)  The service and the
    actor are passed as `_service` and `_actor`: leading underscores keep them
    out of the key, which is the database URL, the role and the arguments.
    """
    where = getattr(getattr(service, "__code__", None), "co_filename", "?")
    name = f"{service.__module__}.{service.__qualname__} ({where})"
    config = (name, ttl, max_entries)
    reader = _READERS.get(config)
    if reader is None:

        def read(_service: Callable[..., Any], _actor: Actor, url: str, role: str, *args: Any, **kwargs: Any) -> Any:
            return _service(_engine_at_head(url), _actor, *args, **kwargs)

        read.__name__ = read.__qualname__ = f"cached_read[{name}, ttl={ttl}, max_entries={max_entries}]"
        reader = _READERS[config] = st.cache_data(ttl=ttl, max_entries=max_entries, show_spinner=False)(read)
    return reader


def cached_read(
    service: Callable[Concatenate[Engine, Actor, P], R], *, ttl: float, max_entries: int | None = None
) -> Callable[Concatenate[Actor, P], R]:
    """`service` (a read taking the engine and the actor) as `read(actor, *args, **kwargs)`, cached.

    The result is kept for `ttl` seconds (and at most `max_entries` of them),
    shared by every session of the process and keyed by the database URL, the
    actor's **role** and the arguments -- never by the user: what a role may see
    is decided by its role alone.  The actor whose call fills an entry is the
    one the service checks.  Cache only small aggregates or one page of a list.
    Each caller gets its own copy of the result (st.cache_data unpickles it),
    so a page may change what it is given.  Every write through run_action
    (and sign_out) clears all of it; another process sees a change after `ttl`.
    """
    reader = _reader(service, ttl, max_entries)

    def read(actor: Actor, *args: P.args, **kwargs: P.kwargs) -> R:
        from services.core.db import database_url

        return reader(service, actor, database_url(), str(actor.role), *args, **kwargs)

    return read


def _language_changed(key: str) -> None:
    st.session_state[LANG_KEY] = st.session_state[key]
    actor = current_actor()
    if actor is not None:
        auth.set_own_language(engine(), actor, st.session_state[LANG_KEY])


def language_picker(key: str = "language_picker") -> None:
    """A language selector; a signed-in user's choice is kept with their account."""
    # Keep every picker in step with the language chosen anywhere else.
    st.session_state[key] = lang()
    st.selectbox(
        t("Language"),
        list(LANGUAGES),
        format_func=lambda code: LANGUAGES[code],
        key=key,
        on_change=_language_changed,
        args=(key,),
    )


def show_table(frame: pd.DataFrame, config: dict) -> None:
    """`frame`'s columns named in `config` (code -> label or column config), headed in the user's language."""
    labels = {c: v if isinstance(v, str) else v["label"] for c, v in config.items()}
    st.dataframe(
        frame[list(config)].rename(columns=labels),
        hide_index=True,
        width="stretch",
        column_config={labels[c]: v for c, v in config.items() if not isinstance(v, str)},
    )


def record_id_or_stop(hint: str, list_page: str, list_label: str, icon: str) -> int:
    """The record id in the address (?id=N); without one, point to the list page and stop."""
    param = st.query_params.get("id", "")
    if not param.isdigit():
        st.info(hint)
        st.page_link(list_page, label=list_label, icon=icon)
        st.stop()
    return int(param)


# ---------------------------------------------------------------- choosing people among many

# A unit with at most this many people to choose from lists them all; a larger one
# (one instance may serve a district of 30,000) is searched, so a rerun sends at
# most SEARCH_LIMIT options to the browser instead of every person in post.
SHOW_EVERYONE_UP_TO = 300
SEARCH_LIMIT = 50

# search(text, limit) -> (the first `limit` people matching every word of `text`,
# how many match in all); a frame of employee_id, staff_no, name, department.
PeopleSearch = Callable[[str, int], tuple[pd.DataFrame, int]]


def person_labels(people: pd.DataFrame) -> dict[int, str]:
    """employee id -> "staff no. · name · department", as every picker shows a person."""
    return {int(r.employee_id): f"{r.staff_no} · {r.name} · {r.department or ''}" for r in people.itertuples()}


def staff_in_post_search(actor: Actor, day: date) -> PeopleSearch:
    """Search the staff in post on `day` in the database (cached per text and role, cleared by every write)."""
    search = cached_read(roster.search_staff, ttl=120)
    return lambda text, limit: search(actor, day, " ".join(text.split()), limit)


def frame_search(people: pd.DataFrame) -> PeopleSearch:
    """Search a list already loaded (say a session's expected list) the way the database is searched."""

    def search(text: str, limit: int) -> tuple[pd.DataFrame, int]:
        hit = pd.Series(True, index=people.index)
        haystack = [people[c].fillna("").astype(str).str.lower() for c in ("staff_no", "name", "department")]
        for word in text.lower().split():
            hit &= (
                haystack[0].str.contains(word, regex=False)
                | haystack[1].str.contains(word, regex=False)
                | haystack[2].str.contains(word, regex=False)
            )
        return people[hit].head(limit), int(hit.sum())

    return search


def people_picker(
    label: str, key: str, search: PeopleSearch, *, default: dict[int, str] | None = None, help: str | None = None
) -> list[int]:
    """Choose people from however many: the employee ids chosen.

    Up to SHOW_EVERYONE_UP_TO people are all listed at once.  Beyond that a search
    box (staff no., name or department) finds at most SEARCH_LIMIT, and the
    options are the people already chosen plus the current matches, so choices
    survive the next search.  `default` ({id: label}) is the first choice.  Not
    inside a st.form: a search has to rerun the page.
    """
    labels = st.session_state.setdefault(f"{key}_labels", {})
    kept = f"{key}_chosen"  # outlives the widget's own state while the picker is not shown
    if kept not in st.session_state:
        labels.update(default or {})
        st.session_state[kept] = list(default or {})
    if key not in st.session_state:
        st.session_state[key] = st.session_state[kept]
    everyone, total = search("", SHOW_EVERYONE_UP_TO)
    truncated = False
    if total <= SHOW_EVERYONE_UP_TO:
        matches = everyone
        column = st
    else:
        c1, column = st.columns([1, 2])
        text = c1.text_input(t("Find people"), key=f"{key}_search", placeholder=t("Staff no., name or department"))
        matches, found = search(text, SEARCH_LIMIT) if text.strip() else (everyone.iloc[:0], 0)
        if not text.strip():
            c1.caption(t("{n} people to choose from: find them by staff no., name or department.", n=total))
        elif truncated := found > SEARCH_LIMIT:
            c1.caption(
                t(
                    "{n} match; the first {limit} are listed. Narrow the search to see the others.",
                    n=found,
                    limit=SEARCH_LIMIT,
                )
            )
        else:
            c1.caption(t("{n} match.", n=found))
    labels.update(person_labels(matches))
    chosen = [e for e in st.session_state[key] if e in labels]
    options = list(dict.fromkeys([*chosen, *(int(e) for e in matches["employee_id"])]))
    # "Select all" would take only the matches listed: offered when they are all there are.
    st.session_state[kept] = column.multiselect(
        label,
        options,
        format_func=labels.get,
        key=key,
        help=help,
        placeholder=t("Click to choose"),
        **({"select_all": False} if truncated else {}),
    )
    return st.session_state[kept]


def forget_picker(key: str) -> None:
    """Start the picker `key` afresh next time (say after its choice was saved)."""
    for name in (key, f"{key}_chosen", f"{key}_labels", f"{key}_search"):
        st.session_state.pop(name, None)


MIME_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def download_button(
    label: str,
    data: bytes | Callable[[], bytes],
    file_name: str,
    *,
    where: Any = st,
    key: str | None = None,
    icon: str = ":material/download:",
    disabled: bool = False,
) -> None:
    """The one download button of the app: one click (#14 §8), a type that follows the file name,
    and no rerun (downloading changes nothing: on_click="ignore").

    `data` is the bytes, or - for a file the service builds (and records as exported) - a function
    building them, run only when the button is clicked.  Streamlit runs that function in a worker
    thread outside this session's script run: it must not read st.session_state (so no `t()`,
    `lang()`, `engine()` inside) - resolve the engine, the actor and the language on the run and
    capture them, as `export(...)` does.  A failure shows Streamlit's "failed to generate" notice
    and is logged."""
    mime = MIME_TYPES.get(file_name.rsplit(".", 1)[-1].lower(), "application/octet-stream")
    where.download_button(
        label, data, file_name=file_name, mime=mime, key=key, icon=icon, on_click="ignore", disabled=disabled
    )


def export(
    build: Callable[..., Any], *args: Any, pick: Callable[[Any], bytes] = lambda data: data
) -> Callable[[], bytes]:
    """A download's builder: `build(engine, actor, *args)` called on click with this run's engine
    and actor (and whatever else is passed, the language included), `pick` taking the bytes
    from its result."""
    engine_now, actor_now = engine(), current_actor()
    return lambda: pick(build(engine_now, actor_now, *args))


def printable_downloads(label: str, file_stem: str, build: Callable[..., bytes], *args: Any, key: str) -> None:
    """One-click downloads of a list to print (sign-in sheet, receipt list), as xlsx and as PDF.

    `build(engine, actor, *args, fmt)` builds the file when its button is clicked (the service
    checks permission and records the export)."""
    formats = ("xlsx", "pdf")
    for column, fmt in zip(st.columns(len(formats) + 2), formats, strict=False):
        download_button(
            f"{label} ({fmt.upper()})",
            export(build, *args, fmt),
            f"{file_stem}.{fmt}",
            where=column,
            key=f"{key}_download_{fmt}",
            icon=":material/print:",
        )


def conflicts_table(conflicts: list[Any]) -> None:
    """The rows a many-row save refused: whose row, who changed it meanwhile, when."""
    st.dataframe(pd.DataFrame(conflicts, columns=[t("Name"), t("Changed by"), t("Changed at")]), hide_index=True)


def fields_text(pairs: list[tuple[str, Any]], columns: int = 3) -> None:
    """A record shown read-only, as text (not a greyed form with a disabled Save button):
    each label small above its value, `columns` to a row; an empty value reads `—`.
    Values are user text: each line shown literally, line breaks kept."""
    for start in range(0, len(pairs), columns):
        for column, (label, value) in zip(st.columns(columns), pairs[start : start + columns], strict=False):
            with column:
                st.caption(md(label))
                text = "" if value is None else str(value).strip()
                st.markdown("  \n".join(md(line) for line in text.splitlines()) if text else "—")


# Streamlit (1.67) has no setting for its file uploader's own words ("Upload",
# "20MB per file • PDF"): in Chinese a fixed style (no user data) hides them and
# shows Chinese in their place; the widget itself is unchanged.  (Its help icon's
# "Help for …" is an aria-label only, never shown.)
_DROPZONE = '[data-testid="stFileUploaderDropzone"]'


def widget_words() -> None:
    """Once per run, from app.py: Streamlit's own widget words in the interface language."""
    if lang() == "en":
        return  # Streamlit's own words
    # CSS strings, quoted and escaped (translations, never user data).
    button = json.dumps(t("Upload"), ensure_ascii=False)
    hint = json.dumps(t("Drop a file here, or click Upload to choose one"), ensure_ascii=False)
    label = f'{_DROPZONE} [data-testid="stBaseButton-secondary"] [data-testid="stMarkdownContainer"] p'
    instructions = '[data-testid="stFileUploaderDropzoneInstructions"] span'
    st.html(
        "<style>"
        f"{label}, {instructions} {{font-size: 0;}}"
        f"{label}::after {{content: {button}; font-size: 0.875rem;}}"
        f"{instructions}::after {{content: {hint}; font-size: 0.875rem;}}"
        "</style>"
    )


# ---------------------------------------------------------------- tables an office uses: click a row, pages of 50

PAGE_SIZE = 50
PAGE_BUTTONS = 7  # page numbers shown around the current one


def opened_record(rows: Any, ids: list[Any]) -> Any | None:
    """The record a click on a table row opens: the id of the (first) selected row, or None.

    `rows` are the selected row positions of the table as shown (a dataframe
    selection's `.selection.rows`), `ids` the shown rows' record ids in order."""
    for row in rows or []:
        if 0 <= int(row) < len(ids):
            return ids[int(row)]
    return None


def selected_ids(rows: Any, ids: list[Any]) -> list[Any]:
    """The record ids of every selected row (positions into `ids`, as `opened_record`)."""
    return [ids[int(r)] for r in rows or [] if 0 <= int(r) < len(ids)]


def table_selection(
    frame: pd.DataFrame, config: dict, *, key: str, mode: str | list[str], wrap: Sequence[str] = ()
) -> list[int]:
    """`show_table`, with rows the user selects (`mode` "multi-row", or "single-row" with "single-cell"
    so a click on any cell counts as one on its row): the selected row positions.
    The `wrap` columns (codes in `config`) show their text in full, as in `wrapped_table`."""
    labels = {c: v if isinstance(v, str) else v["label"] for c, v in config.items()}
    shown = frame[list(config)].rename(columns=labels)
    wide = [labels[c] for c in wrap]
    event = st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        row_height=wrap_row_height(shown, wide) if wide else None,
        column_config={labels[c]: v for c, v in config.items() if not isinstance(v, str)}
        | {c: st.column_config.TextColumn(c, width=WRAP_COLUMN_WIDTH) for c in wide},
        key=key,
        on_select="rerun",
        selection_mode=mode,  # type: ignore[arg-type]
    )
    cells = getattr(event.selection, "cells", None) or []  # (row, column) of a clicked cell
    return [int(r) for r in event.selection.rows] + [int(cell[0]) for cell in cells]


def row_link_table(
    frame: pd.DataFrame, config: dict, *, key: str, page: str, id_column: str = "id", wrap: Sequence[str] = ()
) -> None:
    """A table whose row, when clicked, opens its record on `page` (`?id=`): no choose-then-open.
    The `wrap` columns (codes in `config`) show their text in full (a reason, a basis)."""
    st.caption(t("Click a row to open it."))
    rows = table_selection(frame, config, key=key, mode=["single-row", "single-cell"], wrap=wrap)
    target = opened_record(rows, [int(i) for i in frame[id_column]])
    if target is not None:
        st.switch_page(page, query_params={"id": str(target)})


def page_count(total: int, size: int | None = None) -> int:
    return max(1, -(-int(total) // (size or PAGE_SIZE)))


def current_page(key: str) -> int:
    """The page (from 1) the pager `key` shows; its offset is `(page - 1) * PAGE_SIZE`."""
    return int(st.session_state.get(key, 1))


def page_offset(key: str, size: int | None = None) -> int:
    return (current_page(key) - 1) * (size or PAGE_SIZE)


def page_numbers(page: int, pages: int, shown: int = PAGE_BUTTONS) -> list[int]:
    """The page numbers to offer as buttons: a window of `shown` around `page`, within 1..pages."""
    first = max(1, min(page - shown // 2, pages - shown + 1))
    return list(range(first, min(pages, first + shown - 1) + 1))


def _go_to(key: str, page: int) -> None:
    st.session_state[key] = page


def pager(key: str, total: int, size: int | None = None) -> None:
    """The total and the page buttons (previous, numbers, next) of a list shown `size` rows at a time.

    Read the page with `current_page(key)` / `page_offset(key)` before loading
    it; a filter that leaves fewer pages brings the list back to its last page."""
    size = size or PAGE_SIZE
    pages = page_count(total, size)
    page = current_page(key)
    if page > pages:  # the filter shrank the list
        st.session_state[key] = pages
        st.rerun()
    if total <= size:
        st.caption(t("{total} in all", total=total))
        return
    numbers = page_numbers(page, pages)
    columns = st.columns([1.2, *([0.5] * (len(numbers) + 2)), 4], vertical_alignment="center")
    columns[0].caption(t("{total} in all · page {page} of {pages}", total=total, page=page, pages=pages))
    columns[1].button(
        "",
        icon=":material/chevron_left:",
        key=f"{key}_prev",
        disabled=page == 1,
        help=t("Previous page"),
        on_click=_go_to,
        args=(key, page - 1),
    )
    for column, number in zip(columns[2:], numbers, strict=False):
        column.button(
            str(number),
            key=f"{key}_to_{number}",
            type="primary" if number == page else "secondary",
            on_click=_go_to,
            args=(key, number),
        )
    columns[len(numbers) + 2].button(
        "",
        icon=":material/chevron_right:",
        key=f"{key}_next",
        disabled=page == pages,
        help=t("Next page"),
        on_click=_go_to,
        args=(key, page + 1),
    )


def page_of(frame: pd.DataFrame, key: str, size: int | None = None) -> pd.DataFrame:
    """The rows of an already filtered `frame` on the current page of pager `key` (show `pager` after it)."""
    size = size or PAGE_SIZE
    pages = page_count(len(frame), size)
    offset = (min(current_page(key), pages) - 1) * size
    return frame.iloc[offset : offset + size]


def filters_from_link(presets: dict[str, tuple[str, Callable[[str], Any]]]) -> None:
    """Set a page's filter widgets from the link that opened it (say the workbench's `?state=draft`).

    `presets` maps a query parameter to (the widget's key, a parser raising
    ValueError or KeyError on a value it does not accept).  Each parameter is
    applied once and then taken out of the address, so the user's own choices rule after."""
    for param, (key, parse) in presets.items():
        raw = st.query_params.get(param)
        if raw is None:
            continue
        try:
            st.session_state[key] = parse(raw)
        except (ValueError, KeyError):
            pass
        del st.query_params[param]


# st.dataframe wraps a cell's text only in rows taller than 4rem (64 px), and every row of a table
# has one height: a table whose text must show in full (a reason, a basis, an event's content)
# gets rows as tall as its longest such text needs in a column of WRAP_COLUMN_WIDTH pixels.
WRAP_ROW_HEIGHT = 72  # three lines, the least at which a cell wraps
WRAP_COLUMN_WIDTH = 480  # px
WRAP_LINE_HEIGHT = 22  # px per line of the table's 14 px text, with room
WRAP_LINE_UNITS = 56  # text_width units per line of a wrapped column (a CJK character is 2, about 15 px)
WRAP_MAX_LINES = 24  # a row no taller than a screen (a click on a plain table's cell shows any text whole)


def wrap_lines(text: object) -> int:
    """How many lines `text` takes in a wrapped column (its own line breaks kept)."""
    if text is None or (isinstance(text, float) and text != text):
        return 1
    return sum(max(1, -(-text_width(line) // WRAP_LINE_UNITS)) for line in str(text).splitlines() or [""])


def wrap_row_height(frame: pd.DataFrame, wide: Sequence[str]) -> int:
    """The row height at which every cell of `frame`'s `wide` columns shows its text in full."""
    lines = max((wrap_lines(v) for c in wide for v in frame[c]), default=1)
    return max(WRAP_ROW_HEIGHT, min(lines, WRAP_MAX_LINES) * WRAP_LINE_HEIGHT + 12)


def wrapped_table(frame: pd.DataFrame, wide: list[str], *, key: str | None = None) -> None:
    """`frame` (headers already in the user's language) with long text shown in full:
    the `wide` columns get the room, and rows are tall enough for their text to wrap whole."""
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        row_height=wrap_row_height(frame, wide),
        column_config={c: st.column_config.TextColumn(c, width=WRAP_COLUMN_WIDTH) for c in wide},
        key=key,
    )
