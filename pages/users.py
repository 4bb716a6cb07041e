"""Accounts: create, disable, reset password, change role (administrator only)."""

import streamlit as st

from pages import _ui as ui
from pages._ui import t
from services.accounts import auth, sessions
from services.core.formatting import fmt_datetime
from services.core.permissions import Permission, roles_for
from services.ledger import unit

actor = ui.require(Permission.ADMINISTER)
st.title(t("Accounts"))

users = auth.list_users(ui.engine(), actor)
shown = users.assign(
    role=users["role"].map(ui.role_label),
    active=users["active"].map(lambda a: t("Active") if a else t("Disabled")),
    locked_until=users["locked_until"].map(fmt_datetime),
    last_login_at=users["last_login_at"].map(fmt_datetime),
    password_changed_at=users["password_changed_at"].map(fmt_datetime),
).drop(columns=["id"])
shown.columns = [
    t("Username"),
    t("Name"),
    t("Role"),
    t("Status"),
    t("Locked until"),
    t("Last sign-in"),
    t("Password changed"),
]
st.dataframe(shown, hide_index=True, width="stretch")

# The roles of this kind of unit only (a school has no district officer, a district office no principal).
roles = [r.value for r in roles_for(unit.unit_kind(ui.engine()))]

tab_new, tab_manage = st.tabs([t("New account"), t("Manage an account")])
with tab_new:
    with st.form("new_user", clear_on_submit=True):
        col1, col2 = st.columns(2)
        username = col1.text_input(t("Username"))
        display_name = col2.text_input(t("Name"))
        role = col1.selectbox(t("Role"), roles, format_func=ui.role_label)
        password = col2.text_input(
            t("Initial password"), type="password", help=t("At least 8 characters; common passwords are refused.")
        )
        submitted = st.form_submit_button(t("Create account"), type="primary")
    if submitted and ui.run_action(
        lambda: auth.create_user(ui.engine(), actor, username, display_name, role, password)
    ):
        ui.flash("success", ui.tmd("Account {username} created.", username=username.strip()))
        st.rerun()

with tab_manage:
    if users.empty:
        st.info(t("No accounts yet."))
    else:
        labels = {row.id: f"{row.username} · {row.display_name}" for row in users.itertuples()}
        user_id = st.selectbox(t("Account"), list(labels), format_func=labels.get)
        row = users.set_index("id").loc[user_id]

        st.markdown("**" + t("Role") + "**")
        with st.form("change_role"):
            new_role = st.selectbox(
                t("Role"),
                roles,
                index=roles.index(row["role"]),
                format_func=ui.role_label,
                label_visibility="collapsed",
            )
            if st.form_submit_button(t("Change role")) and ui.run_action(
                lambda: auth.set_role(ui.engine(), actor, user_id, new_role)
            ):
                ui.flash("success", t("Role changed."))
                st.rerun()

        st.markdown("**" + t("Reset password") + "**")
        with st.form("reset_password", clear_on_submit=True):
            new_password = st.text_input(t("New password"), type="password")
            if st.form_submit_button(t("Reset password")) and ui.run_action(
                lambda: auth.reset_password(ui.engine(), actor, user_id, new_password)
            ):
                ui.flash(
                    "success",
                    ui.tmd("The password of {username} has been reset; tell them in person.", username=row["username"]),
                )
                st.rerun()

        st.markdown("**" + t("Signed-in browsers") + "**")
        open_count = len(sessions.user_sessions(ui.engine(), actor, user_id))
        with st.form("end_sessions"):
            st.caption(t("Open sessions (signed-in browsers): {n}", n=open_count))
            end_confirmed = st.checkbox(ui.tmd("Yes, sign {username} out in every browser", username=row["username"]))
            if st.form_submit_button(t("End sessions"), disabled=open_count == 0):
                if not end_confirmed:
                    st.warning(t("Tick the box to confirm."))
                elif ui.run_action(lambda: sessions.end_user_sessions(ui.engine(), actor, user_id) >= 0):
                    ui.flash("success", ui.tmd("{username} has been signed out everywhere.", username=row["username"]))
                    st.rerun()

        st.markdown("**" + t("Status") + "**")
        if row["active"]:
            with st.form("disable_user"):
                st.caption(t("A disabled account cannot sign in; its history stays. It can be enabled again."))
                confirmed = st.checkbox(ui.tmd("Yes, disable {username}", username=row["username"]))
                if st.form_submit_button(t("Disable account")):
                    if not confirmed:
                        st.warning(t("Tick the box to confirm."))
                    elif ui.run_action(lambda: auth.set_active(ui.engine(), actor, user_id, False)):
                        ui.flash("success", ui.tmd("Account {username} disabled.", username=row["username"]))
                        st.rerun()
        elif st.button(t("Enable account")) and ui.run_action(
            lambda: auth.set_active(ui.engine(), actor, user_id, True)
        ):
            ui.flash("success", ui.tmd("Account {username} enabled.", username=row["username"]))
            st.rerun()
