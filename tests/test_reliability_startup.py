"""`thidua-bot run` started while Telegram or Zalo cannot be reached waits for it.

Before, the first getMe failing ended the process with "Không kết nối được …": a network blip
at boot needed a supervisor. Now start-up retries with pauses doubling up to a minute, logging
each try, and serves as soon as the platform answers; a refused token still stops it at once.
"""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from bot.channels.zalo import build_zalo_channel
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.zalo_api import FakeZalo
from tests.utils.subprocess_bot import OFFICER, STARTUP_SECONDS, BotProcess


@pytest.mark.slow
async def test_run_waits_for_an_unreachable_telegram_and_then_serves(
    telegram_api: FakeTelegram, bot_process: BotProcess
) -> None:
    api = telegram_api
    await api.stop()  # the port is known; nothing listens on it: connection refused
    bot_process.start()
    deadline = time.monotonic() + STARTUP_SECONDS
    # One refused attempt is enough to see it wait (the next is a second later; a third would
    # cost two more seconds of production back-off for nothing the test does not already see).
    while "unreachable at start-up" not in bot_process.log():
        assert bot_process.running, bot_process.log()
        assert time.monotonic() < deadline, bot_process.log()
        await asyncio.sleep(0.05)
    assert "attempt 1:" in bot_process.log()
    assert api.token not in bot_process.log()

    await api.start()  # back on the same port
    api.push_text(OFFICER, "/trogiup")
    await api.wait_for(OFFICER, 1, timeout=STARTUP_SECONDS)
    assert bot_process.running
    assert "Telegram Bot API reached after" in bot_process.log()


async def test_zalo_start_waits_for_an_unreachable_server(
    zalo_api: FakeZalo, zalo_settings, bot, caplog: pytest.LogCaptureFixture
) -> None:
    await zalo_api.stop()
    channel = build_zalo_channel(zalo_settings, bot.core, startup_backoff=(0.05, 0.2))
    caplog.set_level(logging.INFO, logger="thidua.zalo")
    starting = asyncio.create_task(channel.start())
    try:
        while caplog.text.count("unreachable at start-up") < 2:
            assert not starting.done(), starting
            await asyncio.sleep(0.02)
        await zalo_api.start()
        me = await asyncio.wait_for(starting, 5)
        assert me  # getMe answered
        assert "Zalo Bot API reached after" in caplog.text
        assert zalo_api.token.split(":")[1] not in caplog.text
    finally:
        starting.cancel()
        await channel.aclose()


@pytest.mark.slow
async def test_sigterm_ends_the_wait_for_an_unreachable_telegram(
    telegram_api: FakeTelegram, bot_process: BotProcess
) -> None:
    await telegram_api.stop()
    bot_process.start()
    deadline = time.monotonic() + STARTUP_SECONDS
    while "unreachable at start-up" not in bot_process.log():
        assert bot_process.running and time.monotonic() < deadline, bot_process.log()
        await asyncio.sleep(0.1)
    assert await bot_process.terminate(timeout=10) == 0, bot_process.log()
