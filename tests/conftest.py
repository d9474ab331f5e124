"""Shared fixtures: a migrated database (SQLite always, PostgreSQL too when TEST_DATABASE_URL is
set), a clock the test moves, and the bot wired to an in-memory channel.

The `engine` fixture is parametrised over the databases, so every test that uses it runs on
each; PostgreSQL gets a schema of its own per test run so parallel runs don't collide.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel
from telegram.ext import Application

from bot.channels.memory import MemoryChannel
from bot.channels.telegram import TelegramPoller, build_application
from bot.channels.zalo import ZaloChannel, build_zalo_channel
from bot.clock import ManualClock
from bot.core import BotCore
from bot.db import create_db_engine, upgrade
from bot.runtime import build_core
from bot.settings import Settings
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.zalo_api import FakeZalo
from tests.utils.ids import ADMIN_USER_ID
from tests.utils.scenario import TestBot

# Fixtures running `thidua-bot run` as a child process (fault and security tests), and the
# province with two communes (organiser tests, on the chat and the web desk).
pytest_plugins = ["tests.utils.subprocess_bot", "tests.utils.province"]

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
DATABASES = ["sqlite", *(["postgresql"] if TEST_DATABASE_URL else [])]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = create_db_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[tuple[str, str]]:
    assert TEST_DATABASE_URL
    schema = f"t_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(TEST_DATABASE_URL)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    engine = create_db_engine(TEST_DATABASE_URL, schema=schema)
    upgrade(engine)
    engine.dispose()
    yield TEST_DATABASE_URL, schema
    with admin.begin() as connection:
        connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    admin.dispose()


def _truncate_all(engine: Engine) -> None:
    # DELETE and rewinding the schema's sequences, not TRUNCATE: a test leaves a few rows, and
    # TRUNCATE of every table cost about a second per test, DELETE 40 ms. Foreign keys are not
    # checked meanwhile (replica role; the test server's user is a superuser): organiser and
    # unit refer to each other, so no order of deletes satisfies them.
    # Another user falls back to TRUNCATE.
    tables = [f'"{t.name}"' for t in SQLModel.metadata.sorted_tables]
    with engine.begin() as connection:
        try:
            with connection.begin_nested():
                connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
        except sa.exc.DBAPIError:
            connection.exec_driver_sql(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        else:
            connection.exec_driver_sql("; ".join(f"DELETE FROM {name}" for name in tables))
        connection.exec_driver_sql(
            "SELECT setval(s.oid::regclass, 1, false) FROM pg_class s"
            " JOIN pg_namespace n ON n.oid = s.relnamespace"
            " WHERE s.relkind = 'S' AND n.nspname = current_schema()"
        )
        # The migration's default organiser (id 1) is data every database starts with.
        connection.exec_driver_sql(
            "INSERT INTO organiser (code, name, level, place, signing_place, active, created_at)"
            " VALUES ('MACDINH', 'Cơ quan tổ chức', 'khac', '', '', true, now())"
        )


@pytest.fixture(params=DATABASES)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[str, str | None]]:
    """(url, schema) of an empty, migrated database for this test."""
    if request.param == "sqlite":
        path = tmp_path / "thidua.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}", None
    else:
        url, schema = request.getfixturevalue("postgres_schema")
        engine = create_db_engine(url, schema=schema)
        _truncate_all(engine)
        engine.dispose()
        yield url, schema


@pytest.fixture
def engine(database_url: tuple[str, str | None]) -> Iterator[Engine]:
    url, schema = database_url
    engine = create_db_engine(url, schema=schema)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def clock() -> ManualClock:
    # A Monday morning in Hà Nội (08:00 +07:00).
    return ManualClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,
        admin_ids=[f"memory:{ADMIN_USER_ID}"],
        storage_dir=tmp_path / "files",
        database_url="sqlite:///unused.db",
    )


@pytest.fixture
def channel() -> MemoryChannel:
    return MemoryChannel()


@pytest.fixture
def bot(settings: Settings, engine: Engine, clock: ManualClock, channel: MemoryChannel) -> TestBot:
    core = build_core(settings, engine=engine, clock=clock, migrate=False)
    core.hub.register(channel)
    return TestBot(core, channel)


@pytest.fixture
async def telegram_api() -> AsyncIterator[FakeTelegram]:
    """A fake Bot API server listening on a free loopback port."""
    server = FakeTelegram()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def telegram_bot(
    telegram_api: FakeTelegram,
    settings: Settings,
    engine: Engine,
    clock: ManualClock,
    request: pytest.FixtureRequest,
) -> AsyncIterator[tuple[Application, BotCore]]:
    """The real PTB Application, long-polling the fake server (TelegramPoller, as `run` does),
    wired to the core. `@pytest.mark.bot_rate(n)` sets the bot's own overall limit, messages
    a second (default 0: none; production keeps 29, under Telegram's 30), `@pytest.mark.bot_chat_spacing(s)`
    its spacing of requests to one chat (default 0: none; production spaces them a second
    apart). Both are off unless asked for: the fake server limits nothing unless a test sets
    `rate_limit` or `chat_rate_limit`, and a test that pushed 30 reminders three times waited
    a second for the limiter each time."""
    rate = request.node.get_closest_marker("bot_rate")
    spacing = request.node.get_closest_marker("bot_chat_spacing")
    settings = settings.model_copy(
        update={
            "telegram_bot_token": SecretStr(telegram_api.token),
            "telegram_base_url": telegram_api.base_url,
            "admin_ids": [ADMIN_USER_ID],
            "telegram_max_messages_per_second": rate.args[0] if rate else 0,
            # No spacing per chat unless a test asks for it: the fake server limits a chat only
            # when a test sets `chat_rate_limit`, and a second's wait between the messages of a
            # walk through a whole report cost 16 s a test.
            "telegram_chat_spacing_seconds": spacing.args[0] if spacing else 0,
        }
    )
    core = build_core(settings, engine=engine, clock=clock, migrate=False)
    application = build_application(settings, core)
    await application.initialize()
    poller = TelegramPoller(application, core, timeout=1, backoff=(0.05, 0.5))
    polling = asyncio.create_task(poller.run())
    yield application, core
    polling.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await polling
    await poller.aclose()
    await application.shutdown()


@pytest.fixture
async def zalo_api() -> AsyncIterator[FakeZalo]:
    """A fake Zalo Bot API server listening on a free loopback port."""
    server = FakeZalo()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def zalo_settings(zalo_api: FakeZalo, settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "zalo_bot_token": SecretStr(zalo_api.token),
            "zalo_base_url": zalo_api.base_url,
            "admin_ids": [f"zalo:{ADMIN_USER_ID}"],
        }
    )


@pytest.fixture
async def zalo_bot(
    zalo_api: FakeZalo, zalo_settings: Settings, engine: Engine, clock: ManualClock
) -> AsyncIterator[tuple[ZaloChannel, BotCore]]:
    """The Zalo channel long-polling the fake server, wired to a core (1 s polls, quick retries)."""
    core = build_core(zalo_settings, engine=engine, clock=clock, migrate=False)
    channel = build_zalo_channel(zalo_settings, core, poll_timeout=1, backoff=(0.01, 0.05))
    await channel.start()
    poller = asyncio.create_task(channel.run(core.process))
    yield channel, core
    poller.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await poller
    await channel.aclose()


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Tests that run the CLI install real log handlers; put logging back as it was."""
    import logging

    import bot.logging_setup

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    # `setup_logging` installs a record factory that scrubs its secrets from every record; left
    # in place it would scrub the next test's records with this test's secrets.
    factory, installed = logging.getLogRecordFactory(), bot.logging_setup._factory_installed
    named = {
        n: logging.getLogger(n).level for n in ("httpx", "httpcore", "apscheduler", "telegram")
    }
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, saved in named.items():
        logging.getLogger(name).setLevel(saved)
    logging.setLogRecordFactory(factory)
    bot.logging_setup._factory_installed = installed
