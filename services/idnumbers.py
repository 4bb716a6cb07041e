"""Resident ID numbers (GB 11643, 18 digits): generation for demo data and the
basic checks.

Layout: 6-digit region code, birth date YYYYMMDD, 3-digit sequence whose last
digit is odd for men and even for women, check digit (0-9 or X).
"""

from __future__ import annotations

import random
from datetime import date

from stdnum.cn import ric
from stdnum.exceptions import ValidationError as StdnumValidationError


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
