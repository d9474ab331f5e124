"""Webhook mode: Telegram posts updates over HTTP to the bot, which checks the secret header,
hands them to the same core as long polling, and acknowledges a re-delivered update without
handling it twice — even when the re-delivery reaches another process of the fleet."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from aiohttp import web
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from telegram.ext import Application

from bot.channels.telegram import build_application
from bot.channels.telegram_webhook import SECRET_HEADER, register_webhook, telegram_endpoint
from bot.cli import main
from bot.clock import ManualClock
from bot.core import BotCore
from bot.runtime import build_core
from bot.settings import Settings, SettingsError, load_settings
from bot.web.server import WebServer
from models.conversation import ProcessedUpdate
from tests.fakes.telegram_api import FakeTelegram

SECRET = "s3cret-Webhook_value-0123456789"


class WebhookFakeTelegram(FakeTelegram):
    """The fake Bot API, plus setWebhook (remembered so tests can read what was registered)."""

    webhook: dict[str, Any] | None = None

    async def _m_setWebhook(self, params: dict[str, Any], files: Any) -> web.Response:
        self.webhook = params
        return self._ok(True)


_update_ids = itertools.count(5000)


def text_update(user_id: int, text: str, name: str = "Cán bộ Xã") -> dict[str, Any]:
    """An update as Telegram would post it to the webhook."""
    update_id = next(_update_ids)
    message: dict[str, Any] = {
        "message_id": update_id,
        "date": int(time.time()),
        "chat": {"id": user_id, "type": "private"},
        "from": {"id": user_id, "is_bot": False, "first_name": name},
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": update_id, "message": message}


@dataclass
class BotProcess:
    """One bot process in webhook mode: PTB Application + core + HTTP listener."""

    application: Application
    core: BotCore
    server: WebServer

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    async def post(
        self, update: dict[str, Any], secret: str | None = SECRET, path: str = "/telegram"
    ) -> httpx.Response:
        return await post_update(self.url + path, update, SECRET_HEADER, secret)


async def post_update(
    url: str, update: dict[str, Any], header: str, secret: str | None
) -> httpx.Response:
    """POST an update as a platform does, with `secret` in `header` (no header when None)."""
    headers = {} if secret is None else {header: secret}
    async with httpx.AsyncClient() as client:
        return await client.post(url, json=update, headers=headers)


def free_port() -> int:
    """A loopback port nothing listens on, for LISTEN_PORT."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def wait_until_serving(port: int) -> httpx.Response:
    """The first /healthz answer of the web server starting on `port`."""
    async with httpx.AsyncClient() as client:
        for _ in range(200):
            try:
                return await client.get(f"http://127.0.0.1:{port}/healthz")
            except httpx.ConnectError:
                await asyncio.sleep(0.05)
    raise AssertionError(f"nothing answered on port {port}")


@pytest.fixture
def fake_api() -> WebhookFakeTelegram:
    return WebhookFakeTelegram()


@pytest.fixture
def webhook_settings(settings: Settings, fake_api: WebhookFakeTelegram) -> Settings:
    return settings.model_copy(
        update={
            "telegram_bot_token": SecretStr(fake_api.token),
            "telegram_base_url": None,  # set once the fake server has its port
            "webhook_url": "https://bot.example.gov.vn/telegram",
            "webhook_secret": SecretStr(SECRET),
            "admin_ids": [],
        }
    )


@pytest.fixture
async def start_process(
    fake_api: WebhookFakeTelegram, webhook_settings: Settings, clock: ManualClock
) -> AsyncIterator[Any]:
    """Starts bot processes on a given database; all are stopped at the end of the test."""
    await fake_api.start()
    settings = webhook_settings.model_copy(update={"telegram_base_url": fake_api.base_url})
    started: list[BotProcess] = []

    async def start(engine: Engine) -> BotProcess:
        core = build_core(settings, engine=engine, clock=clock, migrate=False)
        application = build_application(settings, core)
        await application.initialize()
        await application.start()
        endpoint = telegram_endpoint(application, SECRET, "/telegram")
        server = WebServer([endpoint], engine=engine, port=0)
        await server.start()
        process = BotProcess(application, core, server)
        started.append(process)
        return process

    yield start
    for process in started:
        await process.server.stop()
        await process.application.stop()
        await process.application.shutdown()
    await fake_api.stop()


@pytest.fixture
async def bot_process(start_process: Any, engine: Engine) -> BotProcess:
    return await start_process(engine)


