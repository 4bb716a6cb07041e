"""First run: the unit profile and the first administrator; optionally the demo unit."""

import streamlit as st

from pages import _ui as ui
from pages._ui import t
from services.core.permissions import UNIT_KIND_LABELS, UnitKind
from services.ledger import unit

st.title(t("Welcome to Taizhang"))
st.write(
    t(
        "Taizhang keeps the unit's family-planning compliance ledger. "
        "Set up your unit and the first administrator account to begin."
    )
)
ui.language_picker("setup_language")

# Outside the form: the fields below follow the choice.
kind = st.radio(
    t("This installation serves"),
    list(UnitKind),
    format_func=lambda k: t(UNIT_KIND_LABELS[k]),
    captions=[
        t("Keeps the unit's own ledger and makes its year-end workbook for the district."),
        t("Collects the year-end workbooks of the district's units and rolls them up."),
    ],
    horizontal=True,
    key="setup_kind",
)
district_office = kind == UnitKind.DISTRICT

fields = ui.FieldSlots()  # each refusal appears under its field
with st.form("setup"):
    st.subheader(t("Unit"))
    if district_office:
        # A district office is named by its district (the name the schools' workbooks carry).
        district = st.text_input(t("District"), placeholder=t("e.g. Chaoyang District"))
        fields.slot("district", "name")
        unit_name, leader_name, principal_name = district, "", ""
    else:
        unit_name = st.text_input(t("Unit name"), placeholder=t("e.g. Chaoyang No. 1 Primary School"))
        fields.slot("name")
        district = st.text_input(t("District"), placeholder=t("e.g. Chaoyang District"))
        fields.slot("district")
        col1, col2 = st.columns(2)
        leader_name = col1.text_input(t("Designated leader"))
        with col1:
            fields.slot("leader_name")
        principal_name = col2.text_input(t("Principal"))
        with col2:
            fields.slot("principal_name")
    st.subheader(t("First administrator"))
    if district_office:
        st.caption(
            t(
                "The administrator manages accounts and backups, and after signing in creates the accounts "
                "of the district officer (collects the workbooks) and the district head (reads the roll-up). "
                "There is no default password: choose one now (at least 8 characters)."
            )
        )
    else:
        st.caption(
            t(
                "The administrator manages accounts, the unit profile and backups. "
                "There is no default password: choose one now (at least 8 characters)."
            )
        )
    col1, col2 = st.columns(2)
    username = col1.text_input(t("Username"), value="admin")
    with col1:
        fields.slot("username")
    display_name = col2.text_input(t("Name"), value=t("System administrator"))
    with col2:
        fields.slot("display_name")
    password = col1.text_input(t("Password"), type="password")
    with col1:
        fields.slot("password")
    password2 = col2.text_input(t("Repeat password"), type="password")
    with col2:
        fields.slot("password2")
    with_demo = not district_office and st.checkbox(
        t(
            "Also load a fictional demo unit (a few dozen staff with families, and demo accounts for each role) "
            "to try Taizhang"
        ),
        value=False,
    )
    submitted = st.form_submit_button(t("Set up Taizhang"), type="primary")

if submitted:
    if password != password2:
        fields.error("password2", t("The two passwords differ."))
        st.stop()
    admin = ui.run_action(
        lambda: unit.initialise(
            ui.engine(),
            unit_name=unit_name,
            district=district,
            leader_name=leader_name,
            principal_name=principal_name,
            admin_username=username,
            admin_display_name=display_name,
            admin_password=password,
            kind=kind.value,
        ),
        fields=fields,
    )
    if admin:
        ui.flash("success", ui.tmd("Taizhang is set up. Sign in as {username}.", username=username.strip()))
        if with_demo:
            from services.devdata import demo

            result = ui.run_action(lambda: demo.load_demo(ui.engine()))
            if result:
                ui.flash(
                    "info",
                    t(
                        "Demo unit loaded: {employees} staff, {family} family members.",
                        employees=result.employees,
                        family=result.family_members,
                    ),
                )
                lines = "\n".join(
                    f"- {t('Username')}: `{name}` · {ui.role_label(role)} · {t('Password')}: `{pw}`"
                    for name, role, pw in result.accounts
                )
                ui.flash("warning", t("Demo accounts (shown only this once; write them down):") + "\n\n" + lines)
        st.session_state["initialised"] = True
        st.rerun()
