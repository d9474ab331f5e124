"""Serving the bot on every channel that has a token — Telegram, Zalo or both — in one loop.

`serve()` starts each channel's long polling next to the others (python-telegram-bot's
Application initialised for sending, `TelegramPoller` fetching updates; the Zalo poller), each
as a task, waits until told to stop (SIGTERM, Ctrl+C, or the `stop` event tests set) and shuts
everything down in order. It only wires channels to the core; what the bot does is elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator

from pydantic import SecretStr

from bot.core import BotCore
from bot.runtime import build_scheduler
from bot.settings import Settings
from handlers.admin import resume_broadcasts

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


@contextlib.asynccontextmanager
async def _telegram_webhook(settings: Settings, core: BotCore) -> AsyncIterator[None]:
    from bot.channels.telegram import build_application
    from bot.channels.telegram_webhook import webhook_running

    application = build_application(settings, core)
    async with webhook_running(application, settings, core.engine):
        log.info("thidua-bot đang chạy trên Telegram (webhook)")
        yield


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
async def _zalo(settings: Settings, core: BotCore, **options: object) -> AsyncIterator[None]:
    from bot.channels.zalo import build_zalo_channel

    channel = build_zalo_channel(settings, core, **options)
    try:
        await channel.start()
        await core.resume_unanswered("zalo")
        poller = asyncio.create_task(channel.run(core.process), name="zalo-polling")
        log.info("thidua-bot đang chạy trên Zalo (long polling)")
        try:
            yield
        finally:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller
    finally:
        await channel.aclose()


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
    refused) raises its own error before anything is served. `webhook`: Telegram updates come
    to this process's web server (WEBHOOK_URL…) instead of long polling."""
    channels = enabled_channels(settings)
    if not channels:
        raise NoChannelError
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # Windows, threads
        loop.add_signal_handler(signal.SIGTERM, stop.set)
    try:
        async with contextlib.AsyncExitStack() as stack:
            if "telegram" in channels:
                telegram = _telegram_webhook if webhook else telegram_polling
                await stack.enter_async_context(telegram(settings, core))
            if "zalo" in channels:
                await stack.enter_async_context(_zalo(settings, core, **(zalo_options or {})))
            # Broadcasts a crash or restart cut off go on to those not reached yet; awaited
            # before the channels close.
            resuming = asyncio.create_task(resume_broadcasts(core), name="broadcasts-resume")
            stack.push_async_callback(asyncio.wait, [resuming])
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
