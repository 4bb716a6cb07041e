"""The compliance overview: a year's headline figures against the year before,
charts, the people behind a figure, and what waits for the principal.

Reads are cached (ui.cached_read) by database, year and role — never by user —
and hold only small aggregates or one page of rows; ui.run_action clears them
on every write, and the ttl bounds what another app process may still show.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

import altair as alt
import pandas as pd
import streamlit as st

from pages import _ui as ui
from pages._ui import t
from services.core.db import database_url
from services.core.errors import ServiceError
from services.core.formatting import fmt_date, fmt_datetime, fmt_fen, local_today
from services.core.i18n import N_
from services.core.permissions import Permission
from services.ledger import eligibility, unit
from services.year import compliance

actor = ui.require(Permission.READ_COMPLIANCE)
TTL = 300  # seconds: another process's write is seen at the latest this much later
PAGE_SIZE = compliance.PAGE_SIZE
CHART_ROWS = 15  # the lowest rows of a long list (hundreds of departments at district scale)
R = TypeVar("R")


# ---------------------------------------------------------------- cached reads
# ui.cached_read keys a read by database URL, role and arguments -- never by user
# (what a role may see is decided by its role, never by who the user is).


@st.cache_data(ttl=TTL, show_spinner=False)
def current_year(url: str) -> int | None:
    """The unit's current assessment year: the same for every role, so keyed by database alone."""
    profile = unit.get_unit(ui.engine())
    return profile.current_year if profile else None


headline = ui.cached_read(compliance.headline, ttl=TTL)
charts = ui.cached_read(compliance.charts, ttl=TTL)
attention = ui.cached_read(compliance.attention, ttl=TTL)
# One page of a drill-down list at a time.
DRILLS = {
    "absentees": ui.cached_read(compliance.absentees, ttl=TTL, max_entries=200),
    "unreached": ui.cached_read(compliance.unreached, ttl=TTL, max_entries=200),
    "blocked": ui.cached_read(compliance.blocked_staff, ttl=TTL, max_entries=200),
}

# ---------------------------------------------------------------- year and headline

st.title(t("Compliance overview"))
this_year = current_year(database_url()) or local_today().year
years = list(range(this_year, this_year - 5, -1))
year = st.selectbox(t("Assessment year"), years, key="cmp_year")


def read(load: Callable[..., R], *args: Any, **kwargs: Any) -> R:
    """A cached read as the actor; a refusal is shown and ends the run."""
    try:
        return load(actor, *args, **kwargs)
    except ServiceError as err:
        ui.show_error(err)
        st.stop()


# Each part is read just before it is shown, so the figures appear while the
# charts' aggregates are still being computed (seconds at district scale, uncached).
figures = read(headline, year)


def _go(kind: str) -> None:
    st.session_state["cmp_drill"] = kind
    st.session_state["cmp_page"] = 1


def _shown(key: str, value: int | Decimal | None) -> str:
    if value is None:
        return "—"
    if key in ("attendance_rate", "coverage"):
        return f"{value}%"
    if key == "withheld_fen":
        return fmt_fen(value)
    return f"{value:,}"


def _delta(key: str) -> str | None:
    change = figures.delta(key)
    if change is None:
        return None
    if key in ("attendance_rate", "coverage"):
        return t("{points} percentage points", points=f"{change:+}")
    if key == "withheld_fen":
        return f"{'-' if change < 0 else '+'}{fmt_fen(abs(change))}"
    return f"{change:+,}"


# Fewer staff or family members is neither good nor bad; more cases, blocks or withheld pay is bad.
DELTA_COLOURS = {
    "staff_in_post": "off",
    "family_members": "off",
    "attendance_rate": "normal",
    "coverage": "normal",
    "cases_in_force": "inverse",
    "blocked": "inverse",
    "withheld_fen": "inverse",
}
DRILL_FROM = {"attendance_rate": "absentees", "coverage": "unreached", "blocked": "blocked"}
st.caption(t("Compared with {previous}.", previous=year - 1))
for row in (compliance.HEADLINE_KEYS[:4], compliance.HEADLINE_KEYS[4:]):
    columns = st.columns(4)
    for column, key in zip(columns, row, strict=False):
        column.metric(
            t(compliance.HEADLINE_LABELS[key]),
            _shown(key, figures.current[key]),
            _delta(key),
            delta_color=DELTA_COLOURS[key],
            help=t(compliance.HEADLINE_HELP[key]),
            border=True,
        )
        if key in DRILL_FROM:
            column.button(
                t(compliance.DRILL_DOWNS[DRILL_FROM[key]]),
                key=f"cmp_go_{key}",
                icon=":material/list:",
                on_click=_go,
                args=(DRILL_FROM[key],),
            )

