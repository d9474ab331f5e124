"""The aiohttp backend python-telegram-bot talks to the Bot API through: files both ways,
failures turned into PTB's errors, proxies from the environment."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from telegram import Bot
from telegram.error import NetworkError, TimedOut

from bot.channels.telegram import TelegramOutlet
from bot.channels.telegram_http import AiohttpRequest
from bot.events import Attachment, Outbound, OutboundFile
from tests.fakes.telegram_api import FakeTelegram

TOKEN = "123456789:TEST-token-abcdefghijklmnopqrstuv"


async def test_files_go_up_and_come_down(telegram_api: FakeTelegram, telegram_bot) -> None:
    application, _ = telegram_bot
    assert isinstance(application.bot.request, AiohttpRequest)
    outlet = TelegramOutlet(application.bot)
    await outlet.send("61", Outbound("Báo cáo", document=OutboundFile("bc.xlsx", b"PK\x03\x04")))
    sent = telegram_api.sent["61"][0]
    assert (sent.method, sent.file_name, sent.content, sent.caption) == (
        "sendDocument",
        "bc.xlsx",
        b"PK\x03\x04",
        "Báo cáo",
    )
    telegram_api.push_document(62, b"%PDF-1.7 ...", "to-trinh.pdf", "application/pdf")
    file_id = next(fid for fid, (name, _) in telegram_api.files.items() if name == "to-trinh.pdf")
    assert await outlet.download(Attachment(file_id=file_id)) == b"%PDF-1.7 ..."


async def test_unreachable_api_is_a_network_error(unused_tcp_port: int) -> None:
    bot = Bot(TOKEN, base_url=f"http://127.0.0.1:{unused_tcp_port}/bot", request=AiohttpRequest())
    async with bot.request:
        with pytest.raises(NetworkError, match="aiohttp"):
            await bot.get_me()


@pytest.fixture
async def silent_api() -> AsyncIterator[str]:
    """A server that accepts requests and never answers."""
    never = asyncio.Event()

    async def hang(request: web.Request) -> web.Response:
        await never.wait()
        return web.Response()

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", hang)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/bot"
    never.set()
    await runner.cleanup()


async def test_api_that_does_not_answer_times_out(silent_api: str) -> None:
    bot = Bot(TOKEN, base_url=silent_api, request=AiohttpRequest(read_timeout=0.05))
    async with bot.request:
        with pytest.raises(TimedOut):
            await bot.get_me()


def test_proxy_from_the_environment_is_used_unless_bypassed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.so.gov.vn:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    request = AiohttpRequest()
    assert request._proxy_for("https://api.telegram.org/botX/getMe") == (
        "http://proxy.so.gov.vn:3128"
    )
    assert request._proxy_for("http://127.0.0.1:8081/botX/getMe") is None
