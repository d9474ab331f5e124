"""SQLite under concurrent writers: two bot cores over one database file, each in a thread of its
own (as two processes would be), handling officers' reports at the same time, while a third
writer keeps taking the write lock for a moment (a backup, `units import`, an admin script).

No "database is locked" may reach a user: nobody gets the apology, and every update's effect is
in the database. And inside one process, the reminder scheduler's writes wait their turn behind
an update's transaction instead of blocking the event loop.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from bot.catalog import t
from bot.channels.memory import MemoryChannel
from bot.channels.text import html_to_plain
from bot.clock import ManualClock
from bot.core import BotCore
from bot.db import create_db_engine, in_transaction
from bot.runtime import build_core
from bot.settings import Settings
from models.conversation import ProcessedUpdate
from models.reports import Report
from tests.utils.factories import T0, make_campaign, make_deadline, make_member, make_unit
from tests.utils.files import PDF
from tests.utils.reminders import local, scheduler_for
from tests.utils.reports import report_world
from tests.utils.scenario import TestBot
from tests.utils.waiting import eventually

OFFICERS_PER_CORE = 15
ANSWERS = ["/baocao", "Thu ngân sách đạt 105% kế hoạch; giảm hộ nghèo", "12", "11"]
APOLOGY = html_to_plain(t("core.error"))


def _officer_id(core_name: str, n: int) -> str:
    return f"{core_name}{n:03d}"


def _run_core(core: BotCore, channel: MemoryChannel, core_name: str) -> None:
    """One bot process: its officers answer in turns, interleaved, on this thread's loop."""

    async def main() -> None:
        for step, text in enumerate(ANSWERS):
            for n in range(OFFICERS_PER_CORE):
                user = _officer_id(core_name, n)
                event = channel.event(user, text=text)
                event.update_id = f"{core_name}-{step}-{n}"
                await core.process(event)

    asyncio.run(main())


def _busy_writer(path: Path, stop: threading.Event) -> None:
    """Another program writing now and then, each time holding the lock for a while."""
    connection = sqlite3.connect(path, isolation_level=None, timeout=15)
    try:
        while not stop.is_set():
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("UPDATE unit SET bloc = bloc WHERE id = 1")
            time.sleep(0.05)  # the workload: the lock held a while, then free a while
            connection.execute("COMMIT")
            time.sleep(0.02)
    finally:
        connection.close()


def test_two_processes_and_a_busy_writer_never_surface_a_locked_database(
    tmp_path: Path, sqlite_template: Path
) -> None:
    path = tmp_path / "thidua.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    setup = create_db_engine(url)
    with Session(setup) as db:
        deadline = make_deadline(db, make_campaign(db), form_code="bao-cao-thanh-tich")
        for core_name in ("a", "b"):
            for n in range(OFFICERS_PER_CORE):
                unit = make_unit(db)
                make_member(db, _officer_id(core_name, n), unit=unit)
        db.commit()
        deadline_id = deadline.id
    cores: dict[str, tuple[BotCore, MemoryChannel]] = {}
    for core_name in ("a", "b"):
        settings = Settings(_env_file=None, database_url=url, storage_dir=tmp_path / "files")
        core = build_core(
            settings, engine=create_db_engine(url), clock=ManualClock(T0), migrate=False
        )
        core.flood.limit = 10_000
        channel = MemoryChannel()
        core.hub.register(channel)
        cores[core_name] = (core, channel)

    stop = threading.Event()
    writer = threading.Thread(target=_busy_writer, args=(path, stop))
    threads = [
        threading.Thread(target=_run_core, args=(core, channel, name))
        for name, (core, channel) in cores.items()
    ]
    writer.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    stop.set()
    writer.join()

    for name, (_, channel) in cores.items():
        for n in range(OFFICERS_PER_CORE):
            texts = [html_to_plain(m.text) for m in channel.sent[_officer_id(name, n)]]
            assert APOLOGY not in texts, f"{_officer_id(name, n)}: {texts}"
            assert any("Câu 4/12" in text for text in texts), texts
    with Session(setup) as db:
        handled = db.exec(select(ProcessedUpdate)).all()
        assert len(handled) == 2 * OFFICERS_PER_CORE * len(ANSWERS)
        reports = db.exec(select(Report).where(Report.deadline_id == deadline_id)).all()
        assert len(reports) == 2 * OFFICERS_PER_CORE
        for report in reports:
            assert report.answers == {
                "ket_qua": "Thu ngân sách đạt 105% kế hoạch; giảm hộ nghèo",
                "tong_chi_tieu": 12,
                "chi_tieu_dat": 11,
            }
    setup.dispose()


