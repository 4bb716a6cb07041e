"""My account: password and language."""

import streamlit as st

from pages import _ui as ui
from pages._ui import t
from services.accounts import auth

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
        ui.run_action(
            lambda: auth.change_own_password(ui.engine(), actor, old, new), t("Your password has been changed.")
        )
st.caption(t("The language is chosen in the sidebar and kept with your account."))
