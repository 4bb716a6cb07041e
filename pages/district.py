"""The district roll-up: collect the units' year-end workbooks, see who reported and what was refused,
open a unit, the charts, and the district's two files (shared/spec/district-rollup.md).

The district officer collects and builds the files (COLLECT_DISTRICT); the district head
reads (READ_DISTRICT).  Every check and every figure is the service's; this page shows them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from pages import _ui as ui
from pages._ui import t
from services.core import uploads
from services.core.errors import ServiceError
from services.core.formatting import fmt_datetime, fmt_money, local_today
from services.core.permissions import Permission
from services.district import collect, rollup
from services.ledger import unit

actor = ui.require(Permission.READ_DISTRICT)
engine = ui.engine()
profile = unit.get_unit(engine)
st.title(t("District roll-up"))

this_year = local_today().year
years = list(range(this_year, this_year - 8, -1))
default_year = profile.current_year if profile and profile.current_year in years else this_year
year = st.selectbox(t("Assessment year"), years, index=years.index(default_year), key="district_year")

# How many units a chart shows at most (a district has a few hundred): the lowest ones.
CHART_UNITS = 20
# The columns of RollUp.chart_frame by the names the charts use (rollup.CHART_FIGURES' keys).
CHART_COLUMNS = list(rollup.CHART_FIGURES)


def value_text(value: Any) -> str:
    """A summary value as the school's report page shows it (amounts 3,300.50; — for nothing)."""
    if value is None or value == "":
        return "—"
    return fmt_money(value) if isinstance(value, Decimal | float) else str(value)


def cell_text(value: Any) -> Any:
    """A cell of a file list: times local, yes/no in words."""
    if isinstance(value, datetime):
        return fmt_datetime(value)
    if isinstance(value, bool):
        return t("Yes") if value else t("No")
    return value


def summary_table(rows: list[tuple[str, Any]]) -> None:
    st.dataframe(
        {t("Indicator"): [label for label, _ in rows], t("Value"): [value_text(v) for _, v in rows]},
        hide_index=True,
        width="stretch",
        height=35 * (len(rows) + 1) + 3,
    )


# ---------------------------------------------------------------- where the district stands

read_rollup = ui.cached_read(rollup.rollup, ttl=60)
try:
    r = read_rollup(actor, year)
except ServiceError as err:
    ui.show_error(err)
    st.stop()
nothing_yet = r.units.empty

# ---------------------------------------------------------------- collecting (the officer)

if actor.can(Permission.COLLECT_DISTRICT):
    # Open until the first file of the year is in; then folded away above the roll-up.
    with st.expander(t("Collect workbooks"), expanded=nothing_yet, icon=":material/upload_file:"):
        with st.form("district_collect", clear_on_submit=True):
            files = st.file_uploader(
                t("The units' year-end workbooks (xlsx; many at once)"),
                type=["xlsx"],
                accept_multiple_files=True,
                max_upload_size=uploads.MAX_UPLOAD_MB,
                key="district_files",
            )
            roster_file = st.file_uploader(
                t(
                    "Roster of the units that must report (optional; xlsx or csv with a column {column})",
                    column=collect.ROSTER_COLUMN,
                ),
                type=["xlsx", "csv"],
                max_upload_size=uploads.MAX_UPLOAD_MB,
                key="district_roster",
            )
            submitted = st.form_submit_button(t("Check and collect"), type="primary", icon=":material/fact_check:")
        st.caption(
            t(
                "Each file is checked on its own: format, year, checksum, the summary against the detail sheets. "
                "A refused file never reaches a total; collecting a unit's corrected file again replaces "
                "the old one (the history stays)."
            )
        )
    if submitted:
        names = None
        if roster_file is not None:
            names = ui.run_action(lambda: collect.read_roster(roster_file.name, roster_file.getvalue()))
            if names is None or not ui.run_action(lambda: collect.save_roster(engine, actor, year, names)):
                st.stop()
        if files or names is not None:
            bar = st.progress(0.0, text=t("Starting..."))

            def advance(done: int, total: int) -> None:
                bar.progress(
                    done / total if total else 1.0, text=t("Checked {done} of {total} files.", done=done, total=total)
                )

            result = ui.run_action(
                lambda: collect.collect(
                    engine, actor, [(f.name, f.getvalue()) for f in files or []], year, roster=names, progress=advance
                )
            )
            if result:
                st.session_state.pop("district_built", None)  # files built before are out of date
                refused = sum(1 for c in result.checks if c.status in collect.REFUSED)
                ui.flash(
                    "success" if not refused else "warning",
                    t(
                        "{n} file(s) checked: {counted} counted, {refused} refused, {duplicates} duplicate(s).",
                        n=len(result.checks),
                        counted=sum(1 for c in result.checks if c.status in collect.COUNTED),
                        refused=refused,
                        duplicates=sum(1 for c in result.checks if c.status == collect.Status.DUPLICATE),
                    ),
                )
                if result.already_received:  # the same file again: the one received before stays
                    ui.flash(
                        "info",
                        ui.tmd(
                            "Already received, byte for byte, and not counted again "
                            "(the file received before stays as it is): {files}",
                            files=", ".join(dict.fromkeys(c.file_name for c in result.already_received)),
                        ),
                    )
                st.rerun()
        else:
            st.warning(t("Choose the workbooks to collect first."))

