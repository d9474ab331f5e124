"""Faults in a reminder run to 300 officers, with `thidua-bot run` as a real process against the
fake Bot API server: SIGKILL in the middle of the run, and the Bot API gone for a while.

What the reminders design promises (domain/ledger.py): a reminder goes at most once — a
claim is committed before the send, and a send whose outcome nobody can know (the process died
while it was on its way) is never resent blindly but left for the admins' digest. So after a
kill and a restart: no officer gets two reminders; every officer gets one, except those whose
send was under way at the kill (at most REMINDER_CONCURRENCY of them), which are recorded as
unknown.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.db import create_db_engine
from models.campaigns import ReminderLog, ReminderStatus
from models.units import Member
from tests.fakes.telegram_api import FakeTelegram
from tests.utils.factories import make_campaign, make_deadline, make_member, make_unit
from tests.utils.subprocess_bot import BotProcess, started

pytestmark = pytest.mark.slow

OFFICERS = 300
FIRST_CHAT = 300_000
CONCURRENCY = 8
# Reminders go out every day at midnight, with no quiet hours, so one is due whatever the time
# the test runs (the child runs on the system clock).
POLICY = {
    "before_days": [1],
    "on_due_day": False,
    "overdue_max": 0,
    "send_at": "00:00",
    "quiet_start": "00:00",
    "quiet_end": "00:00",
    "shift_days_off": False,
}


@pytest.fixture
def reminders_db(tmp_path: Path, sqlite_template: Path) -> Iterator[Path]:
    """300 officers (two per unit) of an active campaign whose deadline is 12 hours away."""
    path = tmp_path / "thidua.db"
    shutil.copy(sqlite_template, path)
    engine = create_db_engine(f"sqlite:///{path}")
    with Session(engine) as db:
        campaign = make_campaign(db)
        make_deadline(
            db, campaign, due_at=datetime.now(UTC) + timedelta(hours=12), policy=dict(POLICY)
        )
        for n in range(OFFICERS // 2):
            unit = make_unit(db, f"Xã Thứ {n}", code=f"X{n:04d}")
            for k in range(2):
                chat = FIRST_CHAT + 2 * n + k
                make_member(db, str(chat), unit=unit, channel="telegram", name=f"Cán bộ {chat}")
        db.commit()
    engine.dispose()
    yield path


@pytest.fixture
def reminder_bot(
    telegram_api: FakeTelegram, reminders_db: Path, tmp_path: Path
) -> Iterator[BotProcess]:
    process = BotProcess(
        tmp_path / "bot",
        {
            "TELEGRAM_BOT_TOKEN": telegram_api.token,
            "TELEGRAM_BASE_URL": telegram_api.base_url,
            "DATABASE_URL": f"sqlite:///{reminders_db}",
            "LOG_LEVEL": "INFO",
            # ~1 s for the 300: long enough to kill in the middle, short for a test.
            "TELEGRAM_MAX_MESSAGES_PER_SECOND": "300",
            "REMINDER_CONCURRENCY": str(CONCURRENCY),
            "REMINDER_TICK_SECONDS": "5",
        },
    )
    yield process
    process.ensure_stopped()


def officer_chats() -> list[str]:
    return [str(FIRST_CHAT + i) for i in range(OFFICERS)]


def reminders_received(api: FakeTelegram) -> dict[str, int]:
    return {chat: len(api.sent.get(chat, [])) for chat in officer_chats()}


def reminder_log(db_path: Path) -> dict[str, ReminderLog]:
    """Each officer's log row, by chat."""
    engine = create_db_engine(f"sqlite:///{db_path}")
    try:
        with Session(engine) as db:
            rows = db.exec(select(ReminderLog, Member).where(ReminderLog.member_id == Member.id))
            return {member.chat_id: row for row, member in rows.all()}
    finally:
        engine.dispose()


async def wait_until(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


def unknown(rows: dict[str, ReminderLog]) -> set[str]:
    """Chats whose reminder was on its way at the kill: handed to the platform, no outcome."""
    return {chat for chat, row in rows.items() if row.status == ReminderStatus.SENDING}


async def test_a_reminder_run_killed_midway_sends_nothing_twice_and_finishes_after_restart(
    telegram_api: FakeTelegram, reminder_bot: BotProcess, reminders_db: Path
) -> None:
    api = telegram_api
    await started(api, reminder_bot)
    await wait_until(
        lambda: sum(1 for n in reminders_received(api).values() if n) >= OFFICERS // 3,
        30,
        "the reminder run never got going",
    )
    reminder_bot.kill()
    at_kill = sum(1 for n in reminders_received(api).values() if n)
    assert at_kill < OFFICERS, "the run finished before the kill; slow it down"

    await started(api, reminder_bot)
    rows: dict[str, ReminderLog] = {}

    def settled() -> bool:
        nonlocal rows
        rows = reminder_log(reminders_db)
        received = reminders_received(api)
        return len(rows) == OFFICERS and all(
            received[chat] or chat in unknown(rows) for chat in officer_chats()
        )

    await wait_until(settled, 30, "not every officer got the reminder after the restart")
    await asyncio.sleep(0.3)  # nothing more trickles in
    received = reminders_received(api)
    assert max(received.values()) == 1, "an officer got the reminder twice"
    lost_in_flight = unknown(reminder_log(reminders_db))
    assert len(lost_in_flight) <= CONCURRENCY, (len(lost_in_flight), at_kill)
    for chat in officer_chats():
        assert received[chat] == 1 or chat in lost_in_flight
    assert "Traceback" not in reminder_bot.log()
