"""Database engine, sessions and migrations.

SQLite by default (WAL journal, a busy timeout and foreign keys on, so concurrent writers wait
instead of failing with "database is locked"), PostgreSQL through
`postgresql+psycopg://…`. The schema is only ever changed by the Alembic migrations in
`models/migrations`; `upgrade()` applies the pending ones.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

log = logging.getLogger("thidua.db")
T = TypeVar("T")

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "models" / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 15_000


def create_db_engine(
    database_url: str | URL, *, schema: str | None = None, **kwargs: Any
) -> Engine:
    """An engine for the URL; `schema` pins PostgreSQL's search_path (tests use one per run)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            **kwargs,
        )
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    connect_args: dict[str, Any] = {}
    if schema:
        connect_args["options"] = f"-csearch_path={schema}"
    # No pool_pre_ping: it costs a round trip per transaction. A connection the server dropped
    # fails its next statement instead; SQLAlchemy then empties the pool and the core (and the
    # scheduler's next tick) tries again on a fresh connection
    # (tests/test_reliability_postgres.py).
    return sa.create_engine(url, connect_args=connect_args, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, open transactions (see _sqlite_begin_immediate).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: sa.Connection) -> None:
    # With the sqlite3 module's own transaction handling off, SQLAlchemy's BEGIN is explicit, so
    # SAVEPOINTs work. A read transaction that later writes may still meet "database is locked"
    # when another process wrote meanwhile (the busy timeout does not cover lock upgrades): the
    # core retries the whole update then, so users never see it.
    connection.exec_driver_sql("BEGIN")


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply pending migrations up to `revision`."""
    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def in_transaction(
    engine: Engine,
    work: Callable[[Session], T],
    *,
    commit: bool = True,
    attempts: int = 5,
    what: str = "transaction",
) -> T:
    """`work` in a transaction of its own (committed unless `commit=False`), run again when the
    database reports a lock it could not wait out (SQLite: another process wrote first) or a
    dropped connection; `what` names it in the log."""
    for attempt in range(1, attempts + 1):
        try:
            with Session(engine, expire_on_commit=False) as session:
                result = work(session)
                if commit:
                    session.commit()
                return result
        except OperationalError:
            if attempt == attempts:
                raise
            log.info("%s retried after a lock or a lost connection (attempt %d)", what, attempt)
    raise AssertionError("unreachable")


async def outside_update(
    engine: Engine,
    work: Callable[[Session], T],
    *,
    commit: bool = True,
    what: str = "transaction",
) -> T:
    """The one way to touch the database from the event loop outside an update (deliveries,
    broadcasts, the scheduler's ledger writes): `in_transaction` in a worker thread, so a wait
    for a lock (SQLite: an update holding the write lock across an await) never blocks the
    event loop that update needs to finish."""
    return await asyncio.to_thread(in_transaction, engine, work, commit=commit, what=what)