with ui.reporting_errors():
    st.caption(ui.tmd("{district} · assessment year {year}", district=r.district, year=year))
    # RollUp.counts holds 应报, 已报, 未报, 退回 and 名单外, in this order.
    labels = [t("Must report"), t("Reported"), t("Not reported"), t("Refused"), t("Not on the roster")]
    for column, label, count in zip(st.columns(len(labels)), labels, r.counts.values(), strict=False):
        column.metric(label, count)

    if nothing_yet:
        st.info(t("No workbook has been collected for {year} yet.", year=year))
        st.stop()

    # ------------------------------------------------------------ one row per unit
    st.subheader(t("Units"))
    shown = r.units.copy()
    unit_column = rollup.UNIT_NAME
    frame = r.chart_frame.rename(columns={figure: name for name, figure in rollup.CHART_FIGURES.items()})[CHART_COLUMNS]
    # Numbers (NaN where a unit is not counted), whatever the service's column types.
    frame = frame.assign(**{c: pd.to_numeric(frame[c], errors="coerce") for c in CHART_COLUMNS[1:]})
    rates = frame.set_index("unit")
    for column, rate in zip(collect.RATE_FIGURES, ("attendance", "coverage"), strict=True):
        # Numbers (percent) so the column sorts by value; empty where nothing counts.
        shown[column] = shown[unit_column].map(rates[rate]).astype(float) * 100
    picked = st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key=f"district_units_{year}",
        placeholder="—",  # the figures of a unit not counted
        column_config={c: st.column_config.NumberColumn(c, format="%.1f%%") for c in collect.RATE_FIGURES},
    )
    st.caption(t("Click a row to open the unit: its summary, its problems and every file received from it."))
    rows = picked.selection.rows if picked else []
    if rows:
        name = str(shown.iloc[rows[0]][unit_column])
        detail = ui.cached_read(rollup.unit_detail, ttl=60)(actor, year, name)
        with st.container(border=True):
            st.subheader(ui.md(detail.unit_name))
            left, right = st.columns(2)
            with left:
                st.markdown("**" + t("Its summary") + "**")
                if detail.summary:
                    summary_table(detail.summary)
                else:
                    st.info(t("No file of this unit counts."))
            with right:
                st.markdown("**" + t("Its problems") + "**")
                if detail.problems:
                    st.markdown("\n".join(f"- {ui.md(p)}" for p in detail.problems))
                else:
                    st.success(t("No problems."))
            # The whole width: the times shown whole, the file counted plain to see.
            st.markdown("**" + t("Files received") + "**")
            st.dataframe(
                detail.files.map(cell_text),
                hide_index=True,
                width="stretch",
                row_height=ui.WRAP_ROW_HEIGHT,
                column_config={c: st.column_config.TextColumn(c, width="medium") for c in rollup.TIME_COLUMNS}
                | {rollup.PROBLEM_COLUMN: st.column_config.TextColumn(rollup.PROBLEM_COLUMN, width="large")},
            )

    # ------------------------------------------------------------ 问题清单
    st.subheader(t("Problem list"))
    if r.problems.empty:
        st.success(t("No problems: every file received was counted."))
    else:
        # st.table wraps long text; it renders Markdown, so every cell is made literal.
        st.table(r.problems.map(ui.md), hide_index=True)

    # ------------------------------------------------------------ charts (aggregates per unit)
    st.subheader(t("Charts"))

    def lowest_rates(column: str, title: str) -> None:
        data = frame[["unit", column]].dropna()
        data = data.assign(percent=(data[column].astype(float) * 100).round(1)).nsmallest(CHART_UNITS, "percent")
        st.markdown(f"**{title}**")
        if data.empty:
            st.caption(t("Nothing to count yet."))
            return
        chart = (
            alt.Chart(data)
            .mark_bar(color="#3b6ea8")
            .encode(
                alt.X(
                    "percent:Q",
                    title=None,
                    scale=alt.Scale(domain=[0, 100]),
                    axis=alt.Axis(labelExpr="datum.value + '%'"),
                ),
                alt.Y("unit:N", title=None, sort="x"),
                tooltip=[alt.Tooltip("unit:N", title=t("Unit")), alt.Tooltip("percent:Q", title=title, format=".1f")],
            )
            .properties(height=alt.Step(26))  # one band per unit, however many
        )
        st.altair_chart(chart, width="stretch")
        if len(frame[column].dropna()) > CHART_UNITS:
            st.caption(t("The {n} lowest units.", n=CHART_UNITS))

    c1, c2 = st.columns(2)
    with c1:
        lowest_rates("attendance", t("Attendance rate per unit, lowest first"))
    with c2:
        lowest_rates("coverage", t("Leaflet coverage per unit, lowest first"))

    c1, c2 = st.columns(2)
    with c1:
        title = t("Cases in force per unit")
        st.markdown(f"**{title}**")
        cases = frame[frame["cases"].fillna(0) > 0].nlargest(CHART_UNITS, "cases")
        if cases.empty:
            st.caption(t("No case in force in any unit counted."))
        else:
            chart = (
                alt.Chart(cases)
                .mark_bar(color="#a8553b")
                .encode(
                    alt.X("cases:Q", title=None, axis=alt.Axis(tickMinStep=1)),
                    alt.Y("unit:N", title=None, sort="-x"),
                    tooltip=[alt.Tooltip("unit:N", title=t("Unit")), alt.Tooltip("cases:Q", title=title)],
                )
                .properties(height=alt.Step(26))
            )
            st.altair_chart(chart, width="stretch")
    with c2:
        st.markdown("**" + t("Births by sex") + "**")
        births = pd.DataFrame(
            {
                "sex": [t("Boys"), t("Girls")],
                "births": [int(frame["boys"].fillna(0).sum()), int(frame["girls"].fillna(0).sum())],
            }
        )
        chart = (
            alt.Chart(births)
            .mark_bar()
            .encode(
                alt.X("births:Q", title=None, axis=alt.Axis(tickMinStep=1)),
                alt.Y("sex:N", title=None, sort=None),
                alt.Color(
                    "sex:N",
                    legend=None,
                    scale=alt.Scale(domain=[t("Boys"), t("Girls")], range=["#3b6ea8", "#c0587e"]),
                ),
                tooltip=[alt.Tooltip("sex:N", title=t("Sex")), alt.Tooltip("births:Q", title=t("Births"))],
            )
            .properties(height=alt.Step(34))
        )
        st.altair_chart(chart, width="stretch")
        st.metric(
            t("Sex ratio at birth (boys per 100 girls)"),
            value_text(r.value(rollup.SEX_RATIO)),
            help=t("The normal range is 103–107. With few births the ratio says little."),
        )

    # ------------------------------------------------------------ the district's figures and its files
    st.subheader(t("District summary"))
    summary_table(r.summary)

    st.subheader(t("Downloads"))
    built = st.session_state.setdefault("district_built", {})
    if st.button(t("Build the roll-up files"), type="primary", icon=":material/summarize:", key="district_build"):
        bar = st.progress(0.0, text=t("Starting..."))
        made = ui.run_action(
            lambda: rollup.build_rollup_files(
                engine, actor, year, lambda fraction, msgid: bar.progress(fraction, text=t(msgid))
            )
        )
        if made:
            built[year] = made
    if year in built:
        made_rollup, workbook, summary_doc = built[year]
        workbook_name, summary_name = rollup.rollup_file_names(made_rollup.district, year)
        left, right = st.columns(2)
        ui.download_button(
            t("Roll-up workbook (xlsx)"),
            workbook,
            workbook_name,
            where=left,
            key=f"district_xlsx_{year}",
            icon=":material/table_view:",
        )
        ui.download_button(
            t("Draft work summary (docx)"),
            summary_doc,
            summary_name,
            where=right,
            key=f"district_docx_{year}",
            icon=":material/description:",
        )
