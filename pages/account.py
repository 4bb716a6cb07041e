"""My account: password, language, and where the account is signed in."""

import streamlit as st

from pages import _ui as ui
from pages._ui import t
from services.accounts import auth, sessions
from services.core.formatting import fmt_datetime

actor = ui.signed_in_actor()
st.title(t("My account"))
st.write(ui.tmd("You are signed in as {name} ({role}).", name=actor.display_name, role=ui.role_label(actor.role)))

st.subheader(t("Change password"))
with st.form("change_password", clear_on_submit=True):
    old = st.text_input(t("Current password"), type="password")
    new = st.text_input(
        t("New password"), type="password", help=t("At least 8 characters; common passwords are refused.")
    )
    new2 = st.text_input(t("Repeat new password"), type="password")
    submitted = st.form_submit_button(t("Change password"), type="primary")
if submitted:
    if new != new2:
        st.error(t("The two passwords differ."))
    else:
        if ui.run_action(
            lambda: auth.change_own_password(ui.engine(), actor, old, new), t("Your password has been changed.")
        ):
            # The change ended every session of the account (other browsers are signed
            # out); this browser goes on in a new one.
            ui.sign_in(actor)
st.caption(t("The language is chosen in the sidebar and kept with your account."))

st.subheader(t("Where you are signed in"))
open_sessions = sessions.own_sessions(ui.engine(), actor, st.session_state.get(ui.SESSION_TOKEN_KEY))
shown = open_sessions.assign(
    created_at=open_sessions["created_at"].map(fmt_datetime),
    last_active_at=open_sessions["last_active_at"].map(fmt_datetime),
    expires_at=open_sessions["expires_at"].map(fmt_datetime),
    current=open_sessions["current"].map(lambda here: t("This browser") if here else ""),
).drop(columns=["id"])
shown.columns = [t("Signed in at"), t("Last active"), t("Ends at the latest"), t("Browser"), t("Current session")]
st.dataframe(shown, hide_index=True, width="stretch")
st.caption(
    t(
        "A session ends at sign-out, after 30 minutes without activity, or {hours} hours after signing in.",
        hours=f"{sessions.max_age().total_seconds() / 3600:g}",
    )
)
with st.form("sign_out_everywhere"):
    confirmed = st.checkbox(t("Yes, sign me out in every browser, this one too"))
    if st.form_submit_button(t("Sign out everywhere"), icon=":material/logout:"):
        if not confirmed:
            st.warning(t("Tick the box to confirm."))
        elif ui.run_action(lambda: sessions.end_everywhere(ui.engine(), actor) >= 0):
            ui.sign_out("everywhere")
            ui.flash("success", t("You have been signed out in every browser."))
            st.rerun()
