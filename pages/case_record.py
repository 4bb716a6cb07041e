"""One violation case: record a new one, edit and submit a draft (after a question), withdraw
it to draft until it is decided, record an appeal, decide (with a reason and a confirmation
step), download the evidence, print the decision notice and the notice of rights, read the
full history."""

import datetime as dt
from collections.abc import Callable
from typing import Any, NoReturn

import streamlit as st

from pages import _history
from pages import _ui as ui
from pages._ui import t
from services.core import uploads
from services.core.errors import ServiceError, StaleVersion
from services.core.formatting import fmt_date, fmt_datetime, local_today
from services.core.permissions import Permission
from services.ledger import roster, unit
from services.sanctions import cases, lifecycle, notices

actor = ui.require(Permission.READ_LEDGER)
EARLIEST = dt.date(1950, 1, 1)

param = st.query_params.get("id", "")
creating = param == "new"
if not creating and not param.isdigit():
    st.info(t("Choose a case in the list of cases."))
    st.page_link("pages/cases.py", label=t("Violation cases"), icon=":material/gavel:")
    st.stop()

st.page_link("pages/cases.py", label=t("Back to the list of cases"), icon=":material/arrow_back:")


def category_options(include: int | None = None) -> dict[int, tuple[str, str]]:
    frame = cases.list_categories(ui.engine(), actor)
    frame = frame[frame["active"] | (frame["id"] == include)]
    return {int(r.id): (r.name, r.basis) for r in frame.itertuples()}


def family_options(employee_id: int) -> dict[int | None, str]:
    return {None: t("(none: the staff member)")} | {
        mid: f"{t(roster.RELATION_LABELS.get(rel, rel))} · {name}"
        for mid, rel, name in cases.family_choices(ui.engine(), actor, employee_id)
    }


# ---------------------------------------------------------------- new case
if creating:
    ui.require(Permission.RECORD_CASE)
    st.title(t("Record a violation case"))
    st.caption(
        t(
            "The case is saved as a draft; submit it when the facts, basis and evidence are complete. "
            "The principal then decides it."
        )
    )
    preset = st.query_params.get("employee", "")
    default_search = ""
    if preset.isdigit():
        try:
            default_search = roster.get_household(ui.engine(), actor, int(preset)).employee["staff_no"]
        except ServiceError:
            pass
    search = st.text_input(
        t("Find the staff member"), value=default_search, placeholder=t("Name or staff no."), key="new_case_search"
    )
    found = roster.search_staff(ui.engine(), actor, local_today(), search)[0] if search.strip() else None
    staff = (
        {}
        if found is None
        else {
            row.employee_id: " · ".join(x for x in (row.staff_no, row.name, row.department) if isinstance(x, str) and x)
            for row in found.itertuples()
        }
    )
    fields = ui.FieldSlots()  # each refusal appears under its field
    employee_id = st.selectbox(
        t("Staff member"),
        list(staff),
        format_func=staff.get,
        index=0 if staff else None,
        placeholder=t("Type a name or staff no. above"),
        key=f"new_case_employee_{search.strip()}",
    )
    fields.slot("employee_id")
    family = family_options(employee_id) if employee_id else {None: t("(none: the staff member)")}
    family_member_id = st.selectbox(
        t("Family member concerned (optional)"),
        list(family),
        format_func=family.get,
        key=f"new_case_member_{employee_id}",
    )
    fields.slot("family_member_id")
    categories = category_options()
    category_id = st.selectbox(
        t("Category"), list(categories), format_func=lambda c: categories[c][0], key="new_case_category"
    )
    fields.slot("category_id")
    profile = unit.get_unit(ui.engine())
    c1, c2 = st.columns(2)
    occurred_on = c1.date_input(
        t("Date of the violation"), value=None, min_value=EARLIEST, max_value=local_today(), key="new_case_date"
    )
    year = c2.number_input(
        t("Assessment year"),
        min_value=cases.MIN_YEAR,
        max_value=cases.MAX_YEAR,
        step=1,
        value=profile.current_year if profile else local_today().year,
        key="new_case_year",
    )
    with c1:
        fields.slot("occurred_on")
    with c2:
        fields.slot("year")
    facts = st.text_area(t("Facts"), key="new_case_facts", max_chars=cases.LIMITS["facts"])
    fields.slot("facts")
    # Pre-filled from the category; a new key per category so choosing another one refills it.
    basis = st.text_area(
        t("Basis"),
        value=categories[category_id][1] if category_id in categories else "",
        key=f"new_case_basis_{category_id}",
        max_chars=cases.LIMITS["basis"],
        help=t("The law, regulation or unit rule and article the case relies on. Required."),
    )
    fields.slot("basis")
    evidence = st.text_area(
        t("Evidence"),
        key="new_case_evidence",
        max_chars=cases.LIMITS["evidence_note"],
        help=t("What the evidence is and where it is kept."),
    )
    fields.slot("evidence_note")
    upload = st.file_uploader(
        t("Evidence PDF (optional)"), type=["pdf"], key="new_case_pdf", max_upload_size=uploads.MAX_ATTACHMENT_MB
    )
    fields.slot("attachment")
    if st.button(t("Save draft"), type="primary", icon=":material/save:"):
        attachment = (upload.name, upload.getvalue()) if upload is not None else None
        new_id = ui.run_action(
            lambda: cases.create_case(
                ui.engine(),
                actor,
                employee_id=employee_id,
                category_id=category_id,
                occurred_on=occurred_on,
                facts=facts,
                basis=basis,
                evidence_note=evidence,
                year=int(year),
                family_member_id=family_member_id,
                attachment=attachment,
            ),
            fields=fields,
        )
        if new_id:
            ui.flash("success", t("Draft saved. Check it, then submit it for decision."))
            st.switch_page("pages/case_record.py", query_params={"id": str(new_id)})
    st.stop()

