"""Award nominations: every nominee with eligibility and the reason,
entry and import, finalising the eligible, export of the finalised list."""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from pages import _ui as ui
from pages._ui import t
from services.core import uploads
from services.core.errors import ServiceError
from services.core.formatting import fmt_datetime, local_today
from services.core.permissions import Permission
from services.ledger import unit
from services.sanctions import awards

actor = ui.require(Permission.RUN_REPORTS)
can_edit = actor.can(Permission.EDIT_RECORDS)
st.title(t("Award nominations"))
st.caption(
    t(
        "A nominee with a violation case in force in the year is not eligible and cannot be finalised; "
        "the reason is shown. Eligibility returns only when the case is revoked or overturned."
    )
)

profile = unit.get_unit(ui.engine())
this_year = profile.current_year if profile else local_today().year
year = st.selectbox(t("Assessment year"), list(range(this_year + 1, this_year - 5, -1)), index=1, key="awards_year")

try:
    frame = awards.list_nominations(ui.engine(), actor, year, ui.lang())
except ServiceError as err:
    ui.show_error(err)
    st.stop()

c1, c2, c3, c4 = st.columns(4)
c1.metric(t("Nominations"), len(frame))
c2.metric(t("Eligible"), int(frame["eligible"].sum()))
c3.metric(t("Not eligible"), int((~frame["eligible"]).sum()))
c4.metric(t("Finalised"), int(frame["finalised"].sum()))

names = sorted(frame["award_name"].unique())
award_filter = st.selectbox(t("Award"), names, index=None, placeholder=t("All awards"), key="awards_filter")
shown = frame if award_filter is None else frame[frame["award_name"] == award_filter]


def yes_no(value: bool) -> str:
    return t("Yes") if value else t("No")


if shown.empty:
    st.info(t("No nominations for {year} yet.", year=year))
else:
    table = pd.DataFrame(
        {
            t("Award"): shown["award_name"],
            t("Staff no."): shown["staff_no"],
            t("Name"): shown["name"],
            t("Department"): shown["department"],
            t("Eligible"): shown["eligible"].map(yes_no),
            t("Reason"): shown["reason"],
            t("Finalised"): shown["finalised"].map(yes_no),
            t("Finalised on"): shown["finalised_at"].map(lambda v: fmt_datetime(v)[:10] if v is not None else ""),
        }
    )
    ui.wrapped_table(table, [t("Reason")], key="awards_table")  # a block's reason, whole
    stale = frame[frame["finalised"] & ~frame["eligible"]]
    if not stale.empty:
        st.warning(
            ui.tmd(
                "{n} finalised nominee(s) now have a case in force and are left out of the finalised list: {names}",
                n=len(stale),
                names="、".join(stale["name"]),
            )
        )

# ---------------------------------------------------------------- finalise
if can_edit and names:
    st.subheader(t("Finalise"))
    award = st.selectbox(t("Award to finalise"), names, key="awards_finalise_award")
    of_award = frame[frame["award_name"] == award]
    open_eligible = of_award[of_award["eligible"] & ~of_award["finalised"]]
    blocked = of_award[~of_award["eligible"]]
    if not blocked.empty:
        st.error(
            t("Not eligible, cannot be finalised:")
            + "\n\n"
            + "\n\n".join(
                ui.tmd("{name} ({staff_no}): {reason}", name=r.name, staff_no=r.staff_no, reason=r.reason)
                for r in blocked.itertuples()
            )
        )
    if open_eligible.empty:
        st.info(t("No eligible nomination of this award is waiting to be finalised."))
    else:
        labels = {int(r.id): f"{r.staff_no} · {r.name}" for r in open_eligible.itertuples()}
        with st.form(f"awards_finalise_{year}_{award}"):
            chosen = st.multiselect(
                t("Eligible nominees to finalise"),
                list(labels),
                default=list(labels),
                format_func=labels.get,
                key=f"awards_chosen_{year}_{award}",
                placeholder=t("Choose one or more"),
            )
            sure = st.checkbox(t("Yes, finalise the chosen nominees for this award"), key="awards_finalise_sure")
            if st.form_submit_button(t("Finalise"), type="primary", icon=":material/verified:"):
                if not sure:
                    st.warning(t("Tick the box to confirm."))
                elif not chosen:
                    st.warning(t("Choose at least one nominee."))
                else:
                    result = ui.run_action(lambda: awards.finalise(ui.engine(), actor, year, award, chosen, ui.lang()))
                    if result:
                        ui.flash("success", t("{n} nomination(s) finalised.", n=result.finalised))
                        st.rerun()

