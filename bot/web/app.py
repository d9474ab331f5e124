"""The Starlette application of the process's web server.

Routes: each channel's webhook `Endpoint` (POST at its path), `GET /healthz` (200 when the
database answers `SELECT 1`, else 503, for the load balancer) and, when a `Desk` is given, the
office's web desk. Every response carries the security headers (`SecurityHeaders`).

No business rules and no platform here: endpoints come from the channels.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from http import HTTPStatus
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.channels.webhook import (
    HEALTH_PATH,
    HEALTH_TIMEOUT_SECONDS,
    MAX_BODY_BYTES,
    Endpoint,
    WebhookCall,
    check_database,
    webhook_path,
)

if TYPE_CHECKING:
    from bot.web.desk import Desk

log = logging.getLogger("thidua.web")

# Pages may load only this site's own styles and images; nothing may frame them.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; frame-src 'self'; frame-ancestors 'self'; base-uri 'none'; "
    "form-action 'self'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"x-content-type-options", b"nosniff"),
    # same-origin, not no-referrer: with no-referrer Chromium posts forms with "Origin: null",
    # which the desk's Origin check must refuse. Other sites still never see a URL of ours.
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class SecurityHeaders:
    """Adds `SECURITY_HEADERS` to every HTTP response (pure ASGI: no body buffering)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in message.get("headers", [])}
                message["headers"] = [
                    *message.get("headers", []),
                    *((n, v) for n, v in SECURITY_HEADERS if n not in names),
                ]
            await send(message)

        await self.app(scope, receive, with_headers)


class BodyTooLarge(Exception):
    pass


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing (BodyTooLarge) past `limit` bytes without reading on."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _webhook_route(endpoint: Endpoint, path: str) -> Route:
    async def post(request: Request) -> Response:
        try:
            body = await read_body(request, MAX_BODY_BYTES)
        except BodyTooLarge:
            return JSONResponse({"ok": False}, status_code=HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        remote = request.client.host if request.client else "?"
        call = WebhookCall(request.headers, body, remote)
        status = HTTPStatus(await endpoint.accept(call))
        return Response(
            json.dumps({"ok": status == HTTPStatus.OK}),
            status_code=status,
            media_type="application/json",
        )

    return Route(path, post, methods=["POST"])


def _health(engine: Engine) -> Route:
    async def health(request: Request) -> Response:
        try:
            await asyncio.wait_for(
                asyncio.to_thread(check_database, engine), HEALTH_TIMEOUT_SECONDS
            )
        except Exception as exc:
            log.warning("health check: database unavailable (%s)", type(exc).__name__)
            return JSONResponse(
                {"status": "error", "database": "unavailable"},
                status_code=HTTPStatus.SERVICE_UNAVAILABLE,
            )
        return JSONResponse({"status": "ok", "database": "ok"})

    return Route(HEALTH_PATH, health, methods=["GET"])


def build_app(
    endpoints: Sequence[Endpoint], *, engine: Engine, desk: Desk | None = None
) -> Starlette:
    """The app: webhooks first (a POST to a webhook path is always the platform's), then
    /healthz, then the desk's pages."""
    paths = [webhook_path(endpoint.path) for endpoint in endpoints]
    if len(set(paths)) != len(paths) or HEALTH_PATH in paths:
        raise ValueError(f"webhook paths must differ from each other and {HEALTH_PATH}")
    routes: list[BaseRoute] = []
    for path, endpoint in zip(paths, endpoints, strict=True):
        routes.append(_webhook_route(endpoint, path))
        if path != "/":
            routes.append(_webhook_route(endpoint, path + "/"))
    routes.append(_health(engine))
    if desk is not None:
        taken = desk.reserved_prefixes()
        for path in paths:
            if path != "/" and any(path == p or path.startswith(p + "/") for p in taken):
                raise ValueError(f"webhook path {path} collides with the web desk's pages")
        routes += desk.routes()
    app = Starlette(routes=routes)
    app.add_middleware(SecurityHeaders)
    return app
