"""Resident ID numbers (GB 11643, 18 digits): generation for demo data, the
checks used by forms and imports (`check_id_number`), normalisation, and the
first-generation 15-digit numbers (`from_fifteen_digits`).

Layout: 6-digit region code, birth date YYYYMMDD, 3-digit sequence whose last
digit is odd for men and even for women, check digit (0-9 or X).  A 15-digit
number (issued until 2004) is the same without the century and the check digit:
region, YYMMDD, sequence.
"""

from __future__ import annotations

import random
import re as _re
import unicodedata as _unicodedata
from datetime import date

from stdnum.cn import ric
from stdnum.exceptions import ValidationError as StdnumValidationError

from services.core.i18n import N_


def is_valid_id_number(number: str | None) -> bool:
    """Length, digits, checksum, a real birth date and a region code that
    existed in the birth year (python-stdnum's rules)."""
    if not number:
        return False
    try:
        return ric.is_valid(number)
    except (StdnumValidationError, KeyError, ValueError):
        # stdnum 2.2 raises KeyError for some region codes that name a city but
        # no county; such a number is not valid either.
        return False


def gender_from_id(number: str) -> str:
    """'M' or 'F' from the 17th digit (odd = male)."""
    return "M" if int(number[16]) % 2 == 1 else "F"


def birth_date_from_id(number: str) -> date:
    """The birth date encoded in digits 7-14."""
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def valid_id_number(rng: random.Random, birth_date: date, gender: str, region: str = "110105") -> str:
    """A valid, random ID number for a given birth date and gender ('M'/'F').

    Deterministic for a seeded `rng`, so demo data is reproducible.  Raises
    ValueError if the result is not valid (e.g. a region code that did not
    exist in the birth year), rather than producing a number that fails later.
    """
    if gender not in ("M", "F"):
        raise ValueError(f"gender must be 'M' or 'F', not {gender!r}")
    if len(region) != 6 or not region.isdigit():
        raise ValueError(f"region must be 6 digits, not {region!r}")
    # Sequence numbers 002..999; last digit odd for men, even for women.
    sequence = rng.randrange(1, 500) * 2 + (1 if gender == "M" else 0)
    body = f"{region}{birth_date:%Y%m%d}{sequence:03d}"
    number = body + ric.calc_check_digit(body + "0")
    if not is_valid_id_number(number):
        raise ValueError(f"region {region} gives no valid ID number for {birth_date.isoformat()}")
    return number


# ---------------------------------------------------------------- import / form checks
#
# The checks below deliberately do NOT use python-stdnum's `is_valid`: it also
# requires the region code to have existed in the birth year (and raises
# KeyError for some codes), and real staff carry numbers issued under codes
# that were renamed or merged later.  What we check is what the number itself
# guarantees: shape, check digit, a real birth date and a province prefix.

# First two digits: provinces, autonomous regions, municipalities, Taiwan, Hong Kong, Macao.
PROVINCE_CODES = frozenset(
    f"{n}"
    for n in [
        *range(11, 16),
        *range(21, 24),
        *range(31, 38),
        *range(41, 47),
        *range(50, 55),
        *range(61, 66),
        71,
        81,
        82,
    ]
)
EARLIEST_BIRTH = date(1900, 1, 1)

ID_REQUIRED = N_("Enter the ID number.")
ID_EXCEL_NUMBER = N_(
    "Excel has turned the ID number into a number and its last digits are lost. "
    "Format the ID number column as text and type the number again."
)
ID_LENGTH = N_("An ID number has 18 characters.")
ID_CHARACTERS = N_("An ID number is 17 digits followed by a digit or X.")
ID_PROVINCE = N_("The ID number does not start with a province code (the first two digits).")
ID_BIRTH_INVALID = N_("The birth date inside the ID number (digits 7 to 14) is not a real date.")
ID_BIRTH_FUTURE = N_("The birth date inside the ID number is in the future.")
ID_BIRTH_TOO_EARLY = N_("The birth date inside the ID number is before 1900.")
ID_FIFTEEN_DIGITS = N_(
    "This is an old 15-digit ID number; its 18-digit form is {converted}. Enter the 18-digit number."
)
ID_FIFTEEN_INVALID = N_(
    "This 15-digit ID number cannot be converted to 18 digits: its region code or its birth date "
    "(digits 7 to 12) is not real."
)
ID_CHECKSUM = N_("The check digit of the ID number (its last character) is wrong. Compare it with the ID card.")

# 1.30821197309288e+17, 1.10105E+17: Excel's scientific notation of an ID typed as a number.
_SCIENTIFIC = _re.compile(r"\d(?:\.\d*)?E\+?\d{1,2}")
_DIGITS17 = _re.compile(r"\d{17}[\dX]")


def normalise_id_number(value: object) -> str:
    """Trim, drop inner spaces, full-width to half-width (NFKC), x to X.

    Also drops the apostrophe some people type to keep Excel from converting
    the cell.  Numbers are returned as their digits (the caller decides that a
    number is an error, see `check_id_number`).
    """
    if value is None:
        return ""
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        text = f"{value:.0f}"
    else:
        text = str(value)
    if not text.isascii():
        text = _unicodedata.normalize("NFKC", text)
    text = "".join(text.split()).lstrip("'").upper()
    return text


def check_id_number(value: object, today: date | None = None) -> str | None:
    """The msgid of the first problem with an ID number, or None when it is valid.

    `value` may be the raw cell: an int or float (Excel converted it) is an
    error of its own, so is scientific notation, and so are 18 digits ending
    in 000 whose check digit fails (Excel keeps only 15 significant digits).
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        return ID_EXCEL_NUMBER
    text = normalise_id_number(value)
    if not text:
        return ID_REQUIRED
    if _SCIENTIFIC.fullmatch(text) or (text.endswith(".0") and text[:-2].isdigit()):
        return ID_EXCEL_NUMBER
    if len(text) != 18:
        return ID_LENGTH
    if not _DIGITS17.fullmatch(text):
        return ID_CHARACTERS
    if text[:2] not in PROVINCE_CODES:
        return ID_PROVINCE
    try:
        born = date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        return ID_BIRTH_INVALID
    if born < EARLIEST_BIRTH:
        return ID_BIRTH_TOO_EARLY
    if today is not None and born > today:
        return ID_BIRTH_FUTURE
    if ric.calc_check_digit(text) != text[17]:
        return ID_EXCEL_NUMBER if text.endswith("000") else ID_CHECKSUM
    return None


_DIGITS15 = _re.compile(r"\d{15}")


def fifteen_digits(value: object) -> str | None:
    """The 15 digits of a first-generation ID number in `value`, else None.

    Text after `normalise_id_number`, or a whole number: 15 digits fit in
    Excel's 15 significant digits and no province code starts with 0, so an
    old number Excel turned into a number is still exact.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        if value != value or value != int(value):
            return None
        value = int(value)
    text = str(value) if isinstance(value, int) else normalise_id_number(value)
    return text if _DIGITS15.fullmatch(text) else None


def from_fifteen_digits(value: object, today: date | None = None) -> str | None:
    """The 18-digit form of a 15-digit ID number (GB 11643-1999: the century 19
    inserted before the birth year, the ISO 7064 MOD 11-2 check digit appended),
    or None when `value` is not 15 digits or its conversion is not a valid
    number (`check_id_number`)."""
    digits = fifteen_digits(value)
    if digits is None:
        return None
    body = f"{digits[:6]}19{digits[6:]}"
    number = body + ric.calc_check_digit(body + "0")
    return number if check_id_number(number, today) is None else None
