"""Benchmark (not a test): reminder fan-out to many officers over real HTTP.

One reminder is due for every officer of N units (one officer each); one scheduler tick sends
them all through the production path — plan, claim, python-telegram-bot with AIORateLimiter,
record — to the fake Bot API server (tests/fakes/telegram_api.py). Failed sends are retried the
way the scheduler does (the ManualClock is moved to their retry time) until none is left.

    uv run python bench/reminders_fanout.py --officers 10000            # server enforces 30/s
    uv run python bench/reminders_fanout.py --officers 10000 --no-limit # limit lifted

The bot is built as `thidua-bot run` builds it (build_application, default settings); with
--no-limit the bot's own limiter is lifted too (TELEGRAM_MAX_MESSAGES_PER_SECOND=0), so the
figure is what the bot itself can push. Printed: messages/s overall and sustained (middle 80%
of the sends, as timed by the server), 429s provoked, and the checks — every officer got exactly
one message (from the server's record) and ReminderLog agrees (status sent, same message id).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa
from pydantic import SecretStr
from sqlmodel import Session, select

from bot.channels.telegram import build_application
from bot.clock import ManualClock
from bot.db import create_db_engine, upgrade
from bot.runtime import build_core
from bot.scheduler import ReminderScheduler, RunReport
from bot.settings import Settings
from models.campaigns import Campaign, Deadline, ReminderLog, ReminderStatus
from models.units import Member, Unit
from tests.fakes.telegram_api import FakeTelegram, SentMessage

CHAT_BASE = 10_000_000
NOW = datetime(2026, 3, 11, 1, 0, tzinfo=UTC)  # Wednesday 08:00 in Hà Nội


class TimedFakeTelegram(FakeTelegram):
    """The fake server, noting when each message was accepted."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.accepted_at: list[float] = []

    def _record(self, method: str, chat_id: str, **fields: Any) -> SentMessage:
        self.accepted_at.append(time.monotonic())
        return super()._record(method, chat_id, **fields)


def _serve(conn: Connection, rate_limit: float | None) -> None:
    """The fake Bot API in its own process, as Telegram is: it must not share the bot's CPU."""

    async def main() -> None:
        server = TimedFakeTelegram(rate_limit=rate_limit)
        await server.start()
        conn.send((server.base_url, server.token))
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # "stop"
        conn.send(
            {
                "sent": {
                    chat: [m.message_id for m in messages] for chat, messages in server.sent.items()
                },
                "accepted_at": server.accepted_at,
                "throttled": server.throttled,
                "cpu": time.process_time(),
            }
        )
        await server.stop()

    asyncio.run(main())


class ServerProcess:
    def __init__(self, rate_limit: float | None) -> None:
        self._conn, child = multiprocessing.get_context("spawn").Pipe()
        self._process = multiprocessing.get_context("spawn").Process(
            target=_serve, args=(child, rate_limit), daemon=True
        )
        self._process.start()
        self.base_url, self.token = self._conn.recv()

    def stop(self) -> dict[str, Any]:
        self._conn.send("stop")
        record = self._conn.recv()
        self._process.join(timeout=10)
        return record


def seed(engine: sa.Engine, officers: int) -> int:
    """N units with one officer each, an active campaign and a deadline due tomorrow 17:00 (its
    1-day reminder is due now)."""
    created = NOW - timedelta(days=30)
    with Session(engine) as db:
        db.execute(
            sa.insert(Unit.__table__),  # type: ignore[attr-defined]
            [
                {
                    "code": f"DV-{i:05d}",
                    "name": f"Đơn vị {i}",
                    "search_key": f"dv-{i:05d} don vi {i}",
                    "kind": "xa",
                    "bloc": None,
                    "parent_id": None,
                    "active": True,
                    "created_at": created,
                }
                for i in range(officers)
            ],
        )
        unit_ids = db.exec(select(Unit.id).order_by(Unit.id)).all()
        db.execute(
            sa.insert(Member.__table__),  # type: ignore[attr-defined]
            [
                {
                    "channel": "telegram",
                    "user_id": str(CHAT_BASE + i),
                    "chat_id": str(CHAT_BASE + i),
                    "display_name": f"Cán bộ {i}",
                    "role": "officer",
                    "unit_id": unit_id,
                    "status": "approved",
                    "created_at": created,
                    "updated_at": created,
                }
                for i, unit_id in enumerate(unit_ids)
            ],
        )
        campaign = Campaign(
            document_number="353/KH-UBND",
            name="Đợt thi đua chào mừng Đại hội",
            status="active",
            created_at=created,
            activated_at=created,
        )
        db.add(campaign)
        db.flush()
        deadline = Deadline(
            campaign_id=campaign.id,  # type: ignore[arg-type]
            kind="final",
            title="Báo cáo thành tích",
            due_at=NOW + timedelta(days=1, hours=9),
            form_code="bao-cao-thanh-tich",
            created_at=created,
            updated_at=created,
        )
        db.add(deadline)
        db.commit()
        assert deadline.id is not None
        return deadline.id


