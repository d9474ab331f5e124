"""Webhook mode on Zalo: Zalo posts updates over HTTP to the bot's web server (the same one, on
the same port, as Telegram's webhook and /healthz), which checks the `X-Bot-Api-Secret-Token`
header, hands them to the core and handles a re-sent update once; at start-up the bot calls
setWebhook with ZALO_WEBHOOK_URL and ZALO_WEBHOOK_SECRET instead of polling."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy.engine import Engine

from bot.channels.telegram_webhook import SECRET_HEADER as TELEGRAM_SECRET_HEADER
from bot.channels.zalo import SECRET_HEADER, ZaloStartupError, build_zalo_channel, zalo_endpoint
from bot.cli import main
from bot.clock import ManualClock
from bot.runtime import build_core
from bot.serve import serve, webhook_settings_error
from bot.settings import Settings, SettingsError, load_settings
from bot.web.server import WebServer
from tests.fakes.zalo_api import FakeZalo
from tests.test_webhook import (
    SECRET as TELEGRAM_SECRET,
)
from tests.test_webhook import (
    WebhookFakeTelegram,
    free_port,
    handled_updates,
    post_update,
    text_update,
    wait_until_serving,
)

ZALO_SECRET = "zalo-Webhook-secret-0123456789"
ZALO_URL = "https://bot.example.gov.vn/zalo"


@pytest.fixture
def zalo_webhook_settings(zalo_settings: Settings) -> Settings:
    return zalo_settings.model_copy(
        update={"zalo_webhook_url": ZALO_URL, "zalo_webhook_secret": SecretStr(ZALO_SECRET)}
    )


@pytest.fixture
async def zalo_server(
    zalo_webhook_settings: Settings, engine: Engine, clock: ManualClock
) -> AsyncIterator[WebServer]:
    """The Zalo channel started in webhook mode, its endpoint on a web server (free port)."""
    core = build_core(zalo_webhook_settings, engine=engine, clock=clock, migrate=False)
    channel = build_zalo_channel(zalo_webhook_settings, core)
    await channel.start(webhook_url=ZALO_URL)
    server = WebServer([zalo_endpoint(channel, core.process, "/zalo")], engine=engine, port=0)
    await server.start()
    server.channel = channel  # type: ignore[attr-defined]  # tests wait for its handling
    yield server
    await server.stop()
    await channel.aclose()


async def post(
    server: WebServer, update: dict[str, Any], secret: str | None = ZALO_SECRET
) -> httpx.Response:
    return await post_update(f"http://127.0.0.1:{server.port}/zalo", update, SECRET_HEADER, secret)


async def test_update_posted_with_the_secret_is_answered(
    zalo_server: WebServer, zalo_api: FakeZalo
) -> None:
    response = await post(zalo_server, zalo_api.text_update("u-42", "/start", name="Lò Văn Tâm"))
    assert response.status_code == 200
    # Zalo is answered once the update is recorded; the core handles it right after.
    await zalo_server.channel.wait_handled()  # type: ignore[attr-defined]
    assert "Xin chào Lò Văn Tâm" in zalo_api.texts("u-42")[0]
    assert [m.method for m in zalo_api.sent["u-42"]] == ["sendMessage"] * 2


@pytest.mark.parametrize("secret", [None, "", "wrong-secret-value", ZALO_SECRET[:-1]])
async def test_request_without_the_right_secret_is_refused_and_logged(
    zalo_server: WebServer,
    zalo_api: FakeZalo,
    engine: Engine,
    caplog: pytest.LogCaptureFixture,
    secret: str | None,
) -> None:
    caplog.set_level(logging.INFO)
    response = await post(zalo_server, zalo_api.text_update("u-42", "/start"), secret=secret)
    assert response.status_code == 403
    refusals = [r for r in caplog.records if "zalo webhook call refused" in r.getMessage()]
    assert len(refusals) == 1
    assert ZALO_SECRET not in caplog.text and zalo_api.token not in caplog.text
    assert not any(zalo_api.sent.values()) and handled_updates(engine) == []


async def test_telegram_secret_does_not_open_the_zalo_path(
    zalo_server: WebServer, zalo_api: FakeZalo
) -> None:
    update = zalo_api.text_update("u-42", "/start")
    url = f"http://127.0.0.1:{zalo_server.port}/zalo"
    response = await post_update(url, update, TELEGRAM_SECRET_HEADER, ZALO_SECRET)
    assert response.status_code == 403 and not any(zalo_api.sent.values())


async def test_unreadable_body_is_rejected(zalo_server: WebServer, zalo_api: FakeZalo) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"http://127.0.0.1:{zalo_server.port}/zalo",
            content=b"{not json",
            headers={SECRET_HEADER: ZALO_SECRET},
        )
    assert response.status_code == 400 and not any(zalo_api.sent.values())


async def test_update_posted_twice_is_handled_once(
    zalo_server: WebServer, zalo_api: FakeZalo, engine: Engine
) -> None:
    update = zalo_api.text_update("u-43", "/start")
    first = await post(zalo_server, update)
    again = await post(zalo_server, update)
    assert first.status_code == again.status_code == 200
    await zalo_server.channel.wait_handled()  # type: ignore[attr-defined]
    assert len(zalo_api.sent["u-43"]) == 2  # welcome + how to register, once
    assert handled_updates(engine) == [update["message"]["message_id"]]


async def test_update_posted_twice_at_the_same_time_is_handled_once(
    zalo_server: WebServer, zalo_api: FakeZalo, engine: Engine
) -> None:
    update = zalo_api.text_update("u-44", "/start")
    responses = await asyncio.gather(*(post(zalo_server, update) for _ in range(3)))
    assert [r.status_code for r in responses] == [200, 200, 200]
    await zalo_server.channel.wait_handled()  # type: ignore[attr-defined]
    assert len(zalo_api.sent["u-44"]) == 2
    assert handled_updates(engine) == [update["message"]["message_id"]]


async def test_a_crash_between_recording_and_handling_loses_nothing_and_doubles_nothing(
    zalo_webhook_settings: Settings, zalo_api: FakeZalo, engine: Engine, clock: ManualClock
) -> None:
    update = zalo_api.text_update("u-45", "/start", name="Lò Văn Tâm")
    # First process: records the update and answers 200, then dies before handling it.
    core = build_core(zalo_webhook_settings, engine=engine, clock=clock, migrate=False)
    channel = build_zalo_channel(zalo_webhook_settings, core)
    never = asyncio.Event()

    async def dies_first(event: object) -> None:
        await never.wait()

    status = await channel.accept_webhook(ZALO_SECRET, json.dumps(update).encode(), dies_first)
    assert status == 200
    for task in list(channel._handling):  # the process is killed: its work is cut off
        task.cancel()
    await channel.wait_handled()
    await channel.aclose()
    assert zalo_api.sent["u-45"] == [] and handled_updates(engine) == []

    # The next start handles what was left, once; Zalo re-posting it changes nothing.
    core = build_core(zalo_webhook_settings, engine=engine, clock=clock, migrate=False)
    channel = build_zalo_channel(zalo_webhook_settings, core)
    assert await channel.handle_pending(core.process) == 1
    again = await channel.accept_webhook(ZALO_SECRET, json.dumps(update).encode(), core.process)
    await channel.wait_handled()
    assert again == 200
    assert await channel.handle_pending(core.process) == 0
    await channel.aclose()
    assert "Xin chào Lò Văn Tâm" in zalo_api.texts("u-45")[0]
    assert len(zalo_api.sent["u-45"]) == 2  # welcome + how to register, exactly once
    assert handled_updates(engine) == [update["message"]["message_id"]]


async def test_start_sets_the_webhook_instead_of_deleting_it(
    zalo_server: WebServer, zalo_api: FakeZalo
) -> None:
    assert (zalo_api.webhook_url, zalo_api.webhook_secret) == (ZALO_URL, ZALO_SECRET)
    assert "deleteWebhook" not in zalo_api.calls and "getUpdates" not in zalo_api.calls


async def test_webhook_refused_by_zalo_stops_start_up_without_the_secret(
    zalo_webhook_settings: Settings, zalo_api: FakeZalo, engine: Engine, clock: ManualClock
) -> None:
    # The fake refuses a secret shorter than 8 characters, as Zalo does (settings would too).
    settings = zalo_webhook_settings.model_copy(update={"zalo_webhook_secret": SecretStr("short")})
    core = build_core(settings, engine=engine, clock=clock, migrate=False)
    channel = build_zalo_channel(settings, core)
    try:
        with pytest.raises(ZaloStartupError, match="ZALO_WEBHOOK_URL") as raised:
            await channel.start(webhook_url=ZALO_URL)
    finally:
        await channel.aclose()
    assert "short" not in str(raised.value) and zalo_api.token not in str(raised.value)


# --- `run --webhook` ---------------------------------------------------------------------------
async def _serving(settings: Settings, engine: Engine, clock: ManualClock) -> Any:
    """`serve(..., webhook=True)` started on a free port: (port, stop event, task)."""
    settings = settings.model_copy(update={"listen_port": free_port()})
    core = build_core(settings, engine=engine, clock=clock, migrate=False)
    stop = asyncio.Event()
    running = asyncio.create_task(serve(settings, core, stop=stop, webhook=True))
    health = await wait_until_serving(settings.listen_port)
    assert health.status_code == 200
    return settings.listen_port, stop, running


async def test_run_with_only_a_zalo_token_serves_zalo_and_healthz(
    zalo_webhook_settings: Settings, zalo_api: FakeZalo, engine: Engine, clock: ManualClock
) -> None:
    assert zalo_webhook_settings.telegram_bot_token is None
    assert webhook_settings_error(zalo_webhook_settings) is None  # no WEBHOOK_URL needed
    port, stop, running = await _serving(zalo_webhook_settings, engine, clock)
    try:
        answer = await post_update(
            f"http://127.0.0.1:{port}/zalo",
            zalo_api.text_update("u-45", "/start"),
            SECRET_HEADER,
            ZALO_SECRET,
        )
        assert answer.status_code == 200
        await zalo_api.wait_for_text("u-45", "Xin chào")
        assert (zalo_api.webhook_url, zalo_api.webhook_secret) == (ZALO_URL, ZALO_SECRET)
        assert "getUpdates" not in zalo_api.calls
    finally:
        stop.set()
        await asyncio.wait_for(running, 10)
    # The webhook stays set at shutdown: other processes of the fleet still serve it.
    assert "deleteWebhook" not in zalo_api.calls


async def test_run_serves_telegram_and_zalo_on_one_port(
    zalo_webhook_settings: Settings, zalo_api: FakeZalo, engine: Engine, clock: ManualClock
) -> None:
    telegram = WebhookFakeTelegram()
    await telegram.start()
    settings = zalo_webhook_settings.model_copy(
        update={
            "telegram_bot_token": SecretStr(telegram.token),
            "telegram_base_url": telegram.base_url,
            "webhook_url": "https://bot.example.gov.vn/telegram",
            "webhook_secret": SecretStr(TELEGRAM_SECRET),
        }
    )
    try:
        port, stop, running = await _serving(settings, engine, clock)
        try:
            base = f"http://127.0.0.1:{port}"
            to_telegram = await post_update(
                f"{base}/telegram", text_update(321, "/start"), TELEGRAM_SECRET_HEADER, ZALO_SECRET
            )
            assert to_telegram.status_code == 403  # each path checks its own platform's secret
            to_zalo = await post_update(
                f"{base}/zalo", zalo_api.text_update("u-46", "/start"), SECRET_HEADER, ZALO_SECRET
            )
            to_telegram = await post_update(
                f"{base}/telegram",
                text_update(321, "/start"),
                TELEGRAM_SECRET_HEADER,
                TELEGRAM_SECRET,
            )
            assert to_zalo.status_code == to_telegram.status_code == 200
            await zalo_api.wait_for_text("u-46", "Xin chào")
            await telegram.wait_for_text(321, "Xin chào")
        finally:
            stop.set()
            await asyncio.wait_for(running, 10)
    finally:
        await telegram.stop()


# --- settings ----------------------------------------------------------------------------------
@pytest.fixture
def zalo_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    monkeypatch.chdir(tmp_path)  # no .env from the developer's checkout
    for name in (
        "TELEGRAM_BOT_TOKEN",
        "WEBHOOK_URL",
        "WEBHOOK_SECRET",
        "ZALO_WEBHOOK_URL",
        "ZALO_WEBHOOK_SECRET",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ZALO_BOT_TOKEN", "1459232241454765289:TEST-zalo-secret-abcdefghijklmnop")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'thidua.db'}")
    return monkeypatch


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"ZALO_WEBHOOK_URL": ZALO_URL},
        {"ZALO_WEBHOOK_SECRET": ZALO_SECRET},
        # Telegram's webhook settings do not stand in for Zalo's.
        {"WEBHOOK_URL": "https://bot.example.gov.vn/telegram", "WEBHOOK_SECRET": "abcdefgh"},
    ],
)
def test_webhook_mode_with_a_zalo_token_needs_zalo_url_and_secret(
    zalo_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], env: dict[str, str]
) -> None:
    for name, value in env.items():
        zalo_env.setenv(name, value)
    assert main(["run", "--webhook"]) == 2
    err = capsys.readouterr().err
    assert "ZALO_WEBHOOK_URL" in err and "ZALO_WEBHOOK_SECRET" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    ("env", "named"),
    [
        (
            {
                "TELEGRAM_BOT_TOKEN": "123456789:TEST-token-abcdefghijklmnopqrstuv",
                "WEBHOOK_URL": "https://bot.example.gov.vn/bot",
                "WEBHOOK_SECRET": "abcdefgh",
                "ZALO_WEBHOOK_URL": "https://zalo.example.gov.vn/bot/",
            },
            "WEBHOOK_URL và ZALO_WEBHOOK_URL",
        ),
        ({"ZALO_WEBHOOK_URL": "https://bot.example.gov.vn/healthz"}, "ZALO_WEBHOOK_URL"),
    ],
)
def test_webhook_paths_must_be_distinct(
    zalo_env: pytest.MonkeyPatch, env: dict[str, str], named: str
) -> None:
    zalo_env.setenv("ZALO_WEBHOOK_SECRET", ZALO_SECRET)
    for name, value in env.items():
        zalo_env.setenv(name, value)
    problem = webhook_settings_error(load_settings())
    assert problem is not None and named in problem


def test_bad_zalo_webhook_url_is_named(zalo_env: pytest.MonkeyPatch) -> None:
    zalo_env.setenv("ZALO_WEBHOOK_URL", "bot.example.gov.vn/zalo")
    with pytest.raises(SettingsError, match="ZALO_WEBHOOK_URL"):
        load_settings()
