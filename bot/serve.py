"""Serving the bot on every platform that has a token, in one loop.

`serve()` starts each platform declared in `bot.channels.platforms` whose settings enable it,
next to the others, and waits until told to stop (SIGTERM, Ctrl+C, or the `stop` event tests
set), then shuts everything down in order. By long polling (default) each platform runs its
poller as a task; in webhook mode each registers its webhook and contributes an endpoint (a
path and an async handler) to the process's one web server (`bot.web`: webhooks, `/healthz` and
the office's web desk) on LISTEN_HOST:LISTEN_PORT, which runs in polling mode too, for the desk. It names no platform and only wires channels to the core; what the
bot does is elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Mapping

from bot.broadcasts import watch_broadcasts
from bot.channels.platforms import PLATFORMS, Options, Platform
from bot.channels.webhook import HEALTH_PATH, Endpoint, webhook_path
from bot.core import BotCore
from bot.council_jobs import run_council_jobs
from bot.runtime import build_scheduler
from bot.settings import Settings
from bot.web.desk import Desk
from bot.web.server import WebServer, serving

log = logging.getLogger("thidua")


class NoChannelError(Exception):
    """No platform has its token set (TELEGRAM_BOT_TOKEN, ZALO_BOT_TOKEN…)."""


def enabled_platforms(settings: Settings) -> list[Platform]:
    return [platform for platform in PLATFORMS if platform.enabled(settings)]


def enabled_channels(settings: Settings) -> list[str]:
    """The channels `run` will serve: those whose token is set."""
    return [platform.name for platform in enabled_platforms(settings)]


def webhook_settings_error(settings: Settings) -> str | None:
    """What webhook mode lacks for the channels with a token, as one line naming the settings;
    None when it can start."""
    paths: dict[str, str] = {}
    for platform in enabled_platforms(settings):
        missing = platform.webhook_missing(settings)
        if missing is not None:
            return missing
        url = platform.webhook_url(settings)
        assert url is not None
        paths[platform.webhook_setting] = webhook_path(url)
    for name, path in paths.items():
        if path == HEALTH_PATH:
            return f"Đường dẫn của {name} không được là {HEALTH_PATH} (ví dụ: …/telegram, …/zalo)."
    if len(set(paths.values())) < len(paths):
        names = " và ".join(paths)
        return (
            f"{names} phải có đường dẫn khác nhau (ví dụ: "
            "https://bot.example.gov.vn/telegram và https://bot.example.gov.vn/zalo)."
        )
    return None


def _web(
    settings: Settings, core: BotCore, endpoints: list[Endpoint]
) -> contextlib.AbstractAsyncContextManager[WebServer]:
    """The process's web server: the channels' webhook endpoints, /healthz and the desk."""
    return serving(
        endpoints,
        engine=core.engine,
        host=settings.listen_host,
        port=settings.listen_port,
        desk=Desk(core),
    )


async def serve(
    settings: Settings,
    core: BotCore,
    *,
    stop: asyncio.Event | None = None,
    options: Mapping[str, Options] | None = None,
    webhook: bool = False,
) -> None:
    """Serve every channel with a token until `stop` is set, SIGTERM arrives or the task is
    cancelled. Raises NoChannelError when there is none; a channel that cannot start (a token
    refused) raises its own error before anything is served. `webhook`: updates come to this
    process's web server (WEBHOOK_URL, ZALO_WEBHOOK_URL…) instead of long polling; the caller
    has checked `webhook_settings_error`. `options`: keyword arguments for a channel, by name."""
    platforms = enabled_platforms(settings)
    if not platforms:
        raise NoChannelError
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    serving_task = asyncio.current_task()
    starting = True

    def on_sigterm() -> None:
        stop.set()
        if starting and serving_task is not None:
            # A channel may be waiting for its platform at boot (reach_telegram…): end the wait.
            serving_task.cancel()

    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # Windows, threads
        loop.add_signal_handler(signal.SIGTERM, on_sigterm)
    options = options or {}
    try:
        async with contextlib.AsyncExitStack() as stack:
            if webhook:
                endpoints = [
                    await stack.enter_async_context(
                        platform.webhook(settings, core, options.get(platform.name, {}))
                    )
                    for platform in platforms
                ]
                # Stopped first: the updates in progress finish while the channels are open.
                await stack.enter_async_context(_web(settings, core, endpoints))
            else:
                for platform in platforms:
                    await stack.enter_async_context(
                        platform.polling(settings, core, options.get(platform.name, {}))
                    )
                # The desk only: a port already taken must not stop the chat bot.
                try:
                    await stack.enter_async_context(_web(settings, core, []))
                except OSError as exc:
                    log.error(
                        "trang quản lý không chạy: không mở được %s:%d (%s)",
                        settings.listen_host,
                        settings.listen_port,
                        exc.strerror or exc,
                    )
            # Broadcasts a crash or restart cut off go on to those not reached yet; one under
            # way is finished before the channels close.
            stopping = asyncio.Event()
            watching = asyncio.create_task(
                watch_broadcasts(core, stopping), name="broadcasts-watch"
            )
            # Review rounds close on time; members who have not voted are reminded.
            council_jobs = asyncio.create_task(
                run_council_jobs(core, stopping), name="council-jobs"
            )

            async def stop_watching() -> None:
                stopping.set()
                await asyncio.wait([watching, council_jobs])

            stack.push_async_callback(stop_watching)
            # Reminders and the digest start once every channel can send.
            scheduler = build_scheduler(core)
            scheduler.start()
            stack.callback(scheduler.shutdown)
            starting = False
            await stop.wait()
            # Channels are still open here: background jobs under way (a broadcast) finish.
            await core.wait_background()
        # Updates finished while the channels closed: their answers are recorded as sent.
        await core.flush_marks()
    except asyncio.CancelledError:
        if not (starting and stop.is_set()):
            raise
        log.info("thidua-bot dừng khi đang khởi động (SIGTERM)")
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.remove_signal_handler(signal.SIGTERM)
