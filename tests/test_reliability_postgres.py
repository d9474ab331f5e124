"""PostgreSQL going away under the bot: connections the pool holds are cut (a server restart,
a failover, an idle timeout on the way). The next update meets a dead connection, the pool is
emptied, and the core's retry handles the update on a fresh one: the officer sees an ordinary
answer, not an apology."""

from __future__ import annotations

import logging
import time

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import select

from models.conversation import ProcessedUpdate
from tests.utils.reports import report_world
from tests.utils.scenario import TestBot


def cut_pooled_connections(engine: Engine, url: str) -> int:
    """Terminate the server side of every connection the engine's pool holds; how many."""
    pids = set()
    held = [engine.raw_connection() for _ in range(engine.pool.size())]
    for connection in held:
        cursor = connection.cursor()
        cursor.execute("SELECT pg_backend_pid()")
        pids.add(cursor.fetchone()[0])
        cursor.close()
    for connection in held:
        connection.close()  # back to the pool, still open on our side
    # Autocommit: pg_stat_activity is a snapshot taken once per transaction, so inside one
    # transaction the wait below would never see a backend go and would always run to its end.
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for pid in pids:
            connection.execute(sa.select(sa.func.pg_terminate_backend(pid)))
        # pg_terminate_backend only signals the backend: wait until each has gone.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            alive = connection.execute(
                sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)"),
                {"pids": list(pids)},
            ).scalar_one()
            if not alive:
                break
            time.sleep(0.05)
        else:
            raise AssertionError(f"backends {sorted(pids)} still alive after 10 s")
    admin.dispose()
    return len(pids)


async def test_an_answer_survives_the_database_dropping_its_connections(
    bot: TestBot, engine: Engine, database_url, caplog: pytest.LogCaptureFixture
) -> None:
    url, schema = database_url
    if schema is None:
        pytest.skip("PostgreSQL only: SQLite has no server to lose")
    world = report_world(bot, "bao-cao-thanh-tich")
    officer = world.officer
    await officer.says("/baocao")
    await officer.says("Thu ngân sách đạt 105% kế hoạch; giảm hộ nghèo")
    assert "Câu 2/12" in officer.last_reply
    await bot.core.flush_marks()

    assert cut_pooled_connections(engine, url) >= 1
    caplog.set_level(logging.INFO, logger="thidua.core")
    await officer.says("12")
    assert "retry 1 after OperationalError" in caplog.text  # it did meet a dead connection
    assert "Câu 3/12" in officer.last_reply
    assert "Xin lỗi" not in officer.all_text
    assert world.report().answers["tong_chi_tieu"] == 12
    await bot.core.flush_marks()
    with bot.db() as db:
        assert all(row.answered_at for row in db.exec(select(ProcessedUpdate)).all())
