"""`thidua-bot run` serves the web desk on LISTEN_HOST:LISTEN_PORT in long polling mode too
(one web server per process), and a port already taken does not stop the chat bot."""

from __future__ import annotations

import asyncio
import logging
import socket

import httpx
import pytest
from sqlalchemy.engine import Engine

from bot.clock import ManualClock
from bot.runtime import build_core
from bot.serve import serve
from bot.settings import Settings
from tests.fakes.zalo_api import FakeZalo
from tests.utils.webhook import free_port, wait_until_serving


async def test_polling_mode_serves_the_desk_and_healthz(
    zalo_settings: Settings, zalo_api: FakeZalo, engine: Engine, clock: ManualClock
) -> None:
    settings = zalo_settings.model_copy(update={"listen_port": free_port()})
    core = build_core(settings, engine=engine, clock=clock, migrate=False)
    stop = asyncio.Event()
    running = asyncio.create_task(serve(settings, core, stop=stop))
    try:
        assert (await wait_until_serving(settings.listen_port)).status_code == 200
        async with httpx.AsyncClient() as client:
            home = await client.get(f"http://127.0.0.1:{settings.listen_port}/")
        assert home.status_code == 401 and "/web" in home.text
        assert not zalo_api.webhook_url  # long polling: no webhook was set
    finally:
        stop.set()
        await asyncio.wait_for(running, 10)


async def test_port_taken_in_polling_mode_leaves_the_bot_running(
    zalo_settings: Settings,
    zalo_api: FakeZalo,
    engine: Engine,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        settings = zalo_settings.model_copy(update={"listen_port": port})
        core = build_core(settings, engine=engine, clock=clock, migrate=False)
        stop = asyncio.Event()
        running = asyncio.create_task(serve(settings, core, stop=stop))
        try:
            zalo_api.push_text("u-7", "/start")
            await zalo_api.wait_for_text("u-7", "Xin chào")
            assert "trang quản lý không chạy" in caplog.text
        finally:
            stop.set()
            await asyncio.wait_for(running, 10)