# ---------------------------------------------------------------- export
st.subheader(t("Finalised list"))
ui.download_button(
    t("Download the finalised list"),
    ui.export(awards.finalised_xlsx, year, ui.lang()),
    t("awards_{year}.xlsx", year=year),
    key="awards_download",
    disabled=not bool((frame["finalised"] & frame["eligible"]).any()),
)

if not can_edit:
    st.stop()

# ---------------------------------------------------------------- add, import, remove
st.subheader(t("Add nominations"))
with st.form("awards_add", clear_on_submit=True):
    a1, a2 = st.columns(2)
    award_name = a1.text_input(t("Award name"), placeholder=names[0] if names else "")
    staff_no = a2.text_input(t("Staff no."))
    if st.form_submit_button(t("Add nomination"), icon=":material/add:"):
        if ui.run_action(lambda: awards.add_nomination(ui.engine(), actor, year, award_name, staff_no=staff_no)):
            ui.flash("success", t("Nomination added."))
            st.rerun()

with st.expander(t("Import nominations from a sheet (columns: award name, staff no., name)")):
    upload_round = st.session_state.setdefault("awards_round", 0)
    upload = st.file_uploader(
        t("Spreadsheet file"),
        type=["xlsx", "xls", "csv"],
        key=f"awards_file_{upload_round}",
        max_upload_size=uploads.MAX_UPLOAD_MB,
    )
    if upload is not None:
        data = upload.getvalue()
        if st.button(t("Check the file"), icon=":material/fact_check:", key="awards_check"):
            try:
                st.session_state["awards_preview"] = (
                    year,
                    awards.preview_nominations(ui.engine(), actor, data, upload.name, year),
                )
            except ServiceError as err:
                ui.show_error(err)
        held = st.session_state.get("awards_preview")
        if held and held[0] == year and held[1].sha256 == hashlib.sha256(data).hexdigest():
            preview = held[1]
            if preview.errors:
                st.error(
                    t(
                        "The file has {n} errors in {rows} rows. Nothing has been imported. "
                        "Correct the file and check it again.",
                        n=len(preview.errors),
                        rows=preview.error_rows,
                    )
                )
                st.dataframe(
                    pd.DataFrame(
                        [(e.sheet_row, e.column, e.message(ui.lang())) for e in preview.errors],
                        columns=[t("Row"), t("Column"), t("Problem")],
                    ),
                    hide_index=True,
                    width="stretch",
                )
            else:
                st.success(t("Every row is correct."))
                if st.button(t("Import {n} rows", n=len(preview.rows)), type="primary", key="awards_import"):
                    result = ui.run_action(lambda: awards.commit_nominations(ui.engine(), actor, preview, year))
                    if result:
                        st.session_state.pop("awards_preview", None)
                        st.session_state["awards_round"] = upload_round + 1
                        ui.flash("success", t("{n} nomination(s) imported.", n=result.created))
                        st.rerun()

if not frame.empty:
    with st.expander(t("Remove a nomination")):
        labels = {int(r.id): f"{r.award_name} · {r.staff_no} · {r.name}" for r in frame.itertuples()}
        with st.form("awards_remove"):
            nomination = st.selectbox(t("Nomination"), list(labels), format_func=labels.get, key="awards_remove_id")
            sure = st.checkbox(t("Yes, remove this nomination"), key="awards_remove_sure")
            if st.form_submit_button(t("Remove nomination"), icon=":material/delete:"):
                if not sure:
                    st.warning(t("Tick the box to confirm."))
                elif ui.run_action(lambda: awards.remove_nomination(ui.engine(), actor, nomination)):
                    ui.flash("success", t("Nomination removed."))
                    st.rerun()
