"""What a restart owes a chat a crash cut off: an update the core handled but whose answer never
went out (the process died while sending) gets the answers kept with it (or, recorded without
them, its question asked again) at start-up — once, and only for the chat's latest update;
chats that got their answer are left alone.

The fault test with a real process is tests/test_faults_process.py; here the crash is an
exception that ends `process` between the commit and the send, and the restart a new core.
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest
import sqlalchemy as sa
from sqlmodel import select

from bot.runtime import build_core
from models.conversation import ProcessedUpdate
from tests.utils.reports import report_world
from tests.utils.scenario import Person, TestBot


class Crash(BaseException):
    """The process dying: not an error the hub or the core would catch."""


async def crash_while_sending(person: Person, text: str) -> None:
    bot = person.bot

    async def die(*args: object, **kwargs: object) -> None:
        raise Crash

    original = bot.core.hub.deliver
    bot.core.hub.deliver = die  # type: ignore[method-assign]
    try:
        with pytest.raises(Crash):
            await person.says(text)
    finally:
        bot.core.hub.deliver = original  # type: ignore[method-assign]


def restart(bot: TestBot, settings, engine, clock) -> TestBot:
    core = build_core(settings, engine=engine, clock=clock, migrate=False)
    core.flood.limit = 10_000
    core.hub.register(bot.channel)
    return TestBot(core, bot.channel)


async def test_a_question_lost_in_a_crash_is_asked_again_once(
    bot: TestBot, settings, engine, clock
) -> None:
    world = report_world(bot, "bao-cao-thanh-tich")
    officer = world.officer
    await officer.says("/baocao")
    await officer.says("Thu ngân sách đạt 105% kế hoạch; giảm hộ nghèo")
    assert "Câu 2/12" in officer.last_reply
    await crash_while_sending(officer, "12")
    assert "Câu 3/12" not in officer.all_text  # saved, but the question never went out
    assert world.report().answers["tong_chi_tieu"] == 12

    restarted = restart(bot, settings, engine, clock)
    assert await restarted.core.resume_unanswered("memory") == 1
    assert "Câu 3/12" in officer.last_reply
    # A second start (or a crash right after) does not ask again.
    assert await restarted.core.resume_unanswered("memory") == 0
    officer.bot = restarted
    await officer.says("11")
    assert "Câu 4/12" in officer.last_reply
    assert officer.all_text.count("Câu 3/12") == 1


async def test_chats_that_got_their_answer_are_left_alone_and_a_lost_answer_is_sent_once(
    bot: TestBot, settings, engine, clock
) -> None:
    world = report_world(bot, "bao-cao-thanh-tich", officers=("200", "201"))
    first, second = world.officer, bot.person("201")
    await first.says("/baocao")
    await second.says("/trogiup")
    # Answers that went out are marked so in batches, just after sending.
    await bot.core.flush_marks()
    # A crash while answering a one-off command (no conversation to ask again): the answer was
    # kept with the update, and is owed.
    await crash_while_sending(second, "/trogiup")
    before = {chat: len(messages) for chat, messages in bot.channel.sent.items()}

    restarted = restart(bot, settings, engine, clock)
    assert await restarted.core.resume_unanswered("memory") == 1
    after = {chat: len(messages) for chat, messages in bot.channel.sent.items()}
    assert after[first.user_id] == before[first.user_id]  # answered before: left alone
    assert after[second.user_id] == before[second.user_id] + 1
    assert "Các lệnh bạn dùng được" in second.last_reply
    # Once: a second start sends nothing.
    assert await restarted.core.resume_unanswered("memory") == 0
    with restarted.db() as db:
        rows = db.exec(select(ProcessedUpdate)).all()
    assert rows and all(row.answered_at is not None for row in rows)


async def test_only_the_latest_update_of_a_chat_counts(
    bot: TestBot, settings, engine, clock
) -> None:
    world = report_world(bot, "bao-cao-thanh-tich")
    officer = world.officer
    await officer.says("/baocao")
    await crash_while_sending(officer, "Thu ngân sách đạt 105% kế hoạch; giảm hộ nghèo")
    # The officer wrote again (in the same process) and got an answer: the earlier lost
    # question was superseded.
    await officer.says("12")
    assert "Câu 3/12" in officer.last_reply
    await bot.core.flush_marks()
    count = len(officer.messages)

    restarted = restart(bot, settings, engine, clock)
    assert await restarted.core.resume_unanswered("memory") == 0
    assert len(officer.messages) == count


async def test_answers_sent_together_are_marked_in_one_write(bot: TestBot, engine) -> None:
    """Marking answers sent is one UPDATE for every update answered while the previous
    batch waited for its turn, not a transaction per update."""
    people = [bot.person(str(300 + n)) for n in range(20)]
    marks: list[str] = []

    def count_marks(conn, cursor, statement, parameters, context, executemany) -> None:
        # Marks only (each update also keeps its answers with an UPDATE of its own row).
        if statement.lstrip().upper().startswith("UPDATE PROCESSED_UPDATE SET ANSWERED_AT"):
            marks.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count_marks)
    try:
        await asyncio.gather(*(person.says("/trogiup") for person in people))
        await bot.core.flush_marks()
    finally:
        sa.event.remove(engine, "before_cursor_execute", count_marks)
    with bot.db() as db:
        rows = db.exec(select(ProcessedUpdate)).all()
    assert len(rows) == 20 and all(row.answered_at is not None for row in rows)
    assert 1 <= len(marks) < 5


async def test_a_crash_before_the_marks_are_written_asks_the_question_again(
    bot: TestBot, settings, engine, clock
) -> None:
    """The price of batching: answered but not yet marked when the process dies, the chat
    gets its question a second time at start-up — never none."""
    world = report_world(bot, "bao-cao-thanh-tich")
    officer = world.officer
    await officer.says("/baocao")
    await officer.says("Thu ngân sách đạt 105% kế hoạch; giảm hộ nghèo")
    assert "Câu 2/12" in officer.last_reply
    pending = bot.core._marking
    assert pending is not None
    pending.cancel()  # the process dies before the batch is written
    with contextlib.suppress(asyncio.CancelledError):
        await pending

    restarted = restart(bot, settings, engine, clock)
    assert await restarted.core.resume_unanswered("memory") == 1
    assert officer.all_text.count("Câu 2/12") == 2
