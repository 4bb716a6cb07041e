"""Overview: where the unit stands, and what to do first."""

import streamlit as st

from pages import _ui as ui
from pages._ui import t
from services.core.formatting import fmt_datetime
from services.core.permissions import Permission
from services.ledger import roster, unit
from services.sanctions import cases

actor = ui.require(Permission.READ_LEDGER)
profile = unit.get_unit(ui.engine())

st.title(ui.md(profile.name) if profile else t("Overview"))
if profile:
    st.caption(
        ui.tmd(
            "{district} · assessment year {year} · designated leader {leader} · principal {principal}",
            district=profile.district,
            year=profile.current_year,
            leader=profile.leader_name,
            principal=profile.principal_name,
        )
    )

if actor.can(Permission.DECIDE_CASE):
    # The principal's queue: what waits for their decision, first thing after signing in.
    waiting = cases.queue(ui.engine(), actor)
    st.subheader(t("Waiting for your decision"))
    if waiting.empty:
        st.success(t("No case or appeal is waiting for your decision."))
    else:
        pending = int((waiting["state"] == "pending").sum())
        st.warning(
            t(
                "{pending} case(s) and {appeals} appeal(s) are waiting for your decision.",
                pending=pending,
                appeals=len(waiting) - pending,
            )
        )
        for row in waiting.itertuples():
            what = t("Appeal") if row.state == "under_appeal" else t("Case to decide")
            since = fmt_datetime(row.waiting_since)
            who = f"{ui.md(row.staff_no)} {ui.md(row.name)}"
            label = f"{what} · {ui.md(row.case_no)} · {who} · {ui.md(row.category)} · {since}"
            if not row.can_decide:
                label += " · " + t("recorded by you: someone else decides it")
            st.page_link("pages/case_record.py", label=label, icon=":material/gavel:", query_params={"id": str(row.id)})

counts = roster.ledger_counts(ui.engine(), actor)
for column, key in zip(st.columns(4), roster.LEDGER_COUNT_LABELS, strict=True):
    column.metric(t(roster.LEDGER_COUNT_LABELS[key]), getattr(counts, key), help=t(roster.LEDGER_COUNT_HELP[key]))

if counts.staff_total == 0:
    st.info(t("The ledger is empty. The designated leader imports the staff list or records staff one by one."))

st.subheader(t("Your role"))
st.write(ui.tmd("You are signed in as {name} ({role}).", name=actor.display_name, role=ui.role_label(actor.role)))
