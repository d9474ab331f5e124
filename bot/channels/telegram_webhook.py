"""Webhook mode for Telegram: a small HTTP server Telegram posts updates to, plus `/healthz`.

Translation only: a request is checked (the `X-Telegram-Bot-Api-Secret-Token` header, compared
in constant time; missing or wrong → 403 and one log line), turned into a PTB `Update` and handed
to the same `Application` — and so the same core — as long polling (`bot.channels.telegram`).
`/healthz` answers 200 when the database answers `SELECT 1`, else 503, for the load balancer.

Why not PTB's `run_webhook`: it cannot serve a second path such as `/healthz`, and it answers
200 *before* the update is handled. Here the update is handled inside the request and 200 is
sent only after the core committed it: if the process dies mid-update, Telegram re-delivers it,
and an update id already handled is acknowledged without handling it again (the core's
`ProcessedUpdate` claim, stored in the database so any process of the fleet recognises it).

Why tornado and not aiohttp: tornado is already installed as PTB's `webhooks` extra (PTB's own
webhook server is built on it), so webhook mode adds no dependency; it runs on the asyncio loop
PTB uses, and two routes need nothing more than its `RequestHandler`. aiohttp stays a test-only
dependency (the fake Bot API server).

No business rules here, and nothing that knows a handler.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import re
import socket
from collections.abc import AsyncIterator
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import sqlalchemy as sa
import tornado.web
from sqlalchemy.engine import Engine
from telegram import Update
from telegram.ext import Application
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

if TYPE_CHECKING:
    from bot.settings import Settings

log = logging.getLogger("thidua.webhook")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HEALTH_PATH = "/healthz"
# Telegram's updates are a few kilobytes; anything much larger is not from Telegram.
MAX_BODY_BYTES = 1024 * 1024
HEALTH_TIMEOUT_SECONDS = 5.0


def webhook_path(url: str) -> str:
    """The path this server answers updates on: the path part of WEBHOOK_URL ("/" if none)."""
    path = urlsplit(url).path.rstrip("/")
    return path or "/"


def check_database(engine: Engine) -> None:
    """Raise unless the database answers a trivial query (blocking; run it in a thread)."""
    with engine.connect() as connection:
        connection.execute(sa.text("SELECT 1"))


class _UpdateHandler(tornado.web.RequestHandler):
    """POST <path>: one update from Telegram, handled before the answer goes back."""

    SUPPORTED_METHODS = ("POST",)  # type: ignore[assignment]

    def initialize(self, bot_application: Application, secret: str) -> None:
        self.bot_application = bot_application
        self.secret = secret.encode()

    def _authorised(self) -> bool:
        given = self.request.headers.get(SECRET_HEADER)
        if given is None:
            reason = "no secret header"
        elif hmac.compare_digest(given.encode(), self.secret):
            return True
        else:
            reason = "wrong secret header"
        # Never log the header's value: a near-miss may be the secret with a typo.
        log.warning("webhook request refused (%s) from %s", reason, self.request.remote_ip)
        return False

    async def post(self) -> None:
        if not self._authorised():
            self._answer(HTTPStatus.FORBIDDEN, {"ok": False})
            return
        try:
            data = json.loads(self.request.body)
            update = Update.de_json(data, self.bot_application.bot)
        except Exception as exc:  # malformed body: Telegram would not send it, so say so and drop
            log.warning("webhook request with an unreadable update: %s", type(exc).__name__)
            self._answer(HTTPStatus.BAD_REQUEST, {"ok": False})
            return
        # Handled inline: Telegram gets 200 only once the core committed the update.
        await self.bot_application.process_update(update)
        self._answer(HTTPStatus.OK, {"ok": True})

    def _answer(self, status: HTTPStatus, body: dict[str, Any]) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))


class _HealthHandler(tornado.web.RequestHandler):
    """GET /healthz: 200 when the database answers, 503 when it does not."""

    SUPPORTED_METHODS = ("GET",)  # type: ignore[assignment]

    def initialize(self, engine: Engine) -> None:
        self.engine = engine

    async def get(self) -> None:
        try:
            await asyncio.wait_for(
                asyncio.to_thread(check_database, self.engine), HEALTH_TIMEOUT_SECONDS
            )
        except Exception as exc:
            log.warning("health check: database unavailable (%s)", type(exc).__name__)
            self.set_status(HTTPStatus.SERVICE_UNAVAILABLE)
            self.finish({"status": "error", "database": "unavailable"})
            return
        self.finish({"status": "ok", "database": "ok"})


def _log_request(handler: tornado.web.RequestHandler) -> None:
    # Refusals and errors are logged by the handlers themselves; keep tornado's access log quiet.
    log.debug("%s %s %s", handler.request.method, handler.request.path, handler.get_status())


class WebhookServer:
    """The HTTP listener of one bot process. `port=0` picks a free port (tests)."""

    def __init__(
        self,
        application: Application,
        *,
        engine: Engine,
        secret: str,
        path: str = "/",
        host: str = "127.0.0.1",
        port: int = 8080,
    ) -> None:
        if not secret:
            raise ValueError("a webhook without a secret would accept anyone's updates")
        self.host = host
        self.port = port
        self.path = path
        routes = [
            (HEALTH_PATH, _HealthHandler, {"engine": engine}),
            (
                re.escape(path.rstrip("/")) + "/?",
                _UpdateHandler,
                {"bot_application": application, "secret": secret},
            ),
        ]
        self._app = tornado.web.Application(routes, log_function=_log_request)
        # xheaders: behind nginx, log the client's address (X-Real-IP), not nginx's.
        self._server = HTTPServer(self._app, xheaders=True, max_body_size=MAX_BODY_BYTES)

    async def start(self) -> None:
        sockets = bind_sockets(self.port, self.host, family=socket.AF_INET)
        self.port = sockets[0].getsockname()[1]
        self._server.add_sockets(sockets)
        log.info("webhook server listening on %s:%d%s", self.host, self.port, self.path)

    async def stop(self) -> None:
        """Stop accepting requests, then let the ones in progress finish."""
        self._server.stop()
        await self._server.close_all_connections()


async def register_webhook(application: Application, settings: Settings) -> None:
    """Tell Telegram where to post updates and which secret to send with them.

    Every process of a fleet calls this with the same values at start-up; Telegram keeps one
    webhook per bot, so that is harmless. The webhook is never deleted at shutdown: the other
    processes are still serving it.
    """
    assert settings.webhook_url and settings.webhook_secret
    await application.bot.set_webhook(
        url=settings.webhook_url,
        secret_token=settings.webhook_secret.get_secret_value(),
        allowed_updates=Update.ALL_TYPES,
    )


@contextlib.asynccontextmanager
async def webhook_running(
    application: Application, settings: Settings, engine: Engine
) -> AsyncIterator[WebhookServer]:
    """Register the webhook and serve it until the block ends, then stop cleanly: stop taking
    requests, let those in progress finish, stop the application."""
    assert settings.webhook_url and settings.webhook_secret
    server = WebhookServer(
        application,
        engine=engine,
        secret=settings.webhook_secret.get_secret_value(),
        path=webhook_path(settings.webhook_url),
        host=settings.listen_host,
        port=settings.listen_port,
    )
    async with application:
        await register_webhook(application, settings)
        await application.start()
        await server.start()
        try:
            yield server
        finally:
            log.info("stopping: finishing the updates in progress")
            await server.stop()
            await application.stop()
