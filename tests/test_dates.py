"""Vietnamese date, time and number parsing, with property-based checks."""

from __future__ import annotations

import contextlib
from datetime import date, time
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.dates import (
    ParseError,
    format_date,
    parse_date,
    parse_integer,
    parse_number,
    parse_time,
)


@pytest.mark.parametrize(
    "text",
    [
        "25/4/2019",
        "25-04-2019",
        "25.04.2019",
        "2019-04-25",
        "25 tháng 4 năm 2019",
        "ngày 25 tháng 04 năm 2019",
        "Ngày 25 Tháng 4 Năm 2019",
        " 25 / 4 / 2019 ",
        "25/4/19",
    ],
)
def test_the_ways_officials_write_a_date(text: str) -> None:
    assert parse_date(text) == date(2019, 4, 25)


def test_a_date_without_year_takes_the_default() -> None:
    assert parse_date("15/5", default_year=2019) == date(2019, 5, 15)
    with pytest.raises(ParseError):
        parse_date("15/5")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("31/4/2019", "day_range"),
        ("29/2/2019", "day_range"),
        ("1/13/2019", "month_range"),
        ("1/1/1800", "year_range"),
        ("ngày mai", "format"),
        ("", "empty"),
    ],
)
def test_impossible_dates_are_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(ParseError) as error:
        parse_date(text)
    assert error.value.reason == reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [("17:00", time(17)), ("17h", time(17)), ("7h30", time(7, 30)), ("17 giờ 30", time(17, 30))],
)
def test_times(text: str, expected: time) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.234", Decimal(1234)),
        ("1 234 567", Decimal(1234567)),
        ("12,5", Decimal("12.5")),
        ("12.5", Decimal("12.5")),
        ("-3", Decimal(-3)),
        ("0", Decimal(0)),
    ],
)
def test_numbers_as_typed_in_vietnam(text: str, expected: Decimal) -> None:
    assert parse_number(text) == expected


def test_integer_refuses_fractions() -> None:
    assert parse_integer("1.500") == 1500
    with pytest.raises(ParseError):
        parse_integer("2,5")


@given(st.text())
def test_arbitrary_text_never_raises_anything_but_parse_error(text: str) -> None:
    for parser in (parse_date, parse_time, parse_number, parse_integer):
        with contextlib.suppress(ParseError):
            parser(text)


@given(st.dates(min_value=date(1945, 1, 1), max_value=date(2100, 12, 31)))
def test_formatted_dates_round_trip(value: date) -> None:
    assert parse_date(format_date(value)) == value


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_integers_round_trip_with_thousands_separators(value: int) -> None:
    assert parse_integer(str(value)) == value
    assert parse_integer(f"{value:,}".replace(",", ".")) == value
