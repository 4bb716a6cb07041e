"""Import the old staff and family spreadsheets: check first, then all or nothing."""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from pages import _ui as ui
from pages._ui import t
from services.core import uploads
from services.core.errors import ServiceError
from services.core.files import safe_file_stem
from services.core.i18n import N_
from services.core.permissions import Permission
from services.ledger import imports, templates

# Files with more rows than this show a progress bar while they are checked and written.
PROGRESS_FROM_ROWS = 300
KINDS = {"staff": N_("Staff"), "family": N_("Family members")}

actor = ui.require(Permission.EDIT_RECORDS)
st.title(t("Import spreadsheets"))
st.write(
    t(
        "Import the staff list and family members from the old ledgers (.xlsx, or .csv / .txt in UTF-8, GBK or "
        "Excel's Unicode text). "
        "The file is checked completely first; nothing is written until every row is right."
    )
)

kind = (
    st.segmented_control(
        t("What to import"), list(KINDS), format_func=lambda k: t(KINDS[k]), default="staff", key="import_kind"
    )
    or "staff"
)
if kind == "family":
    st.caption(t("Import the staff first: each family row names the staff no. of its household."))

c1, c2 = st.columns(2)
ui.download_button(
    t("Blank staff template (xlsx)"), templates.staff_template_xlsx(ui.lang()), t("staff-template.xlsx"), where=c1
)
ui.download_button(
    t("Blank family template (xlsx)"), templates.family_template_xlsx(ui.lang()), t("family-template.xlsx"), where=c2
)

# A new key after each import empties the uploader for the next file.
upload_round = st.session_state.setdefault("import_round", 0)
upload = st.file_uploader(
    t("Spreadsheet file"),
    type=["xlsx", "xls", "csv", "txt"],
    key=f"import_file_{kind}_{upload_round}",
    max_upload_size=uploads.MAX_UPLOAD_MB,
)
if upload is None:
    st.session_state.pop("import_preview", None)
    st.stop()

data = upload.getvalue()
sheet = None
try:
    names = imports.sheet_names(data, upload.name)
except ServiceError as err:
    ui.show_error(err)
    st.stop()
if len(names) > 1:
    sheet = st.selectbox(t("Sheet"), names, key="import_sheet")
update_existing = kind == "staff" and st.checkbox(
    t(imports.UPDATE_OPTION),
    key="import_update",
    help=t("Without this, a staff no. that is already on the ledger is reported as an error."),
)


def progress_bar(label: str) -> tuple[st.delta_generator.DeltaGenerator, imports.Progress]:
    """A progress callback, or None for small files (they take a moment only)."""
    bar = st.progress(0.0, text=label)

    def report(done: int, total: int) -> None:
        if total >= PROGRESS_FROM_ROWS:
            bar.progress(min(1.0, done / max(total, 1)), text=f"{label} {done}/{total}")

    return bar, report


if st.button(t("Check the file"), type="primary", icon=":material/fact_check:"):
    bar, report = progress_bar(t("Checking..."))
    try:
        if kind == "staff":
            preview = imports.preview_staff(
                ui.engine(), actor, data, upload.name, sheet=sheet, update_existing=update_existing, progress=report
            )
        else:
            preview = imports.preview_family(ui.engine(), actor, data, upload.name, sheet=sheet, progress=report)
    except ServiceError as err:
        bar.empty()
        ui.show_error(err)
        st.stop()
    bar.empty()
    st.session_state["import_preview"] = preview

preview = st.session_state.get("import_preview")
# A preview belongs to one file and its options; anything else must be checked again.
if (
    preview is None
    or preview.kind != kind
    or preview.sha256 != hashlib.sha256(data).hexdigest()
    or (sheet is not None and preview.sheet != sheet)
    or preview.update_existing != update_existing
):
    st.stop()

