"""Serving the bot on every channel that has a token — Telegram, Zalo or both — in one loop.

`serve()` starts each channel next to the others and waits until told to stop (SIGTERM, Ctrl+C,
or the `stop` event tests set), then shuts everything down in order. By long polling (default):
python-telegram-bot's Application initialised for sending with `TelegramPoller` fetching
updates, and the Zalo poller, each as a task. In webhook mode each channel registers its webhook
and contributes an endpoint to one web server (`bot.channels.webhook`, with `/healthz`) on
LISTEN_HOST:LISTEN_PORT. It only wires channels to the core; what the bot does is elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from pydantic import SecretStr

from bot.channels.webhook import HEALTH_PATH, Endpoint, serving, webhook_path
from bot.core import BotCore
from bot.runtime import build_scheduler
from bot.settings import Settings
from handlers.broadcasts import watch_broadcasts

if TYPE_CHECKING:
    from bot.channels.zalo import ZaloChannel

log = logging.getLogger("thidua")


class NoChannelError(Exception):
    """Neither TELEGRAM_BOT_TOKEN nor ZALO_BOT_TOKEN is set."""


def _is_set(secret: SecretStr | None) -> bool:
    return secret is not None and bool(secret.get_secret_value())


def enabled_channels(settings: Settings) -> list[str]:
    """The channels `run` will serve: those whose token is set."""
    channels = []
    if _is_set(settings.telegram_bot_token):
        channels.append("telegram")
    if _is_set(settings.zalo_bot_token):
        channels.append("zalo")
    return channels


def webhook_settings_error(settings: Settings) -> str | None:
    """What webhook mode lacks for the channels with a token, as one line naming the settings;
    None when it can start."""
    channels = enabled_channels(settings)
    paths: dict[str, str] = {}
    if "telegram" in channels:
        if not settings.webhook_url or not settings.webhook_secret:
            return (
                "Chế độ webhook cần WEBHOOK_URL (địa chỉ HTTPS công khai) và WEBHOOK_SECRET "
                "(chuỗi bí mật, ví dụ tạo bằng: openssl rand -hex 32) trong tệp .env "
                "(xem .env.example)."
            )
        paths["WEBHOOK_URL"] = webhook_path(settings.webhook_url)
    if "zalo" in channels:
        if not settings.zalo_webhook_url or not settings.zalo_webhook_secret:
            return (
                "Chế độ webhook với Zalo cần ZALO_WEBHOOK_URL (địa chỉ HTTPS công khai, ví dụ "
                "https://bot.example.gov.vn/zalo) và ZALO_WEBHOOK_SECRET (8–256 ký tự, ví dụ tạo "
                "bằng: openssl rand -hex 32) trong tệp .env (xem .env.example)."
            )
        paths["ZALO_WEBHOOK_URL"] = webhook_path(settings.zalo_webhook_url)
    for name, path in paths.items():
        if path == HEALTH_PATH:
            return f"Đường dẫn của {name} không được là {HEALTH_PATH} (ví dụ: …/telegram, …/zalo)."
    if len(set(paths.values())) < len(paths):
        return (
            "WEBHOOK_URL và ZALO_WEBHOOK_URL phải có đường dẫn khác nhau (ví dụ: "
            "https://bot.example.gov.vn/telegram và https://bot.example.gov.vn/zalo)."
        )
    return None


@contextlib.asynccontextmanager
async def _telegram_webhook(settings: Settings, core: BotCore) -> AsyncIterator[Endpoint]:
    from bot.channels.telegram import build_application
    from bot.channels.telegram_webhook import telegram_webhook

    application = build_application(settings, core)
    async with telegram_webhook(application, settings) as endpoint:
        log.info("thidua-bot đang chạy trên Telegram (webhook)")
        yield endpoint


@contextlib.asynccontextmanager
async def telegram_polling(settings: Settings, core: BotCore) -> AsyncIterator[None]:
    """Telegram long polling for `core` while the block runs (also the benchmark's intake)."""
    from bot.channels.telegram import TelegramPoller, build_application

    application = build_application(settings, core)
    await application.initialize()
    try:
        # Before polling: chats a crash left without their next question get it again.
        await core.resume_unanswered("telegram")
        poller = TelegramPoller(application, core)
        polling = asyncio.create_task(poller.run(), name="telegram-polling")
        log.info("thidua-bot đang chạy trên Telegram (long polling)")
        try:
            yield
        finally:
            polling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await polling
            await poller.aclose()  # updates under way finish and are confirmed
    finally:
        await application.shutdown()


@contextlib.asynccontextmanager
async def _zalo_channel(
    settings: Settings, core: BotCore, webhook_url: str | None, options: dict[str, object]
) -> AsyncIterator[ZaloChannel]:
    from bot.channels.zalo import build_zalo_channel

    channel = build_zalo_channel(settings, core, **options)
    try:
        await channel.start(webhook_url=webhook_url)
        yield channel
    finally:
        await channel.aclose()


@contextlib.asynccontextmanager
async def _zalo(settings: Settings, core: BotCore, **options: object) -> AsyncIterator[None]:
    async with _zalo_channel(settings, core, None, options) as channel:
        await core.resume_unanswered("zalo")
        poller = asyncio.create_task(channel.run(core.process), name="zalo-polling")
        log.info("thidua-bot đang chạy trên Zalo (long polling)")
        try:
            yield
        finally:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller


@contextlib.asynccontextmanager
async def _zalo_webhook(
    settings: Settings, core: BotCore, **options: object
) -> AsyncIterator[Endpoint]:
    from bot.channels.zalo import zalo_endpoint

    assert settings.zalo_webhook_url
    async with _zalo_channel(settings, core, settings.zalo_webhook_url, options) as channel:
        log.info("thidua-bot đang chạy trên Zalo (webhook)")
        # Updates acknowledged before a crash but never handled: handle them now, once.
        await channel.handle_pending(core.process)
        yield zalo_endpoint(channel, core.process, webhook_path(settings.zalo_webhook_url))


async def serve(
    settings: Settings,
    core: BotCore,
    *,
    stop: asyncio.Event | None = None,
    zalo_options: dict[str, object] | None = None,
    webhook: bool = False,
) -> None:
    """Serve every channel with a token until `stop` is set, SIGTERM arrives or the task is
    cancelled. Raises NoChannelError when there is none; a channel that cannot start (a token
    refused) raises its own error before anything is served. `webhook`: updates come to this
    process's web server (WEBHOOK_URL, ZALO_WEBHOOK_URL…) instead of long polling; the caller
    has checked `webhook_settings_error`."""
    channels = enabled_channels(settings)
    if not channels:
        raise NoChannelError
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # Windows, threads
        loop.add_signal_handler(signal.SIGTERM, stop.set)
    zalo_options = zalo_options or {}
    try:
        async with contextlib.AsyncExitStack() as stack:
            if webhook:
                endpoints = []
                if "telegram" in channels:
                    endpoints.append(
                        await stack.enter_async_context(_telegram_webhook(settings, core))
                    )
                if "zalo" in channels:
                    endpoints.append(
                        await stack.enter_async_context(
                            _zalo_webhook(settings, core, **zalo_options)
                        )
                    )
                # Stopped first: the updates in progress finish while the channels are open.
                await stack.enter_async_context(
                    serving(
                        endpoints,
                        engine=core.engine,
                        host=settings.listen_host,
                        port=settings.listen_port,
                    )
                )
            else:
                if "telegram" in channels:
                    await stack.enter_async_context(telegram_polling(settings, core))
                if "zalo" in channels:
                    await stack.enter_async_context(_zalo(settings, core, **zalo_options))
            # Broadcasts a crash or restart cut off go on to those not reached yet; one under
            # way is finished before the channels close.
            stopping = asyncio.Event()
            watching = asyncio.create_task(
                watch_broadcasts(core, stopping), name="broadcasts-watch"
            )

            async def stop_watching() -> None:
                stopping.set()
                await asyncio.wait([watching])

            stack.push_async_callback(stop_watching)
            # Reminders and the digest start once every channel can send.
            scheduler = build_scheduler(core)
            scheduler.start()
            stack.callback(scheduler.shutdown)
            await stop.wait()
            # Channels are still open here: background jobs under way (a broadcast) finish.
            await core.wait_background()
        # Updates finished while the channels closed: their answers are recorded as sent.
        await core.flush_marks()
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.remove_signal_handler(signal.SIGTERM)
