"""A database migrated only up to an older revision, on SQLite or on PostgreSQL (a schema of
its own, dropped afterwards), for tests of a migration run on existing data."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from bot.db import alembic_config, create_db_engine, upgrade
from tests.conftest import TEST_DATABASE_URL


def database_at(revision: str, database: str, tmp_path: Path) -> Iterator[Engine]:
    """Yield an engine on an empty database migrated to `revision` ("sqlite" or "postgresql")."""
    if database == "sqlite":
        engine = create_db_engine(f"sqlite:///{tmp_path / 'old.db'}")
        upgrade(engine, revision)
        yield engine
        engine.dispose()
        return
    assert TEST_DATABASE_URL
    schema = f"m_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(TEST_DATABASE_URL)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    engine = create_db_engine(TEST_DATABASE_URL, schema=schema)
    upgrade(engine, revision)
    yield engine
    engine.dispose()
    with admin.begin() as connection:
        connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    admin.dispose()


def head_revision(engine: Engine) -> str | None:
    """The newest revision of the migrations."""
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
