"""UI strings come from the catalogs, and Chinese (the default) is complete."""

import re
import string

from babel.messages.pofile import read_po

from services.core.i18n import LOCALES_DIR, N_, Msg, translate
from tests.i18n_tools import ROOT, missing, used_msgids

CJK = re.compile(r"[\u4e00-\u9fff]")


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_message_used_in_code_has_a_chinese_translation():
    assert len(used_msgids()) > 100
    gaps = missing("zh_CN")
    assert not gaps, "msgids without a zh_CN translation (python -m tests.i18n_tools):\n" + "\n".join(
        f"{where}: {msgid}" for msgid, where in gaps.items()
    )


def test_a_heading_inside_an_f_string_is_seen_as_used():
    # Pages write headings as f"**{t('…')}**", which Babel's extractor skips.
    used = used_msgids()
    assert used["Coverage by leaflet"].startswith("pages/")
    assert used["Mark the selected as:"].startswith("pages/session_record.py")


def test_the_chinese_catalog_holds_only_messages_the_code_uses():
    """A msgid the code no longer uses is a translation nobody checks any more."""
    with (LOCALES_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh)
    used = used_msgids()
    unused = sorted(m.id for m in catalog if m.id and m.id not in used)
    assert not unused, "\n".join(unused)


def test_translations_keep_every_placeholder():
    for lang in ("zh_CN", "en"):
        with (LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
            catalog = read_po(fh)
        for message in catalog:
            if message.id and message.string:
                assert _fields(message.id) == _fields(message.string), (lang, message.id)


def test_catalog_has_no_duplicate_entries():
    path = LOCALES_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po"
    ids = re.findall(r'^msgid "(.*)"$', path.read_text(encoding="utf-8"), flags=re.M)
    duplicates = {i for i in ids if ids.count(i) > 1}
    assert not duplicates


def test_pages_hold_no_chinese_literals():
    """Chinese text belongs in the catalog, not scattered through pages."""
    offenders = []
    for path in [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]:
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if CJK.search(line) and "page_title=" not in line and not line.lstrip().startswith("#"):
                offenders.append(f"{path.name}:{lineno}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_translate_chooses_language_and_nested_message_ids():
    assert translate("zh_CN", "Sign in") == "登录"
    assert translate("en", "Sign in") == "Sign in"
    assert translate("xx", "Sign in") == "登录"  # unknown language falls back to the default
    assert isinstance(N_("Principal"), Msg)
    text = translate("zh_CN", "Your role may not {action}.", action=N_("sign off a year"))
    assert text == "您的角色无权年度签批。"
    assert (
        translate("en", "Your role may not {action}.", action=N_("sign off a year"))
        == "Your role may not sign off a year."
    )


def test_unknown_message_id_shows_itself():
    assert translate("zh_CN", "No such message id, ever") == "No such message id, ever"
