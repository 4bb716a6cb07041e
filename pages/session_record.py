"""One study session: details, expected list, sign-in sheet, roll call, make-up, history."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from pages import _history
from pages import _ui as ui
from pages._ui import t
from services.core import uploads
from services.core.errors import ServiceError
from services.core.files import safe_file_stem
from services.core.formatting import fmt_date, fmt_datetime, local_today
from services.core.permissions import Permission
from services.education import training
from services.education.training import Status

actor = ui.require(Permission.READ_LEDGER)
can_edit = actor.can(Permission.EDIT_RECORDS)
session_id = ui.record_id_or_stop(
    t("Choose a session in the list of study sessions."), "pages/sessions.py", t("Study sessions"), ":material/school:"
)
try:
    details, roster = training.get_session(ui.engine(), actor, session_id)
except ServiceError as err:
    ui.show_error(err)
    st.stop()

version_key = f"session_version_{session_id}"
base_version = ui.base_version(version_key, details["version"])
prefix = f"ses{session_id}v{base_version}_"
held = details["held_on"] <= local_today()

st.page_link("pages/sessions.py", label=t("Back to the study sessions"), icon=":material/arrow_back:")
st.title(f"{ui.md(details['title'])} · {fmt_date(details['held_on'])}")
if details["makeup_of_id"]:
    try:
        original, _ = training.get_session(ui.engine(), actor, details["makeup_of_id"])
        c1, c2 = st.columns([3, 1])
        c1.caption(
            ui.tmd("A make-up of {title} ({date}).", title=original["title"], date=fmt_date(original["held_on"]))
        )
        if c2.button(t("Open the original session"), icon=":material/undo:"):
            st.switch_page("pages/session_record.py", query_params={"id": str(details["makeup_of_id"])})
    except ServiceError:
        pass

counts = roster["status"].value_counts()
expected = len(roster)
attended = int(counts.get(Status.PRESENT, 0) + counts.get(Status.MADE_UP, 0))
cols = st.columns(6)
cols[0].metric(t("Expected"), expected)
cols[1].metric(t("Present"), int(counts.get(Status.PRESENT, 0)))
cols[2].metric(t("Absent"), int(counts.get(Status.ABSENT, 0)))
cols[3].metric(t("Excused"), int(counts.get(Status.EXCUSED, 0)))
cols[4].metric(t("Made up"), int(counts.get(Status.MADE_UP, 0)))
marked = expected - int(counts.get(Status.EXPECTED, 0))
cols[5].metric(t("Attendance rate"), f"{attended / expected:.1%}" if expected and marked else "—")

tab_roll, tab_details, tab_expected, tab_history = st.tabs(
    [t("Roll call"), t("Details"), t("Expected list"), t("History")]
)

# ---------------------------------------------------------------- roll call
with tab_roll:
    ui.printable_downloads(
        t("Download the sign-in sheet"),
        t("sign-in-sheet_{day}_{title}", day=details["held_on"].isoformat(), title=safe_file_stem(details["title"])),
        training.sign_in_sheet,
        session_id,
        ui.lang(),
        key=f"sign_in_{session_id}",
    )

    labels = {s: t(training.STATUS_LABELS[s]) for s in (Status.PRESENT, Status.ABSENT, Status.EXCUSED, Status.MADE_UP)}
    codes = {label: code for code, label in labels.items()}
    editor_round = st.session_state.get(f"roll_round_{session_id}", 0)
    preset_key = f"roll_preset_{session_id}"
    saves = st.session_state.get(f"roll_saves_{session_id}", 0)  # a save starts the rows' versions afresh
    # The user's marks not saved yet {employee_id: status}: from "mark the selected as", "all present" or a sheet.
    preset = st.session_state.get(preset_key) or {}
    # Each row's version as this table first showed it: a save is based on it, row by row.
    row_versions = ui.base_version(
        f"roll_{session_id}_{base_version}_{saves}_versions",
        {int(e): int(v) for e, v in zip(roster["employee_id"], roster["version"], strict=True)},
    )
    conflicts_key = f"roll_conflicts_{session_id}"
    if ui.just_arrived():
        st.session_state.pop(conflicts_key, None)

    def initial_status(row: Any) -> str:  # a row of roster.itertuples()
        if row.status == Status.MADE_UP:
            return labels[Status.MADE_UP]
        if row.employee_id in preset:
            return labels[Status(preset[row.employee_id])]
        return labels[Status(row.status)] if row.status != Status.EXPECTED else labels[Status.PRESENT]

    if roster.empty:
        st.info(t("Nobody is expected at this session."))
    else:
        grid = pd.DataFrame(
            {
                "employee_id": roster["employee_id"],
                "department": roster["department"],
                "staff_no": roster["staff_no"],
                "name": roster["name"],
                "status": [initial_status(r) for r in roster.itertuples()],
                "recorded": roster["status"].map(lambda s: t(training.STATUS_LABELS.get(s, s))),
            }
        )
        editable = can_edit and held
        if not held:
            st.info(
                t(
                    "The session on {date} has not taken place yet; attendance can be recorded from that day on.",
                    date=fmt_date(details["held_on"]),
                )
            )
        elif can_edit:
            st.caption(
                t(
                    "Everyone starts as present: tick those absent or excused (find them with the search), "
                    "mark them with the buttons under the table, then save once. "
                    "Made up is set by attending a make-up session."
                )
            )
        if st.session_state.get(conflicts_key):
            st.warning(
                t(
                    "Some marks were not saved: someone changed these people's attendance after you opened "
                    "the roll call. Your marks are still in the table; compare them with the recorded "
                    "attendance, then save again."
                )
            )
            ui.conflicts_table(st.session_state[conflicts_key])
        c1, c2 = st.columns([2, 1], vertical_alignment="bottom")
        search = c1.text_input(
            t("Find people"), placeholder=t("Staff no., name or department"), key=f"roll_search_{session_id}"
        )
        only_owing = c2.toggle(t("Only absent or excused"), key=f"roll_only_owing_{session_id}")
        grid["unsaved"] = (grid["status"] != grid["recorded"]).map({True: "✓", False: ""})
        shown = grid.loc[ui.frame_search(grid)(search, len(grid))[0].index]
        saved_codes = {int(r.employee_id): Status(r.status).value for r in roster.itertuples()}
        # Marked by the user away from how the table opened (the unmarked open as present) ...
        opened_as = {
            e: Status.PRESENT.value if code == Status.EXPECTED.value else code for e, code in saved_codes.items()
        }
        touched = [e for e, code in preset.items() if code != opened_as.get(e)]
        if only_owing:  # ... stay in view until saved, so the marks can be checked
            owing = shown["status"].isin([labels[Status.ABSENT], labels[Status.EXCUSED]])
            shown = shown[owing | shown["employee_id"].isin(touched)]
        # Once the user has marked anyone, every row not as saved (待保存) waits for the one save.
        unsaved = int((grid["unsaved"] != "").sum()) if preset else 0
        if editable and unsaved:
            st.warning(t("{n} people's attendance is not saved yet: save the roll call before leaving.", n=unsaved))
        config = {
            "department": t("Department"),
            "staff_no": t("Staff no."),
            "name": t("Name"),
            "status": t("Attendance"),
            "recorded": t("As recorded"),
            "unsaved": t("Not saved yet"),
        }
        if shown.empty:
            st.caption(t("Nobody here matches."))
        elif editable:
            rows = ui.table_selection(shown, config, key=f"roll_table_{session_id}_{editor_round}", mode="multi-row")
            chosen = ui.selected_ids(rows, [int(e) for e in shown["employee_id"]])
            st.caption(
                t("{n} selected of {shown} shown ({total} expected).", n=len(chosen), shown=len(shown), total=len(grid))
            )
            cols = st.columns([1.4, 1, 1, 1, 2], vertical_alignment="center")
            cols[0].markdown(f"**{t('Mark the selected as:')}**")
            for column, status in zip(cols[1:], (Status.PRESENT, Status.ABSENT, Status.EXCUSED), strict=False):
                if column.button(labels[status], key=f"roll_mark_{status}", disabled=not chosen):
                    current = {int(r.employee_id): codes[r.status] for r in grid.itertuples()}
                    made_up = {int(r.employee_id) for r in roster.itertuples() if r.status == Status.MADE_UP}
                    st.session_state[preset_key] = current | {e: status.value for e in chosen if e not in made_up}
                    st.session_state[f"roll_round_{session_id}"] = editor_round + 1
                    st.rerun()
        else:
            ui.show_table(shown, config)
        if editable:
            c1, c2, c3 = st.columns([1, 1, 2])
            if c1.button(t("Save the roll call"), type="primary", icon=":material/save:"):
                marks = {int(e): codes[s] for e, s in zip(grid["employee_id"], grid["status"], strict=True)}
                saved = ui.run_action(
                    lambda: training.record_roll_call(ui.engine(), actor, session_id, marks, based_on=row_versions)
                )
                if saved is not None:
                    if saved.refused:  # keep the user's marks, show who changed which person and when
                        st.session_state[preset_key] = marks
                        st.session_state[conflicts_key] = [(c.name, c.who, c.when_shown) for c in saved.refused]
                    else:
                        st.session_state.pop(preset_key, None)
                        st.session_state.pop(conflicts_key, None)
                    st.session_state[f"roll_round_{session_id}"] = editor_round + 1
                    st.session_state[f"roll_saves_{session_id}"] = saves + 1
                    ui.flash("success", t("Roll call saved: {n} changes.", n=saved.changed))
                    st.rerun()
            if c2.button(t("All present"), icon=":material/done_all:"):
                st.session_state[preset_key] = {
                    int(r.employee_id): Status.PRESENT.value for r in roster.itertuples() if r.status != Status.MADE_UP
                }
                st.session_state[f"roll_round_{session_id}"] = editor_round + 1
                st.rerun()
            with st.expander(t("Import a filled-in sign-in sheet"), icon=":material/upload_file:"):
                st.caption(
                    t(
                        "A signature (or present) counts as present, excused as excused, "
                        "absent or an empty cell as absent. "
                        "The marks are put in the table above for you to check and save."
                    )
                )
                upload = st.file_uploader(
                    t("Sign-in sheet (xlsx)"),
                    type=["xlsx"],
                    key=f"sheet_{session_id}",
                    max_upload_size=uploads.MAX_UPLOAD_MB,
                )
                if upload is not None and st.button(t("Read the sheet"), icon=":material/fact_check:"):
                    marks = ui.run_action(
                        lambda: training.marks_from_sign_in_sheet(ui.engine(), actor, session_id, upload.getvalue())
                    )
                    if marks:
                        st.session_state[preset_key] = marks
                        st.session_state[f"roll_round_{session_id}"] = editor_round + 1
                        ui.flash(
                            "info",
                            t(
                                "Marks read for {n} people from the sheet; check them and save the roll call.",
                                n=len(marks),
                            ),
                        )
                        st.rerun()

    owing = int(counts.get(Status.ABSENT, 0) + counts.get(Status.EXCUSED, 0))
    if can_edit and not details["makeup_of_id"] and owing:
        st.divider()
        c1, c2 = st.columns([3, 1])
        c1.write(t("{n} people were absent or excused and owe a make-up.", n=owing))
        if c2.button(t("Schedule a make-up"), icon=":material/event_repeat:"):
            st.switch_page("pages/sessions.py", query_params={"makeup_of": str(session_id)})

# ---------------------------------------------------------------- details
with tab_details:
    forms = list(training.FORM_LABELS)
    with st.form(prefix + "details"):
        c1, c2, c3 = st.columns(3)
        held_on = c1.date_input(t("Date"), value=details["held_on"], key=prefix + "held_on", disabled=not can_edit)
        form = c2.selectbox(
            t("Form"),
            forms,
            index=forms.index(details["form"]) if details["form"] in forms else 0,
            format_func=lambda c: t(training.FORM_LABELS[c]),
            key=prefix + "form",
            disabled=not can_edit,
        )
        hours = c3.text_input(t("Hours"), value=str(details["hours"]), key=prefix + "hours", disabled=not can_edit)
        title = st.text_input(t("Title"), value=details["title"], key=prefix + "title", disabled=not can_edit)
        content = st.text_area(
            t("Content studied"), value=details["content"] or "", key=prefix + "content", disabled=not can_edit
        )
        c1, c2 = st.columns(2)
        organiser = c1.text_input(
            t("Organiser"), value=details["organiser"] or "", key=prefix + "organiser", disabled=not can_edit
        )
        place = c2.text_input(t("Place"), value=details["place"] or "", key=prefix + "place", disabled=not can_edit)
        st.caption(t("Moving the date recomputes who is expected among those not yet marked."))
        saved = st.form_submit_button(t("Save"), type="primary", disabled=not can_edit)
    if saved:
        version = ui.run_action(
            lambda: training.update_session(
                ui.engine(),
                actor,
                session_id,
                base_version,
                held_on=held_on,
                title=title,
                form=form,
                content=content,
                organiser=organiser,
                place=place,
                hours=hours,
            )
        )
        if version:
            st.session_state[version_key] = version
            ui.flash("success", t("Saved."))
            st.rerun()

    if can_edit:
        with st.expander(t("Delete this session"), icon=":material/delete:"):
            st.caption(t("Only a session with no attendance recorded and no make-up sessions can be deleted."))
            with st.form(prefix + "delete"):
                sure = st.checkbox(t("Yes, delete this session and its expected list"))
                if st.form_submit_button(t("Delete session")):
                    if not sure:
                        st.warning(t("Tick the box to confirm."))
                    elif ui.run_action(lambda: training.delete_session(ui.engine(), actor, session_id, base_version)):
                        ui.flash("success", t("Session deleted."))
                        st.switch_page("pages/sessions.py")

# ---------------------------------------------------------------- expected list
with tab_expected:
    st.caption(
        t(
            "{n} people are expected. The list was fixed when the session was created; later hires are not added.",
            n=expected,
        )
    )
    if can_edit:
        current = {int(e) for e in roster["employee_id"]}
        in_post = ui.staff_in_post_search(actor, details["held_on"])

        def not_yet_expected(text: str, limit: int) -> tuple[pd.DataFrame, int]:
            """Staff in post on the day who are not on the list (those on it are left out of the matches)."""
            found, total = in_post(text, limit)
            return found[~found["employee_id"].isin(current)], total

        c1, c2 = st.columns(2)
        with c1:
            add = ui.people_picker(t("Add people"), prefix + "add", not_yet_expected)
        with c2:
            remove = ui.people_picker(t("Take people off"), prefix + "remove", ui.frame_search(roster))
        if st.button(t("Save the expected list"), disabled=not add and not remove):
            result = ui.run_action(
                lambda: training.set_expected(ui.engine(), actor, session_id, (current | set(add)) - set(remove))
            )
            if result:
                ui.forget_picker(prefix + "add")
                ui.forget_picker(prefix + "remove")
                ui.flash("success", t("Expected list saved: {added} added, {removed} taken off.", **result))
                st.rerun()
    shown = roster.assign(
        status=roster["status"].map(lambda s: t(training.STATUS_LABELS.get(s, s))),
        marked_at=roster["marked_at"].map(lambda v: fmt_datetime(v) if pd.notna(v) else ""),
    )
    ui.show_table(
        shown,
        {
            "department": t("Department"),
            "staff_no": t("Staff no."),
            "name": t("Name"),
            "status": t("Status"),
            "marked_at": t("Marked at"),
            "marked_by": t("Marked by"),
        },
    )

# ---------------------------------------------------------------- history
with tab_history:
    _history.show(actor, training.session_history(ui.engine(), actor, session_id), key="session")
