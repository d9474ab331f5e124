"""Reminders over real HTTP: the python-telegram-bot Application against the fake Bot API
server, and the APScheduler job that drives the ticks."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.triggers.interval import IntervalTrigger
from sqlmodel import Session, select

from bot.clock import ManualClock
from bot.events import Inbound
from bot.scheduler import JOB_ID
from models.campaigns import ReminderLog, ReminderStatus
from tests.fakes.telegram_api import FakeTelegram
from tests.utils.factories import make_campaign, make_deadline, make_member, make_unit
from tests.utils.reminders import local, scheduler_for
from tests.utils.scenario import TestBot


def _officer_on_telegram(core, user_id: str) -> int:
    with Session(core.engine, expire_on_commit=False) as db:
        unit = make_unit(db, "Xã Bình Lư")
        make_member(db, user_id, unit=unit, channel="telegram")
        campaign = make_campaign(db)
        deadline = make_deadline(
            db, campaign, due_at=local(2026, 3, 12, 17), title="Báo cáo sơ kết"
        )
        db.commit()
        assert deadline.id is not None
        return deadline.id


async def test_a_reminder_arrives_through_the_bot_api_and_its_button_starts_the_report(
    telegram_api: FakeTelegram, telegram_bot, clock: ManualClock, monkeypatch
) -> None:
    _, core = telegram_bot
    deadline_id = _officer_on_telegram(core, "5001")
    clock.set(local(2026, 3, 5, 8))
    report = await scheduler_for(core).tick()
    assert report.reminders.sent == 1
    (message,) = await telegram_api.wait_for(5001)
    assert "Nhắc hạn nộp: Báo cáo sơ kết" in message.text
    assert "Xã Bình Lư" in message.text and "17:00 thứ Năm, 12/03/2026" in message.text
    assert message.buttons == [("📝 Làm báo cáo", f"rp:{deadline_id}")]
    with Session(core.engine) as db:
        row = db.exec(select(ReminderLog)).one()
    assert (row.status, row.message_id) == (ReminderStatus.SENT, str(message.message_id))

    # Pressing it hands the core the report flow's payload (handlers/reports.py answers it).
    seen: list[Inbound] = []
    process = core.process

    async def recording(event: Inbound, **options: object):
        seen.append(event)
        return await process(event, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(core, "process", recording)
    telegram_api.press(5001, "Làm báo cáo")
    question = await telegram_api.wait_for_text(5001, "Câu 1/")
    assert [(e.user_id, e.payload) for e in seen] == [("5001", f"rp:{deadline_id}")]
    assert "— Báo cáo sơ kết" in telegram_api.texts(5001)[1]  # the report of that deadline
    assert "Kết quả so với chỉ tiêu" in question.text


async def test_a_bot_api_outage_is_retried_later_and_the_reminder_goes_once(
    telegram_api: FakeTelegram, telegram_bot, clock: ManualClock
) -> None:
    _, core = telegram_bot
    _officer_on_telegram(core, "5002")
    scheduler = scheduler_for(core)
    clock.set(local(2026, 3, 5, 8))
    telegram_api.failing_status = 502
    report = await scheduler.tick()
    assert (report.reminders.sent, report.reminders.deferred) == (0, 1)
    telegram_api.failing_status = None
    clock.advance(minutes=1)
    report = await scheduler.tick()
    assert report.reminders.sent == 1
    await telegram_api.wait_for(5002)
    assert len(telegram_api.sent["5002"]) == 1


async def test_the_scheduler_is_one_in_memory_interval_job_in_the_configured_zone(
    bot: TestBot,
) -> None:
    scheduler = scheduler_for(bot.core)
    scheduler.start()
    try:
        assert scheduler.scheduler is not None
        job = scheduler.scheduler.get_job(JOB_ID)
        assert isinstance(job.trigger, IntervalTrigger)
        assert job.trigger.interval == timedelta(seconds=30)
        assert str(job.trigger.timezone) == "Asia/Ho_Chi_Minh"
        assert (job.max_instances, job.coalesce) == (1, True)
        assert isinstance(scheduler.scheduler._lookup_jobstore("default"), MemoryJobStore)
        assert len(scheduler.scheduler.get_jobs()) == 1
    finally:
        scheduler.shutdown()
    assert scheduler.scheduler is None


class _FailingBot:
    """Stands in for telegram.Bot: every send fails the way it is told to."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    async def send_message(self, *args, **kwargs):
        raise self.error


