"""One household: the staff member's record, family members, and its history."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import streamlit as st

from pages import _history
from pages import _ui as ui
from pages._ui import t
from services.core.errors import ServiceError, StaleVersion
from services.core.formatting import fmt_date, fmt_datetime, local_today
from services.core.i18n import Msg
from services.core.permissions import Permission
from services.ledger import eligibility, roster, unit
from services.sanctions import cases, lifecycle
from services.year import household_file

if TYPE_CHECKING:
    from collections.abc import Mapping

actor = ui.require(Permission.READ_LEDGER)
can_edit = actor.can(Permission.EDIT_RECORDS)
EARLIEST = dt.date(1900, 1, 1)

param = st.query_params.get("id", "")
creating = param == "new"
if not creating and not param.isdigit():
    st.info(t("Choose a staff member in the staff list."))
    st.page_link("pages/staff.py", label=t("Staff"), icon=":material/groups:")
    st.stop()
if creating and not can_edit:
    ui.require(Permission.EDIT_RECORDS)

employee_id = None if creating else int(param)
household = None
if not creating:
    try:
        household = roster.get_household(ui.engine(), actor, employee_id)
    except ServiceError as err:
        ui.show_error(err)
        st.stop()

# The version the user's edits are based on: fixed when the record is opened, so
# a save after someone else's is refused instead of silently overwriting it.
version_key = f"base_version_{employee_id}"
base_version = ui.base_version(version_key, household.version) if household is not None else 0
record = household.employee if household else {f: None for f in roster.EMPLOYEE_FIELDS}
prefix = f"emp{employee_id or 'new'}v{base_version}_"

st.page_link("pages/staff.py", label=t("Back to the staff list"), icon=":material/arrow_back:")
if creating:
    st.title(t("New staff member"))
else:
    st.title(ui.md(f"{record['name']} · {record['staff_no']}"))
    profile = unit.get_unit(ui.engine())
    standing = eligibility.person_eligibility(
        ui.engine(), actor, employee_id, profile.current_year if profile else local_today().year
    )
    if standing.blocks:
        status_code, reason = roster.FpStatus.VIOLATION, t("A confirmed case is in force; see Eligibility below.")
    elif standing.pending_case_nos:
        status_code, reason = roster.FpStatus.PENDING, t("A submitted case awaits the principal's decision.")
    else:
        status_code, reason = roster.FpStatus.NORMAL, t("No violation case is pending or in force.")
    st.caption(
        t("Family-planning status: {status}. {reason}", status=t(roster.FP_STATUS_LABELS[status_code]), reason=reason)
    )
    if household.updated_at:
        st.caption(
            ui.tmd(
                "Version {version}, last saved {when} by {who}",
                version=household.version,
                when=fmt_datetime(household.updated_at),
                who=t(household.updated_by_name)
                if isinstance(household.updated_by_name, Msg)
                else household.updated_by_name,
            )
        )


def choice(
    label: str,
    options: Mapping[str, str],
    current: str | None,
    key: str,
    allow_empty: bool = False,
    empty_label: str | None = None,
    disabled: bool = False,
) -> str | None:
    keys = ([None] if allow_empty else []) + list(options)
    index = keys.index(current) if current in keys else 0
    return st.selectbox(
        label,
        keys,
        index=index,
        key=prefix + key,
        disabled=disabled,
        format_func=lambda c: (empty_label or "") if c is None else t(options[c]),
    )


departments = [name for _, name in roster.departments(ui.engine(), actor)]


def coded(labels: Mapping[str, str], code: str | None) -> str | None:
    return t(labels[code]) if code in labels else code


if not can_edit:
    # Who cannot edit reads the record as text (phone and ID masked as the service gives them).
    saved = False
    ui.fields_text(
        [
            (t("Staff no."), record["staff_no"]),
            (t("Name"), record["name"]),
            (t("ID number"), record["id_number"]),
            (t("Gender"), coded(roster.GENDER_LABELS, record["gender"])),
            (t("Birth date"), fmt_date(record["birth_date"])),
            (t("Marital status"), coded(roster.MARITAL_LABELS, record["marital_status"])),
            (t("Department"), record["department"]),
            (t("Post"), record["post"]),
            (t("Hire date"), fmt_date(record["hire_date"])),
            (t("Employment status"), coded(roster.STATUS_LABELS, record["status"])),
            (t("Left or retired on"), fmt_date(record["left_on"])),
            (t("Phone"), record["phone"]),
            (t("Only-child certificate no."), record["only_child_certificate_no"]),
            (t("Notes"), record["notes"]),
        ]
    )
else:
    with st.form("employee"):
        c1, c2, c3 = st.columns(3)
        raw = {}
        raw["staff_no"] = c1.text_input(t("Staff no."), value=record["staff_no"] or "", key=prefix + "staff_no")
        raw["name"] = c2.text_input(t("Name"), value=record["name"] or "", key=prefix + "name")
        with c3:
            raw["id_number"] = st.text_input(
                t("ID number"),
                value=record["id_number"] or "",
                key=prefix + "id_number",
                help=t("18 characters; a lowercase x is accepted. Shown masked; reveal it below to change it."),
            )
        c1, c2, c3 = st.columns(3)
        with c1:
            raw["gender"] = choice(
                t("Gender"),
                roster.GENDER_LABELS,
                record["gender"],
                "gender",
                allow_empty=creating,
                empty_label=t("From the ID number"),
            )
        raw["birth_date"] = c2.date_input(
            t("Birth date"),
            value=record["birth_date"],
            min_value=EARLIEST,
            key=prefix + "birth_date",
            help=t("Left empty, it is taken from the ID number."),
        )
        with c3:
            raw["marital_status"] = choice(
                t("Marital status"),
                roster.MARITAL_LABELS,
                record["marital_status"],
                "marital",
                allow_empty=True,
                empty_label="—",
            )
        c1, c2, c3 = st.columns(3)
        raw["department"] = c1.selectbox(
            t("Department"),
            departments,
            index=departments.index(record["department"]) if record["department"] in departments else None,
            accept_new_options=True,
            placeholder=t("Choose or type a new one"),
            key=prefix + "department",
        )
        raw["post"] = c2.text_input(t("Post"), value=record["post"] or "", key=prefix + "post")
        raw["hire_date"] = c3.date_input(
            t("Hire date"), value=record["hire_date"], min_value=EARLIEST, key=prefix + "hire_date"
        )
        c1, c2, c3 = st.columns(3)
        with c1:
            raw["status"] = choice(t("Employment status"), roster.STATUS_LABELS, record["status"] or "active", "status")
        raw["left_on"] = c2.date_input(
            t("Left or retired on"),
            value=record["left_on"],
            min_value=EARLIEST,
            key=prefix + "left_on",
        )
        raw["phone"] = c3.text_input(t("Phone"), value=record["phone"] or "", key=prefix + "phone")
        c1, c2 = st.columns([1, 2])
        raw["only_child_certificate_no"] = c1.text_input(
            t("Only-child certificate no."),
            value=record["only_child_certificate_no"] or "",
            key=prefix + "certificate",
        )
        raw["notes"] = c2.text_input(t("Notes"), value=record["notes"] or "", key=prefix + "notes")
        saved = st.form_submit_button(t("Save"), type="primary")

if saved:
    try:
        if creating:
            new_id = roster.create_employee(ui.engine(), actor, raw)
            st.cache_data.clear()
            ui.flash("success", t("Saved."))
            st.switch_page("pages/staff_record.py", query_params={"id": str(new_id)})
        else:
            st.session_state[version_key] = roster.update_employee(ui.engine(), actor, employee_id, base_version, raw)
            st.cache_data.clear()
            ui.flash("success", t("Saved."))
            st.rerun()
    except StaleVersion as err:
        ui.show_error(err)
        st.session_state[f"stale_{employee_id}"] = True
    except ServiceError as err:
        ui.show_error(err)


def reload_record() -> None:
    # Dropping the base version gives the form the stored values (new widget keys).
    st.session_state.pop(version_key, None)
    st.session_state.pop(f"stale_{employee_id}", None)


if st.session_state.get(f"stale_{employee_id}"):
    st.button(t("Reload the current record"), icon=":material/refresh:", on_click=reload_record)

if creating:
    st.stop()

if actor.can(Permission.REVEAL_ID) and st.button(
    t("Show full ID number"), icon=":material/visibility:", key="reveal_employee"
):
    number = ui.run_action(lambda: roster.reveal_id_number(ui.engine(), actor, employee_id))
    if number:
        st.info(ui.tmd("ID number of {who}: {number} (this view is recorded)", who=record["name"], number=number))

# ---------------------------------------------------------------- family members
st.subheader(t("Family members"))
family = household.family
if family.empty:
    st.caption(t("No family members recorded."))
else:
    shown = roster.label_codes(family, ui.lang())[
        ["relation", "name", "gender", "birth_date", "id_number", "work_unit", "birth_registration_no", "notes"]
    ]
    shown.columns = [
        t("Relation"),
        t("Name"),
        t("Gender"),
        t("Birth date"),
        t("ID number"),
        t("Work unit"),
        t("Birth registration no."),
        t("Notes"),
    ]
    st.dataframe(shown, hide_index=True, width="stretch")


def family_form(key: str, member: dict[str, Any] | None = None) -> tuple[bool, dict[str, Any]]:
    member = member or {}
    with st.form(key, clear_on_submit=member == {}):
        c1, c2, c3 = st.columns(3)
        values = {}
        with c1:
            relations = list(roster.RELATION_LABELS)
            values["relation"] = st.selectbox(
                t("Relation"),
                relations,
                format_func=lambda c: t(roster.RELATION_LABELS[c]),
                index=relations.index(member["relation"]) if member.get("relation") in relations else 0,
            )
        values["name"] = c2.text_input(t("Name"), value=member.get("name") or "")
        values["id_number"] = c3.text_input(
            t("ID number"), value=member.get("id_number") or "", help=t("Optional; validated when given.")
        )
        c1, c2, c3 = st.columns(3)
        genders = [None, *roster.GENDER_LABELS]
        values["gender"] = c1.selectbox(
            t("Gender"),
            genders,
            index=genders.index(member.get("gender")) if member.get("gender") in genders else 0,
            format_func=lambda c: t("From the ID number") if c is None else t(roster.GENDER_LABELS[c]),
        )
        birth = member.get("birth_date")
        values["birth_date"] = c2.date_input(
            t("Birth date"), value=None if birth is None or birth != birth else birth, min_value=EARLIEST
        )
        values["work_unit"] = c3.text_input(t("Work unit"), value=member.get("work_unit") or "")
        c1, c2 = st.columns(2)
        values["birth_registration_no"] = c1.text_input(
            t("Birth registration no."), value=member.get("birth_registration_no") or ""
        )
        values["notes"] = c2.text_input(t("Notes"), value=member.get("notes") or "")
        submitted = st.form_submit_button(t("Save family member") if member else t("Add family member"), type="primary")
    return submitted, values


if can_edit:
    tab_add, tab_edit = st.tabs([t("Add a family member"), t("Edit or remove")])
    with tab_add:
        added, values = family_form("family_add")
        if added and ui.run_action(lambda: roster.add_family_member(ui.engine(), actor, employee_id, values)):
            ui.flash("success", t("Family member added."))
            st.rerun()
    with tab_edit:
        if family.empty:
            st.caption(t("No family members recorded."))
        else:
            members = {
                row.id: f"{t(roster.RELATION_LABELS.get(row.relation, row.relation))} · {row.name}"
                for row in family.itertuples()
            }
            member_id = st.selectbox(t("Family member"), list(members), format_func=members.get, key="family_chosen")
            member = family.set_index("id").loc[member_id].to_dict()
            saved_member, values = family_form(f"family_edit_{member_id}_{member['version']}", member)
            if saved_member and ui.run_action(
                lambda: roster.update_family_member(
                    ui.engine(), actor, employee_id, member_id, int(member["version"]), values
                )
            ):
                ui.flash("success", t("Saved."))
                st.rerun()
            with st.form(f"family_remove_{member_id}"):
                sure = st.checkbox(ui.tmd("Yes, remove {name} from this household", name=member["name"]))
                if st.form_submit_button(t("Remove family member")):
                    if not sure:
                        st.warning(t("Tick the box to confirm."))
                    elif ui.run_action(
                        lambda: roster.remove_family_member(
                            ui.engine(), actor, employee_id, member_id, int(member["version"])
                        )
                    ):
                        ui.flash("success", t("Family member removed."))
                        st.rerun()

# ---------------------------------------------------------------- eligibility (PIPL Art. 24)
st.subheader(t("Award eligibility and incentive pay, {year}", year=standing.year))
if standing.eligible:
    st.success(
        t(
            "Eligible for awards and incentive pay in {year}: no confirmed violation case is in force.",
            year=standing.year,
        )
    )
else:
    st.error(t("Not eligible for awards and incentive pay in {year}.", year=standing.year))
    for block in standing.blocks:
        with st.container(border=True):
            st.page_link(
                "pages/case_record.py",
                label=ui.tmd("Case {case_no}", case_no=block.case_no),
                icon=":material/gavel:",
                query_params={"id": str(block.case_id)},
            )
            # The reason in full (PIPL Art. 24): category and basis each on a line of their own.
            ui.fields_text([(t("Category"), block.category), (t("Basis"), block.basis)], columns=1)
            ui.fields_text(
                [
                    (t("State"), t(lifecycle.STATE_LABELS.get(block.state, block.state))),
                    (t("Assessment year"), str(block.case_year)),
                    (t("Recorded by"), block.recorded_by),
                    (t("Confirmed by"), block.confirmed_by or ""),
                    (t("Confirmed on"), fmt_datetime(block.confirmed_at)[:10]),
                ],
                columns=5,
            )
if standing.pending_case_nos:
    st.warning(
        ui.tmd(
            "Awaiting the principal's decision: {cases}. "
            "A pending case does not withdraw anything until it is confirmed.",
            cases="、".join(standing.pending_case_nos),
        )
    )
own_cases = cases.list_cases(ui.engine(), actor, cases.CaseQuery(employee_id=employee_id))
if not own_cases.empty:
    with st.expander(t("All cases of this person ({count})", count=len(own_cases))):
        st.dataframe(cases.cases_table(own_cases, ui.lang()), hide_index=True, width="stretch")
        for row in own_cases.itertuples():
            state_label = t(lifecycle.STATE_LABELS.get(row.state, row.state))
            st.page_link(
                "pages/case_record.py",
                label=f"{ui.md(row.case_no)} · {state_label} · {ui.md(row.category)} · {fmt_date(row.occurred_on)}",
                icon=":material/gavel:",
                query_params={"id": str(row.id)},
            )
if actor.can(Permission.RECORD_CASE) and st.button(t("Record a violation case for this person"), icon=":material/add:"):
    st.switch_page("pages/case_record.py", query_params={"id": "new", "employee": str(employee_id)})

# ---------------------------------------------------------------- household file (一户一档)
st.subheader(t("Household file"))
c1, c2 = st.columns([1, 3], vertical_alignment="bottom")
file_year = int(
    c1.number_input(
        t("Year"),
        min_value=2000,
        max_value=2100,
        step=1,
        value=profile.current_year if profile else local_today().year,
        key=f"household_file_year_{employee_id}",
    )
)
# Quick to build: one click, the PDF made when the button is pressed (on Streamlit's
# download thread, so the engine and language are taken here).
_engine, _lang = ui.engine(), ui.lang()
c2.download_button(
    t("Print the household file (PDF)"),
    data=lambda: household_file.household_file_pdf(_engine, actor, employee_id, file_year, _lang).data,
    file_name=household_file.file_name(record["name"], employee_id, file_year, _lang),
    mime="application/pdf",
    icon=":material/print:",
    on_click="ignore",
    key=f"household_file_{employee_id}",
)

# ---------------------------------------------------------------- history
with st.expander(t("History of this household")):
    _history.show(actor, roster.household_timeline(ui.engine(), actor, employee_id), key="household")