# ---------------------------------------------------------------- charts


def _lowest(frame: pd.DataFrame, rate: str) -> pd.DataFrame:
    shown = frame.dropna(subset=[rate])
    return shown.nsmallest(CHART_ROWS, rate) if len(shown) > CHART_ROWS else shown


def _rate_chart(
    frame: pd.DataFrame,
    label: str,
    label_title: str,
    rate: str,
    rate_title: str,
    tooltip: list,
    horizontal: bool = True,
    sort: list[str] | None = None,
) -> alt.Chart:
    data = frame.assign(percent=(frame[rate] * 100).round(1), label=frame[label].fillna(t("(no department)")))
    percent = alt.X if horizontal else alt.Y
    category = alt.Y if horizontal else alt.X
    bars = (
        alt.Chart(data)
        .mark_bar(color="#3b6ea8")
        .encode(
            percent(
                "percent:Q",
                title=rate_title,
                scale=alt.Scale(domain=[0, 100]),
                axis=alt.Axis(labelExpr="datum.value + '%'"),
            ),
            category(
                "label:N",
                title=label_title,
                sort=sort if sort is not None else "x" if horizontal else None,
                axis=alt.Axis(labelAngle=0, labelOverlap=False),
            ),
            tooltip=[
                alt.Tooltip("label:N", title=label_title),
                *tooltip,
                alt.Tooltip("percent:Q", title=rate_title, format=".1f"),
            ],
        )
    )
    height = max(120, 30 * len(data)) if horizontal else 240
    return bars.properties(height=height).configure_axis(labelFontSize=13, titleFontSize=13, labelLimit=220)


def _attendance_tooltip() -> list:
    return [
        alt.Tooltip("expected:Q", title=t("Expected")),
        alt.Tooltip("attended:Q", title=t("Attended")),
        alt.Tooltip("absent:Q", title=t("Absent")),
        alt.Tooltip("excused:Q", title=t("Excused")),
    ]


def _coverage_tooltip() -> list:
    return [
        alt.Tooltip("expected:Q", title=t("Expected households")),
        alt.Tooltip("delivered:Q", title=t("Delivered")),
        alt.Tooltip("signed:Q", title=t("Signed")),
        alt.Tooltip("not_reached:Q", title=t("Not reached")),
    ]


def _lowest_caption(frame: pd.DataFrame, rate: str, what: str) -> None:
    if len(frame.dropna(subset=[rate])) > CHART_ROWS:
        st.caption(t("The {n} {what} with the lowest rate, of {total}.", n=CHART_ROWS, what=what, total=len(frame)))


def show_chart(chart: alt.Chart) -> None:
    """The chart at its own height (the plot's rows plus room for the axis and its title)."""
    st.altair_chart(chart, width="stretch", height=int(chart.height) + 90)


with st.spinner(t("Computing the charts...")):
    aggregates = read(charts, year)
st.subheader(t("Study sessions"))
month = aggregates.attendance_by_month
if month.empty:
    st.info(t("No study sessions were held in {year}.", year=year))
else:
    c1, c2 = st.columns(2)
    with c1:
        st.markdown(f"**{t('Attendance rate by month')}**")
        data = month.assign(
            attended=month["present"] + month["made_up"],
            month_label=month["month"].map(lambda m: t("Month {month}", month=m)),
        )
        show_chart(
            _rate_chart(
                data,
                "month_label",
                t("Month"),
                "rate",
                t("Attendance rate"),
                _attendance_tooltip(),
                horizontal=False,
                sort=list(data["month_label"]),
            ),
        )
    with c2:
        st.markdown(f"**{t('Attendance rate by department')}**")
        dept = aggregates.attendance_by_department
        data = _lowest(dept, "rate")
        show_chart(
            _rate_chart(
                data.assign(attended=data["present"] + data["made_up"]),
                "department",
                t("Department"),
                "rate",
                t("Attendance rate"),
                _attendance_tooltip(),
            ),
        )
        _lowest_caption(dept, "rate", t("departments"))

