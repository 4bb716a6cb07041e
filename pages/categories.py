"""Violation categories (administrator): each with its legal or policy basis; deactivate,
never delete, a category a case cites."""

import streamlit as st

from pages import _ui as ui
from pages._ui import t
from services.core.formatting import fmt_datetime
from services.core.permissions import Permission
from services.sanctions import cases

actor = ui.require(Permission.ADMINISTER)
st.title(t("Violation categories"))
st.caption(
    t(
        "What counts as a violation is only what is listed here, "
        "each with the law, regulation or unit rule it rests on. "
        "No category may derive a violation from a birth or the number of children."
    )
)

frame = cases.list_categories(ui.engine(), actor)
if frame.empty:
    st.info(t("No categories yet."))
else:
    shown = frame.assign(
        active=frame["active"].map(lambda a: t("In use") if a else t("Deactivated")),
        updated_at=frame["updated_at"].map(fmt_datetime),
    )[["name", "basis", "active", "cases", "updated_at", "updated_by"]]
    shown.columns = [t("Category"), t("Basis"), t("Status"), t("Cases"), t("Last change"), t("By")]
    st.dataframe(shown, hide_index=True, width="stretch")

tab_new, tab_edit = st.tabs([t("New category"), t("Edit, deactivate or delete")])
with tab_new:
    with st.form("category_new", clear_on_submit=False):
        name = st.text_input(t("Category name"), max_chars=cases.LIMITS["name"])
        basis = st.text_area(
            t("Basis"),
            max_chars=cases.LIMITS["basis"],
            help=t("The law, regulation or unit rule and article. Required."),
        )
        created = st.form_submit_button(t("Add category"), type="primary")
    if created and ui.run_action(lambda: cases.create_category(ui.engine(), actor, name=name, basis=basis)):
        ui.flash("success", t("Category added."))
        st.rerun()

with tab_edit:
    if frame.empty:
        st.caption(t("No categories yet."))
    else:
        names = dict(zip(frame["id"], frame["name"], strict=True))
        chosen = st.selectbox(t("Category"), list(names), format_func=names.get, key="category_chosen")
        row = frame.set_index("id").loc[chosen]
        version = int(row["version"])
        with st.form(f"category_edit_{chosen}_{version}"):
            new_name = st.text_input(t("Category name"), value=row["name"], max_chars=cases.LIMITS["name"])
            new_basis = st.text_area(t("Basis"), value=row["basis"], max_chars=cases.LIMITS["basis"])
            saved = st.form_submit_button(t("Save category"), type="primary")
        if saved and ui.run_action(
            lambda: cases.update_category(ui.engine(), actor, int(chosen), version, name=new_name, basis=new_basis)
        ):
            ui.flash("success", t("Saved."))
            st.rerun()
        c1, c2 = st.columns(2)
        if row["active"]:
            if c1.button(t("Deactivate"), icon=":material/toggle_off:"):
                if ui.run_action(lambda: cases.set_category_active(ui.engine(), actor, int(chosen), version, False)):
                    ui.flash("success", t("Category deactivated: no new case can cite it."))
                    st.rerun()
        elif c1.button(t("Activate"), icon=":material/toggle_on:"):
            if ui.run_action(lambda: cases.set_category_active(ui.engine(), actor, int(chosen), version, True)):
                ui.flash("success", t("Category activated."))
                st.rerun()
        if int(row["cases"]) == 0:
            with c2.form(f"category_delete_{chosen}"):
                sure = st.checkbox(t("Yes, delete this category"))
                if st.form_submit_button(t("Delete category")):
                    if not sure:
                        st.warning(t("Tick the box to confirm."))
                    elif ui.run_action(lambda: cases.delete_category(ui.engine(), actor, int(chosen), version)):
                        ui.flash("success", t("Category deleted."))
                        st.rerun()
        else:
            c2.caption(t("Cited by {count} case(s): it can be deactivated but not deleted.", count=int(row["cases"])))
