"""Leaflets: the year's list, a new leaflet, and coverage of the households.

The year's aggregates are cached by database, year and role (see pages/sessions.py);
ui.run_action clears them on every write.  Only the chosen view runs.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from pages import _ui as ui
from pages._ui import t
from services.core.formatting import fmt_date, local_today
from services.core.permissions import Permission
from services.education import outreach
from services.education.training import Audience
from services.ledger import roster

actor = ui.require(Permission.READ_LEDGER)
can_edit = actor.can(Permission.EDIT_RECORDS)
today = local_today()
TTL = 120  # seconds: another process's write is seen at the latest this much later


year_leaflets = ui.cached_read(outreach.list_leaflets, ttl=TTL)
year_coverage = ui.cached_read(outreach.coverage, ttl=TTL)
year_unreached = ui.cached_read(outreach.unreached_households, ttl=TTL)

st.title(t("Leaflets"))

years = list(range(today.year, today.year - 6, -1))
# The 工作台's link: ?year=2026&view=coverage (households not reached).
ui.filters_from_link(
    {
        "year": ("leaflets_year", lambda v: years[years.index(int(v))]),
        "view": ("leaflets_view", lambda v: {"list": "list", "coverage": "coverage"}[v]),
    }
)
year = st.selectbox(t("Year"), years, key="leaflets_year")
COVERAGE = st.column_config.NumberColumn(t("Coverage"), format="percent")
COUNTS = {
    "expected": st.column_config.NumberColumn(t("Expected households")),
    "delivered": st.column_config.NumberColumn(t("Delivered")),
    "signed": st.column_config.NumberColumn(t("Signed")),
    "not_reached": st.column_config.NumberColumn(t("Not reached")),
    "coverage": COVERAGE,
}


def kind_label(code: str) -> str:
    return t(outreach.KIND_LABELS.get(code, code))


# ---------------------------------------------------------------- a new leaflet
if can_edit:
    with st.expander(t("New leaflet"), icon=":material/add:"):
        # The households to reach sit outside the form: finding people among thousands reruns the page.
        in_post = ui.staff_in_post_search(actor, today)
        audience_labels = {
            "all": t("All staff households"),
            "departments": t("Chosen departments"),
            "people": t("Chosen households"),
        }
        kind_of_audience = st.radio(
            t("Households to reach"),
            list(audience_labels),
            format_func=audience_labels.get,
            horizontal=True,
            key="new_leaflet_audience",
        )
        chosen_departments, chosen_people = [], []
        if kind_of_audience == "departments":
            departments = dict(roster.departments(ui.engine(), actor))
            chosen_departments = st.multiselect(
                t("Which departments"),
                list(departments),
                format_func=departments.get,
                key="new_leaflet_departments",
                placeholder=t("Choose one or more"),
            )
        elif kind_of_audience == "people":
            chosen_people = ui.people_picker(t("Which households"), "new_leaflet_people", in_post)
        with st.form("new_leaflet"):
            title = st.text_input(t("Title"), key="new_leaflet_title")
            c1, c2, c3 = st.columns(3)
            kind = c1.selectbox(t("Kind"), list(outreach.KIND_LABELS), format_func=kind_label, key="new_leaflet_kind")
            issued_on = c2.date_input(t("Issued on"), value=today, key="new_leaflet_issued_on")
            copies = c3.number_input(
                t("Copies"),
                min_value=0,
                max_value=outreach.MAX_COPIES,
                value=in_post("", 0)[1],
                step=1,
                key="new_leaflet_copies",
            )
            notes = st.text_input(t("Notes"), key="new_leaflet_notes")
            created = st.form_submit_button(t("Create leaflet"), type="primary")
        if created:
            audience = {
                "all": Audience.all,
                "departments": lambda: Audience.departments(chosen_departments),
                "people": lambda: Audience.people(chosen_people),
            }[kind_of_audience]()
            new_id = ui.run_action(
                lambda: outreach.create_leaflet(
                    ui.engine(),
                    actor,
                    title=title,
                    kind=kind,
                    issued_on=issued_on,
                    copies=copies,
                    audience=audience,
                    notes=notes,
                )
            )
            if new_id:
                ui.forget_picker("new_leaflet_people")
                ui.flash("success", t("Leaflet created."))
                st.switch_page("pages/leaflet_record.py", query_params={"id": str(new_id)})

views = {"list": t("Leaflets"), "coverage": t("Coverage")}
view = st.radio(
    t("View"), list(views), format_func=views.get, horizontal=True, key="leaflets_view", label_visibility="collapsed"
)

# ---------------------------------------------------------------- the year's leaflets
if view == "list":
    leaflets = year_leaflets(actor, year)
    c1, c2, c3 = st.columns([2, 1, 1])
    search = c1.text_input(t("Search"), placeholder=t("Title"), key="leaflets_search")
    sort_columns = {
        "issued_on": t("Issued on"),
        "title": t("Title"),
        "not_reached": t("Not reached"),
        "coverage": t("Coverage"),
    }
    sort = c2.selectbox(t("Sort by"), list(sort_columns), format_func=sort_columns.get, key="leaflets_sort")
    descending = c3.toggle(t("Descending"), value=True, key="leaflets_desc")
    shown = leaflets
    if search.strip():
        shown = shown[shown["title"].str.lower().str.contains(search.strip().lower(), regex=False)]
    shown = shown.sort_values([sort, "id"], ascending=not descending, na_position="last")
    if leaflets.empty:
        st.info(t("No leaflets recorded for {year}.", year=year))
    elif shown.empty:
        st.info(t("No leaflets match the search."))
    else:
        page = ui.page_of(shown, "leaflets_page")
        table = pd.DataFrame(
            {
                "id": page["id"],
                "issued_on": page["issued_on"].map(fmt_date),
                "title": page["title"],
                "kind": page["kind"].map(kind_label),
                "copies": page["copies"],
                **{c: page[c] for c in COUNTS},
                "attachment": page["attachment"].map(lambda v: "PDF" if isinstance(v, str) else ""),
            }
        )
        ui.row_link_table(
            table,
            {
                "issued_on": t("Issued on"),
                "title": t("Title"),
                "kind": t("Kind"),
                "copies": t("Copies"),
                **COUNTS,
                "attachment": t("Attachment"),
            },
            key=f"leaflets_table_{ui.current_page('leaflets_page')}",
            page="pages/leaflet_record.py",
        )
        ui.pager("leaflets_page", len(shown))

# ---------------------------------------------------------------- coverage
else:
    by_leaflet = year_coverage(actor, year, "leaflet")
    if by_leaflet.empty:
        st.info(t("No leaflets recorded for {year}.", year=year))
    else:
        st.markdown(f"**{t('Coverage by leaflet')}**")
        table = by_leaflet.assign(
            issued_on=by_leaflet["issued_on"].map(fmt_date), kind=by_leaflet["kind"].map(kind_label)
        )
        ui.show_table(table, {"issued_on": t("Issued on"), "title": t("Title"), "kind": t("Kind"), **COUNTS})

        by_department = year_coverage(actor, year, "department")
        st.markdown(f"**{t('Coverage by department')}**")
        chart_data = by_department.assign(
            percent=(by_department["coverage"] * 100).round(1),
            label=by_department["department"].fillna(t("(no department)")),
        )
        title = t("Coverage")
        chart = (
            alt.Chart(chart_data)
            .mark_bar(color="#3b6ea8")
            .encode(
                alt.X(
                    "percent:Q",
                    title=title,
                    scale=alt.Scale(domain=[0, 100]),
                    axis=alt.Axis(labelExpr="datum.value + '%'"),
                ),
                alt.Y(
                    "label:N",
                    title=t("Department"),
                    sort="-x",
                    axis=alt.Axis(titleAngle=0, titleAlign="right", titleY=-6),
                ),
                tooltip=[
                    alt.Tooltip("label:N", title=t("Department")),
                    alt.Tooltip("expected:Q", title=t("Expected households")),
                    alt.Tooltip("delivered:Q", title=t("Delivered")),
                    alt.Tooltip("signed:Q", title=t("Signed")),
                    alt.Tooltip("percent:Q", title=title, format=".1f"),
                ],
            )
        )
        c1, c2 = st.columns([2, 3])
        c1.altair_chart(chart, width="stretch")
        with c2:
            ui.show_table(by_department, {"department": t("Department"), **COUNTS})

        st.subheader(t("Households not yet reached"))
        unreached = year_unreached(actor, year)
        if unreached.empty:
            st.caption(t("Every expected household has been reached."))
        else:
            st.caption(t("{n} households not yet reached.", n=len(unreached)))
            ui.show_table(
                unreached.assign(issued_on=unreached["issued_on"].map(fmt_date)),
                {
                    "issued_on": t("Issued on"),
                    "title": t("Leaflet"),
                    "department": t("Department"),
                    "staff_no": t("Staff no."),
                    "name": t("Name"),
                },
            )

    st.divider()
    ui.download_button(
        t("Download the coverage"),
        ui.export(outreach.coverage_xlsx, year, ui.lang()),
        t("leaflet-coverage_{year}.xlsx", year=year),
        disabled=by_leaflet.empty,
    )
