"""The platforms this bot can serve, each declared once: which settings enable it, what webhook
mode needs, and how it runs (long polling, or a webhook endpoint — a path and an async handler —
on the one web server). `bot.serve` runs whatever is declared here and names no platform.

Adding a platform means adding its channel module and one `Platform` to `PLATFORMS`. The
channel modules are imported only when their platform starts, so a process without Zalo never
loads it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import SecretStr

from bot.channels.webhook import Endpoint, webhook_path
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.core import BotCore

log = logging.getLogger("thidua")

Options = Mapping[str, object]


@dataclass(frozen=True, slots=True)
class Platform:
    name: str
    # The token setting that enables it (its name is what an admin sets in .env).
    enabled: Callable[[Settings], bool]
    # Webhook mode: the public URL's setting name and value, and what is missing (one line).
    webhook_setting: str
    webhook_url: Callable[[Settings], str | None]
    webhook_missing: Callable[[Settings], str | None]
    polling: Callable[[Settings, BotCore, Options], AbstractAsyncContextManager[None]]
    webhook: Callable[[Settings, BotCore, Options], AbstractAsyncContextManager[Endpoint]]


def _is_set(secret: SecretStr | None) -> bool:
    return secret is not None and bool(secret.get_secret_value())


# --- Telegram ---------------------------------------------------------------------------------
@contextlib.asynccontextmanager
async def telegram_polling(
    settings: Settings, core: BotCore, options: Options | None = None
) -> AsyncIterator[None]:
    """Telegram long polling for `core` while the block runs (also the benchmark's intake)."""
    from bot.channels.telegram import TelegramPoller, build_application, reach_telegram

    application = build_application(settings, core)
    await reach_telegram(application.bot)  # waits while Telegram is unreachable at boot
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
async def _telegram_webhook(
    settings: Settings, core: BotCore, options: Options
) -> AsyncIterator[Endpoint]:
    from bot.channels.telegram import build_application
    from bot.channels.telegram_webhook import telegram_webhook

    application = build_application(settings, core)
    async with telegram_webhook(application, settings) as endpoint:
        # Before serving: answers a crash kept from going out are sent (re-deliveries of those
        # updates are then recognised as answered).
        await core.resume_unanswered("telegram")
        log.info("thidua-bot đang chạy trên Telegram (webhook)")
        yield endpoint


def _telegram_missing(settings: Settings) -> str | None:
    if settings.webhook_url and settings.webhook_secret:
        return None
    return (
        "Chế độ webhook cần WEBHOOK_URL (địa chỉ HTTPS công khai) và WEBHOOK_SECRET "
        "(chuỗi bí mật, ví dụ tạo bằng: openssl rand -hex 32) trong tệp .env "
        "(xem .env.example)."
    )


TELEGRAM = Platform(
    name="telegram",
    enabled=lambda settings: _is_set(settings.telegram_bot_token),
    webhook_setting="WEBHOOK_URL",
    webhook_url=lambda settings: settings.webhook_url,
    webhook_missing=_telegram_missing,
    polling=telegram_polling,
    webhook=_telegram_webhook,
)


# --- Zalo -------------------------------------------------------------------------------------
@contextlib.asynccontextmanager
async def _zalo_channel(
    settings: Settings, core: BotCore, webhook_url: str | None, options: Options
) -> AsyncIterator[object]:
    from bot.channels.zalo import build_zalo_channel

    channel = build_zalo_channel(settings, core, **options)  # type: ignore[arg-type]  # options are the channel's keyword arguments
    try:
        await channel.start(webhook_url=webhook_url)
        yield channel
    finally:
        await channel.aclose()


@contextlib.asynccontextmanager
async def _zalo_polling(settings: Settings, core: BotCore, options: Options) -> AsyncIterator[None]:
    from bot.channels.zalo import ZaloChannel

    async with _zalo_channel(settings, core, None, options) as channel:
        assert isinstance(channel, ZaloChannel)
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
    settings: Settings, core: BotCore, options: Options
) -> AsyncIterator[Endpoint]:
    from bot.channels.zalo import ZaloChannel, zalo_endpoint

    assert settings.zalo_webhook_url
    async with _zalo_channel(settings, core, settings.zalo_webhook_url, options) as channel:
        assert isinstance(channel, ZaloChannel)
        await core.resume_unanswered("zalo")
        log.info("thidua-bot đang chạy trên Zalo (webhook)")
        # Updates acknowledged before a crash but never handled: handle them now, once.
        await channel.handle_pending(core.process)
        yield zalo_endpoint(channel, core.process, webhook_path(settings.zalo_webhook_url))


def _zalo_missing(settings: Settings) -> str | None:
    if settings.zalo_webhook_url and settings.zalo_webhook_secret:
        return None
    return (
        "Chế độ webhook với Zalo cần ZALO_WEBHOOK_URL (địa chỉ HTTPS công khai, ví dụ "
        "https://bot.example.gov.vn/zalo) và ZALO_WEBHOOK_SECRET (8–256 ký tự, ví dụ tạo "
        "bằng: openssl rand -hex 32) trong tệp .env (xem .env.example)."
    )


ZALO = Platform(
    name="zalo",
    enabled=lambda settings: _is_set(settings.zalo_bot_token),
    webhook_setting="ZALO_WEBHOOK_URL",
    webhook_url=lambda settings: settings.zalo_webhook_url,
    webhook_missing=_zalo_missing,
    polling=_zalo_polling,
    webhook=_zalo_webhook,
)

PLATFORMS: tuple[Platform, ...] = (TELEGRAM, ZALO)