async def test_a_reminder_tick_during_a_slow_upload_waits_its_turn(
    bot: TestBot, clock: ManualClock, channel: MemoryChannel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An officer's update holds its transaction while the file they sent downloads; a reminder
    tick due at that moment must wait for it without blocking the event loop (a blocked loop
    cannot finish the download, and the tick would give up on a locked database)."""
    if bot.core.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's single writer lock is what is at stake")
    monkeypatch.setattr("bot.db.SQLITE_BUSY_TIMEOUT_MS", 300)  # fail fast instead of hanging
    world = report_world(bot, "bao-cao-thanh-tich")
    officer = world.officer
    for step in (
        lambda: officer.says("/baocao"),
        lambda: officer.says("Thu ngân sách đạt 105% kế hoạch; giảm hộ nghèo"),
        lambda: officer.says("12"),
        lambda: officer.says("11"),
        lambda: officer.presses("Hoàn thành tốt nhiệm vụ"),
        lambda: officer.says("1.250,5"),
        lambda: officer.presses("Bỏ qua"),
        lambda: officer.says("Giải ngân vốn còn chậm"),
        lambda: officer.says("Xã miền núi, 12 thôn, 8.450 nhân khẩu"),
        lambda: officer.presses("Bỏ qua"),
        lambda: officer.presses("Bỏ qua"),
        lambda: officer.says("20/6/2026"),
    ):
        await step()
    assert "Câu 12/12" in officer.last_reply
    download = channel.download
    downloading, release = asyncio.Event(), asyncio.Event()

    async def slow_download(attachment):  # type: ignore[no-untyped-def]
        downloading.set()  # the update is inside its transaction, downloading
        await release.wait()
        return await download(attachment)

    turn = bot.core.database_turn
    tick_waits = asyncio.Event()

    def watched_turn():  # type: ignore[no-untyped-def]
        if bot.core.database_busy():
            tick_waits.set()  # the tick asks for its turn while the update holds it
        return turn()

    monkeypatch.setattr(channel, "download", slow_download)
    monkeypatch.setattr(bot.core, "database_turn", watched_turn)
    clock.set(local(2026, 3, 9, 8, 30))  # the 7-days-before reminder of the deadline is due
    scheduler = scheduler_for(bot.core)
    started = time.monotonic()
    upload = asyncio.create_task(officer.sends_file(PDF, "bao-cao-da-ky.pdf", "application/pdf"))
    await asyncio.wait_for(downloading.wait(), timeout=5)
    tick = asyncio.create_task(scheduler.tick())
    # A tick that went to the database without its turn would hit SQLite's lock here and fail
    # (done, with an error); one that waits its turn does so without blocking the loop.
    await eventually(lambda: tick_waits.is_set() or tick.done(), what="the tick to wait")
    assert not tick.done()
    release.set()
    await upload
    report = await tick
    assert report.reminders.sent == 1
    assert "Xem lại" in officer.all_text
    assert time.monotonic() - started < 3


def test_work_that_reads_then_writes_waits_for_the_write_lock_instead_of_failing(
    tmp_path: Path,
) -> None:
    """SQLite does not call the busy handler when a read transaction upgrades to write: with a
    plain BEGIN, a SELECT then an INSERT fails at once while another connection holds the write
    lock (the Zalo choice store met that beside the core's answered-marks). `in_transaction`
    begins work that will commit IMMEDIATE, so it waits for the lock like any writer."""
    path = tmp_path / "lock.db"
    engine = create_db_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (n INTEGER)")
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO t VALUES (1)")
    released = threading.Timer(0.3, lambda: holder.execute("COMMIT"))
    released.start()

    def read_then_write(session: Session) -> int:
        count = session.execute(sa.text("SELECT count(*) FROM t")).scalar_one()
        session.execute(sa.text("INSERT INTO t VALUES (2)"))
        return int(count)

    try:
        # One attempt: no retry may hide an immediate failure.
        assert in_transaction(engine, read_then_write, attempts=1) == 1
    finally:
        released.join()
        holder.close()
        engine.dispose()