# ---------------------------------------------------------------- an existing case
case_id = int(param)
try:
    detail = cases.get_case(ui.engine(), actor, case_id)
except ServiceError as err:
    ui.show_error(err)
    st.stop()
case = detail.case

# The version the user's action is based on: fixed when the case is opened, so a
# decision taken after someone else's change is refused instead of overwriting it.
version_key = f"case_version_{case_id}"
base_version = ui.base_version(version_key, case["version"])


def done(message: str, new_version: int | None = None) -> NoReturn:
    st.session_state[version_key] = new_version if new_version is not None else base_version
    for key in (f"decide_{case_id}", f"case_stale_{case_id}"):
        st.session_state.pop(key, None)
    ui.flash("success", message)
    st.rerun()


def attempt(action: Callable[[], Any]) -> Any:
    """Run a write; a stale version offers a reload."""
    try:
        result = action()
    except StaleVersion as err:
        ui.show_error(err)
        st.session_state[f"case_stale_{case_id}"] = True
        return None
    except ServiceError as err:
        ui.show_error(err)
        return None
    st.cache_data.clear()
    return result


st.title(ui.tmd("Case {case_no}", case_no=case["case_no"]))
st.subheader(t(lifecycle.STATE_LABELS.get(case["state"], case["state"])))
st.page_link(
    "pages/staff_record.py",
    label=ui.md(f"{case['staff_no']} · {case['name']}" + (f" · {case['department']}" if case["department"] else "")),
    icon=":material/person:",
    query_params={"id": str(case["employee_id"])},
)

meta = [
    (t("Staff member"), f"{case['staff_no']} · {case['name']}"),
    (
        t("Family member concerned"),
        f"{t(roster.RELATION_LABELS.get(case['family_relation'], case['family_relation'] or ''))}"
        f" · {case['family_member']}"
        if case["family_member"]
        else "—",
    ),
    (t("Category"), case["category"]),
    (t("Date of the violation"), fmt_date(case["occurred_on"])),
    (t("Assessment year"), str(case["year"])),
    (t("Recorded by"), f"{case['recorded_by_name']} · {fmt_datetime(case['recorded_at'])}"),
    (t("Submitted"), fmt_datetime(case["submitted_at"]) or "—"),
]
# The decision, appeal and revocation lines carry a reason: shown whole, each on a line of its own.
outcome: list[tuple[str, str]] = []
if case["decided_at"]:
    outcome.append(
        (
            t("Decision"),
            f"{t(lifecycle.STATE_LABELS.get(case['decision'], case['decision']))} · {case['decided_by_name']} · "
            f"{fmt_datetime(case['decided_at'])}"
            + (f" · {case['decision_reason']}" if case["decision_reason"] else ""),
        )
    )
if case["appealed_at"]:
    outcome.append((t("Appeal"), f"{fmt_datetime(case['appealed_at'])} · {case['appeal_grounds']}"))
if case["appeal_decided_at"]:
    result = t("Appeal dismissed") if case["appeal_result"] == "upheld" else t("Overturned on appeal")
    outcome.append(
        (
            t("Appeal decision"),
            f"{result} · {case['appeal_decided_by_name']} · {fmt_datetime(case['appeal_decided_at'])}"
            f" · {case['appeal_reason']}",
        )
    )
