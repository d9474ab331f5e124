"""Benchmark (not a test): how fast an officer gets an answer while a reminder fan-out runs.

N officers (one per unit) have a reminder due; the bot runs as `thidua-bot run` runs it —
python-telegram-bot long-polling the fake Bot API (tests/fakes/telegram_api.py, in its own
process), the reminder scheduler ticking — and while the reminders go out, probe officers (not
among the N) write `/toi` one after another, once a second in all. The fake server enforces
Telegram's limits: 30 messages a second overall and one a second per chat.

    uv run python bench/reply_during_fanout.py --officers 10000
    uv run python bench/reply_during_fanout.py --officers 2000 --probes 5

Printed: the fan-out's rate (overall, and sustained over the middle 80% of its sends), the
probes' reply latency (p50, p95, max: from the update's arrival at the server to the answer's),
429s provoked, and the checks — every officer got exactly one reminder, every probe an answer.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import multiprocessing
import statistics
import sys
import tempfile
import time
from collections import Counter
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import sqlalchemy as sa
from pydantic import SecretStr
from reminders_fanout import CHAT_BASE, NOW, TimedFakeTelegram, seed
from sqlmodel import Session, select

from bot.channels.platforms import telegram_polling
from bot.clock import ManualClock
from bot.db import create_db_engine, upgrade
from bot.runtime import build_core
from bot.scheduler import ReminderScheduler
from bot.settings import Settings
from models.campaigns import ReminderLog, ReminderStatus
from models.units import Member, Unit

PROBE_BASE = 90_000_000


def _serve(conn: Connection, probes: int, interval: float) -> None:
    """The fake Bot API in its own process, probing: once told "go", a probe officer writes
    /toi every `interval` seconds (probes take turns) and the time to the answer is noted."""

    async def main() -> None:
        server = TimedFakeTelegram(rate_limit=30, chat_rate_limit=1)
        await server.start()
        conn.send((server.base_url, server.token))
        loop = asyncio.get_running_loop()
        assert await loop.run_in_executor(None, conn.recv) == "go"
        latencies: list[float] = []
        unanswered = 0
        stopping = asyncio.Event()

        async def probe() -> None:
            nonlocal unanswered
            turn = 0
            while not stopping.is_set():
                user = PROBE_BASE + turn % probes
                turn += 1
                had = len(server.sent[str(user)])
                started = time.monotonic()
                server.push_text(user, "/toi", name=f"Cán bộ thử {user}")
                try:
                    await server.wait_for(user, count=had + 1, timeout=30)
                    latencies.append(time.monotonic() - started)
                except AssertionError:
                    unanswered += 1
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        stopping.wait(), max(0.0, interval - (time.monotonic() - started))
                    )

        probing = asyncio.create_task(probe())
        await loop.run_in_executor(None, conn.recv)  # "stop"
        stopping.set()
        await probing
        conn.send(
            {
                "sent": {
                    chat: [m.message_id for m in messages]
                    for chat, messages in server.sent.items()
                    if int(chat) < PROBE_BASE
                },
                "accepted_at": server.accepted_at,
                "throttled": server.throttled,
                "chat_throttled": server.chat_throttled,
                "latencies": latencies,
                "unanswered": unanswered,
            }
        )
        await server.stop()

    asyncio.run(main())


def seed_probes(engine: sa.Engine, probes: int) -> None:
    """Officers of an inactive unit: registered (so /toi reads their record) but not reminded."""
    with Session(engine) as db:
        unit = Unit(code="THU-00", name="Đơn vị thử", search_key="thu-00 don vi thu", kind="xa")
        unit.active = False
        unit.created_at = NOW
        db.add(unit)
        db.flush()
        for i in range(probes):
            user = str(PROBE_BASE + i)
            db.add(
                Member(
                    channel="telegram",
                    user_id=user,
                    chat_id=user,
                    display_name=f"Cán bộ thử {i}",
                    role="officer",
                    unit_id=unit.id,
                    status="approved",
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
        db.commit()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def run(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="thidua-bench-"))
    url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    engine = create_db_engine(url)
    upgrade(engine)
    seed(engine, args.officers)
    seed_probes(engine, args.probes)

    context = multiprocessing.get_context("spawn")
    conn, child = context.Pipe()
    process = context.Process(target=_serve, args=(child, args.probes, args.interval), daemon=True)
    process.start()
    base_url, token = conn.recv()
    settings = Settings(
        _env_file=None,
        telegram_bot_token=SecretStr(token),
        telegram_base_url=base_url,
        database_url=url,
        reminder_concurrency=args.concurrency,
    )
    clock = ManualClock(NOW)
    core = build_core(settings, engine=engine, clock=clock, migrate=False)
    begin = time.perf_counter()
    async with telegram_polling(settings, core):
        scheduler = ReminderScheduler(core)
        core.services.reminders = scheduler
        conn.send("go")
        ticks = 0
        while True:  # as the scheduler's job would: tick until nothing waits for a retry
            ticks += 1
            await scheduler.tick()
            with Session(engine) as db:
                waiting = db.exec(
                    select(sa.func.min(ReminderLog.next_attempt_at)).where(
                        ReminderLog.status == ReminderStatus.RETRY
                    )
                ).one()
            if waiting is None:
                break
            clock.set(max(waiting, clock.now()))
        elapsed = time.perf_counter() - begin
        conn.send("stop")
        # Not a blocking recv: the bot must go on answering the probe still in flight.
        record: dict[str, Any] = await asyncio.get_running_loop().run_in_executor(None, conn.recv)
    process.join(timeout=10)
    engine.dispose()

    per_chat = Counter({chat: len(ids) for chat, ids in record["sent"].items()})
    expected = {str(CHAT_BASE + i) for i in range(args.officers)}
    lost = len(expected - set(per_chat))
    duplicates = sum(n - 1 for n in per_chat.values() if n > 1)
    accepted = sorted(record["accepted_at"])
    count = len(accepted)
    low, high = (accepted[count // 10], accepted[(count * 9) // 10 - 1]) if count >= 10 else (0, 0)
    sustained = (
        ((count * 9) // 10 - count // 10 - 1) / (high - low) if count >= 10 and high > low else 0.0
    )
    latencies = record["latencies"]
    print("server limits: 30 msg/s overall, 1 msg/s per chat")
    print(f"fan-out: {args.officers} officers, concurrency {args.concurrency}, ticks {ticks}")
    print(
        f"messages (reminders and answers): {count} in {elapsed:.1f}s = {count / elapsed:.1f} msg/s"
    )
    print(f"sustained (middle 80% of sends): {sustained:.1f} msg/s")
    if latencies:
        print(
            f"reply latency over {len(latencies)} probes: p50 {statistics.median(latencies):.3f}s, "
            f"p95 {percentile(latencies, 0.95):.3f}s, max {max(latencies):.3f}s"
        )
    print(f"probes unanswered: {record['unanswered']}")
    print(f"429 provoked: {record['throttled']} (per chat: {record['chat_throttled']})")
    print(f"lost: {lost}, duplicates: {duplicates}")
    ok = lost == 0 and duplicates == 0 and record["unanswered"] == 0 and bool(latencies)
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--officers", type=int, default=10_000)
    parser.add_argument("--probes", type=int, default=5, help="probe officers taking turns")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between probes")
    parser.add_argument("--concurrency", type=int, default=8, help="REMINDER_CONCURRENCY")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
