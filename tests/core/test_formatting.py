"""How amounts and dates read on screen."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from services.core.formatting import fmt_date, fmt_money, mask_phone


def test_money_has_two_decimals_and_thousands_separators():
    assert fmt_money(Decimal("911697.5")) == "911,697.50"
    assert fmt_money(Decimal("1800.5")) == "1,800.50"
    assert fmt_money(Decimal("0.05")) == "0.05"
    assert fmt_money(0) == "0.00"
    assert fmt_money(None) == ""


def test_dates_read_as_iso():
    assert fmt_date(date(2026, 6, 4)) == "2026-06-04"
    assert fmt_date(None) == ""


def test_phones_mask_all_but_the_first_three_and_last_four():
    assert mask_phone("13812341234") == "138****1234"
    assert mask_phone("0314-1234567") == "031*****4567"
    assert mask_phone("1234567") == "*******"
    assert mask_phone(None) == mask_phone("") == ""


def test_fen_are_written_as_yuan_exactly():
    from services.core.formatting import fmt_fen

    assert fmt_fen(8500050) == "85,000.50"
    assert fmt_fen(-199) == "-1.99"
    assert fmt_fen(0) == "0.00"
    assert fmt_fen(None) == ""
    assert fmt_fen(123456789012345678) == "1,234,567,890,123,456.78"  # no float on the way
