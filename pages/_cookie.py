"""The session cookie: read with `st.context.cookies`, written by a tiny inline component.

Streamlit can read cookies but not set them, and a page's Python never reaches the
browser's HTTP response; so a `st.components.v2` component (inline JavaScript, no
build step, no package to keep up to date) writes `document.cookie` in the app's own
page.  The cookie is `SameSite=Strict`, `Path=/`, `Secure` when the page is served
over HTTPS, and lives no longer than the session's absolute limit.  Being set by
script it cannot be HttpOnly: what protects it is that no user text is ever markup
(pages/_ui.md) and that the server refuses a token once its session has ended.

`st.context.cookies` holds the cookies of the page load (the websocket's handshake):
a cookie set in this tab is sent by the next reload, a second tab, a bookmark.
"""

from __future__ import annotations

import streamlit as st

from models._common import utcnow
from pages import _ui as ui
from services.accounts import sessions

_JS = """
export default function ({ data, parentElement }) {
  const { name, token, clear, maxAge } = data || {};
  const secure = window.location.protocol === "https:" ? "; Secure" : "";
  const now = document.cookie.split("; ").find((c) => c.startsWith(name + "="));
  const current = now ? now.slice(name.length + 1) : null;
  if (token && current !== token) {
    document.cookie = `${name}=${token}; Path=/; Max-Age=${maxAge}; SameSite=Strict${secure}`;
  } else if (!token && clear && current === clear) {
    // Only the token this tab knows ended: another tab may have signed in since.
    document.cookie = `${name}=; Path=/; Max-Age=0; SameSite=Strict${secure}`;
  }
  if (parentElement && parentElement.host) parentElement.host.style.display = "none";
}
"""
_cookie_writer = st.components.v2.component("taizhang_session_cookie", js=_JS)


def try_resume() -> bool:
    """Sign this tab in from the browser's cookie, if it names a session still open."""
    cookie = st.context.cookies.get(sessions.COOKIE_NAME)
    # (Not a string where there is no browser: AppTest's stand-in client.)
    if not isinstance(cookie, str) or not cookie or cookie == st.session_state.get(ui.SESSION_ENDED_KEY):
        return False
    checked = sessions.check(ui.engine(), cookie, resuming=True)
    if checked.actor is None:
        st.session_state[ui.SESSION_ENDED_KEY] = cookie
        return False
    ui.sign_in(checked.actor, token=cookie, expires_at=checked.expires_at)
    return True


def write() -> None:
    """Put this tab's session token in the browser's cookie, or take an ended one out."""
    current = st.session_state.get(ui.SESSION_TOKEN_KEY)
    max_age = 0
    if current:
        expires = st.session_state.get(ui.SESSION_EXPIRES_KEY)
        left = (expires - utcnow()).total_seconds() if expires else sessions.max_age().total_seconds()
        max_age = max(int(left), 0)
    clear = None if current else st.session_state.get(ui.SESSION_ENDED_KEY)
    if not current and not clear:
        return
    _cookie_writer(
        key="taizhang_session_cookie",
        data={"name": sessions.COOKIE_NAME, "token": current, "clear": clear, "maxAge": max_age},
        height=1,
    )
