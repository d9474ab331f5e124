"""Leader election for scheduled work: on PostgreSQL exactly one process of a fleet leads, and
leadership passes on when the leader stops or dies; on SQLite the one process always leads."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.db import create_db_engine
from bot.leader import AdvisoryLockLeader, SingleHostLeader, leader_for, lock_key


@pytest.fixture
def two_processes(database_url: tuple[str, str | None]) -> Iterator[tuple[Engine, Engine]]:
    """Two engines on one database, as two bot processes would have."""
    url, schema = database_url
    if url.startswith("sqlite"):
        pytest.skip("advisory locks are PostgreSQL's; SQLite has one process")
    engines = (create_db_engine(url, schema=schema), create_db_engine(url, schema=schema))
    yield engines
    for engine in engines:
        engine.dispose()


def test_only_one_process_leads(two_processes: tuple[Engine, Engine]) -> None:
    first, second = (leader_for(engine, "scheduler") for engine in two_processes)
    assert isinstance(first, AdvisoryLockLeader)
    assert first.ensure() is True
    assert second.ensure() is False
    assert first.ensure() is True and first.is_leader  # keeps what it holds
    assert second.ensure() is False and not second.is_leader
    first.close()
    second.close()


def test_different_work_has_different_leaders(two_processes: tuple[Engine, Engine]) -> None:
    reminders = leader_for(two_processes[0], "reminders")
    exports = leader_for(two_processes[1], "exports")
    assert reminders.ensure() and exports.ensure()
    reminders.close()
    exports.close()


def test_leadership_passes_on_when_the_leader_stops(two_processes: tuple[Engine, Engine]) -> None:
    first_engine, second_engine = two_processes
    first, second = leader_for(first_engine, "scheduler"), leader_for(second_engine, "scheduler")
    assert first.ensure() and not second.ensure()
    first.close()
    first_engine.dispose()
    assert second.ensure() is True
    second.close()


def test_leadership_passes_on_when_the_leader_dies(two_processes: tuple[Engine, Engine]) -> None:
    first, second = (leader_for(engine, "scheduler") for engine in two_processes)
    assert first.ensure() and not second.ensure()
    # The leader's process dies: PostgreSQL ends its session, and the lock goes with it.
    with two_processes[1].begin() as connection:
        schema = connection.execute(sa.select(sa.func.current_schema())).scalar_one()
        key = lock_key(f"thidua:{schema}:scheduler") & 0xFFFF_FFFF_FFFF_FFFF
        holder = connection.execute(
            sa.text(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND classid = :high AND objid = :low AND objsubid = 1"
            ),
            {"high": key >> 32, "low": key & 0xFFFF_FFFF},
        ).scalar_one()
        connection.execute(sa.select(sa.func.pg_terminate_backend(holder)))
    # pg_terminate_backend only signals the backend: the lock goes when it has exited.
    deadline = time.monotonic() + 10
    while not second.ensure() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert second.is_leader is True
    assert first.ensure() is False  # notices it no longer leads
    second.close()
    first.close()


def test_one_sqlite_process_always_leads(engine: Engine, database_url) -> None:
    if not database_url[0].startswith("sqlite"):
        pytest.skip("SQLite only")
    leader = leader_for(engine, "scheduler")
    assert isinstance(leader, SingleHostLeader)
    assert leader.ensure() and leader.is_leader
    leader.close()
