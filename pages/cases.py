"""Violation cases: counts per state, filters, search, sort; open a case or record a new one."""

import streamlit as st

from pages import _ui as ui
from pages._ui import t
from services.core.permissions import Permission
from services.ledger import unit
from services.sanctions import cases, lifecycle

actor = ui.require(Permission.READ_LEDGER)
profile = unit.get_unit(ui.engine())
current_year = profile.current_year if profile else None
st.title(t("Violation cases"))
st.caption(
    t(
        "A case is recorded and submitted by the designated leader and decided by the principal; "
        "whoever recorded a case never decides it. A confirmed case (also while under appeal) "
        "withdraws award eligibility and incentive pay for its assessment year."
    )
)

any_label = t("(all)")
ALL_YEARS = 0
categories = cases.list_categories(ui.engine(), actor)
category_names = dict(zip(categories["id"], categories["name"], strict=True))

with st.container(border=True):
    c1, c2, c3, c4 = st.columns([2, 1, 1, 2])
    search = c1.text_input(t("Search"), placeholder=t("Name, staff no. or case no."), key="cases_search")
    # "(all)" years is 0, not None: a selectbox whose state is set to None shows no option at all
    # (Streamlit's own "Choose an option"), even when None is one of its options.
    year_options = [ALL_YEARS, *(range(current_year + 1, current_year - 5, -1) if current_year else [])]
    # The 工作台's links: ?state=draft (drafts of any year), ?state=confirmed ...
    st.session_state.setdefault("cases_year", current_year or ALL_YEARS)
    if st.query_params.get("state"):
        st.session_state["cases_year"] = ALL_YEARS
    ui.filters_from_link({"state": ("cases_state", lambda v: lifecycle.CaseState(v))})
    year = (
        c2.selectbox(
            t("Assessment year"),
            year_options,
            format_func=lambda y: any_label if y == ALL_YEARS else str(y),
            key="cases_year",
        )
        or None
    )
    state = c3.selectbox(
        t("State"),
        [None, *lifecycle.STATE_LABELS],
        format_func=lambda s: any_label if s is None else t(lifecycle.STATE_LABELS[s]),
        placeholder=any_label,  # should its state ever be None: "(all)", never Streamlit's English
        key="cases_state",
    )
    category_id = c4.selectbox(
        t("Category"),
        [None, *category_names],
        format_func=lambda c: any_label if c is None else category_names[c],
        placeholder=any_label,
        key="cases_category",
    )
    c1, c2, _ = st.columns([1, 1, 2])
    sort = c1.selectbox(
        t("Sort by"), list(cases.SORT_COLUMNS), format_func=lambda c: t(cases.SORT_COLUMNS[c]), key="cases_sort"
    )
    descending = c2.toggle(t("Descending"), key="cases_desc")

counts = cases.state_counts(ui.engine(), actor, year)
columns = st.columns(len(counts))
for column, (code, number) in zip(columns, counts.items(), strict=True):
    column.metric(t(lifecycle.STATE_LABELS[code]), number)

query = cases.CaseQuery(
    year=year, state=state, category_id=category_id, search=search, sort=sort, descending=descending
)
frame = cases.list_cases(ui.engine(), actor, query)
if frame.empty:
    st.info(t("No case matches these filters."))
else:
    page = ui.page_of(frame, "cases_page")
    table = cases.cases_table(page, ui.lang())
    ui.row_link_table(
        table.assign(id=page["id"].to_numpy()),
        {c: c for c in table.columns},
        key=f"cases_table_{ui.current_page('cases_page')}",
        page="pages/case_record.py",
    )
ui.pager("cases_page", len(frame))

if actor.can(Permission.RECORD_CASE):
    st.divider()
    if st.button(t("Record a new case"), icon=":material/add:"):
        st.switch_page("pages/case_record.py", query_params={"id": "new"})
