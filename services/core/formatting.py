"""How values are shown: dates, times, money, masked ID and phone numbers (docs/architecture.md, "Conventions")."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

# Timestamps are stored in UTC and shown in the unit's time zone.
LOCAL_TZ = ZoneInfo(os.environ.get("TAIZHANG_TIMEZONE", "Asia/Shanghai"))


def local_now() -> datetime:
    return datetime.now(LOCAL_TZ)


def local_today() -> date:
    return local_now().date()


def start_of_local_day(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=LOCAL_TZ).astimezone(UTC)


def fmt_date(value: date | None) -> str:
    return value.strftime("%Y-%m-%d") if value and value == value else ""


def fmt_datetime(value: datetime | None) -> str:
    if value is None or value != value:  # None, or pandas' NaT (not equal to itself)
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


def fmt_money(value: Decimal | int | None) -> str:
    """Yuan as an office writes them on screen: 911,697.50 (exports keep numbers)."""
    return "" if value is None else f"{Decimal(value):,.2f}"


def fmt_fen(fen: int | None) -> str:
    """An amount kept in integer fen, written as `fmt_money` writes yuan (exact: no float)."""
    return "" if fen is None or fen != fen else fmt_money(Decimal(int(fen)).scaleb(-2))


def mask_id_number(id_number: str | None) -> str:
    """`110105198001010023` -> `110105********0023`: region and last four digits."""
    if not isinstance(id_number, str) or not id_number:
        return ""
    if len(id_number) <= 10:
        return "*" * len(id_number)
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]


def mask_phone(phone: str | None) -> str:
    """`13812341234` -> `138****1234`: the first three and the last four characters
    (a landline keeps the start of its area code); a short number is all stars."""
    if not isinstance(phone, str) or not phone:
        return ""
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