st.subheader(t("Leaflets"))
by_leaflet = aggregates.coverage_by_leaflet
if by_leaflet.empty:
    st.info(t("No leaflets were issued in {year}.", year=year))
else:
    c1, c2 = st.columns(2)
    with c1:
        st.markdown(f"**{t('Coverage by leaflet')}**")
        show_chart(
            _rate_chart(
                _lowest(by_leaflet, "coverage"), "title", t("Leaflet"), "coverage", t("Coverage"), _coverage_tooltip()
            )
        )
        _lowest_caption(by_leaflet, "coverage", t("leaflets"))
    with c2:
        st.markdown(f"**{t('Coverage by department')}**")
        dept = aggregates.coverage_by_department
        show_chart(
            _rate_chart(
                _lowest(dept, "coverage"), "department", t("Department"), "coverage", t("Coverage"), _coverage_tooltip()
            )
        )
        _lowest_caption(dept, "coverage", t("departments"))

st.subheader(t("Violation cases"))
cases = aggregates.cases_by_category
if cases.empty:
    st.info(t("No violation cases were submitted for {year}.", year=year))
else:
    data = cases.assign(state_label=cases["state"].map(lambda s: t(compliance.CASE_STATE_LABELS.get(s, s))))
    order = [t(compliance.CASE_STATE_LABELS[s]) for s in compliance.CASE_STATES]
    chart = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            alt.X("cases:Q", title=t("Cases"), axis=alt.Axis(tickMinStep=1)),
            alt.Y("category:N", title=None),  # the section names it; long category names need the room
            alt.Color("state_label:N", title=t("State"), sort=order, scale=alt.Scale(domain=order, scheme="tableau10")),
            tooltip=[
                alt.Tooltip("category:N", title=t("Category")),
                alt.Tooltip("state_label:N", title=t("State")),
                alt.Tooltip("cases:Q", title=t("Cases")),
            ],
        )
        .properties(height=max(90, 45 * data["category"].nunique()))
    )
    show_chart(
        chart.configure_axis(labelFontSize=13, titleFontSize=13, labelLimit=320).configure_legend(
            labelFontSize=13, titleFontSize=13
        )
    )

# ---------------------------------------------------------------- drill-down

st.subheader(t("The people behind the figures"))
departments = sorted(
    {
        d
        for f in (aggregates.attendance_by_department, aggregates.coverage_by_department)
        for d in f["department"].dropna()
    }
)
leaflets = dict(zip(by_leaflet["leaflet_id"], by_leaflet["title"], strict=False)) if not by_leaflet.empty else {}
any_label = t("(all)")
c1, c2, c3 = st.columns(3)
kind = c1.selectbox(
    t("List"), list(compliance.DRILL_DOWNS), format_func=lambda k: t(compliance.DRILL_DOWNS[k]), key="cmp_drill"
)
department = c2.selectbox(
    t("Department"),
    [None, *departments],
    format_func=lambda d: any_label if d is None else d,
    placeholder=any_label,  # should its state ever be None: "(all)", never Streamlit's English
    key="cmp_dept",
)
leaflet_id = None
if kind == "unreached":
    leaflet_id = c3.selectbox(
        t("Leaflet"),
        [None, *leaflets],
        format_func=lambda i: any_label if i is None else leaflets[i],
        placeholder=any_label,
        key="cmp_leaflet",
    )

