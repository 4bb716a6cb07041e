"""One leaflet: details, PDF, the households to reach, receipts in one table, receipt list, history."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import streamlit as st

from pages import _history
from pages import _ui as ui
from pages._ui import t
from services.core import files, uploads
from services.core.errors import ServiceError
from services.core.formatting import fmt_date, fmt_datetime, local_today
from services.core.permissions import Permission
from services.education import outreach
from services.education.outreach import DistributionMark
from services.education.training import Audience
from services.ledger import roster

actor = ui.require(Permission.READ_LEDGER)
can_edit = actor.can(Permission.EDIT_RECORDS)
today = local_today()
leaflet_id = ui.record_id_or_stop(
    t("Choose a leaflet in the list of leaflets."), "pages/leaflets.py", t("Leaflets"), ":material/campaign:"
)
try:
    details, households = outreach.get_leaflet(ui.engine(), actor, leaflet_id)
except ServiceError as err:
    ui.show_error(err)
    st.stop()

version_key = f"leaflet_version_{leaflet_id}"
base_version = ui.base_version(version_key, details["version"])
prefix = f"lf{leaflet_id}v{base_version}_"

st.page_link("pages/leaflets.py", label=t("Back to the leaflets"), icon=":material/arrow_back:")
st.title(ui.md(details["title"]))
st.caption(
    f"{t(outreach.KIND_LABELS.get(details['kind'], details['kind']))} · "
    + t("issued on {date}, {copies} copies", date=fmt_date(details["issued_on"]), copies=details["copies"])
)

on_list = households[households["expected"].astype(bool)]
delivered = int(on_list["delivered_on"].notna().sum())
cols = st.columns(4)
cols[0].metric(t("Expected households"), len(on_list))
cols[1].metric(t("Delivered"), delivered)
cols[2].metric(t("Signed"), int((on_list["delivered_on"].notna() & on_list["signed"].astype(bool)).sum()))
cols[3].metric(t("Coverage"), f"{delivered / len(on_list):.1%}" if len(on_list) else "—")

tab_receipts, tab_details, tab_households, tab_history = st.tabs(
    [t("Receipts"), t("Details and PDF"), t("Households to reach"), t("History")]
)

# ---------------------------------------------------------------- receipts
with tab_receipts:
    ui.printable_downloads(
        t("Download the receipt list"),
        t(
            "receipt-list_{day}_{title}",
            day=details["issued_on"].isoformat(),
            title=files.safe_file_stem(details["title"]),
        ),
        outreach.receipt_list,
        leaflet_id,
        ui.lang(),
        key=f"receipts_{leaflet_id}",
    )

    methods = {code: t(label) for code, label in outreach.METHOD_LABELS.items()}
    method_codes = {label: code for code, label in methods.items()}
    editor_round = st.session_state.get(f"dist_round_{leaflet_id}", 0)
    saves = st.session_state.get(f"dist_saves_{leaflet_id}", 0)  # a save starts the rows' versions afresh
    preset = st.session_state.get(f"dist_preset_{leaflet_id}", {})  # {employee_id: (date, method, received_by, signed)}
    # Each row's version as this table first showed it: a save is based on it, row by row.
    row_versions = ui.base_version(
        f"dist_{leaflet_id}_{base_version}_{saves}_versions",
        {int(e): int(v) for e, v in zip(households["employee_id"], households["version"], strict=True)},
    )
    conflicts_key = f"dist_conflicts_{leaflet_id}"
    if ui.just_arrived():
        st.session_state.pop(conflicts_key, None)

    if households.empty:
        st.info(t("No household is on this leaflet's list."))
    else:
        rows = []
        for r in households.itertuples():
            stored = (
                r.delivered_on if pd.notna(r.delivered_on) else None,
                methods.get(r.method),
                r.received_by,
                bool(r.signed),
            )
            delivered_on, method, received_by, signed = preset.get(r.employee_id, stored)
            rows.append(
                {
                    "employee_id": r.employee_id,
                    "department": r.department,
                    "staff_no": r.staff_no,
                    "name": r.name,
                    "delivered_on": delivered_on,
                    "method": method,
                    "received_by": received_by,
                    "signed": signed,
                }
            )
        grid = pd.DataFrame(rows)
        grid["delivered_on"] = pd.to_datetime(grid["delivered_on"]).dt.date
        if can_edit:
            st.caption(
                t(
                    "Tick the households reached (find them with the search), fill in the date, the method "
                    "and who received it under the table and mark them, then save once. "
                    "Taking a receipt back clears it."
                )
            )
        if st.session_state.get(conflicts_key):
            st.warning(
                t(
                    "Some receipts were not saved: someone changed these households after you opened the "
                    "table. Your entries are still in the table; compare them with the receipt list, then "
                    "save again."
                )
            )
            ui.conflicts_table(st.session_state[conflicts_key])
        c1, c2 = st.columns([2, 1], vertical_alignment="bottom")
        search = c1.text_input(
            t("Find people"), placeholder=t("Staff no., name or department"), key=f"dist_search_{leaflet_id}"
        )
        only_open = c2.toggle(t("Only not signed for"), key=f"dist_only_open_{leaflet_id}")
        shown = grid.loc[ui.frame_search(grid)(search, len(grid))[0].index]
        if only_open:  # a row marked but not saved yet stays in view, so the mark can be checked
            shown = shown[
                shown["delivered_on"].isna() | ~shown["signed"].astype(bool) | shown["employee_id"].isin(list(preset))
            ]
        shown = shown.assign(unsaved=shown["employee_id"].map(lambda e: "✓" if e in preset else ""))
        if can_edit and preset:
            st.warning(
                t("{n} households are marked but not saved yet: save the receipts before leaving.", n=len(preset))
            )
        config = {
            "department": t("Department"),
            "staff_no": t("Staff no."),
            "name": t("Name"),
            "delivered_on": st.column_config.DateColumn(t("Delivered on"), format="YYYY-MM-DD"),
            "method": t("Method"),
            "received_by": t("Received by"),
            "signed": st.column_config.CheckboxColumn(t("Signed")),
            "unsaved": t("Not saved yet"),
        }
        if shown.empty:
            st.caption(t("No household here matches."))
        elif can_edit:
            picked = ui.table_selection(shown, config, key=f"dist_table_{leaflet_id}_{editor_round}", mode="multi-row")
            chosen = ui.selected_ids(picked, [int(e) for e in shown["employee_id"]])
            st.caption(
                t(
                    "{n} selected of {shown} shown ({total} households).",
                    n=len(chosen),
                    shown=len(shown),
                    total=len(grid),
                )
            )
            c1, c2, c3, c4 = st.columns([1, 1, 1, 1], vertical_alignment="bottom")
            mark_day = c1.date_input(t("Delivered on"), value=today, max_value=today, key=prefix + "mark_day")
            mark_method = c2.selectbox(t("Method"), list(methods), format_func=methods.get, key=prefix + "mark_method")
            mark_by = c3.text_input(
                t("Received by"), placeholder=t("The staff member"), max_chars=30, key=prefix + "mark_by"
            )
            mark_signed = c4.checkbox(t("Signed"), value=True, key=prefix + "mark_signed")
            c1, c2, _ = st.columns([1, 1, 1])
            names = dict(zip(grid["employee_id"], grid["name"], strict=True))
            marked = None
            if c1.button(t("Mark the selected as delivered"), icon=":material/task_alt:", disabled=not chosen):
                marked = {e: (mark_day, methods[mark_method], mark_by.strip() or names[e], mark_signed) for e in chosen}
            if c2.button(t("Take the selected receipts back"), icon=":material/undo:", disabled=not chosen):
                marked = dict.fromkeys(chosen, (None, None, None, False))
            if marked:
                st.session_state[f"dist_preset_{leaflet_id}"] = preset | marked
                st.session_state[f"dist_round_{leaflet_id}"] = editor_round + 1
                st.rerun()
        else:
            ui.show_table(shown, config)
        if can_edit:
            if st.button(t("Save the receipts"), type="primary", icon=":material/save:"):

                def cell(value: Any) -> Any:
                    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else value

                def day(value: Any) -> dt.date | None:
                    value = cell(value)
                    if value is None or isinstance(value, dt.date) and not isinstance(value, dt.datetime):
                        return value
                    return pd.Timestamp(value).date()  # an edited cell comes back as a timestamp or ISO text

                stored = {
                    int(r.employee_id): (
                        cell(r.delivered_on),
                        r.method if isinstance(r.method, str) else None,
                        cell(r.received_by),
                        bool(r.signed),
                    )
                    for r in households.itertuples()
                }
                marks = []
                for r in grid.itertuples():
                    received = (cell(r.received_by) or "").strip() or None
                    mark = DistributionMark(
                        int(r.employee_id),
                        day(r.delivered_on),
                        method_codes.get(cell(r.method)),
                        received,
                        bool(r.signed),
                        based_on=row_versions.get(int(r.employee_id)),
                    )
                    if (mark.delivered_on, mark.method, mark.received_by, mark.signed) != stored[mark.employee_id]:
                        marks.append(mark)
                saved = ui.run_action(lambda: outreach.record_distributions(ui.engine(), actor, leaflet_id, marks))
                if saved is not None:
                    if saved.refused:  # keep the user's entries, show who changed which household and when
                        refused = {c.employee_id for c in saved.refused}
                        st.session_state[f"dist_preset_{leaflet_id}"] = {
                            m.employee_id: (m.delivered_on, methods.get(m.method or ""), m.received_by, m.signed)
                            for m in marks
                            if m.employee_id in refused
                        }
                        st.session_state[conflicts_key] = [(c.name, c.who, c.when_shown) for c in saved.refused]
                    else:
                        st.session_state.pop(f"dist_preset_{leaflet_id}", None)
                        st.session_state.pop(conflicts_key, None)
                    st.session_state[f"dist_round_{leaflet_id}"] = editor_round + 1
                    st.session_state[f"dist_saves_{leaflet_id}"] = saves + 1
                    ui.flash("success", t("Receipts saved: {n} households changed.", n=saved.changed))
                    st.rerun()

            with st.expander(t("Fill in many households at once"), icon=":material/playlist_add_check:"):
                departments = sorted({d for d in households["department"].dropna()})
                with st.form(prefix + "fill"):
                    c1, c2, c3 = st.columns(3)
                    fill_day = c1.date_input(t("Delivered on"), value=today, max_value=today, key=prefix + "fill_day")
                    fill_method = c2.selectbox(
                        t("Method"), list(methods), format_func=methods.get, key=prefix + "fill_method"
                    )
                    fill_department = c3.selectbox(
                        t("Department"),
                        [None, *departments],
                        format_func=lambda d: t("(all)") if d is None else d,
                        placeholder=t("(all)"),
                        key=prefix + "fill_department",
                    )
                    fill_signed = st.checkbox(t("Signed by the staff member"), value=True, key=prefix + "fill_signed")
                    st.caption(
                        t(
                            "Households not yet reached get this date and method, received by the staff member; "
                            "the table is filled in for you to check and save."
                        )
                    )
                    filled = st.form_submit_button(t("Fill in the table"))
                if filled:
                    fill = dict(preset)
                    for r in households.itertuples():
                        if pd.notna(r.delivered_on) or r.employee_id in preset:
                            continue
                        if fill_department is not None and r.department != fill_department:
                            continue
                        fill[r.employee_id] = (fill_day, methods[fill_method], r.name, fill_signed)
                    st.session_state[f"dist_preset_{leaflet_id}"] = fill
                    st.session_state[f"dist_round_{leaflet_id}"] = editor_round + 1
                    st.rerun()

# ---------------------------------------------------------------- details and PDF
with tab_details:
    kinds = list(outreach.KIND_LABELS)
    with st.form(prefix + "details"):
        title = st.text_input(t("Title"), value=details["title"], key=prefix + "title", disabled=not can_edit)
        c1, c2, c3 = st.columns(3)
        kind = c1.selectbox(
            t("Kind"),
            kinds,
            index=kinds.index(details["kind"]) if details["kind"] in kinds else 0,
            format_func=lambda c: t(outreach.KIND_LABELS[c]),
            key=prefix + "kind",
            disabled=not can_edit,
        )
        issued_on = c2.date_input(
            t("Issued on"), value=details["issued_on"], key=prefix + "issued_on", disabled=not can_edit
        )
        copies = c3.number_input(
            t("Copies"),
            min_value=0,
            max_value=outreach.MAX_COPIES,
            value=int(details["copies"]),
            step=1,
            key=prefix + "copies",
            disabled=not can_edit,
        )
        notes = st.text_input(t("Notes"), value=details["notes"] or "", key=prefix + "notes", disabled=not can_edit)
        saved = st.form_submit_button(t("Save"), type="primary", disabled=not can_edit)
    if saved:
        version = ui.run_action(
            lambda: outreach.update_leaflet(
                ui.engine(),
                actor,
                leaflet_id,
                base_version,
                title=title,
                kind=kind,
                issued_on=issued_on,
                copies=copies,
                notes=notes,
            )
        )
        if version:
            st.session_state[version_key] = version
            ui.flash("success", t("Saved."))
            st.rerun()

    st.subheader(t("PDF attachment"))
    if details["attachment"]:
        st.caption(
            ui.tmd("{name}, {size} KB", name=details["attachment"], size=round(details["attachment_size"] / 1024, 1))
        )
        filename, content = outreach.get_attachment(ui.engine(), actor, leaflet_id)
        ui.download_button(t("Download the PDF"), content, filename, icon=":material/picture_as_pdf:")
    else:
        st.caption(t("No PDF attached."))
    if can_edit:
        upload = st.file_uploader(
            t("Attach a PDF (at most {max} MB)", max=files.MAX_ATTACHMENT_BYTES // (1024 * 1024)),
            type=["pdf"],
            key=prefix + "pdf",
            max_upload_size=uploads.MAX_ATTACHMENT_MB,
        )
        c1, c2 = st.columns(2)
        if upload is not None and c1.button(t("Attach the PDF"), icon=":material/attach_file:"):
            if ui.run_action(
                lambda: outreach.attach_pdf(ui.engine(), actor, leaflet_id, upload.name, upload.getvalue())
            ):
                ui.flash("success", t("PDF attached."))
                st.rerun()
        if details["attachment"] and c2.button(t("Remove the PDF"), icon=":material/delete:"):
            if ui.run_action(lambda: outreach.remove_attachment(ui.engine(), actor, leaflet_id)):
                ui.flash("success", t("PDF removed."))
                st.rerun()

        with st.expander(t("Delete this leaflet"), icon=":material/delete:"):
            st.caption(t("Only a leaflet that no household has received yet can be deleted."))
            with st.form(prefix + "delete"):
                sure = st.checkbox(t("Yes, delete this leaflet, its household list and its PDF"))
                if st.form_submit_button(t("Delete leaflet")):
                    if not sure:
                        st.warning(t("Tick the box to confirm."))
                    elif ui.run_action(lambda: outreach.delete_leaflet(ui.engine(), actor, leaflet_id, base_version)):
                        ui.flash("success", t("Leaflet deleted."))
                        st.switch_page("pages/leaflets.py")

# ---------------------------------------------------------------- households to reach
with tab_households:
    st.caption(
        t(
            "{n} households are on the list. A household taken off after it was reached keeps its receipt.",
            n=len(on_list),
        )
    )
    if can_edit:
        # Not a form: finding households among thousands reruns the page.
        audience_labels = {
            "all": t("All staff households"),
            "departments": t("Chosen departments"),
            "people": t("Chosen households"),
        }
        kind_of_audience = st.radio(
            t("Households to reach"),
            list(audience_labels),
            format_func=audience_labels.get,
            index=list(audience_labels).index(details["audience"]) if details["audience"] in audience_labels else 0,
            horizontal=True,
            key=prefix + "audience",
        )
        chosen_departments, chosen_people = [], []
        if kind_of_audience == "departments":
            departments = dict(roster.departments(ui.engine(), actor))
            current_departments = [int(d) for d in (details["audience_departments"] or "").split(",") if d]
            chosen_departments = st.multiselect(
                t("Which departments"),
                list(departments),
                default=[d for d in current_departments if d in departments],
                format_func=departments.get,
                key=prefix + "departments",
                placeholder=t("Choose one or more"),
            )
        elif kind_of_audience == "people":
            chosen_people = ui.people_picker(
                t("Which households"),
                prefix + "people",
                ui.staff_in_post_search(actor, details["issued_on"]),
                default=ui.person_labels(on_list) if details["audience"] == "people" else None,
            )
        if st.button(t("Save the households to reach")):
            audience = {
                "all": Audience.all,
                "departments": lambda: Audience.departments(chosen_departments),
                "people": lambda: Audience.people(chosen_people),
            }[kind_of_audience]()
            result = ui.run_action(
                lambda: outreach.set_distribution_targets(ui.engine(), actor, leaflet_id, audience, base_version)
            )
            if result:
                st.session_state.pop(version_key, None)
                ui.forget_picker(prefix + "people")
                ui.flash("success", t("Households saved: {added} added, {removed} taken off.", **result))
                st.rerun()
    unreached = outreach.unreached_households(ui.engine(), actor, details["issued_on"].year, leaflet_id)
    st.markdown(f"**{t('Households not yet reached')}**")
    if unreached.empty:
        st.caption(t("Every expected household has been reached."))
    else:
        ui.show_table(unreached, {"department": t("Department"), "staff_no": t("Staff no."), "name": t("Name")})

# ---------------------------------------------------------------- history
with tab_history:
    _history.show(actor, outreach.leaflet_history(ui.engine(), actor, leaflet_id), key="leaflet")
    if households["marked_at"].notna().any():
        st.caption(t("Last receipt recorded {when}.", when=fmt_datetime(households["marked_at"].max())))