def handled_updates(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return list(session.exec(select(ProcessedUpdate.update_id)).all())


async def test_update_posted_with_the_secret_is_answered(
    bot_process: BotProcess, fake_api: WebhookFakeTelegram
) -> None:
    response = await bot_process.post(text_update(4242, "/start", name="Lò Văn Tâm"))
    assert response.status_code == 200
    # Answered before the 200 went back: the core handled the update inside the request.
    texts = fake_api.texts(4242)
    assert "Xin chào <b>Lò Văn Tâm</b>" in texts[0] and "/dangky" in texts[1]


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", SECRET[:-1]])
async def test_request_without_the_right_secret_is_refused_and_logged(
    bot_process: BotProcess,
    fake_api: WebhookFakeTelegram,
    engine: Engine,
    caplog: pytest.LogCaptureFixture,
    secret: str | None,
) -> None:
    caplog.set_level(logging.INFO)
    response = await bot_process.post(text_update(4242, "/start"), secret=secret)
    assert response.status_code == 403
    assert "webhook request refused" in caplog.text
    assert SECRET not in caplog.text and fake_api.token not in caplog.text
    assert fake_api.total_sent() == 0 and handled_updates(engine) == []


async def test_redelivered_update_is_acknowledged_and_handled_once(
    bot_process: BotProcess, fake_api: WebhookFakeTelegram, engine: Engine
) -> None:
    update = text_update(4242, "/start")
    first = await bot_process.post(update)
    again = await bot_process.post(update)
    assert first.status_code == again.status_code == 200
    assert len(fake_api.sent["4242"]) == 2  # welcome + how to register, once
    assert handled_updates(engine) == [str(update["update_id"])]


async def test_update_redelivered_at_the_same_time_is_handled_once(
    bot_process: BotProcess, fake_api: WebhookFakeTelegram, engine: Engine
) -> None:
    update = text_update(4343, "/start")
    responses = await asyncio.gather(*(bot_process.post(update) for _ in range(3)))
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert len(fake_api.sent["4343"]) == 2
    assert handled_updates(engine) == [str(update["update_id"])]


async def test_redelivery_to_another_process_is_not_handled_again(
    start_process: Any, engine: Engine, fake_api: WebhookFakeTelegram
) -> None:
    first, second = await start_process(engine), await start_process(engine)
    update = text_update(4444, "/start")
    assert (await first.post(update)).status_code == 200
    # Telegram got no 200 in time and re-delivers; nginx sends it to the other process.
    assert (await second.post(update)).status_code == 200
    assert len(fake_api.sent["4444"]) == 2
    assert handled_updates(engine) == [str(update["update_id"])]


async def test_unreadable_body_is_rejected(bot_process: BotProcess) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(
            bot_process.url + "/telegram", content=b"{not json", headers={SECRET_HEADER: SECRET}
        )
    assert response.status_code == 400


async def test_health_check_answers_when_the_database_does(bot_process: BotProcess) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.get(bot_process.url + "/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


async def test_health_check_fails_when_the_database_does_not(
    bot_process: BotProcess, tmp_path: Path
) -> None:
    unreachable = sa.create_engine(f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}")
    server = WebServer([], engine=unreachable, port=0)
    await server.start()
    try:
        async with httpx.AsyncClient() as client:
            response = await client.get(f"http://127.0.0.1:{server.port}/healthz")
    finally:
        await server.stop()
    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"


async def test_webhook_is_registered_with_its_secret(
    bot_process: BotProcess, fake_api: WebhookFakeTelegram, webhook_settings: Settings
) -> None:
    await register_webhook(bot_process.application, webhook_settings)
    assert fake_api.webhook is not None
    assert fake_api.webhook["url"] == "https://bot.example.gov.vn/telegram"
    assert fake_api.webhook["secret_token"] == SECRET
    assert "callback_query" in json.dumps(fake_api.webhook["allowed_updates"])


# --- start-up ----------------------------------------------------------------------------------
@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    monkeypatch.chdir(tmp_path)  # no .env from the developer's checkout
    for name in ("WEBHOOK_URL", "WEBHOOK_SECRET", "LISTEN_HOST", "LISTEN_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456789:TEST-token-abcdefghijklmnopqrstuv")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'thidua.db'}")
    return monkeypatch


@pytest.mark.parametrize(
    "env", [{}, {"WEBHOOK_URL": "https://bot.example.gov.vn/tg"}, {"WEBHOOK_SECRET": "abc"}]
)
def test_webhook_mode_without_url_or_secret_stops_with_one_line(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], env: dict[str, str]
) -> None:
    for name, value in env.items():
        clean_env.setenv(name, value)
    assert main(["run", "--webhook"]) == 2
    err = capsys.readouterr().err
    assert "WEBHOOK_URL" in err and "WEBHOOK_SECRET" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WEBHOOK_SECRET", "có dấu"),
        ("WEBHOOK_URL", "bot.example.gov.vn/telegram"),
        ("LISTEN_PORT", "70000"),
    ],
)
def test_bad_webhook_setting_is_named(clean_env: pytest.MonkeyPatch, name: str, value: str) -> None:
    clean_env.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        load_settings()


def test_webhook_settings_have_safe_defaults(clean_env: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert (settings.listen_host, settings.listen_port) == ("127.0.0.1", 8080)
    assert settings.webhook_url is None and settings.webhook_secret is None


async def test_run_serves_telegram_by_webhook(
    fake_api: WebhookFakeTelegram, webhook_settings: Settings, engine: Engine, clock: ManualClock
) -> None:
    """What `thidua-bot run --webhook` starts: the webhook registered with its secret, updates
    posted to LISTEN_HOST:LISTEN_PORT answered, and a clean stop."""
    from bot.serve import serve

    await fake_api.start()
    port = free_port()
    settings = webhook_settings.model_copy(
        update={"telegram_base_url": fake_api.base_url, "listen_port": port}
    )
    core = build_core(settings, engine=engine, clock=clock, migrate=False)
    stop = asyncio.Event()
    running = asyncio.create_task(serve(settings, core, stop=stop, webhook=True))
    try:
        assert (await wait_until_serving(port)).status_code == 200
        answer = await post_update(
            f"http://127.0.0.1:{port}/telegram", text_update(321, "/start"), SECRET_HEADER, SECRET
        )
        assert answer.status_code == 200
        await fake_api.wait_for_text(321, "Xin chào")
        assert fake_api.webhook is not None and fake_api.webhook["secret_token"] == SECRET
    finally:
        stop.set()
        await asyncio.wait_for(running, 10)
        await fake_api.stop()
