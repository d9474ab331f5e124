"""End to end over HTTP: the real python-telegram-bot Application against the fake Bot API."""

from __future__ import annotations

import logging

import pytest
from telegram import Update

from bot.channels.telegram import (
    CAPTION_LIMIT,
    CONCURRENT_UPDATES,
    TEXT_LIMIT,
    TelegramOutlet,
    to_inbound,
)
from bot.events import Button, Outbound, OutboundFile
from bot.logging_setup import setup_logging
from tests.fakes.telegram_api import FakeTelegram
from tests.utils.ids import ADMIN_USER_ID


async def test_start_is_answered_over_http(telegram_api: FakeTelegram, telegram_bot) -> None:
    telegram_api.push_text(4242, "/start", name="Lò Văn Tâm")
    messages = await telegram_api.wait_for(4242, count=2)
    assert "Xin chào <b>Lò Văn Tâm</b>" in messages[0].text
    assert "/dangky" in messages[1].text


async def test_admin_sees_admin_welcome(telegram_api: FakeTelegram, telegram_bot) -> None:
    telegram_api.push_text(int(ADMIN_USER_ID), "/start", name="Trưởng phòng")
    message = await telegram_api.wait_for_text(ADMIN_USER_ID, "quản trị viên")
    assert "Trưởng phòng" in message.text


async def test_names_are_escaped_in_html(telegram_api: FakeTelegram, telegram_bot) -> None:
    telegram_api.push_text(77, "/start", name="<b>x</b> & co")
    message = await telegram_api.wait_for_text(77, "Xin chào")
    assert "&lt;b&gt;x&lt;/b&gt; &amp; co" in message.text


async def test_outlet_splits_long_text_and_keeps_buttons_on_the_last_part(
    telegram_api: FakeTelegram, telegram_bot
) -> None:
    application, _ = telegram_bot
    outlet = TelegramOutlet(application.bot)
    long_text = "\n".join(f"Dòng {i}: " + "thi đua " * 20 for i in range(60))
    await outlet.send("55", Outbound(long_text, [[Button("Tiếp", "x:1")]]))
    sent = telegram_api.sent["55"]
    assert len(sent) >= 2 and all(len(m.text) <= TEXT_LIMIT for m in sent)
    assert "\n".join(m.text for m in sent) == long_text
    assert sent[-1].buttons == [("Tiếp", "x:1")] and not sent[0].buttons


async def test_outlet_moves_a_long_caption_into_a_message(
    telegram_api: FakeTelegram, telegram_bot
) -> None:
    application, _ = telegram_bot
    outlet = TelegramOutlet(application.bot)
    text = "Báo cáo " * 200
    assert len(text) > CAPTION_LIMIT
    await outlet.send(
        "56", Outbound(text, document=OutboundFile("bao-cao.xlsx", b"PK\x03\x04data"))
    )
    sent = telegram_api.sent["56"]
    assert sent[0].method == "sendDocument" and sent[0].caption == ""
    assert sent[0].file_name == "bao-cao.xlsx" and sent[0].content == b"PK\x03\x04data"
    assert sent[1].text == text


async def test_button_press_becomes_a_payload(telegram_api: FakeTelegram, telegram_bot) -> None:
    application, _ = telegram_bot
    update = Update.de_json(
        {
            "update_id": 9,
            "callback_query": {
                "id": "1",
                "from": {"id": 5, "is_bot": False, "first_name": "Mai"},
                "chat_instance": "x",
                "data": "page:2",
                "message": {"message_id": 31, "date": 0, "chat": {"id": 5, "type": "private"}},
            },
        },
        application.bot,
    )
    event = to_inbound(update)
    assert event is not None
    assert (event.payload, event.chat_id, event.message_id, event.update_id) == (
        "page:2",
        "5",
        "31",
        "9",
    )


async def test_the_token_never_reaches_the_log(
    telegram_api: FakeTelegram, telegram_bot, capfd: pytest.CaptureFixture[str]
) -> None:
    setup_logging("DEBUG", secrets=[telegram_api.token])
    logging.getLogger("httpx").setLevel(logging.DEBUG)  # the chattiest setting there is
    try:
        telegram_api.push_text(4243, "/start")
        await telegram_api.wait_for(4243, count=2)
        logging.getLogger("test").info(
            "GET %s/bot%s/getMe", telegram_api.base_url, telegram_api.token
        )
        try:
            raise RuntimeError(f"boom with {telegram_api.token}")
        except RuntimeError:
            logging.getLogger("test").exception("failure")
    finally:
        logging.getLogger().handlers.clear()
    err = capfd.readouterr().err
    assert "getMe" in err and "boom with ***" in err
    assert telegram_api.token not in err
    assert telegram_api.token.split(":")[1] not in err


async def test_a_big_batch_reaches_the_core_a_few_updates_at_a_time(
    telegram_api: FakeTelegram, telegram_bot
) -> None:
    """Thirty officers write at once: the poller hands the core at most CONCURRENT_UPDATES of
    the batch at a time (the first ones finish first instead of all finishing late together),
    and each is answered."""
    _, core = telegram_bot
    process = core.process
    in_core = 0
    most = 0

    async def counting(event, **options):
        nonlocal in_core, most
        in_core += 1
        most = max(most, in_core)
        try:
            return await process(event, **options)
        finally:
            in_core -= 1

    core.process = counting
    users = range(6100, 6130)
    for user_id in users:
        telegram_api.push_text(user_id, "/trogiup")
    for user_id in users:
        await telegram_api.wait_for_text(str(user_id), "/trogiup")
    assert 1 < most <= CONCURRENT_UPDATES