st.subheader(t("Check result"))
c1, c2, c3, c4 = st.columns(4)
c1.metric(t("Rows in the file"), preview.total_rows)
c2.metric(t("To add"), preview.to_create)
c3.metric(t("To update"), preview.to_update)
c4.metric(t("Rows with errors"), preview.error_rows)
st.caption(ui.tmd("Sheet {sheet}, header on row {row}.", sheet=preview.sheet or "CSV", row=preview.header_row))
if preview.new_departments:
    st.info(ui.tmd("New departments will be created: {names}", names="、".join(preview.new_departments)))
if preview.ignored_columns:
    st.caption(ui.tmd("Columns the ledger does not keep, ignored: {names}", names="、".join(preview.ignored_columns)))
if preview.converted_ids:
    st.info(t("Old 15-digit ID numbers are imported in their 18-digit form:"))
    st.dataframe(
        pd.DataFrame(
            [(c.sheet_row, c.as_written, c.converted) for c in preview.converted_ids],
            columns=[t("Row"), t("ID number in the file"), t("18-digit ID number imported")],
        ),
        hide_index=True,
        width="stretch",
    )
if preview.identity_changes:
    st.warning(
        t(
            "{n} staff members already on the ledger change their name or ID number with this file. "
            "Check that each row is the same person before importing:",
            n=len(preview.identity_changes),
        )
    )
    st.dataframe(
        pd.DataFrame(
            [
                (c.sheet_row, c.staff_no, c.name_before, c.name_after, t("Yes") if c.id_number_changes else t("No"))
                for c in preview.identity_changes
            ],
            columns=[t("Row"), t("Staff no."), t("Name on the ledger"), t("Name in the file"), t("ID number changes")],
        ),
        hide_index=True,
        width="stretch",
    )
if preview.footers:
    st.caption(t("Rows under the table that are not people, skipped:"))
    st.dataframe(
        pd.DataFrame([(f.sheet_row, f.text) for f in preview.footers], columns=[t("Row"), t("Content")]),
        hide_index=True,
        width="stretch",
    )

if preview.errors:
    st.error(
        t(
            "The file has {n} errors in {rows} rows. Nothing has been imported. "
            "Correct the file and check it again, or import only the correct rows.",
            n=len(preview.errors),
            rows=preview.error_rows,
        )
    )
    errors = pd.DataFrame(
        [(e.sheet_row, e.column, e.message(ui.lang())) for e in preview.errors],
        columns=[t("Row"), t("Column"), t("Problem")],
    )
    ui.wrapped_table(errors, [t("Problem")])
    ui.download_button(
        t("Download the rows with errors (xlsx, with a reason column)"),
        imports.rejected_rows_xlsx(preview, ui.lang()),
        t("rejected-rows_{name}.xlsx", name=safe_file_stem(upload.name.rsplit(".", 1)[0])),
    )
    clean_rows_only = st.checkbox(
        t("Import only the {n} correct rows and leave the others out", n=len(preview.rows)),
        disabled=not preview.rows,
        key="import_clean_only",
    )
else:
    st.success(t("Every row is correct."))
    clean_rows_only = False

can_write = preview.rows and (not preview.errors or clean_rows_only)
if st.button(
    t("Import {n} rows", n=len(preview.rows)), type="primary", disabled=not can_write, icon=":material/upload:"
):
    bar, report = progress_bar(t("Importing..."))
    commit = imports.commit_staff if kind == "staff" else imports.commit_family
    result = ui.run_action(
        lambda: commit(ui.engine(), actor, preview, clean_rows_only=clean_rows_only, progress=report)
    )
    bar.empty()
    if result:
        st.session_state.pop("import_preview", None)
        st.session_state["import_round"] = upload_round + 1
        ui.flash(
            "success",
            t(
                "Imported: {created} added, {updated} updated, {skipped} rows left out.",
                created=result.created,
                updated=result.updated,
                skipped=result.skipped_rows,
            ),
        )
        st.rerun()
