"""SQLite under concurrent writers: two bot cores over one database file, each in a thread of its
own (as two processes would be), handling officers' reports at the same time, while a third
writer keeps taking the write lock for a moment (a backup, `units import`, an admin script).

No "database is locked" may reach a user: nobody gets the apology, and every update's effect is
in the database.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import threading
import time
from pathlib import Path

from sqlmodel import Session, select

from bot.catalog import t
from bot.channels.memory import MemoryChannel
from bot.channels.text import html_to_plain
from bot.clock import ManualClock
from bot.core import BotCore
from bot.db import create_db_engine
from bot.runtime import build_core
from bot.settings import Settings
from models.conversation import ProcessedUpdate
from models.reports import Report
from tests.utils.factories import T0, make_campaign, make_deadline, make_member, make_unit

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
            time.sleep(0.05)
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
            assert any("Câu 4/9" in text for text in texts), texts
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
