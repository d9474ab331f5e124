"""Database engine, sessions and migrations.

SQLite by default (WAL journal, a busy timeout and foreign keys on, so concurrent writers wait
instead of failing with "database is locked"), PostgreSQL through
`postgresql+psycopg://…`. The schema is only ever changed by the Alembic migrations in
`models/migrations`; `upgrade()` applies the pending ones.

A SQLite file, its write-ahead log or its WAL index (`-shm`) that cannot be written is refused
with `DatabaseNotWritable` (a sentence naming the file) at start-up and before every
transaction. Without that check SQLite goes on to grow its memory-mapped WAL index and the
kernel kills the whole process with SIGBUS — no log line, no reply (docs/reliability.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import os
import random
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
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
# Set by `in_transaction` around work that will commit: its SQLite transaction then begins
# IMMEDIATE (see `_sqlite_begin_checked`).
_WRITING: contextvars.ContextVar[bool] = contextvars.ContextVar("sqlite_writing", default=False)
# Suffixes of the files SQLite keeps next to a database in WAL mode.
SQLITE_SIDE_FILES = ("-wal", "-shm")


# SQLite files this process opened (their WAL index may be mapped in it).
_OPENED: set[Path] = set()


class DatabaseNotWritable(Exception):
    """The SQLite database (or its journal, or its directory) cannot be written: one sentence
    for the operator, naming the file."""


def sqlite_path(url: str | URL) -> Path | None:
    """The file of a SQLite URL; None for PostgreSQL and in-memory databases."""
    url = make_url(url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def check_writable(path: Path) -> None:
    """Raise DatabaseNotWritable unless the database file, its `-wal` and `-shm` files (those
    that exist) and its directory (where SQLite creates them) can be written.

    `os.access` costs a few microseconds and also reports immutable files (chattr +i) and
    read-only mounts, which a root process would otherwise write through to a SIGBUS."""
    candidates = [path, *(path.with_name(path.name + s) for s in SQLITE_SIDE_FILES)]
    for candidate in candidates:
        if candidate.exists() and not os.access(candidate, os.W_OK):
            raise DatabaseNotWritable(_not_writable(candidate))
    directory = path.parent
    if not os.access(directory, os.W_OK | os.X_OK):
        raise DatabaseNotWritable(_not_writable(directory))


def leave_if_not_writable(database_url: str | URL, code: int) -> None:
    """End the process at once (`os._exit(code)`) when the SQLite files cannot be written.

    To call as the last thing a process does. Python closes the open SQLite connections on the
    way out, and the last one to close checkpoints through the memory-mapped WAL index: once
    that file cannot be written, the close itself is a SIGBUS. Exiting without finalisers
    leaves the WAL as it is, which SQLite replays at the next start."""
    path = sqlite_path(database_url)
    if path is None or path.resolve() not in _OPENED:
        return  # not opened here: nothing of it is mapped in this process
    try:
        check_writable(path)
    except DatabaseNotWritable as exc:
        log.error("%s", exc)
        logging.shutdown()
        os._exit(code)


def _not_writable(path: Path) -> str:
    return (
        f"Không ghi được vào cơ sở dữ liệu: {path} chỉ đọc (quyền tệp, chattr +i hoặc ổ đĩa "
        "gắn chỉ đọc). Cấp quyền ghi cho người dùng chạy bot (tệp .db, -wal, -shm và thư mục "
        "chứa chúng) rồi chạy lại."
    )


def create_db_engine(
    database_url: str | URL, *, schema: str | None = None, **kwargs: Any
) -> Engine:
    """An engine for the URL; `schema` pins PostgreSQL's search_path (tests use one per run)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        path = sqlite_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            check_writable(path)
            _OPENED.add(path.resolve())
        engine = sa.create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            **kwargs,
        )
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin_checked(path))
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
    # No memory-mapped reads of the database file (the default of most builds, made sure of
    # here): a mapped file that shrinks or fails under SQLite's feet is a SIGBUS, not an
    # error. The WAL index (-shm) is mapped whatever this says; `check_writable` guards it.
    cursor.execute("PRAGMA mmap_size=0")
    cursor.close()


def _sqlite_begin_checked(path: Path | None) -> Callable[[sa.Connection], None]:
    def begin(connection: sa.Connection) -> None:
        # Files made read-only while the bot runs: SQLite would still write through the
        # mapped WAL index, and growing it is a SIGBUS. Refuse the transaction instead.
        if path is not None:
            check_writable(path)
        # With the sqlite3 module's own transaction handling off, SQLAlchemy's BEGIN is
        # explicit, so SAVEPOINTs work. A read transaction that later writes may still meet
        # "database is locked" when another connection holds the write lock or wrote meanwhile:
        # SQLite does not call the busy handler for a lock *upgrade*, it fails at once. The core
        # retries the whole update then, so users never see it. Work outside updates that will
        # commit (`in_transaction`) takes the write lock at BEGIN instead, where the busy
        # timeout does apply: the Zalo choice store's read-then-insert used to fail five
        # immediate retries in a row while the core wrote its answered-marks.
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _WRITING.get() else "BEGIN")

    return begin


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
    dropped connection, after a short random pause; `what` names it in the log. On SQLite a
    transaction that will commit begins IMMEDIATE, waiting for the write lock up to the busy
    timeout. Called from worker threads (`outside_update`) and at start-up, never from the
    event loop while it serves: the pause is a blocking sleep."""
    for attempt in range(1, attempts + 1):
        token = _WRITING.set(commit)
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
        finally:
            _WRITING.reset(token)
        time.sleep(random.uniform(0, 0.05 * 2**attempt))
    raise AssertionError("unreachable")


async def outside_update(
    engine: Engine,
    work: Callable[[Session], T],
    *,
    commit: bool = True,
    what: str = "transaction",
    turn: Callable[[], AbstractAsyncContextManager[object]] | None = None,
) -> T:
    """The one way to touch the database from the event loop outside an update (reminders,
    council and scan jobs, deliveries, broadcasts, the web desk, the numbered-choice store):
    `in_transaction` in a worker thread, so neither the work nor a wait for a lock blocks the
    event loop.

    `turn` (`BotCore.database_turn`) first waits, on the loop, for this process's
    one-transaction-at-a-time turn. Work that writes often while updates run in the same
    process takes it: an update may hold SQLite's write lock across an await (a file
    downloading), and without the turn the thread would wait out the busy timeout and fail
    (tests/test_reliability_sqlite.py). Work that writes rarely and only its own rows
    (broadcast marks, deliveries) may go without it; a lock is then retried."""
    async with turn() if turn is not None else contextlib.nullcontext():
        return await asyncio.to_thread(in_transaction, engine, work, commit=commit, what=what)
