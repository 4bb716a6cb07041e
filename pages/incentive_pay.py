"""Incentive pay: import the finance office's sheet, see every line
with due / withheld / paid and the reason, download it for finance, and the
back-pay list for cases that were revoked or overturned."""

import hashlib

import pandas as pd
import streamlit as st

from pages import _ui as ui
from pages._ui import t
from services.core import uploads
from services.core.errors import ServiceError
from services.core.formatting import fmt_fen, fmt_money, local_today
from services.core.permissions import Permission
from services.ledger import imports, unit
from services.sanctions import bonus

LISTED = 20  # people named in the summary above a table; the table has them all

actor = ui.require(Permission.RUN_REPORTS)
# The outcome of a district-sized year takes seconds; reruns of this page (view
# switches, downloads) reuse it.  Keyed by database, year, role and language,
# never by user; every write through ui.run_action clears it, and another app
# process's change shows after at most TTL seconds.
TTL = 60


PAGE_SIZE = 100


# One page of rows and the totals (never the whole year's lines), keyed by language too.
page_of = ui.cached_read(bonus.pay_page, ttl=TTL, max_entries=50)
back_pay_of = ui.cached_read(bonus.back_pay_for_year, ttl=TTL, max_entries=20)


can_edit = actor.can(Permission.EDIT_RECORDS)
st.title(t("Incentive pay"))
st.caption(
    t(
        "Whoever has a violation case in force in the year has every incentive-pay line of the year withheld, "
        "with the reason. Only revoking or overturning the case lifts it; the lines then appear on the back-pay list."
    )
)

profile = unit.get_unit(ui.engine())
this_year = profile.current_year if profile else local_today().year
year = st.selectbox(t("Assessment year"), list(range(this_year + 1, this_year - 5, -1)), index=1, key="pay_year")


