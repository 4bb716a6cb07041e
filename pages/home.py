"""Overview: where the unit stands, and what to do first."""

import streamlit as st

from pages import _ui as ui
from pages._ui import t
from services.core.formatting import fmt_datetime, local_today
from services.core.permissions import Permission
from services.ledger import roster, unit
from services.sanctions import cases
from services.year import workbench

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

# ---------------------------------------------------------------- 工作台: what waits for this user
# Only the tasks this role can act on (services.year.workbench); the auditor's list is empty.
year = profile.current_year if profile else local_today().year
tasks = workbench.workbench(ui.engine(), actor, year)
# kind -> (page, query parameters its filters take, icon)
LINKS = {
    "owed_makeups": ("pages/sessions.py", {"view": "follow", "year": str(year)}, ":material/event_repeat:"),
    "unreached": ("pages/leaflets.py", {"view": "coverage", "year": str(year)}, ":material/campaign:"),
    "unmarked_sessions": (
        "pages/sessions.py",
        {"view": "list", "year": str(year), "unmarked": "1"},
        ":material/fact_check:",
    ),
    "drafts": ("pages/cases.py", {"state": "draft"}, ":material/edit_note:"),
    "open_to_appeal": ("pages/cases.py", {"state": "confirmed"}, ":material/record_voice_over:"),
    "to_decide": ("pages/cases.py", {"state": "pending"}, ":material/gavel:"),
    "appeals_to_decide": ("pages/cases.py", {"state": "under_appeal"}, ":material/balance:"),
}
if tasks:
    st.subheader(t("Needs your attention"))
    waiting = [task for task in tasks if task.count]
    if not waiting:
        st.success(t("Nothing is waiting for you."))
    with st.container(border=bool(waiting)):
        for task in waiting:
            page, params, icon = LINKS[task.kind]
            label = t(task.label, n=task.count, days=workbench.days_for(task.kind))
            st.page_link(page, label=label, icon=icon, query_params=params)

if actor.can(Permission.DECIDE_CASE):
    # The principal's queue: each case and appeal waiting for their decision, first thing after signing in.
    waiting_cases = cases.queue(ui.engine(), actor)
    if not waiting_cases.empty:
        st.markdown(f"**{t('Cases and appeals to decide')}**")
        for row in waiting_cases.itertuples():
            what = t("Appeal") if row.state == "under_appeal" else t("Case to decide")
            since = fmt_datetime(row.waiting_since)
            who = f"{ui.md(row.staff_no)} {ui.md(row.name)}"
            label = f"{what} · {ui.md(row.case_no)} · {who} · {ui.md(row.category)} · {since}"
            if not row.can_decide:
                label += " · " + t("recorded by you: someone else decides it")
            st.page_link("pages/case_record.py", label=label, icon=":material/gavel:", query_params={"id": str(row.id)})

st.subheader(t("The ledger"))
counts = roster.ledger_counts(ui.engine(), actor)
for column, key in zip(st.columns(4), roster.LEDGER_COUNT_LABELS, strict=True):
    column.metric(t(roster.LEDGER_COUNT_LABELS[key]), getattr(counts, key), help=t(roster.LEDGER_COUNT_HELP[key]))

if counts.staff_total == 0:
    st.info(t("The ledger is empty. The designated leader imports the staff list or records staff one by one."))

st.subheader(t("Your role"))
st.write(ui.tmd("You are signed in as {name} ({role}).", name=actor.display_name, role=ui.role_label(actor.role)))
