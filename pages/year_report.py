"""The year-end district report: preview, generate and download; the principal's
sign-off; the administrator's reopening.  Every role may see where a year stands;
the report itself needs RUN_REPORTS, signing SIGN_OFF, reopening ADMINISTER."""

from __future__ import annotations

import streamlit as st

from pages import _ui as ui
from pages._ui import t
from services.core.formatting import fmt_datetime, fmt_money, local_today
from services.core.permissions import Permission
from services.ledger import unit
from services.year import figures, report, signoff

actor = ui.require(Permission.READ_LEDGER)
engine = ui.engine()
st.title(t("Year-end report"))

this_year = local_today().year
years = list(range(this_year, this_year - 8, -1))
profile = unit.get_unit(engine)
default_year = profile.current_year if profile and profile.current_year in years else this_year
year = st.selectbox(t("Assessment year"), years, index=years.index(default_year), key="report_year")

status = signoff.closure_status(engine, actor, year)
current = status.current
if status.locked:
    st.success(
        ui.tmd(
            "{year} is signed off (version {version}, by {name} on {when}). Its records are read-only.",
            year=year,
            version=current.version,
            name=current.signed_off_by,
            when=fmt_datetime(current.signed_off_at),
        ),
        icon=":material/lock:",
    )
elif current is not None:
    st.warning(
        ui.tmd(
            "{year} was reopened on {when} by {name}: {reason}. It is open for changes until it is signed off again.",
            year=year,
            when=fmt_datetime(current.reopened_at),
            name=current.reopened_by or "",
            reason=current.reopen_reason or "",
        ),
        icon=":material/lock_open:",
    )
else:
    st.info(t("{year} is not signed off yet.", year=year), icon=":material/lock_open:")


def progress_bar() -> report.Progress:
    bar = st.progress(0.0, text=t("Starting..."))
    return lambda fraction, msgid: bar.progress(fraction, text=t(msgid))


def offer(key: str, workbook_name: str, workbook: bytes, summary_name: str, summary: bytes) -> None:
    left, right = st.columns(2)
    ui.download_button(
        t("Workbook (xlsx)"), workbook, workbook_name, where=left, key=f"{key}_xlsx", icon=":material/table_view:"
    )
    ui.download_button(
        t("Work summary (docx)"), summary, summary_name, where=right, key=f"{key}_docx", icon=":material/description:"
    )


if actor.can(Permission.RUN_REPORTS):
    st.subheader(t("Summary figures"))
    with ui.reporting_errors():
        shown = figures.get_year_figures(engine, actor, year)
        names = report.UnitProfile(
            profile.name, profile.district, profile.leader_name, profile.principal_name, profile.sanction_years
        )
        rows = report.summary_rows(names, shown, "", "")[:-2]  # time and checksum come with the file
        st.dataframe(
            {
                t("Indicator"): [label for label, _, _ in rows],
                t("Value"): [fmt_money(value) if kind == report.MONEY else str(value) for _, value, kind in rows],
            },
            hide_index=True,
            width="stretch",
            height=35 * (len(rows) + 1) + 3,
        )
        st.caption(
            t(
                "Attendance rate = (present + made up) / expected; coverage = delivered / expected households. "
                "A rate with nothing to count shows as —."
            )
        )

    generated = st.session_state.setdefault("year_reports", {})
    if st.button(t("Generate the report"), type="primary", icon=":material/summarize:", key="report_generate"):
        made = ui.run_action(lambda: report.build_report(engine, actor, year, progress_bar()))
        if made:
            generated[year] = made
    if year in generated:
        made = generated[year]
        st.caption(
            t(
                "Generated {when}; checksum {checksum}.",
                when=made.generated_at.strftime("%Y-%m-%d %H:%M"),
                checksum=made.checksum,
            )
        )
        offer(f"fresh_{year}", made.workbook_filename, made.workbook, made.summary_filename, made.summary)

    if status.versions:
        st.subheader(t("Signed versions"))
        for v in reversed(status.versions):
            line = ui.tmd(
                "Version {version}: signed off by {name} on {when}, checksum {checksum}.",
                version=v.version,
                name=v.signed_off_by,
                when=fmt_datetime(v.signed_off_at),
                checksum=v.checksum,
            )
            if v.reopened_at is not None:
                line += " " + ui.tmd(
                    "Reopened on {when} by {name}: {reason}",
                    when=fmt_datetime(v.reopened_at),
                    name=v.reopened_by or "",
                    reason=v.reopen_reason or "",
                )
            st.markdown(line)
            with ui.reporting_errors():
                signed = signoff.signed_report(engine, actor, year, v.version)
                offer(
                    f"signed_{year}_{v.version}",
                    v.workbook_filename,
                    signed.workbook,
                    v.summary_filename,
                    signed.summary,
                )

if actor.can(Permission.SIGN_OFF) and not status.locked:
    st.subheader(t("Sign off the year"))
    st.write(
        t(
            "Signing off stores the report as it stands now and makes the year's sessions, attendance, "
            "leaflet distribution, cases, nominations and pay lines read-only."
        )
    )
    agreed = st.checkbox(t("I have checked the report of {year} and sign it off.", year=year), key="signoff_confirm")
    if st.button(
        t("Sign off {year}", year=year),
        type="primary",
        disabled=not agreed,
        icon=":material/verified:",
        key="signoff_button",
    ):
        signed = ui.run_action(lambda: signoff.sign_off(engine, actor, year, progress_bar()))
        if signed:
            ui.flash("success", t("{year} is signed off as version {version}.", year=year, version=signed.version))
            st.rerun()

if actor.can(Permission.ADMINISTER) and status.locked:
    st.subheader(t("Reopen the year"))
    with st.form("reopen_form"):
        reason = st.text_area(t("Reason for reopening"), max_chars=signoff.MAX_REASON, key="reopen_reason")
        if st.form_submit_button(t("Reopen {year}", year=year), icon=":material/lock_open:"):
            done = ui.run_action(lambda: signoff.reopen(engine, actor, year, reason))
            if done:
                ui.flash(
                    "success", t("{year} is reopened. The principal signs it off again when it is ready.", year=year)
                )
                st.rerun()