def money_columns(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Amounts shown as text with two decimals and thousands separators (exact; no
    float rounding on screen), from the integer-fen columns where the frame has them."""
    out = frame.copy()
    for c in columns:
        fen = f"{c}_fen"
        if fen in out:
            out[c] = out[fen].map(fmt_fen)
        else:
            out[c] = out[c].map(fmt_money)
    return out


# ---------------------------------------------------------------- import
if can_edit:
    with st.expander(t("Import the finance office's sheet (columns: staff no., name, item, month, amount)")):
        st.caption(
            t(
                "xlsx or csv (UTF-8 or GBK). Amounts in yuan with at most two decimals. The whole file is checked "
                "first; nothing is imported unless every row is right."
            )
        )
        upload_round = st.session_state.setdefault("pay_round", 0)
        upload = st.file_uploader(
            t("Spreadsheet file"),
            type=["xlsx", "xls", "csv"],
            key=f"pay_file_{upload_round}",
            max_upload_size=uploads.MAX_UPLOAD_MB,
        )
        if upload is not None:
            data = upload.getvalue()
            sheet = None
            try:
                sheets = imports.sheet_names(data, upload.name)
            except ServiceError as err:
                ui.show_error(err)
                sheets = None
            if sheets is not None:
                if len(sheets) > 1:
                    sheet = st.selectbox(t("Sheet"), sheets, key="pay_sheet")
                if st.button(t("Check the file"), icon=":material/fact_check:", key="pay_check"):
                    try:
                        st.session_state["pay_preview"] = bonus.preview_pay_sheet(
                            ui.engine(), actor, data, upload.name, sheet=sheet
                        )
                    except ServiceError as err:
                        ui.show_error(err)
                preview = st.session_state.get("pay_preview")
                if (
                    preview is not None
                    and preview.sha256 == hashlib.sha256(data).hexdigest()
                    and (sheet is None or preview.sheet == sheet)
                ):
                    c1, c2, c3 = st.columns(3)
                    c1.metric(t("Rows in the file"), preview.total_rows)
                    c2.metric(t("Rows with errors"), preview.error_rows)
                    c3.metric(t("Total (yuan)"), fmt_money(bonus.preview_total(preview)))
                    if preview.errors:
                        st.error(
                            t(
                                "The file has {n} errors in {rows} rows. Nothing has been imported. "
                                "Correct the file and check it again.",
                                n=len(preview.errors),
                                rows=preview.error_rows,
                            )
                        )
                        ui.wrapped_table(
                            pd.DataFrame(
                                [(e.sheet_row, e.column, e.message(ui.lang())) for e in preview.errors],
                                columns=[t("Row"), t("Column"), t("Problem")],
                            ),
                            [t("Problem")],
                            key="pay_errors",
                        )
                        ui.download_button(
                            t("Download the rows with errors (xlsx, with a reason column)"),
                            imports.rejected_rows_xlsx(preview, ui.lang()),
                            t("incentive-pay_rejected-rows.xlsx"),
                            key="pay_rejected",
                        )
                    else:
                        st.success(t("Every row is correct."))
                        if st.button(
                            t("Import {n} rows", n=len(preview.rows)),
                            type="primary",
                            key="pay_import",
                            icon=":material/upload:",
                        ):
                            result = ui.run_action(lambda: bonus.commit_pay_sheet(ui.engine(), actor, preview))
                            if result:
                                st.session_state.pop("pay_preview", None)
                                st.session_state["pay_round"] = upload_round + 1
                                ui.flash(
                                    "success",
                                    t(
                                        "Imported {n} pay lines, {total} yuan in all.",
                                        n=result.created,
                                        total=fmt_money(result.total),
                                    ),
                                )
                                st.rerun()

# ---------------------------------------------------------------- outcome
st.subheader(t("Outcome for {year}", year=year))
view = (
    st.segmented_control(
        t("Show"),
        ["people", "lines", "withheld"],
        default="people",
        key="pay_view",
        format_func=lambda v: {
            "people": t("Per person"),
            "lines": t("Pay lines"),
            "withheld": t("Withheld lines only"),
        }[v],
    )
    or "people"
)
page_no = st.session_state.get(f"pay_page_{view}", 1)
try:
    outcome = page_of(actor, year, view, limit=PAGE_SIZE, offset=(page_no - 1) * PAGE_SIZE, lang=ui.lang())
except ServiceError as err:
    ui.show_error(err)
    st.stop()

c1, c2, c3 = st.columns(3)
c1.metric(t("Due"), fmt_money(outcome.due))
c2.metric(t("Withheld"), fmt_money(outcome.withheld))
c3.metric(t("Paid"), fmt_money(outcome.paid))

if outcome.line_count == 0:
    st.info(t("No incentive-pay lines for {year}.", year=year))
else:
    withheld_people = outcome.withheld_people
    if not withheld_people.empty:
        shown = withheld_people.head(LISTED)
        st.warning(
            "\n\n".join(
                [t("Withheld in {year}:", year=year)]
                + [
                    ui.tmd(
                        "{name} ({staff_no}): {amount} yuan withheld. {reason}",
                        name=r.name,
                        staff_no=r.staff_no,
                        amount=fmt_money(r.withheld),
                        reason=r.reason,
                    )
                    for r in shown.itertuples()
                ]
                + ([t("... and {n} more.", n=len(withheld_people) - LISTED)] if len(withheld_people) > LISTED else [])
            )
        )
    amounts = ["due", "withheld", "paid"]
    if view == "people":
        cols = ["staff_no", "name", "department", "lines", *amounts, "reason"]
    else:
        cols = ["staff_no", "name", "department", "pay_month", "item", *amounts, "reason"]
    pay_table = bonus.labelled(money_columns(outcome.rows, amounts), ui.lang(), cols)
    ui.wrapped_table(pay_table, [pay_table.columns[-1]], key="pay_table")  # the last column: the reason
    pages = max(1, -(-outcome.total_rows // PAGE_SIZE))
    if page_no > pages:  # the year or the lines changed under a later page
        st.session_state[f"pay_page_{view}"] = pages
        st.rerun()
    if pages > 1:
        st.number_input(
            t("Page (of {pages})", pages=pages), min_value=1, max_value=pages, step=1, key=f"pay_page_{view}"
        )
    ui.download_button(
        t("Download the outcome for finance"),
        ui.export(bonus.pay_outcome_xlsx, year, ui.lang()),
        t("incentive-pay_{year}.xlsx", year=year),
        key="pay_download",
    )

# ---------------------------------------------------------------- back pay
st.subheader(t("Back-pay list"))
st.caption(
    t(
        "Lines of {year} withheld because of a case that has since been revoked or overturned, for people "
        "not blocked by another case.",
        year=year,
    )
)
owed = back_pay_of(actor, year)
if owed.empty:
    st.info(t("Nothing is owed back for {year}.", year=year))
else:
    st.metric(t("Back pay (yuan)"), fmt_money(bonus.back_pay_total(owed)))
    per_person = owed.groupby(["staff_no", "name", "case_nos"], sort=True)["back_pay"].apply(
        lambda v: sum(v, bonus.yuan(0))
    )
    st.success(
        "\n\n".join(
            ui.tmd(
                "{name} ({staff_no}): {amount} yuan to pay back (case {case_nos}).",
                name=name,
                staff_no=staff_no,
                amount=fmt_money(amount),
                case_nos=case_nos,
            )
            for (staff_no, name, case_nos), amount in list(per_person.items())[:LISTED]
        )
    )
    cols = ["case_nos", "staff_no", "name", "department", "pay_month", "item", "back_pay"]
    st.dataframe(
        bonus.labelled(money_columns(owed, ["back_pay"]), ui.lang(), cols),
        hide_index=True,
        width="stretch",
        key="back_pay_table",
    )
    ui.download_button(
        t("Download the back-pay list"),
        ui.export(bonus.back_pay_xlsx, year, ui.lang()),
        t("back-pay_{year}.xlsx", year=year),
        key="back_pay_download",
    )
