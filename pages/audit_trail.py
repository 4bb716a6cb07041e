"""The audit trail: filter, page through, export, and verify the hash chain."""

import streamlit as st
from sqlalchemy.engine import Engine

# The domains name their fields and codes for the trail when imported (services.audit.wording).
import services.accounts.auth
import services.district.collect
import services.education.outreach
import services.education.training
import services.ledger.roster
import services.sanctions.cases  # noqa: F401
from pages import _history
from pages import _ui as ui
from pages._ui import t
from services.audit import reading, trail, wording
from services.core import exports
from services.core.formatting import local_today
from services.core.permissions import Actor, Permission

PAGE_SIZE = 50

actor = ui.require(Permission.READ_AUDIT)
st.title(t("Audit trail"))
st.caption(t("Every change, sign-in, refusal, ID reveal and export, in order. Events cannot be changed or deleted."))

choices = reading.distinct_values(ui.engine(), actor)
any_label = t("(all)")
with st.container(border=True):
    c1, c2, c3 = st.columns(3)
    action = c1.selectbox(
        t("Event"),
        [None, *choices["action"]],
        format_func=lambda a: any_label if a is None else t(trail.ACTION_LABELS.get(a, a)),
    )
    who = dict(zip(choices["actor_name"], choices["actor_label"], strict=True))
    actor_name = c2.selectbox(
        t("By"),
        [None, *choices["actor_name"]],
        format_func=lambda a: any_label if a is None else t(wording.TOOLS[a]) if a in wording.TOOLS else who.get(a, a),
    )
    entity_type = c3.selectbox(
        t("Record type"),
        [None, *choices["entity_type"]],
        format_func=lambda e: any_label if e is None else t(trail.ENTITY_LABELS.get(e, e)),
    )
    c1, c2, c3 = st.columns(3)
    since = c1.date_input(t("From"), value=None, max_value=local_today())
    until = c2.date_input(t("To"), value=None, max_value=local_today())
    text_search = c3.text_input(t("Contains"), placeholder=t("a staff no., a name, a value..."))

filters = dict(
    action=action,
    actor_name=actor_name,
    entity_type=entity_type,
    since=since,
    until=until,
    text_search=text_search.strip() or None,
)
frame, total = reading.list_events(ui.engine(), actor, limit=1, **filters)
pages = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)
c1, c2 = st.columns([1, 3])
page_no = c1.number_input(t("Page"), min_value=1, max_value=pages, value=1, step=1)
c2.write("")
c2.caption(t("{total} events, page {page} of {pages}", total=total, page=page_no, pages=pages))


events, _ = reading.list_events(ui.engine(), actor, limit=PAGE_SIZE, offset=(page_no - 1) * PAGE_SIZE, **filters)
_history.show(actor, events, drop=(), key="audit")

c1, c2 = st.columns(2)
with c1:
    # Built on click, outside this run (ui.download_button): the language and sheet name resolved now.
    def audit_workbook(engine: Engine, actor: Actor, lang: str, sheet: str) -> bytes:
        everything, count = reading.list_events(engine, actor, limit=None, **filters)
        data = exports.frames_to_xlsx({sheet: trail.events_table(everything, lang, full=True)})
        trail.record_export(engine, actor, "audit_event", count)
        return data

    ui.download_button(
        t("Download audit trail"),
        ui.export(audit_workbook, ui.lang(), t("Audit trail")),
        trail.export_file_name(ui.lang()),
    )
with c2:
    if st.button(t("Verify the hash chain"), icon=":material/verified:"):
        with st.spinner(t("Checking every event...")):
            report = reading.verify_chain(ui.engine(), actor)
        if report.ok:
            st.success(report.message(ui.lang()))
        else:
            for problem in report.problems:
                st.error(problem.text(ui.lang()))
