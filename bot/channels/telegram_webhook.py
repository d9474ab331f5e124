"""Webhook mode for Telegram: the endpoint Telegram posts updates to, on the process's web
server (`bot.channels.webhook`, which also serves `/healthz`).

Translation only: a call is checked (the `X-Telegram-Bot-Api-Secret-Token` header, compared in
constant time; missing or wrong → 403 and one log line), turned into a PTB `Update` and handed
to the same `Application` — and so the same core — as long polling (`bot.channels.telegram`).

Why not PTB's `run_webhook`: it cannot serve a second path such as `/healthz` or Zalo's, and it
answers 200 *before* the update is handled. Here the update is handled inside the request and
200 is sent only after the core committed it: if the process dies mid-update, Telegram
re-delivers it, and an update id already handled is acknowledged without handling it again (the
core's `ProcessedUpdate` claim, stored in the database so any process of the fleet recognises
it).

No business rules here, and nothing that knows a handler.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator
from http import HTTPStatus
from typing import TYPE_CHECKING

from telegram import Update
from telegram.ext import Application

from bot.channels.telegram import reach_telegram, retry_at_startup
from bot.channels.webhook import Endpoint, WebhookCall, has_secret, webhook_path

if TYPE_CHECKING:
    from bot.settings import Settings

log = logging.getLogger("thidua.webhook")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def telegram_endpoint(application: Application, secret: str, path: str = "/") -> Endpoint:
    """POST <path>: one update from Telegram, handled before the answer goes back."""
    if not secret:
        raise ValueError("a webhook without a secret would accept anyone's updates")

    async def accept(call: WebhookCall) -> int:
        given = call.headers.get(SECRET_HEADER)
        if not has_secret(
            given, secret, refused="webhook request refused", remote=call.remote_ip, logger=log
        ):
            return HTTPStatus.FORBIDDEN
        try:
            update = Update.de_json(json.loads(call.body), application.bot)
        except Exception as exc:  # malformed body: Telegram would not send it, so say so and drop
            log.warning("webhook request with an unreadable update: %s", type(exc).__name__)
            return HTTPStatus.BAD_REQUEST
        # Handled inline: Telegram gets 200 only once the core committed the update.
        await application.process_update(update)
        return HTTPStatus.OK

    return Endpoint(path, accept)


async def register_webhook(application: Application, settings: Settings) -> None:
    """Tell Telegram where to post updates and which secret to send with them.

    Every process of a fleet calls this with the same values at start-up; Telegram keeps one
    webhook per bot, so that is harmless. The webhook is never deleted at shutdown: the other
    processes are still serving it.
    """
    assert settings.webhook_url and settings.webhook_secret
    url, secret = settings.webhook_url, settings.webhook_secret.get_secret_value()

    async def set_webhook() -> None:
        await application.bot.set_webhook(
            url=url, secret_token=secret, allowed_updates=Update.ALL_TYPES
        )

    # Telegram unreachable at boot: wait for it (bot.channels.telegram.reach_telegram).
    await retry_at_startup(set_webhook, "setWebhook")


@contextlib.asynccontextmanager
async def telegram_webhook(application: Application, settings: Settings) -> AsyncIterator[Endpoint]:
    """Register the webhook and run the application while the block runs; the endpoint to
    serve. The caller stops the web server before the block ends, so the updates in progress
    finish before the application stops."""
    assert settings.webhook_url and settings.webhook_secret
    endpoint = telegram_endpoint(
        application, settings.webhook_secret.get_secret_value(), webhook_path(settings.webhook_url)
    )
    await reach_telegram(application.bot)
    async with application:
        await register_webhook(application, settings)
        await application.start()
        try:
            yield endpoint
        finally:
            await application.stop()
