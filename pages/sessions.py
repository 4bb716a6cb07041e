"""Study sessions: the year's list, a new session (or a make-up), and the follow-up.

The year's aggregates are cached (ui.cached_read) by database, year and role, as
on the compliance page: at district scale each is an aggregate over hundreds of
thousands of attendance rows.  ui.run_action clears them on every write; the ttl
bounds what another app process may still show.  Only the chosen view runs.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from pages import _ui as ui
from pages._ui import t
from services.core.errors import ServiceError
from services.core.formatting import fmt_date, local_today
from services.core.permissions import Permission
from services.education import training
from services.education.training import Audience
from services.ledger import roster

actor = ui.require(Permission.READ_LEDGER)
can_edit = actor.can(Permission.EDIT_RECORDS)
today = local_today()
TTL = 120  # seconds: another process's write is seen at the latest this much later


year_sessions = ui.cached_read(training.list_sessions, ttl=TTL)
year_rates = ui.cached_read(training.attendance_rates, ttl=TTL)
year_owed = ui.cached_read(training.owed_makeups, ttl=TTL)

st.title(t("Study sessions"))

years = list(range(today.year, today.year - 6, -1))
# The 工作台's links: ?year=2026&view=follow (owed make-ups), ?unmarked=1 (sessions without a roll call).
ui.filters_from_link(
    {
        "year": ("sessions_year", lambda v: years[years.index(int(v))]),
        "view": ("sessions_view", lambda v: {"list": "list", "follow": "follow"}[v]),
        "unmarked": ("sessions_unmarked", lambda v: v == "1"),
    }
)
year = st.selectbox(t("Year"), years, key="sessions_year")
RATE = st.column_config.NumberColumn(t("Attendance rate"), format="percent")
COUNT_LABELS = {
    "expected": "Expected",
    "present": "Present",
    "absent": "Absent",
    "excused": "Excused",
    "made_up": "Made up",
    "unmarked": "Not yet marked",
}


def counts_config() -> dict:
    return {c: st.column_config.NumberColumn(t(label)) for c, label in COUNT_LABELS.items()} | {"rate": RATE}


def form_label(code: str) -> str:
    return t(training.FORM_LABELS.get(code, code))


# "Schedule a make-up" arrives with ?makeup_of=<session>; remembered until the make-up is created or dropped.
if st.query_params.get("makeup_of"):
    st.session_state["new_makeup_of"] = st.query_params.get("makeup_of")
makeup_param = st.session_state.get("new_makeup_of", "")

# ---------------------------------------------------------------- a new session (or a make-up)
if can_edit:
    makeup_of = int(makeup_param) if makeup_param.isdigit() else None
    original = None
    if makeup_of is not None:
        try:
            original, _ = training.get_session(ui.engine(), actor, makeup_of)
        except ServiceError as err:
            ui.show_error(err)
            makeup_of = None
    with st.expander(
        t("New make-up session") if original else t("New study session"),
        expanded=original is not None,
        icon=":material/add:",
    ):
        if original:
            st.info(
                ui.tmd(
                    "A make-up of {title} ({date}): everyone absent or excused there is expected.",
                    title=original["title"],
                    date=fmt_date(original["held_on"]),
                )
            )
            if st.button(t("Plan an ordinary session instead")):
                st.query_params.pop("makeup_of", None)
                st.session_state.pop("new_makeup_of", None)
                st.rerun()
        prefix = f"new_session_{makeup_of or 0}_"
        # Who is expected sits outside the form: finding people among thousands reruns the page.
        chosen_departments, chosen_people = [], []
        if original:
            kind = "makeup"
        else:
            audience_labels = {
                "all": t("All staff in post"),
                "departments": t("Chosen departments"),
                "people": t("Chosen people"),
            }
            kind = st.radio(
                t("Expected audience"),
                list(audience_labels),
                format_func=audience_labels.get,
                horizontal=True,
                key=prefix + "audience",
            )
            if kind == "departments":
                departments = dict(roster.departments(ui.engine(), actor))
                chosen_departments = st.multiselect(
                    t("Which departments"),
                    list(departments),
                    format_func=departments.get,
                    key=prefix + "departments",
                    placeholder=t("Choose one or more"),
                )
            elif kind == "people":
                chosen_people = ui.people_picker(
                    t("Which people"), prefix + "people", ui.staff_in_post_search(actor, today)
                )
        with st.form(prefix + "form", clear_on_submit=False):
            c1, c2, c3 = st.columns(3)
            held_on = c1.date_input(t("Date"), value=today, key=prefix + "held_on")
            forms = list(training.FORM_LABELS)
            form = c2.selectbox(
                t("Form"),
                forms,
                format_func=form_label,
                key=prefix + "form_kind",
                index=forms.index(original["form"]) if original else 1,
            )
            hours = c3.text_input(
                t("Hours"),
                value=str(original["hours"]) if original else "1",
                key=prefix + "hours",
                help=t("For example 1.5"),
            )
            title = st.text_input(
                t("Title"),
                key=prefix + "title",
                value=t("{title} (make-up)", title=original["title"]) if original else "",
            )
            content = st.text_area(
                t("Content studied"),
                key=prefix + "content",
                value=(original["content"] or "") if original else "",
                placeholder=t("For example the laws and regulations covered"),
            )
            c1, c2 = st.columns(2)
            organiser = c1.text_input(
                t("Organiser"), key=prefix + "organiser", value=(original["organiser"] or "") if original else ""
            )
            place = c2.text_input(t("Place"), key=prefix + "place", value=(original["place"] or "") if original else "")
            if not original:
                originals = year_sessions(actor, year)
                originals = originals[originals["makeup_of_id"].isna()]
                original_labels = {r.id: f"{fmt_date(r.held_on)} · {r.title}" for r in originals.itertuples()}
                chosen_original = st.selectbox(
                    t("Make-up of (optional)"),
                    [None, *original_labels],
                    key=prefix + "makeup_of",
                    format_func=lambda i: t("(not a make-up)") if i is None else original_labels[i],
                    help=t("A make-up session expects everyone absent or excused at the session it makes up."),
                )
                if chosen_original is not None:
                    kind, makeup_of = "makeup", chosen_original
            created = st.form_submit_button(t("Create session"), type="primary")
        if created:
            audience = {
                "all": lambda: Audience.all(),
                "makeup": lambda: Audience.owing(),
                "departments": lambda: Audience.departments(chosen_departments),
                "people": lambda: Audience.people(chosen_people),
            }[kind]()
            new_id = ui.run_action(
                lambda: training.create_session(
                    ui.engine(),
                    actor,
                    held_on=held_on,
                    title=title,
                    form=form,
                    content=content,
                    organiser=organiser,
                    place=place,
                    hours=hours,
                    audience=audience,
                    makeup_of=makeup_of,
                )
            )
            if new_id:
                st.session_state.pop("new_makeup_of", None)
                ui.forget_picker(prefix + "people")
                ui.flash("success", t("Session created."))
                st.switch_page("pages/session_record.py", query_params={"id": str(new_id)})


views = {"list": t("Sessions"), "follow": t("Follow-up")}
view = st.radio(
    t("View"), list(views), format_func=views.get, horizontal=True, key="sessions_view", label_visibility="collapsed"
)

# ---------------------------------------------------------------- the year's sessions
if view == "list":
    sessions = year_sessions(actor, year)
    c1, c2, c3, c4 = st.columns([2, 1, 1, 1], vertical_alignment="bottom")
    search = c1.text_input(t("Search"), placeholder=t("Title, organiser or place"), key="sessions_search")
    unmarked_only = c4.toggle(t("Only without a complete roll call"), key="sessions_unmarked")
    sort_columns = {
        "held_on": t("Date"),
        "title": t("Title"),
        "expected": t("Expected"),
        "absent": t("Absent"),
        "rate": t("Attendance rate"),
    }
    sort = c2.selectbox(t("Sort by"), list(sort_columns), format_func=sort_columns.get, key="sessions_sort")
    descending = c3.toggle(t("Descending"), value=True, key="sessions_desc")
    shown = sessions
    if search.strip():
        needle = search.strip().lower()
        text = (
            shown["title"].fillna("") + " " + shown["organiser"].fillna("") + " " + shown["place"].fillna("")
        ).str.lower()
        shown = shown[text.str.contains(needle, regex=False)]
    if unmarked_only:  # held, and someone on the list not yet marked
        shown = shown[(shown["unmarked"] > 0) & (shown["held_on"] <= today)]
    shown = shown.sort_values([sort, "id"], ascending=not descending, na_position="last")
    if sessions.empty:
        st.info(t("No study sessions recorded for {year}.", year=year))
    elif shown.empty:
        st.info(t("No sessions match the search."))
    else:
        page = ui.page_of(shown, "sessions_page")
        table = pd.DataFrame(
            {
                "id": page["id"],
                "held_on": page["held_on"].map(fmt_date),
                "title": page["title"],
                "form": page["form"].map(form_label),
                "makeup": page["makeup_of_id"].map(lambda v: t("Make-up") if pd.notna(v) else ""),
                "hours": page["hours"].astype(float),
                **{c: page[c] for c in [*COUNT_LABELS, "rate"]},
            }
        )
        ui.row_link_table(
            table,
            {
                "held_on": t("Date"),
                "title": t("Title"),
                "form": t("Form"),
                "makeup": t("Make-up"),
                "hours": st.column_config.NumberColumn(t("Hours"), format="%.1f"),
                **counts_config(),
            },
            key=f"sessions_table_{ui.current_page('sessions_page')}",
            page="pages/session_record.py",
        )
        ui.pager("sessions_page", len(shown))

# ---------------------------------------------------------------- follow-up
else:
    views = {
        "person": t("By person"),
        "department": t("By department"),
        "session": t("By session"),
        "month": t("By month"),
    }
    by = st.radio(t("Attendance rates"), list(views), format_func=views.get, horizontal=True, key="followup_by")
    rates = year_rates(actor, year, by)
    if rates.empty:
        st.info(t("No attendance recorded for {year} yet.", year=year))
    else:
        keys = {
            "person": {"department": t("Department"), "staff_no": t("Staff no."), "name": t("Name")},
            "department": {"department": t("Department")},
            "session": {"held_on": t("Date"), "title": t("Title")},
            "month": {"month": t("Month")},
        }[by]
        table = rates[[*keys, *COUNT_LABELS, "rate"]].copy()
        if "held_on" in table:
            table["held_on"] = table["held_on"].map(fmt_date)
        ui.show_table(table, {**keys, **counts_config()})

    monthly = year_rates(actor, year, "month")
    by_department = year_rates(actor, year, "department")
    rate_title = t("Attendance rate")
    if not monthly.empty:
        c1, c2 = st.columns(2)
        monthly = monthly.assign(
            percent=(monthly["rate"] * 100).round(1),
            attended=monthly["present"] + monthly["made_up"],
            label=monthly["month"].map(lambda m: t("Month {month}", month=m)),
        )
        tooltip = [
            alt.Tooltip("expected:Q", title=t("Expected")),
            alt.Tooltip("attended:Q", title=t("Attended")),
            alt.Tooltip("absent:Q", title=t("Absent")),
            alt.Tooltip("excused:Q", title=t("Excused")),
            alt.Tooltip("percent:Q", title=rate_title, format=".1f"),
        ]
        with c1:
            st.markdown(f"**{t('Attendance rate by month')}**")
            chart = (
                alt.Chart(monthly)
                .mark_bar(color="#3b6ea8")
                .encode(
                    alt.X("label:N", title=t("Month"), sort=None),
                    alt.Y(
                        "percent:Q",
                        title=rate_title,
                        scale=alt.Scale(domain=[0, 100]),
                        axis=alt.Axis(labelExpr="datum.value + '%'", titleAngle=0, titleAlign="left", titleY=-8),
                    ),
                    tooltip=[alt.Tooltip("label:N", title=t("Month")), *tooltip],
                )
            )
            st.altair_chart(chart, width="stretch")
        with c2:
            st.markdown(f"**{t('Attendance rate by department')}**")
            departments_frame = by_department.assign(
                percent=(by_department["rate"] * 100).round(1),
                attended=by_department["present"] + by_department["made_up"],
                label=by_department["department"].fillna(t("(no department)")),
            )
            chart = (
                alt.Chart(departments_frame)
                .mark_bar(color="#5a8f5a")
                .encode(
                    alt.X(
                        "percent:Q",
                        title=rate_title,
                        scale=alt.Scale(domain=[0, 100]),
                        axis=alt.Axis(labelExpr="datum.value + '%'"),
                    ),
                    alt.Y(
                        "label:N",
                        title=t("Department"),
                        sort="-x",
                        axis=alt.Axis(titleAngle=0, titleAlign="right", titleY=-6),
                    ),
                    tooltip=[alt.Tooltip("label:N", title=t("Department")), *tooltip],
                )
            )
            st.altair_chart(chart, width="stretch")

    st.subheader(t("Owed make-ups"))
    owed = year_owed(actor, year)
    if owed.empty:
        st.caption(t("Nobody owes a make-up for {year}.", year=year))
    else:
        st.caption(t("{n} absences or leaves not yet made up.", n=len(owed)))
        table = owed.assign(
            held_on=owed["held_on"].map(fmt_date),
            status=owed["status"].map(lambda s: t(training.STATUS_LABELS.get(s, s))),
        )
        ui.show_table(
            table,
            {
                "held_on": t("Date"),
                "title": t("Session"),
                "department": t("Department"),
                "staff_no": t("Staff no."),
                "name": t("Name"),
                "status": t("Status"),
            },
        )
        if can_edit:
            owing_sessions = owed.drop_duplicates("session_id")
            labels = {r.session_id: f"{fmt_date(r.held_on)} · {r.title}" for r in owing_sessions.itertuples()}
            c1, c2 = st.columns([3, 1])
            target = c1.selectbox(
                t("Session to make up"), list(labels), format_func=labels.get, key="followup_makeup_of"
            )
            c2.write("")
            if c2.button(t("Schedule a make-up"), icon=":material/event_repeat:"):
                st.session_state["new_makeup_of"] = str(target)
                st.rerun()

    st.divider()
    ui.download_button(
        t("Download the follow-up"),
        ui.export(training.followup_xlsx, year, ui.lang()),
        t("attendance_{year}.xlsx", year=year),
    )