async def run(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="thidua-bench-"))
    url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    engine = create_db_engine(url)
    upgrade(engine)
    started = time.perf_counter()
    seed(engine, args.officers)
    print(f"seeded {args.officers} officers in {time.perf_counter() - started:.1f}s ({url})")

    limited = not args.no_limit
    server = ServerProcess(rate_limit=30 if limited else None)
    settings = Settings(
        _env_file=None,
        telegram_bot_token=SecretStr(server.token),
        telegram_base_url=server.base_url,
        database_url=url,
        reminder_concurrency=args.concurrency,
        # Lifting the server's limit lifts the bot's own too: what can the bot itself push?
        **({} if limited else {"telegram_max_messages_per_second": 0}),
    )
    clock = ManualClock(NOW)
    core = build_core(settings, engine=engine, clock=clock, migrate=False)
    application = build_application(settings, core)  # what `thidua-bot run` uses
    await application.initialize()
    scheduler = ReminderScheduler(core)

    total = RunReport()
    begin = time.perf_counter()
    cpu_begin = time.process_time()
    ticks = 0
    while True:
        ticks += 1
        report = (await scheduler.tick()).reminders
        for name in ("sent", "failed", "deferred", "skipped", "unknown"):
            setattr(total, name, getattr(total, name) + getattr(report, name))
        with Session(engine) as db:
            waiting = db.exec(
                select(sa.func.min(ReminderLog.next_attempt_at)).where(
                    ReminderLog.status == ReminderStatus.RETRY
                )
            ).one()
        if waiting is None:
            break
        clock.set(max(waiting, clock.now()))  # the scheduler would wake then
    elapsed = time.perf_counter() - begin
    bot_cpu = time.process_time() - cpu_begin
    await application.shutdown()
    record = server.stop()

    per_chat = Counter({chat: len(ids) for chat, ids in record["sent"].items()})
    expected = {str(CHAT_BASE + i) for i in range(args.officers)}
    lost = len(expected - set(per_chat))
    duplicates = sum(n - 1 for n in per_chat.values() if n > 1)
    with Session(engine) as db:
        rows = db.exec(
            select(ReminderLog.status, ReminderLog.message_id, Member.chat_id).join(
                Member,
                Member.id == ReminderLog.member_id,  # type: ignore[arg-type]
            )
        ).all()
    statuses = Counter(status for status, _, _ in rows)
    server_ids = {chat: str(ids[0]) for chat, ids in record["sent"].items()}
    mismatched = sum(1 for _, message_id, chat in rows if server_ids.get(chat) != message_id)

    accepted = sorted(record["accepted_at"])
    count = len(accepted)
    low, high = accepted[count // 10], accepted[(count * 9) // 10 - 1] if count >= 10 else (0, 0)
    sustained = (
        ((count * 9) // 10 - count // 10 - 1) / (high - low) if count >= 10 and high > low else 0.0
    )
    print(f"server limit: {'30 msg/s' if limited else 'none (bot limiter lifted too)'}")
    print(f"concurrency: {args.concurrency}, ticks: {ticks}")
    print(f"messages: {count} in {elapsed:.1f}s = {count / elapsed:.1f} msg/s overall")
    print(f"sustained (middle 80% of sends): {sustained:.1f} msg/s")
    print(f"429 provoked: {record['throttled']}")
    print(f"CPU seconds: bot {bot_cpu:.1f}, fake server {record['cpu']:.1f}")
    print(f"run: {total}")
    print(
        f"ReminderLog: {dict(statuses)}; message ids matching the server: {len(rows) - mismatched}"
    )
    print(f"lost: {lost}, duplicates: {duplicates}")
    engine.dispose()
    ok = lost == 0 and duplicates == 0 and mismatched == 0 and statuses.get("sent") == args.officers
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--officers", type=int, default=10_000)
    parser.add_argument("--no-limit", action="store_true", help="lift the 30 msg/s limit")
    parser.add_argument("--concurrency", type=int, default=8, help="REMINDER_CONCURRENCY")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
