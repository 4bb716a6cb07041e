"""The unit profile (administrator only)."""

import streamlit as st

from pages import _ui as ui
from pages._ui import t
from services.core.permissions import Permission
from services.ledger import unit

actor = ui.require(Permission.ADMINISTER)
st.title(t("Unit profile"))
profile = unit.get_unit(ui.engine())

with st.form("unit_profile"):
    name = st.text_input(t("Unit name"), value=profile.name)
    district = st.text_input(t("District"), value=profile.district)
    col1, col2 = st.columns(2)
    leader_name = col1.text_input(t("Designated leader"), value=profile.leader_name)
    principal_name = col2.text_input(t("Principal"), value=profile.principal_name)
    current_year = col1.number_input(
        t("Current assessment year"), min_value=2000, max_value=2100, value=profile.current_year, step=1
    )
    sanction_years = col2.number_input(
        t("Years a confirmed case blocks awards and incentive pay"),
        min_value=1,
        max_value=5,
        value=profile.sanction_years,
        step=1,
    )
    submitted = st.form_submit_button(t("Save"), type="primary")

if submitted and ui.run_action(
    lambda: unit.update_unit(
        ui.engine(),
        actor,
        name=name,
        district=district,
        leader_name=leader_name,
        principal_name=principal_name,
        current_year=current_year,
        sanction_years=sanction_years,
    )
):
    ui.flash("success", t("Saved."))
    st.rerun()
