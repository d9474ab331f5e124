"""Update ids that start over never swallow a new message; a true repeat is still handled once.

Telegram numbers updates per bot; ids start over with a new bot token or a new Bot API server,
and Telegram picks them afresh (at random) after a week without updates. The core used to key
handled updates by id alone and never forgot one, so such new messages were dropped as
duplicates. Now a handled update also keeps a fingerprint (the bot, the message id, what was
sent) and rows are pruned after `PRUNE_AFTER`.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from bot.catalog import t
from bot.channels.text import html_to_plain
from bot.clock import ManualClock
from bot.core import PRUNE_AFTER
from bot.events import Inbound
from models.conversation import ProcessedUpdate
from tests.fakes.telegram_api import FakeTelegram
from tests.utils.scenario import TestBot

HELP = html_to_plain(t("core.help_title"))


def helps(api: FakeTelegram, chat: int) -> int:
    return sum(HELP in html_to_plain(text) for text in api.texts(chat))


async def test_ids_starting_over_do_not_swallow_new_messages(
    telegram_api: FakeTelegram, telegram_bot, engine, caplog
) -> None:
    api = telegram_api
    first = api.push_text(5001, "/trogiup")
    await api.wait_for(5001, count=1)
    api.push_text(5002, "/trogiup")
    await api.wait_for(5002, count=1)

    # A new Bot API server (or token): ids start at 1 again.
    api.restart_update_ids(first)
    again = api.push_text(5002, "/trogiup")
    assert again == first
    repeat = dict(api.update(again))
    await api.wait_for(5002, count=2)
    assert helps(api, 5002) == 2
    assert "update ids started over" in caplog.text

    # A true repeat of that update (same id, same content) is still handled once: the update
    # after it is answered, it is not.
    api.push_raw(repeat)
    api.push_text(5003, "/trogiup")
    await api.wait_for(5003, count=1)
    assert helps(api, 5002) == 2
    with Session(engine) as db:
        row = db.exec(select(ProcessedUpdate).where(ProcessedUpdate.update_id == str(again))).one()
    assert row.chat_id == "5002" and row.reuses == 1


async def test_a_repeat_is_handled_once_and_a_reused_id_with_new_content_is_handled(
    bot: TestBot,
) -> None:
    def update(text: str, source: str) -> Inbound:
        return Inbound(
            channel="memory",
            chat_id="7",
            user_id="7",
            text=text,
            command="trogiup",
            update_id="42",
            source=source,
        )

    assert await bot.core.process(update("/trogiup", "bot1:message:10"))
    assert await bot.core.process(update("/trogiup", "bot1:message:10")) == []  # a repeat
    # Another message (another bot or another message id) under the same update id.
    assert await bot.core.process(update("/trogiup", "bot2:message:10"))
    assert await bot.core.process(update("/trogiup", "bot2:message:10")) == []


async def test_handled_ids_are_forgotten_after_some_days(bot: TestBot, clock: ManualClock) -> None:
    event = Inbound(
        channel="memory",
        chat_id="7",
        user_id="7",
        text="/trogiup",
        command="trogiup",
        update_id="1",
        source="m1",
    )
    await bot.core.process(event)
    await bot.core.wait_background()
    clock.advance(PRUNE_AFTER + timedelta(minutes=1))
    await bot.core.resume_unanswered("memory")
    with Session(bot.core.engine) as db:
        assert db.exec(select(ProcessedUpdate)).all() == []
