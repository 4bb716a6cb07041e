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
        placeholder=any_label,
        key="staff_dept",
    )
    status = c3.selectbox(
        t("Employment status"),
        [None, *roster.STATUS_LABELS],
        format_func=labelled(roster.STATUS_LABELS),
        placeholder=any_label,
        key="staff_status",
    )
    c1, c2, c3, c4 = st.columns(4)
    marital = c1.selectbox(
        t("Marital status"),
        [None, *roster.MARITAL_LABELS],
        format_func=labelled(roster.MARITAL_LABELS),
        placeholder=any_label,
        key="staff_marital",
    )
    fp_status = c2.selectbox(
        t("Family-planning status"),
        [None, *roster.FP_STATUS_LABELS],
        format_func=labelled(roster.FP_STATUS_LABELS),
        placeholder=any_label,
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
page_key = "staff_page"
frame, total = roster.list_staff(ui.engine(), actor, query, limit=ui.PAGE_SIZE, offset=ui.page_offset(page_key))

if total == 0:
    st.info(t("No staff match these filters."))
    frame = frame.iloc[:0]
else:
    table = roster.staff_table(frame, ui.lang())
    ui.row_link_table(
        table.assign(id=frame["id"]),
        {c: c for c in table.columns},
        key=f"staff_table_{ui.current_page(page_key)}",
        page="pages/staff_record.py",
    )
ui.pager(page_key, total)

st.divider()
c1, c2, _ = st.columns([1, 1, 2])
if actor.can(Permission.EDIT_RECORDS) and c1.button(t("New staff member"), icon=":material/person_add:"):
    st.switch_page("pages/staff_record.py", query_params={"id": "new"})
ui.download_button(
    t("Download staff list"),
    ui.export(roster.export_staff, query, ui.lang(), pick=lambda result: result[0]),
    t("staff-list_{day}.xlsx", day=local_today().isoformat()),
    where=c2,
    disabled=total == 0,
)