if case["revoked_at"]:
    outcome.append(
        (t("Revoked"), f"{case['revoked_by_name']} · {fmt_datetime(case['revoked_at'])} · {case['revoke_reason']}")
    )
ui.fields_text(meta, columns=4)
ui.fields_text(
    [*outcome, (t("Facts"), case["facts"]), (t("Basis"), case["basis"]), (t("Evidence"), case["evidence_note"])],
    columns=1,
)
if detail.attachment:
    try:
        name, data = cases.get_attachment(ui.engine(), actor, case_id)
        ui.download_button(ui.tmd("Download evidence PDF ({name})", name=name), data, name)
    except ServiceError as err:
        ui.show_error(err)

if st.session_state.get(f"case_stale_{case_id}"):
    if st.button(t("Reload the current case"), icon=":material/refresh:"):
        st.session_state.pop(version_key, None)
        st.session_state.pop(f"case_stale_{case_id}", None)
        st.session_state.pop(f"decide_{case_id}", None)
        st.rerun()

actions = cases.actions_for(actor, case)


def asked_step(action: str) -> None:
    """A leader's step (submit, withdraw) taken only after its question is answered yes."""
    step = lifecycle.TRANSITIONS[action]
    asking = f"ask_{action}_{case_id}"
    if not st.session_state.get(asking):
        if not st.button(t(step.button), type="primary", icon=step.icon, key=f"step_{action}"):
            return
        st.session_state[asking] = True  # the question follows in this same run
    st.warning(ui.tmd(step.ask, case_no=case["case_no"]))
    c1, c2 = st.columns(2)
    if c1.button(ui.tmd("Yes: {action}", action=t(step.button)), type="primary", key=f"yes_{action}"):
        st.session_state.pop(asking, None)
        new_version = attempt(lambda: cases.transition(ui.engine(), actor, case_id, base_version, action))
        if new_version:
            done(t(step.done), new_version)
    if c2.button(t("Cancel"), key=f"no_{action}"):
        st.session_state.pop(asking, None)
        st.rerun()


# ---------------------------------------------------------------- leader: draft, submit, appeal
if "edit" in actions:
    st.subheader(t("Edit the draft"))
    with st.form(f"edit_{case_id}_{base_version}"):
        family = family_options(case["employee_id"])
        member = st.selectbox(
            t("Family member concerned (optional)"),
            list(family),
            format_func=family.get,
            index=list(family).index(case["family_member_id"]) if case["family_member_id"] in family else 0,
        )
        categories = category_options(include=case["category_id"])
        category_id = st.selectbox(
            t("Category"),
            list(categories),
            format_func=lambda c: categories[c][0],
            index=list(categories).index(case["category_id"]) if case["category_id"] in categories else 0,
        )
        c1, c2 = st.columns(2)
        occurred_on = c1.date_input(
            t("Date of the violation"), value=case["occurred_on"], min_value=EARLIEST, max_value=local_today()
        )
        year = c2.number_input(
            t("Assessment year"), min_value=cases.MIN_YEAR, max_value=cases.MAX_YEAR, step=1, value=case["year"]
        )
        facts = st.text_area(t("Facts"), value=case["facts"], max_chars=cases.LIMITS["facts"])
        basis = st.text_area(t("Basis"), value=case["basis"], max_chars=cases.LIMITS["basis"])
        evidence = st.text_area(
            t("Evidence"), value=case["evidence_note"] or "", max_chars=cases.LIMITS["evidence_note"]
        )
        saved = st.form_submit_button(t("Save draft"), type="primary")
    if saved:
        new_version = attempt(
            lambda: cases.update_draft(
                ui.engine(),
                actor,
                case_id,
                base_version,
                family_member_id=member,
                category_id=category_id,
                occurred_on=occurred_on,
                year=int(year),
                facts=facts,
                basis=basis,
                evidence_note=evidence,
            )
        )
        if new_version:
            done(t("Saved."), new_version)
    with st.form(f"attach_{case_id}_{base_version}", clear_on_submit=True):
        upload = st.file_uploader(t("Evidence PDF"), type=["pdf"], max_upload_size=uploads.MAX_ATTACHMENT_MB)
        attach = st.form_submit_button(t("Attach PDF"))
    if attach:
        if upload is None:
            st.warning(t("Choose a PDF file first."))
        else:
            new_version = attempt(
                lambda: cases.attach_pdf(ui.engine(), actor, case_id, base_version, upload.name, upload.getvalue())
            )
            if new_version:
                done(t("PDF attached."), new_version)
    # The same words as the question on submitting (lifecycle "submit"): withdrawing undoes it until decided.
    st.info(
        t(
            "Submitting sends the case to the principal for decision. While it waits for the decision it "
            "cannot be changed; until the principal decides it, you can withdraw it back to draft, change it "
            "and submit it again."
        )
    )
    asked_step("submit")

