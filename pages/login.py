"""Sign-in form."""

import streamlit as st

from pages import _ui as ui
from pages._ui import t
from services.accounts import auth
from services.core.errors import ServiceError
from services.ledger import unit

profile = unit.get_unit(ui.engine())
st.title(t("Taizhang · family-planning compliance ledger"))
if profile:
    st.caption(ui.md(profile.name))

left, _ = st.columns([2, 3])
with left:
    with st.form("login"):
        username = st.text_input(t("Username"), key="login_username")
        password = st.text_input(t("Password"), type="password", key="login_password")
        submitted = st.form_submit_button(t("Sign in"), type="primary")
    ui.language_picker("login_language")

if submitted:
    try:
        actor = auth.authenticate(ui.engine(), username, password)
    except ServiceError as err:
        ui.show_error(err)
    else:
        ui.sign_in(actor)
        st.rerun()