page_no = st.session_state.get("cmp_page", 1)
filters: dict[str, Any] = {"department": department} | ({"leaflet_id": leaflet_id} if kind == "unreached" else {})
people, total = read(DRILLS[kind], year, limit=PAGE_SIZE, offset=(page_no - 1) * PAGE_SIZE, **filters)
pages = max(1, -(-total // PAGE_SIZE))
if page_no > pages:  # the filter shrank the list
    st.session_state["cmp_page"] = 1
    st.rerun()
c1, c2 = st.columns([1, 4])
c1.number_input(t("Page"), min_value=1, max_value=pages, step=1, key="cmp_page")
c2.write("")
c2.caption(t("{total} people, page {page} of {pages}", total=total, page=page_no, pages=pages))

COLUMN_LABELS = {
    "department": N_("Department"),
    "staff_no": N_("Staff no."),
    "name": N_("Name"),
    "id_number": N_("ID number"),
    "sessions_owed": N_("Sessions not made up"),
    "excused": N_("Of which excused"),
    "last_missed": N_("Last missed"),
    "leaflets_missing": N_("Leaflets not received"),
    "first_issued": N_("Earliest issued"),
    "withheld": N_("Incentive pay withheld (yuan)"),
    "reason": N_("Reason"),
}


def _reason(blocks: list) -> str:
    return t("; ").join(eligibility.reason_text(block, ui.lang()) for block in blocks)


if total == 0:
    st.info(t("Nobody is on this list."))
else:
    table = people.copy()
    for column in ("last_missed", "first_issued"):
        if column in table:
            table[column] = table[column].map(fmt_date)
    if kind == "blocked":
        table["withheld"] = table["withheld_fen"].map(fmt_fen)
        table["reason"] = table["blocks"].map(_reason)
    shown = [c for c in COLUMN_LABELS if c in table]
    ui.row_link_table(
        table,
        {c: t(COLUMN_LABELS[c]) for c in shown},
        key=f"cmp_people_{year}_{kind}_{department}_{leaflet_id}_{page_no}",
        page="pages/staff_record.py",
        id_column="employee_id",
        wrap=["reason"] if "reason" in shown else [],  # every block shows its reason in full
    )

# ---------------------------------------------------------------- attention

waiting = read(attention, year)
# "Needs your attention" only for who decides; the others read the same figures as a state of affairs.
st.subheader(t("Needs your attention") if actor.can(Permission.DECIDE_CASE) else t("Awaiting a decision"))
sign_off = waiting.sign_off
c1, c2, c3 = st.columns(3)
c1.metric(t("Cases awaiting decision"), waiting.pending_total, border=True)
c2.metric(t("Appeals awaiting decision"), waiting.appeals_total, border=True)
if sign_off.locked:
    c3.success(
        ui.tmd(
            "{year} was signed off by {name} on {date} (version {version}); its records are read-only.",
            year=year,
            name=sign_off.signed_off_by,
            date=fmt_datetime(sign_off.signed_off_at),
            version=sign_off.version,
        )
    )
elif sign_off.reopened_at is not None:
    c3.warning(
        ui.tmd(
            "{year} was reopened by {name} on {date}: {reason}. It is not signed off.",
            year=year,
            name=sign_off.reopened_by,
            date=fmt_datetime(sign_off.reopened_at),
            reason=sign_off.reopen_reason or "",
        )
    )
else:
    c3.info(t("{year} has not been signed off yet.", year=year))

CASE_COLUMNS = {
    "case_no": N_("Case no."),
    "year": N_("Assessment year"),
    "staff_no": N_("Staff no."),
    "name": N_("Name"),
    "category": N_("Category"),
    "recorded_by": N_("Recorded by"),
    "since": N_("Waiting since"),
}
for which, title, frame, count in (
    ("pending", t("Cases awaiting decision"), waiting.pending, waiting.pending_total),
    ("appeals", t("Appeals awaiting decision"), waiting.appeals, waiting.appeals_total),
):
    if count:
        st.markdown(f"**{title}**")
        table = frame.assign(since=frame["since"].map(fmt_datetime), year=frame["year"].astype(str))
        ui.row_link_table(
            table,
            {c: t(v) for c, v in CASE_COLUMNS.items()},
            key=f"cmp_cases_{which}",
            page="pages/case_record.py",
            id_column="case_id",
        )
        if count > len(frame):
            st.caption(t("The {n} waiting longest of {total}.", n=len(frame), total=count))
