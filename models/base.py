"""Shared column types for the SQLModel tables.

`UTCDateTime` stores aware datetimes in UTC and always gives them back aware, on SQLite (which
keeps no zone) and PostgreSQL alike; `JSONData` is a JSON column. Tables must not call the
clock themselves: timestamps are passed in by domain code that holds one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlmodel import Field, Session, SQLModel


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_field(*, nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_column=sa.Column(UTCDateTime(), nullable=nullable, index=index))


def json_field(*, nullable: bool = False) -> Any:
    return Field(default_factory=dict, sa_column=sa.Column(sa.JSON(), nullable=nullable))


def table_of(model: type[SQLModel]) -> sa.Table:
    """The Core table of a SQLModel table class (for bulk UPDATE/INSERT statements)."""
    table = model.__table__  # type: ignore[attr-defined]  # SQLModel sets it on table classes without declaring it
    assert isinstance(table, sa.Table)
    return table


def rowcount(result: sa.Result[Any]) -> int:
    """Rows an UPDATE/DELETE matched: `Session.execute` is typed as returning a plain
    `Result`, while for these statements it is a `CursorResult`."""
    assert isinstance(result, sa.CursorResult)
    return result.rowcount


def insert_ignoring(session: Session, table: sa.Table, *, keys: list[str]) -> sa.Insert:
    """INSERT … ON CONFLICT (keys) DO NOTHING, on SQLite and PostgreSQL alike (each dialect
    offers it with a construct of its own)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=keys)
    return sqlite.insert(table).on_conflict_do_nothing(index_elements=keys)
