"""Telegram, after a press and between messages: the pressed message loses its keyboard (unless
the answer replaced it), a press on an old keyboard gets one short answer, and requests to one
chat are spaced a second apart (at a person's pace the first message of an answer goes at
once), so a stand-in enforcing Telegram's one message a second per chat answers no 429."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy.engine import Engine

from bot.channels.telegram import ChatSpacing, TelegramOutlet
from bot.events import Inbound, Outbound, OutboundFile
from tests.fakes.telegram_api import FakeTelegram
from tests.utils.http import pressing, saying, seed_officer, until

OFFICER = 4242


async def _until(condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition never met"
        await asyncio.sleep(0.02)


async def test_a_pressed_keyboard_is_taken_away_and_an_old_press_gets_one_short_answer(
    telegram_api: FakeTelegram, telegram_bot, engine: Engine
) -> None:
    seed_officer(engine, OFFICER, channel="telegram")
    api = telegram_api
    say, press = saying(api, OFFICER), pressing(api, OFFICER)
    await until(api, OFFICER, "Câu 1/12", say("/baocao"))
    await until(api, OFFICER, "Câu 2/12", say("Thu ngân sách đạt 105% kế hoạch"))
    await until(api, OFFICER, "Câu 3/12", say("12"))
    question = await until(api, OFFICER, "Câu 4/12", say("11"))
    [payload] = [data for label, data in question.buttons if "Hoàn thành tốt" in label]

    await until(api, OFFICER, "Câu 5/12", press("Hoàn thành tốt"))
    await _until(lambda: not question.buttons)  # the old keyboard is gone
    assert "Câu 4/12" in question.text  # the question itself stays as it was

    # A press on the old keyboard (a client that had not refreshed yet): one short answer.
    before = len(api.sent[str(OFFICER)])
    api.push_callback(OFFICER, payload, question.message_id, name="Lò Văn Tâm")
    await api.wait_for(OFFICER, before + 1)
    api.push_text(OFFICER, "/trogiup")  # a marker after it
    await api.wait_for_text(OFFICER, "/baocao", after=before + 1)
    assert len(api.sent[str(OFFICER)]) == before + 2
    assert len(api.sent[str(OFFICER)][before].text) < 300


def test_spacing_holds_the_next_request_to_a_chat_a_second_after_the_last_one_ended() -> None:
    now = [100.0]
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(round(seconds, 3))
        now[0] += seconds

    spacing = ChatSpacing(1.0, monotonic=lambda: now[0], sleep=sleep)

    async def answer() -> None:
        async with spacing.turn("7"):  # the first message: nothing sent to the chat lately
            now[0] += 0.2  # the request takes a while: counted from its end
        async with spacing.turn("7"):
            pass
        async with spacing.turn("8"):  # another chat: not held up
            pass
        now[0] += 5  # a person reads and answers: the next answer goes at once
        async with spacing.turn("7"):
            pass

    asyncio.run(answer())
    assert waits == [1.0]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # no database work
async def test_an_answer_of_two_messages_provokes_no_per_chat_429(
    telegram_api: FakeTelegram, telegram_bot
) -> None:
    """Over HTTP, time scaled down: a stand-in allowing 2.5 messages a second per chat and a
    spacing of 0.4 s (the one-second figures are the unit test's above)."""
    application, _ = telegram_bot
    telegram_api.chat_rate_limit = 2.5
    outlet = TelegramOutlet(application.bot, chat_spacing=0.4)
    update = Inbound("telegram", "61", "61", update_id="7")
    started = time.monotonic()
    await outlet.send("61", Outbound("Đây là bảng tổng hợp:"), update)
    first_after = time.monotonic() - started
    await outlet.send("61", Outbound("", document=OutboundFile("tong-hop.xlsx", b"PK")), update)
    await outlet.send("61", Outbound("Gõ /tiendo để xem lại."), update)
    assert len(telegram_api.sent["61"]) == 3
    assert telegram_api.chat_throttled == 0
    assert first_after < 0.3  # the first message was not held back


async def test_a_bad_invite_link_is_answered_in_one_message_over_telegram(
    telegram_api: FakeTelegram, telegram_bot
) -> None:
    telegram_api.push_text(5252, "/start Zk3vQ9xW2mPq7LrT8yN4bC6dF1gH5jK0", name="Người lạ")
    [message] = await telegram_api.wait_for(5252, 1)
    telegram_api.push_text(5252, "/trogiup", name="Người lạ")  # a marker after it
    await telegram_api.wait_for_text(5252, "/dangky", after=1)
    assert len(telegram_api.sent["5252"]) == 2
    assert "/dangky" in message.text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # no database work
@pytest.mark.bot_chat_spacing(1.0)
async def test_pushed_sends_to_telegram_are_paced_by_the_outlet_alone(telegram_bot) -> None:
    """As `run` builds it: the Telegram outlet spaces its chats, so the delivery service's
    pacer stands aside for Telegram — one pacer per chat, not two in a row."""
    _, core = telegram_bot
    assert core.hub.spaces_chats("telegram")
    pacer = core.services.delivery.pacer
    assert pacer.spacing > 0 and pacer.spaced_elsewhere("telegram")
    assert not pacer.spaced_elsewhere("zalo")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_without_outlet_spacing_the_delivery_pacer_spaces_telegram(telegram_bot) -> None:
    _, core = telegram_bot  # the fixture's default: TELEGRAM_CHAT_SPACING_SECONDS=0
    assert not core.hub.spaces_chats("telegram")
    assert not core.services.delivery.pacer.spaced_elsewhere("telegram")
