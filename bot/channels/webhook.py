"""Webhook mode's web server: one HTTP listener per process, whatever the channels.

Each channel that takes updates by webhook contributes an `Endpoint` — the path its platform
posts to and an `accept` coroutine that checks the call (its secret header) and hands the update
to the core, returning the HTTP status to answer (`bot.channels.telegram_webhook` for Telegram,
`ZaloChannel.accept_webhook` for Zalo). The server adds `GET /healthz`: 200 when the database
answers `SELECT 1`, else 503, for the load balancer.

An update is handled inside the request and the status goes back only once the core committed
it: a platform that re-delivers an unacknowledged update (Telegram does) gets it handled once,
by whichever process of the fleet receives it (the core's `ProcessedUpdate` claim).

Why tornado and not aiohttp: tornado is already installed as PTB's `webhooks` extra, so webhook
mode adds no dependency; it runs on the asyncio loop the bot uses, and a few routes need nothing
more than its `RequestHandler`. aiohttp stays a test-only dependency (the fake API servers).

No business rules here, and nothing that knows a channel or a handler.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import urlsplit

import sqlalchemy as sa
import tornado.web
from sqlalchemy.engine import Engine
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

log = logging.getLogger("thidua.webhook")

HEALTH_PATH = "/healthz"
# Updates are a few kilobytes; anything much larger is not from a messaging platform.
MAX_BODY_BYTES = 1024 * 1024
HEALTH_TIMEOUT_SECONDS = 5.0


def webhook_path(url: str) -> str:
    """The path a webhook URL is served on here: its path part ("/" if none)."""
    path = urlsplit(url).path.rstrip("/")
    return path or "/"


def check_database(engine: Engine) -> None:
    """Raise unless the database answers a trivial query (blocking; run it in a thread)."""
    with engine.connect() as connection:
        connection.execute(sa.text("SELECT 1"))


def has_secret(
    given: str | None, expected: str, *, refused: str, remote: str, logger: logging.Logger
) -> bool:
    """Whether a webhook call carries the secret (compared in constant time). A refusal is
    logged once as "<refused> (reason) from <ip>", never with the header's value: a near-miss
    may be the secret with a typo."""
    if expected and given and hmac.compare_digest(given.encode(), expected.encode()):
        return True
    reason = "no secret header" if not given else "wrong secret header"
    logger.warning("%s (%s) from %s", refused, reason, remote)
    return False


@dataclass(frozen=True)
class WebhookCall:
    """One POST as a channel sees it. `headers` is case-insensitive."""

    headers: Mapping[str, str]
    body: bytes
    remote_ip: str


@dataclass(frozen=True)
class Endpoint:
    """A channel's webhook: where its platform posts, and what handles a call (→ HTTP status)."""

    path: str
    accept: Callable[[WebhookCall], Awaitable[int]]


class _EndpointHandler(tornado.web.RequestHandler):
    """POST <path>: one call, handled before the answer goes back."""

    SUPPORTED_METHODS = ("POST",)

    def initialize(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint

    async def post(self) -> None:
        request = self.request
        call = WebhookCall(request.headers, request.body, request.remote_ip or "?")
        status = HTTPStatus(await self.endpoint.accept(call))
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"ok": status == HTTPStatus.OK}))


class _HealthHandler(tornado.web.RequestHandler):
    """GET /healthz: 200 when the database answers, 503 when it does not."""

    SUPPORTED_METHODS = ("GET",)

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
    # Refusals and errors are logged by the channels themselves; keep tornado's access log quiet.
    log.debug("%s %s %s", handler.request.method, handler.request.path, handler.get_status())


def _route_pattern(path: str) -> str:
    return re.escape(path.rstrip("/")) + "/?"


class WebServer:
    """The HTTP listener of one bot process: `/healthz` and each endpoint's path. `port=0`
    picks a free port (tests)."""

    def __init__(
        self,
        endpoints: Sequence[Endpoint],
        *,
        engine: Engine,
        host: str = "127.0.0.1",
        port: int = 8080,
    ) -> None:
        paths = [webhook_path(endpoint.path) for endpoint in endpoints]
        if len(set(paths)) != len(paths) or HEALTH_PATH in paths:
            raise ValueError(f"webhook paths must differ from each other and {HEALTH_PATH}")
        self.host = host
        self.port = port
        self.paths = paths
        routes: list[tuple[str, type[tornado.web.RequestHandler], dict[str, object]]] = [
            (HEALTH_PATH, _HealthHandler, {"engine": engine})
        ]
        routes += [
            (_route_pattern(path), _EndpointHandler, {"endpoint": endpoint})
            for path, endpoint in zip(paths, endpoints, strict=True)
        ]
        self._app = tornado.web.Application(routes, log_function=_log_request)
        # xheaders: behind nginx, log the client's address (X-Real-IP), not nginx's.
        self._server = HTTPServer(self._app, xheaders=True, max_body_size=MAX_BODY_BYTES)

    async def start(self) -> None:
        sockets = bind_sockets(self.port, self.host, family=socket.AF_INET)
        self.port = sockets[0].getsockname()[1]
        self._server.add_sockets(sockets)
        log.info(
            "webhook server listening on %s:%d (%s)",
            self.host,
            self.port,
            ", ".join([*self.paths, HEALTH_PATH]),
        )

    async def stop(self) -> None:
        """Stop accepting requests, then let the ones in progress finish."""
        self._server.stop()
        await self._server.close_all_connections()


@contextlib.asynccontextmanager
async def serving(
    endpoints: Sequence[Endpoint], *, engine: Engine, host: str, port: int
) -> AsyncIterator[WebServer]:
    """Serve the endpoints until the block ends; then stop taking requests and let those in
    progress finish (the channels are still open then)."""
    server = WebServer(endpoints, engine=engine, host=host, port=port)
    await server.start()
    try:
        yield server
    finally:
        log.info("stopping: finishing the updates in progress")
        await server.stop()
