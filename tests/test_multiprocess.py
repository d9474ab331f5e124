"""Several bot processes on one database: a conversation's answers may reach any process, even
two at the same moment, and none is lost or recorded twice.

Each "process" here is a `BotCore` with an engine of its own over the shared database; the
concurrent cases run each core in its own thread with its own event loop, as two processes
would. The flows are test-only (like tests/test_core.py's), so the proof does not depend on
any capability's handlers.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.access import Access
from bot.channels.memory import MemoryChannel
from bot.channels.telegram import build_application
from bot.clock import ManualClock, as_utc
from bot.context import Context
from bot.core import BotCore
from bot.db import create_db_engine
from bot.events import Inbound
from bot.router import Router
from bot.runtime import build_core
from bot.settings import Settings
from domain import audit
from models.audit import AuditLog
from models.conversation import ConversationState, ProcessedUpdate
from models.units import Member
from tests.fakes.telegram_api import FakeTelegram
from tests.utils.factories import make_campaign, make_deadline, make_member, make_unit
from tests.utils.reminders import scheduler_for
from tests.utils.scenario import TestBot

QUESTIONS = 10


def survey_router(rendezvous: threading.Barrier | None = None) -> Router:
    """Two test flows: a 10-question survey (asked in order) and a free list of answers.

    Each answer is also written as its own row (an audit entry), so an update handled twice or
    lost shows up in the database as well as in the conversation state.
    """
    router = Router()
    arrivals = iter(range(2))  # only the first two answers meet at the rendezvous

    @router.command("khaosat", access=Access.PUBLIC)
    async def start_survey(event: Inbound, ctx: Context) -> None:
        ctx.begin("khaosat", "q1", {"answers": []})
        ctx.ask("Câu 1?")

    @router.flow("khaosat", access=Access.PUBLIC)
    async def answer_survey(event: Inbound, ctx: Context) -> None:
        number = int((ctx.step or "q1")[1:])
        ctx.data["answers"].append(event.text)
        audit.record(ctx.session, now=ctx.now(), action="test.answer", target_id=event.text)
        if number == QUESTIONS:
            ctx.reply("Xong: " + ", ".join(ctx.data["answers"]))
            ctx.end()
            return
        ctx.goto(f"q{number + 1}")
        ctx.ask(f"Câu {number + 1}?")

    @router.command("ghi", access=Access.PUBLIC)
    async def start_list(event: Inbound, ctx: Context) -> None:
        ctx.begin("ghi", "mo", {"items": []})
        ctx.ask("Gửi từng mục.")

    @router.flow("ghi", access=Access.PUBLIC)
    async def add_item(event: Inbound, ctx: Context) -> None:
        if rendezvous is not None and next(arrivals, None) is not None:
            # Both processes have read the same version of the state before either writes.
            rendezvous.wait()
        ctx.data["items"].append(event.text)
        audit.record(ctx.session, now=ctx.now(), action="test.item", target_id=event.text)
        ctx.reply(f"Đã ghi {event.text}")

    return router


@dataclass
class Process:
    core: BotCore
    channel: MemoryChannel
    engine: Engine


@pytest.fixture
def start_process(
    database_url: tuple[str, str | None], settings: Settings, clock: ManualClock
) -> Iterator[object]:
    url, schema = database_url
    engines: list[Engine] = []
    settings = settings.model_copy(update={"flood_max_per_window": 10_000})

    def start(router: Router | None = None) -> Process:
        engine = create_db_engine(url, schema=schema)  # each process has its own pool
        engines.append(engine)
        core = build_core(settings, engine=engine, clock=clock, migrate=False)
        core.router.include(router or survey_router())
        channel = MemoryChannel()
        core.hub.register(channel)
        return Process(core, channel, engine)

    yield start
    for engine in engines:
        engine.dispose()


def event(process: Process, user_id: str, text: str, update_id: int) -> Inbound:
    message = process.channel.event(user_id, text=text)
    message.update_id = str(update_id)  # ids are Telegram's: unique across the fleet
    return message


def run_in_thread(process: Process, events: list[Inbound]) -> threading.Thread:
    """Handle `events` one after another in a thread of their own, as another process would."""

    async def handle_all() -> None:
        for message in events:
            await process.core.process(message)

    thread = threading.Thread(target=lambda: asyncio.run(handle_all()))
    thread.start()
    return thread


def rows(engine: Engine, action: str) -> list[str]:
    with Session(engine) as session:
        entries = session.exec(select(AuditLog).where(AuditLog.action == action)).all()
        return [str(e.target_id) for e in entries]


def sent_texts(*processes: Process, user_id: str = "7") -> list[str]:
    return [m.text for p in processes for m in p.channel.sent[user_id]]


async def test_answers_alternating_between_two_processes_build_one_intact_survey(
    start_process,
) -> None:
    first, second = start_process(), start_process()
    await first.core.process(event(first, "7", "/khaosat", 1))
    answers = [f"đáp án {n}" for n in range(1, QUESTIONS + 1)]
    for number, answer in enumerate(answers, start=1):
        process = second if number % 2 else first
        await process.core.process(event(process, "7", answer, 1 + number))
    assert first.channel.sent["7"][-1].text == "Xong: " + ", ".join(answers)
    assert second.channel.sent["7"][-1].text == f"Câu {QUESTIONS}?"
    assert sorted(rows(first.engine, "test.answer")) == sorted(answers)
    with Session(first.engine) as session:
        assert session.exec(select(ConversationState)).one().flow is None


async def test_concurrent_answers_at_two_processes_are_each_recorded_once(start_process) -> None:
    first, second = start_process(), start_process()
    await first.core.process(event(first, "7", "/ghi", 1))
    items = [f"mục {n}" for n in range(40)]
    threads = [
        run_in_thread(
            first, [event(first, "7", item, 100 + n) for n, item in enumerate(items[::2])]
        ),
        run_in_thread(
            second, [event(second, "7", item, 200 + n) for n, item in enumerate(items[1::2])]
        ),
    ]
    for thread in threads:
        thread.join(timeout=60)
    with Session(first.engine) as session:
        state = session.exec(select(ConversationState)).one()
    assert sorted(state.data["items"]) == sorted(items)
    assert sorted(rows(first.engine, "test.item")) == sorted(items)
    replies = sent_texts(first, second)
    assert sorted(r for r in replies if r.startswith("Đã ghi")) == sorted(
        f"Đã ghi {item}" for item in items
    )
    assert not any("Xin lỗi" in r for r in replies)


async def test_two_chats_answering_at_two_processes_do_not_wait_for_each_other(
    start_process, database_url: tuple[str, str | None]
) -> None:
    if database_url[0].startswith("sqlite"):
        pytest.skip("SQLite has one writer at a time: transactions never run side by side")
    # Each chat's state row is locked while its update runs; another chat's must not be.
    rendezvous = threading.Barrier(2, timeout=10)
    router = survey_router(rendezvous)
    first, second = start_process(router), start_process(router)
    await first.core.process(event(first, "7", "/ghi", 1))
    await second.core.process(event(second, "8", "/ghi", 2))
    threads = [
        run_in_thread(first, [event(first, "7", "sáng", 3)]),
        run_in_thread(second, [event(second, "8", "chiều", 4)]),
    ]
    for thread in threads:
        thread.join(timeout=30)
    assert not rendezvous.broken  # both handlers were inside their transactions at once
    with Session(first.engine) as session:
        states = session.exec(select(ConversationState).order_by(ConversationState.chat_id)).all()
    assert [s.data["items"] for s in states] == [["sáng"], ["chiều"]]
    assert [s.version for s in states] == [2, 2]


async def test_one_update_delivered_to_two_processes_at_once_is_handled_once(
    start_process,
) -> None:
    first, second = start_process(), start_process()
    await first.core.process(event(first, "7", "/ghi", 1))
    updates = [(n, f"mục {n}") for n in range(2, 22)]
    threads = [
        run_in_thread(first, [event(first, "7", text, n) for n, text in updates]),
        run_in_thread(second, [event(second, "7", text, n) for n, text in updates]),
    ]
    for thread in threads:
        thread.join(timeout=60)
    texts = [text for _, text in updates]
    with Session(first.engine) as session:
        state = session.exec(select(ConversationState)).one()
        handled = session.exec(select(ProcessedUpdate.update_id)).all()
    assert sorted(state.data["items"]) == sorted(texts)
    assert sorted(rows(first.engine, "test.item")) == sorted(texts)
    assert sorted(handled, key=int) == [str(n) for n in range(1, 22)]
    replies = [r for r in sent_texts(first, second) if r.startswith("Đã ghi")]
    assert sorted(replies) == sorted(f"Đã ghi {text}" for text in texts)


# --- several updates at once inside one process ------------------------------------------------
def waiting_router() -> Router:
    """A flow whose handler awaits in the middle of its transaction, as a file download does."""
    router = Router()

    @router.command("ghi", access=Access.PUBLIC)
    async def start_list(event: Inbound, ctx: Context) -> None:
        ctx.begin("ghi", "mo", {"items": []})
        ctx.ask("Gửi từng mục.")

    @router.flow("ghi", access=Access.PUBLIC)
    async def add_item(event: Inbound, ctx: Context) -> None:
        ctx.data["items"].append(event.text)
        audit.record(ctx.session, now=ctx.now(), action="test.item", target_id=event.text)
        for _ in range(3):
            await asyncio.sleep(0)  # other updates of this process get the loop meanwhile
        ctx.reply(f"Đã ghi {event.text}")

    return router


def fail_fast_on_locks(engine: Engine) -> None:
    """A blocked lock wait fails in half a second instead of hanging the test."""

    @sa.event.listens_for(engine, "connect")
    def _short_lock_waits(dbapi_connection: object, _record: object) -> None:
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        if engine.dialect.name == "sqlite":
            cursor.execute("PRAGMA busy_timeout=500")
        else:
            cursor.execute("SET lock_timeout = '500ms'")
            dbapi_connection.commit()  # type: ignore[attr-defined]
        cursor.close()


async def test_updates_arriving_together_in_one_process_are_handled_in_order(
    start_process, caplog: pytest.LogCaptureFixture
) -> None:
    """Webhook requests (or PTB's concurrent updates) reach the core at the same time."""
    caplog.set_level(logging.INFO, logger="thidua.core")
    bot = start_process(waiting_router())
    fail_fast_on_locks(bot.engine)
    await bot.core.process(event(bot, "7", "/ghi", 1))
    items = [f"mục {n}" for n in range(6)]
    others = [event(bot, "8", "/trogiup", 50 + n) for n in range(3)]
    updates = [event(bot, "7", item, 10 + n) for n, item in enumerate(items)]
    await asyncio.gather(*(bot.core.process(u) for u in [*updates, *others]))
    with Session(bot.engine) as session:
        state = session.exec(select(ConversationState)).one()
    assert state.data["items"] == items
    assert rows(bot.engine, "test.item") == items
    assert sent_texts(bot)[1:] == [f"Đã ghi {item}" for item in items]
    assert len(bot.channel.sent["8"]) == 3
    # Nothing waited on a lock held by an update of the same process.
    assert "retry" not in caplog.text


# --- fewer writes for other processes to wait on ---------------------------------------------
async def test_an_officer_chatting_does_not_rewrite_the_member_row_each_message(
    bot: TestBot, clock: ManualClock
) -> None:
    with bot.db() as session:
        make_member(session, "7", unit=make_unit(session))
        session.commit()
    officer = bot.person("7")

    def last_seen() -> datetime | None:
        with bot.db() as session:
            member = session.exec(select(Member).where(Member.user_id == "7")).one()
            return as_utc(member.last_seen_at) if member.last_seen_at else None

    await officer.says("/trogiup")
    first = last_seen()
    assert first == clock.now()
    clock.advance(seconds=20)
    await officer.says("/trogiup")
    assert last_seen() == first  # seen 20 s ago is fresh enough: no UPDATE of the row
    clock.advance(minutes=1)
    await officer.says("/trogiup")
    assert last_seen() == clock.now()


async def test_two_bot_applications_send_a_round_of_reminders_exactly_once(
    telegram_api: FakeTelegram, settings: Settings, database_url, engine: Engine, clock: ManualClock
) -> None:
    """Two bot processes — each its own engine, PTB Application and scheduler, in its own
    thread and event loop — on one database and one Bot API: a round of 40 reminders falls
    due and both tick at once. Every officer gets the reminder exactly once."""
    officers = [str(6000 + n) for n in range(40)]
    with Session(engine) as db:
        campaign = make_campaign(db)
        make_deadline(db, campaign, due_at=datetime(2026, 3, 12, 10, tzinfo=UTC))
        for user_id in officers:
            make_member(db, user_id, unit=make_unit(db), channel="telegram")
        db.commit()
    clock.set(datetime(2026, 3, 5, 1, 0, tzinfo=UTC))  # 08:00 in Hà Nội, 7 days before
    shared = settings.model_copy(
        update={
            "telegram_bot_token": SecretStr(telegram_api.token),
            "telegram_base_url": telegram_api.base_url,
        }
    )
    url, schema = database_url

    def bot_process() -> int:
        async def main() -> int:
            own_engine = create_db_engine(url, schema=schema)
            core = build_core(shared, engine=own_engine, clock=clock, migrate=False)
            application = build_application(shared, core)
            await application.initialize()
            try:
                return (await scheduler_for(core).tick()).reminders.sent
            finally:
                await application.shutdown()
                own_engine.dispose()

        return asyncio.run(main())

    sent = await asyncio.gather(asyncio.to_thread(bot_process), asyncio.to_thread(bot_process))
    assert sum(sent) == len(officers)
    assert {chat: len(telegram_api.sent[chat]) for chat in officers} == dict.fromkeys(officers, 1)
