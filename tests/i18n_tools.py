"""Find the message ids used in the code (shared by the i18n test and by
`python -m tests.i18n_tools`, which prints the ids the Chinese catalog lacks;
`python -m tests.i18n_tools --append FILE.tsv` appends `msgid<TAB>译文` lines)."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir

ROOT = Path(__file__).resolve().parent.parent
SOURCE_DIRS = ["services", "pages", "models"]
SOURCE_FILES = ["app.py", "manage.py"]
KEYWORDS = {"t": None, "N_": None, "tmd": None}
# Babel on Python 3.11 does not look inside f-strings, where pages put headings
# (f"**{t('Coverage by leaflet')}**"): a one-literal call is found there by this.
_CALL_IN_LINE = re.compile(r"""(?<![\w.])(?:t|tmd|N_)\((['"])((?:(?!\1)[^\\])*)\1\s*[,)]""")


def used_msgids() -> dict[str, str]:
    """msgid -> first place it is used."""
    found: dict[str, str] = {}
    for name in SOURCE_DIRS:
        directory = ROOT / name
        for filename, lineno, message, _comments, _context in extract_from_dir(
            directory, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            if isinstance(message, str):
                found.setdefault(message, f"{name}/{filename}:{lineno}")
    for name in SOURCE_FILES:
        path = ROOT / name
        if not path.exists():
            continue
        from babel.messages.extract import extract

        with path.open("rb") as fh:
            for lineno, message, _comments, _context in extract("python", fh, keywords=KEYWORDS):
                if isinstance(message, str):
                    found.setdefault(message, f"{name}:{lineno}")
    for path in [
        *(p for d in SOURCE_DIRS for p in sorted((ROOT / d).rglob("*.py"))),
        *(ROOT / f for f in SOURCE_FILES),
    ]:
        if not path.exists():
            continue
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for match in _CALL_IN_LINE.finditer(line):
                found.setdefault(match.group(2), f"{path.relative_to(ROOT)}:{lineno}")
    return found


def missing(lang: str = "zh_CN") -> dict[str, str]:
    from services.core.i18n import catalog

    catalog.cache_clear()
    have = catalog(lang)
    return {m: where for m, where in used_msgids().items() if m not in have}


def append_translations(tsv_path: str, lang: str = "zh_CN") -> int:
    """Append `msgid<TAB>translation` lines the catalog lacks; returns how many."""
    from babel.messages.pofile import escape

    from services.core.i18n import LOCALES_DIR, catalog

    catalog.cache_clear()
    have = catalog(lang)
    po = LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po"
    added = 0
    with po.open("a", encoding="utf-8") as out:
        for line in Path(tsv_path).read_text(encoding="utf-8").splitlines():
            if "\t" not in line:
                continue
            msgid, msgstr = line.split("\t", 1)
            if msgid in have:
                continue
            out.write(f"msgid {escape(msgid)}\nmsgstr {escape(msgstr)}\n\n")
            have[msgid] = msgstr
            added += 1
    catalog.cache_clear()
    return added


if __name__ == "__main__":
    import sys

    if len(sys.argv) == 3 and sys.argv[1] == "--append":
        print(f"added {append_translations(sys.argv[2])}")
    else:
        for msgid, where in sorted(missing().items(), key=lambda kv: kv[1]):
            print(f"{where}\t{msgid}")
