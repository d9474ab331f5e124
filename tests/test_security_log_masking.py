"""Personal data stays out of the log at every level, DEBUG included.

At LOG_LEVEL=DEBUG python-telegram-bot logs every Bot API call with its parameters and answer:
the name and phone number an officer typed when registering, the admin's approval card with
both, the officer's Telegram name. The log set-up now scrubs each record as it is made.
Checked through the real PTB stack against the fake Bot API, with caplog at DEBUG.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

import bot.logging_setup as logging_setup
from bot.logging_setup import setup_logging
from tests.fakes.telegram_api import FakeTelegram
from tests.utils.factories import make_unit
from tests.utils.http import until
from tests.utils.ids import ADMIN_USER_ID

NAME = "Lò Thị Mai"
PHONE_TYPED = "0912 345 678"
TELEGRAM_NAME = "Mai Lò Hoa"


@pytest.fixture
def debug_log(caplog: pytest.LogCaptureFixture, telegram_api: FakeTelegram) -> Iterator[None]:
    factory = logging.getLogRecordFactory()
    setup_logging("DEBUG", secrets=[telegram_api.token])
    logging.getLogger().addHandler(caplog.handler)
    caplog.handler.setLevel(logging.DEBUG)
    yield
    logging.setLogRecordFactory(factory)
    logging_setup._factory_installed = None


async def test_registration_at_debug_logs_no_name_and_no_phone(
    telegram_api: FakeTelegram, telegram_bot, engine, debug_log, caplog
) -> None:
    from sqlmodel import Session

    api = telegram_api
    with Session(engine) as db:
        make_unit(db, "Xã Bình Lư", code="XA-BINHLU")
        db.commit()
    admin = int(ADMIN_USER_ID)
    await until(api, admin, "Xin chào", lambda: api.push_text(admin, "/start", name="Phòng"))
    user = 300
    await until(api, user, "", lambda: api.push_text(user, "/dangky", name=TELEGRAM_NAME))
    await until(api, user, "Chọn đơn vị", lambda: api.push_text(user, "binh lu", TELEGRAM_NAME))
    await until(api, user, "", lambda: api.press(user, "Xã Bình Lư", name=TELEGRAM_NAME))
    await until(api, user, "", lambda: api.push_text(user, NAME, name=TELEGRAM_NAME))
    await until(api, admin, NAME, lambda: api.push_text(user, PHONE_TYPED, name=TELEGRAM_NAME))

    log = caplog.text
    # The DEBUG output is there (calls and answers of the Bot API)…
    assert "sendMessage" in log and "getUpdates" in log
    # …without what would identify the officer.
    for personal in (NAME, TELEGRAM_NAME, "Mai", PHONE_TYPED, "0912345678", "912345678"):
        assert personal not in log, personal
    assert api.token not in log