def _raised(error: Exception, cause: Exception | None) -> Exception:
    try:
        raise error from cause
    except Exception as exc:  # the chained exception, as PTB raises it
        return exc


async def test_sends_that_may_have_reached_telegram_are_flagged_uncertain() -> None:
    import httpx
    from telegram.error import Forbidden, NetworkError, TimedOut

    from bot.channels.telegram import TelegramOutlet
    from bot.events import Outbound
    from bot.hub import DeliveryError

    async def outcome(error: Exception) -> DeliveryError:
        try:
            await TelegramOutlet(_FailingBot(error)).send("1", Outbound("x"))  # type: ignore[arg-type]
        except DeliveryError as exc:
            return exc
        raise AssertionError("no DeliveryError")

    read_timeout = await outcome(_raised(TimedOut(), httpx.ReadTimeout("read")))
    dropped = await outcome(_raised(NetworkError("x"), httpx.RemoteProtocolError("eof")))
    refused = await outcome(_raised(NetworkError("x"), httpx.ConnectError("refused")))
    bad_gateway = await outcome(NetworkError("Bad Gateway"))
    blocked = await outcome(Forbidden("Forbidden: bot was blocked by the user"))
    assert read_timeout.uncertain and dropped.uncertain
    assert not refused.uncertain and not refused.permanent
    # The same through the aiohttp backend the bot runs on (bot/channels/telegram_http.py).
    import aiohttp

    hung = await outcome(_raised(TimedOut(), aiohttp.SocketTimeoutError("read")))
    total = await outcome(_raised(TimedOut(), TimeoutError()))
    hung_up = await outcome(_raised(NetworkError("x"), aiohttp.ServerDisconnectedError()))
    no_connection = await outcome(
        _raised(NetworkError("x"), aiohttp.ClientConnectorError(None, OSError(111, "refused")))  # type: ignore[arg-type]  # no connection key needed here
    )
    connect_timeout = await outcome(_raised(TimedOut(), aiohttp.ConnectionTimeoutError("c")))
    assert hung.uncertain and total.uncertain and hung_up.uncertain
    assert not no_connection.uncertain and not no_connection.permanent
    assert not connect_timeout.uncertain and not connect_timeout.permanent
    assert not bad_gateway.uncertain and not bad_gateway.permanent
    assert blocked.permanent and not blocked.uncertain


def test_the_telegram_limiter_spaces_sends_evenly_or_is_lifted() -> None:
    from bot.channels.telegram import rate_limiter

    spaced = rate_limiter(29, max_retries=3)
    # A bucket of one refilled every 1/29 s: no burst of 30 at the start of a second.
    assert spaced._base_limiter is not None
    assert (spaced._base_limiter.max_rate, spaced._base_limiter.time_period) == (1, 1 / 29)
    assert spaced._max_retries == 3
    assert rate_limiter(0, max_retries=3)._base_limiter is None


class _Turns:
    """Stands in for the limiter's bucket: records turns, and can hold a sender in the queue."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.open = asyncio.Event()
        self.open.set()

    async def __aenter__(self) -> None:
        await self.open.wait()
        self.log.append("turn")

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def acquire(self) -> None:
        self.log.append("fresh turn")


async def test_a_sender_queued_through_a_flood_pause_takes_a_fresh_turn() -> None:
    from bot.channels.telegram import SpacedRateLimiter

    limiter = SpacedRateLimiter(overall_max_rate=0, max_retries=0)
    turns = _Turns()
    limiter._base_limiter = turns  # type: ignore[assignment]
    sent: list[str] = []

    async def send() -> dict:
        sent.append("sent")
        return {}

    # Queued for its turn when a 429 pause begins: it leaves after the pause on a new turn.
    turns.open.clear()
    queued = asyncio.create_task(limiter._run_request(True, False, False, send, (), {}))
    await asyncio.sleep(0)
    limiter._retry_after_event.clear()  # PTB's RetryAfter handling: pause everyone
    turns.open.set()
    await asyncio.sleep(0)
    assert sent == []
    limiter._retry_after_event.set()
    await queued
    assert (turns.log, sent) == (["turn", "fresh turn"], ["sent"])

    # Without a pause a sender uses the turn it got.
    turns.log.clear()
    await limiter._run_request(True, False, False, send, (), {})
    assert turns.log == ["turn"]
