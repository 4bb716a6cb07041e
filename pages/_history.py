"""The history views' one display: the readable table (services.audit.wording) and,
for whoever checks the trail itself, the events as stored in a collapsed "Technical details"."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from pages import _ui as ui
from pages._ui import t
from services.audit import trail
from services.core.permissions import Actor


def show(actor: Actor, events: pd.DataFrame, *, drop: Sequence[str] = ("No.",), key: str) -> None:
    """Events as sentences, `drop` (column msgids) left out; the raw record for the auditor and admin."""
    if events.empty:
        st.caption(t("No recorded changes."))
        return
    shown = trail.events_table(events, ui.lang()).drop(columns=[t(c) for c in drop])
    ui.wrapped_table(shown, [t("Content")], key=f"{key}_history")  # what changed, whole
    if trail.may_see_raw(actor):
        with st.expander(t("Technical details"), icon=":material/data_object:"):
            st.caption(t("The events as stored: times in UTC, account names, record ids, the raw changes."))
            st.dataframe(trail.raw_events(events, ui.lang()), hide_index=True, width="stretch", key=f"{key}_raw")
