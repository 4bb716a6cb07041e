"""Find the message ids used in the code (shared by the i18n test and by
`python -m tests.i18n_tools`, which prints the ids the Chinese catalog lacks)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir

ROOT = Path(__file__).resolve().parent.parent
SOURCE_DIRS = ["services", "pages", "models"]
SOURCE_FILES = ["app.py", "manage.py"]
KEYWORDS = {"t": None, "N_": None}


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
    return found


def missing(lang: str = "zh_CN") -> dict[str, str]:
    from services.i18n import catalog

    catalog.cache_clear()
    have = catalog(lang)
    return {m: where for m, where in used_msgids().items() if m not in have}


if __name__ == "__main__":
    for msgid, where in sorted(missing().items(), key=lambda kv: kv[1]):
        print(f"{where}\t{msgid}")
