"""Backups (administrator only)."""

import streamlit as st

from pages import _ui as ui
from pages._ui import t
from services.accounts import backup
from services.core.db import is_sqlite
from services.core.permissions import Permission

actor = ui.require(Permission.ADMINISTER)
st.title(t("Backup"))
st.write(
    t(
        "A backup is a complete copy of the ledger, accounts and audit trail. "
        "Keep it somewhere safe: it holds personal information."
    )
)
if is_sqlite(ui.engine()):
    st.caption(t("Restore: stop Taizhang, replace data/taizhang.sqlite3 with the backup file, start Taizhang again."))
else:
    st.caption(t("Restore a PostgreSQL backup with pg_restore into an empty database."))

if st.button(t("Make a backup now"), type="primary", icon=":material/backup:"):
    with st.spinner(t("Copying the database...")):
        result = ui.run_action(lambda: backup.backup_bytes(ui.engine(), actor))
    if result:
        st.session_state["backup_file"] = result
if "backup_file" in st.session_state:
    name, data = st.session_state["backup_file"]
    ui.download_button(ui.tmd("Download {name}", name=name), data, name)
