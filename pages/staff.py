"""The staff list: search, filter, sort, page, export; open a household."""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from pages import _ui as ui
from pages._ui import t
from services.core.formatting import local_today
from services.core.permissions import Permission
from services.ledger import roster, unit

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

PAGE_SIZE = 50

actor = ui.require(Permission.READ_LEDGER)
profile = unit.get_unit(ui.engine())
st.title(t("Staff"))

department_choices = dict(roster.departments(ui.engine(), actor))
any_label = t("(all)")


def labelled(mapping: Mapping[str, str]) -> Callable[[str | None], str]:
    return lambda code: any_label if code is None else t(mapping[code])


with st.container(border=True):
    c1, c2, c3 = st.columns([2, 1, 1])
    search = c1.text_input(
        t("Search"), placeholder=t("Name, staff no., department, or ID number (whole or last 4)"), key="staff_search"
    )
    department_id = c2.selectbox(
        t("Department"),
        [None, *department_choices],
        format_func=lambda d: any_label if d is None else department_choices[d],
        key="staff_dept",
    )
    status = c3.selectbox(
        t("Employment status"),
        [None, *roster.STATUS_LABELS],
        format_func=labelled(roster.STATUS_LABELS),
        key="staff_status",
    )
    c1, c2, c3, c4 = st.columns(4)
    marital = c1.selectbox(
        t("Marital status"),
        [None, *roster.MARITAL_LABELS],
        format_func=labelled(roster.MARITAL_LABELS),
        key="staff_marital",
    )
    fp_status = c2.selectbox(
        t("Family-planning status"),
        [None, *roster.FP_STATUS_LABELS],
        format_func=labelled(roster.FP_STATUS_LABELS),
        key="staff_fp",
    )
    sort = c3.selectbox(
        t("Sort by"),
        list(roster.SORT_COLUMNS),
        format_func=lambda c: t(roster.STAFF_COLUMN_LABELS[c]),
        key="staff_sort",
    )
    descending = c4.toggle(t("Descending"), key="staff_desc")

query = roster.StaffQuery(
    search=search,
    department_id=department_id,
    status=status,
    marital_status=marital,
    fp_status=fp_status,
    year=profile.current_year if profile else None,
    sort=sort,
    descending=descending,
)
total_pages_key = "staff_page"
frame, total = roster.list_staff(
    ui.engine(), actor, query, limit=PAGE_SIZE, offset=(st.session_state.get(total_pages_key, 1) - 1) * PAGE_SIZE
)
pages = max(1, -(-total // PAGE_SIZE))
if st.session_state.get(total_pages_key, 1) > pages:  # the filter shrank the list
    st.session_state[total_pages_key] = 1
    st.rerun()

c1, c2, c3 = st.columns([1, 2, 2])
page_no = c1.number_input(t("Page"), min_value=1, max_value=pages, step=1, key=total_pages_key)
c2.write("")
c2.caption(t("{total} staff match, page {page} of {pages}", total=total, page=page_no, pages=pages))

if total == 0:
    st.info(t("No staff match these filters."))
else:
    st.dataframe(roster.staff_table(frame, ui.lang()), hide_index=True, width="stretch")

    st.subheader(t("Household"))
    rows = {row.id: f"{row.staff_no} · {row.name}" for row in frame.itertuples()}
    chosen = st.selectbox(t("Staff member on this page"), list(rows), format_func=rows.get, key="staff_chosen")
    c1, c2, _ = st.columns([1, 1, 2])
    if c1.button(t("Open record"), icon=":material/folder_open:", type="primary"):
        st.switch_page("pages/staff_record.py", query_params={"id": str(chosen)})
    if actor.can(Permission.REVEAL_ID) and c2.button(t("Show full ID number"), icon=":material/visibility:"):
        number = ui.run_action(lambda: roster.reveal_id_number(ui.engine(), actor, chosen))
        if number:
            st.info(ui.tmd("ID number of {who}: {number} (this view is recorded)", who=rows[chosen], number=number))

st.divider()
c1, c2, _ = st.columns([1, 1, 2])
if actor.can(Permission.EDIT_RECORDS) and c1.button(t("New staff member"), icon=":material/person_add:"):
    st.switch_page("pages/staff_record.py", query_params={"id": "new"})
if c2.button(t("Prepare export (xlsx)"), icon=":material/download:", disabled=total == 0):
    result = ui.run_action(lambda: roster.export_staff(ui.engine(), actor, query, ui.lang()))
    if result:
        st.session_state["staff_export"] = result[0]
if "staff_export" in st.session_state:
    ui.download_button(
        t("Download staff list"),
        st.session_state["staff_export"],
        t("staff-list_{day}.xlsx", day=local_today().isoformat()),
    )
