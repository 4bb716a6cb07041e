"""Overview: where the unit stands, and what to do first."""

import streamlit as st

from pages import _ui as ui
from pages._ui import t
from services import ledger, unit
from services.permissions import Permission

actor = ui.require(Permission.READ_LEDGER)
profile = unit.get_unit(ui.engine())

st.title(profile.name if profile else t("Overview"))
if profile:
    st.caption(t("{district} · assessment year {year} · designated leader {leader} · principal {principal}",
                 district=profile.district, year=profile.current_year,
                 leader=profile.leader_name, principal=profile.principal_name))

counts = ledger.ledger_counts(ui.engine(), actor)
c1, c2, c3, c4 = st.columns(4)
c1.metric(t("Staff in post"), counts.staff_in_post)
c2.metric(t("Staff on the ledger"), counts.staff_total)
c3.metric(t("Family members"), counts.family_members)
c4.metric(t("Departments"), counts.departments)

if counts.staff_total == 0:
    st.info(t("The ledger is empty. The designated leader imports the staff list or records staff one by one."))

st.subheader(t("Your role"))
st.write(t("You are signed in as {name} ({role}).", name=actor.display_name, role=ui.role_label(actor.role)))
