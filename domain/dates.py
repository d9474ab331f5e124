"""Vietnamese dates and numbers as officials type them.

Dates: `25/4/2019`, `25-04-2019`, `25.04.2019`, `2019-04-25`, `25 tháng 4 năm 2019`,
`ngày 25 tháng 04 năm 2019`, and with a default year `25/4`. Times: `17:00`, `17h`, `17h30`,
`17 giờ 30`. Numbers: `1.234` and `1 234` (thousands), `12,5` (decimal comma), `12.5`.
Every parser raises `ParseError` with a reason key on bad input; none raises anything else.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation

from domain.text import fold


class ParseError(ValueError):
    """`reason` is one of: empty, format, day_range, month_range, year_range, time_range."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_NUMERIC = re.compile(r"^(\d{1,2})\s*[/.\-]\s*(\d{1,2})(?:\s*[/.\-]\s*(\d{2}|\d{4}))?$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_WORDS = re.compile(r"^(?:ngay\s+)?(\d{1,2})\s+thang\s+(\d{1,2})(?:\s*(?:nam|,)?\s*(\d{4}))?$")
_TIME = re.compile(r"^(\d{1,2})\s*(?::|h|gio)\s*(\d{1,2})?\s*(?:phut|p)?$")

MIN_YEAR, MAX_YEAR = 1945, 2100


def _build(day: int, month: int, year: int) -> date:
    if not 1 <= month <= 12:
        raise ParseError("month_range")
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ParseError("year_range")
    try:
        return date(year, month, day)
    except ValueError:
        raise ParseError("day_range") from None


def parse_date(text: str, *, default_year: int | None = None) -> date:
    """A calendar date from Vietnamese input; `default_year` fills `25/4`."""
    value = fold(text).strip().rstrip(".")
    if not value:
        raise ParseError("empty")
    if match := _ISO.match(value):
        return _build(int(match[3]), int(match[2]), int(match[1]))
    match = _NUMERIC.match(value) or _WORDS.match(value)
    if not match:
        raise ParseError("format")
    day, month, year_text = int(match[1]), int(match[2]), match[3]
    if year_text is None:
        if default_year is None:
            raise ParseError("format")
        year = default_year
    else:
        year = int(year_text)
        if len(year_text) == 2:
            year += 2000
    return _build(day, month, year)


def parse_time(text: str) -> time:
    """A time of day: `17:00`, `17h`, `17h30`, `17 giờ 30`."""
    value = fold(text).strip()
    if not value:
        raise ParseError("empty")
    match = _TIME.match(value)
    if not match:
        raise ParseError("format")
    hour, minute = int(match[1]), int(match[2] or 0)
    if hour > 23 or minute > 59:
        raise ParseError("time_range")
    return time(hour, minute)


def format_date(value: date) -> str:
    return value.strftime("%d/%m/%Y")


_THOUSANDS_DOT = re.compile(r"^-?\d{1,3}(\.\d{3})+$")
_THOUSANDS_SPACE = re.compile(r"^-?\d{1,3}( \d{3})+$")


def parse_number(text: str) -> Decimal:
    """A number as typed in Vietnam: `.` groups thousands, `,` is the decimal mark."""
    value = text.strip().replace("\u00a0", " ")
    if not value:
        raise ParseError("empty")
    if _THOUSANDS_DOT.match(value) or _THOUSANDS_SPACE.match(value):
        value = value.replace(".", "").replace(" ", "")
    elif "," in value:
        if value.count(",") > 1 or "." in value:
            raise ParseError("format")
        value = value.replace(",", ".")
    if not re.fullmatch(r"-?\d+(\.\d+)?", value):
        raise ParseError("format")
    try:
        return Decimal(value)
    except InvalidOperation:
        raise ParseError("format") from None


def parse_integer(text: str) -> int:
    number = parse_number(text)
    if number != number.to_integral_value():
        raise ParseError("format")
    return int(number)


def as_utc(moment: datetime) -> datetime:
    """Read a datetime back from the database: SQLite returns naive values, stored as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