if "withdraw" in actions:
    st.subheader(t("Withdraw the case"))
    st.caption(t("Until the principal decides it, the case can be taken back to draft, changed and submitted again."))
    asked_step("withdraw")

if "appeal" in actions:
    appeal = lifecycle.TRANSITIONS["appeal"]
    st.subheader(t("Record an appeal"))
    st.caption(
        t(
            "The person concerned may appeal a confirmed case. "
            "The case stays in force until the principal decides the appeal."
        )
    )
    with st.form(f"appeal_{case_id}_{base_version}"):
        grounds = st.text_area(t("Grounds of appeal"), max_chars=cases.LIMITS["grounds"])
        appealed = st.form_submit_button(t(appeal.button), type="primary", icon=appeal.icon)
    if appealed:
        new_version = attempt(lambda: cases.record_appeal(ui.engine(), actor, case_id, base_version, grounds))
        if new_version:
            done(t(appeal.done), new_version)

# ---------------------------------------------------------------- principal: decisions
decisions = [a for a in actions if a in lifecycle.TRANSITIONS and lifecycle.TRANSITIONS[a].is_decision]
if decisions:
    st.subheader(t("Decision"))
    choice_key = f"decide_{case_id}"
    buttons = st.columns(len(decisions))
    for column, action in zip(buttons, decisions, strict=True):
        step = lifecycle.TRANSITIONS[action]
        if column.button(t(step.button), icon=step.icon, key=f"choose_{action}"):
            st.session_state[choice_key] = action
    chosen = st.session_state.get(choice_key)
    if chosen in decisions:
        step = lifecycle.TRANSITIONS[chosen]
        with st.form(f"decision_{case_id}_{chosen}"):
            st.warning(ui.tmd(step.prompt, case_no=case["case_no"], name=case["name"]))
            reason = st.text_area(
                t("Reason"), max_chars=cases.LIMITS["reason"], help=t("Required; the decision notice prints it.")
            )
            c1, c2 = st.columns(2)
            go = c1.form_submit_button(t("Yes, record this decision"), type="primary")
            cancel = c2.form_submit_button(t("Cancel"))
        if cancel:
            st.session_state.pop(choice_key, None)
            st.rerun()
        if go:
            new_version = attempt(lambda: cases.transition(ui.engine(), actor, case_id, base_version, chosen, reason))
            if new_version:
                done(t(step.done), new_version)
elif actor.can(Permission.DECIDE_CASE) and case["recorded_by_id"] == actor.id:
    st.info(t("You recorded this case, so someone else decides it."))

# ---------------------------------------------------------------- the papers for the person concerned
if case["decision"]:
    st.subheader(t("Decision notice and notice of rights"))
    st.caption(
        t(
            "Print them for the person concerned: the decision notice (facts, category and basis, decision, "
            "consequence for awards and pay, how to appeal and by when) and the notice of their rights "
            "about the automated consequence (PIPL Art. 24). Preparing them is recorded."
        )
    )
    papers_key = f"notices_{case_id}_{base_version}"
    if st.button(t("Prepare the notices"), icon=":material/print:", key=f"prepare_notices_{case_id}"):
        papers = ui.run_action(lambda: notices.case_notices(ui.engine(), actor, case_id))
        if papers:
            st.session_state[papers_key] = papers
    if papers_key in st.session_state:
        papers = st.session_state[papers_key]
        labels = {
            "decision_docx": t("Decision notice (Word)"),
            "decision_pdf": t("Decision notice (PDF)"),
            "rights_docx": t("Notice of rights (Word)"),
            "rights_pdf": t("Notice of rights (PDF)"),
        }
        columns = st.columns(len(labels))
        for column, (key, label) in zip(columns, labels.items(), strict=True):
            paper = papers[key]
            ui.download_button(label, paper.data, paper.filename, where=column, key=f"download_{key}_{case_id}")

# ---------------------------------------------------------------- history
st.subheader(t("History of this case"))
_history.show(actor, detail.history, drop=("No.", "Record"), key="case")
