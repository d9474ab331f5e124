"""Alembic environment: runs migrations on the engine handed over by `bot.db.upgrade`."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlmodel import SQLModel

import models  # noqa: F401  (registers every table on SQLModel.metadata)
from models.base import UTCDateTime

config = context.config
target_metadata = SQLModel.metadata


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    # Migrations must not import application code: render our column types as plain SQLAlchemy.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and obj.__class__.__module__.startswith("sqlmodel"):
        autogen_context.imports.add("import sqlmodel")
    return False


def _driver(connection: Any) -> Any:
    """The DB-API connection under SQLAlchemy's (sqlite3's, for the pragma)."""
    driver = connection.connection.driver_connection
    assert driver is not None
    return driver


def run_migrations() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        from sqlalchemy import create_engine

        url = config.get_main_option("sqlalchemy.url")
        assert url, "alembic needs an engine or sqlalchemy.url"
        engine = create_engine(url)
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite changes a table by copying it into a new one and dropping the old (batch
            # mode); with foreign keys enforced, dropping a table other rows refer to fails.
            # The pragma only takes effect outside a transaction, hence the driver connection
            # (in autocommit mode, see bot.db) before SQLAlchemy begins one; the keys are
            # checked once the migrations ran, and enforced again after.
            _driver(connection).execute("PRAGMA foreign_keys=OFF")
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_item=_render_item,
            render_as_batch=sqlite,
            compare_type=True,
        )
        try:
            with context.begin_transaction():
                context.run_migrations()
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"migration broke foreign keys: {broken[:5]}")
            connection.commit()
        finally:
            if sqlite:
                _driver(connection).execute("PRAGMA foreign_keys=ON")


run_migrations()
