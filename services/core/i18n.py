"""UI strings from the gettext catalogs under `locales/`.

Message ids are English; `zh_CN` is the default language.  Catalogs are read
with Babel straight from the `.po` files, so there is no compile step.
"""

from __future__ import annotations

import functools
from pathlib import Path

LOCALES_DIR = Path(__file__).resolve().parents[2] / "locales"
DEFAULT_LANGUAGE = "zh_CN"
LANGUAGES = {"zh_CN": "中文", "en": "English"}


class Msg(str):
    """A message id whose translation is chosen where it is shown."""


def N_(msgid: str) -> Msg:
    """Mark a string for translation where it is defined; translated where shown."""
    return Msg(msgid)


@functools.cache
def catalog(lang: str) -> dict[str, str]:
    from babel.messages.pofile import read_po

    path = LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        cat = read_po(fh)
    # A plural entry's id and string are tuples; the catalogs have none, and `translate` could not use one.
    return {
        m.id: m.string
        for m in cat
        if isinstance(m.id, str) and isinstance(m.string, str) and m.id and m.string and not m.fuzzy
    }


def translate(lang: str, msgid: str, **params: object) -> str:
    lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
    text = catalog(lang).get(msgid) or msgid
    if not params:
        return text
    # Parameters that are message ids themselves (role names, actions) are
    # translated too; plain values (names, numbers) are shown as given.
    shown = {k: translate(lang, v) if isinstance(v, Msg) else v for k, v in params.items()}
    return text.format(**shown)
