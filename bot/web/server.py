"""Running the web app (`bot.web.app`) on uvicorn inside the bot's own event loop.

Why uvicorn and Starlette: Starlette is a small, well-kept ASGI toolkit (Datasette's model:
server-rendered pages, plain view functions, httpx-testable) with Jinja2 templates and no
front-end build; uvicorn is its reference server and can be driven from a running loop
without taking over signals — the bot's `serve()` owns SIGTERM and the shutdown order. It
replaces the tornado server the webhooks had, so one port serves webhooks, `/healthz` and the
desk.

`WebServer.start()` binds (port 0 = a free port, read back from `.port`), `stop()` stops taking
connections and lets requests in progress — updates being handled — finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING

import uvicorn
from sqlalchemy.engine import Engine

from bot.channels.webhook import HEALTH_PATH, Endpoint
from bot.web.app import build_app

if TYPE_CHECKING:
    from bot.web.desk import Desk

log = logging.getLogger("thidua.web")

# Requests still running after this long at shutdown are cancelled.
GRACEFUL_SECONDS = 30


class WebServer:
    """The HTTP listener of one bot process: `/healthz`, each endpoint's path, and the desk
    when one is given."""

    def __init__(
        self,
        endpoints: Sequence[Endpoint],
        *,
        engine: Engine,
        host: str = "127.0.0.1",
        port: int = 8080,
        desk: Desk | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.app = build_app(endpoints, engine=engine, desk=desk)
        self.paths = [route.path for route in self.app.routes if hasattr(route, "path")]
        self._endpoint_paths = [e.path for e in endpoints]
        config = uvicorn.Config(
            self.app,
            lifespan="off",
            log_config=None,
            access_log=False,
            # Behind nginx: the client's address comes from X-Forwarded-For set by nginx on
            # this machine only.
            proxy_headers=True,
            forwarded_allow_ips="127.0.0.1",
            timeout_graceful_shutdown=GRACEFUL_SECONDS,
            server_header=False,
        )
        config.load()
        self._server = uvicorn.Server(config)
        self._server.lifespan = config.lifespan_class(config)
        self._ticking: asyncio.Task[None] | None = None

    async def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(2048)
        sock.setblocking(False)
        self.port = sock.getsockname()[1]
        await self._server.startup(sockets=[sock])
        # uvicorn's tick refreshes the Date header and watches `should_exit`.
        self._ticking = asyncio.create_task(self._server.main_loop(), name="web-server")
        log.info(
            "web server listening on %s:%d (%s)",
            self.host,
            self.port,
            ", ".join([*self._endpoint_paths, HEALTH_PATH, "trang quản lý /"]),
        )

    async def stop(self) -> None:
        """Stop accepting requests, then let the ones in progress finish."""
        self._server.should_exit = True
        if self._ticking is not None:
            await self._ticking
        await self._server.shutdown()


@contextlib.asynccontextmanager
async def serving(
    endpoints: Sequence[Endpoint],
    *,
    engine: Engine,
    host: str,
    port: int,
    desk: Desk | None = None,
) -> AsyncIterator[WebServer]:
    """Serve until the block ends; then stop taking requests and let those in progress finish
    (the channels are still open then)."""
    server = WebServer(endpoints, engine=engine, host=host, port=port, desk=desk)
    await server.start()
    try:
        yield server
    finally:
        log.info("stopping: finishing the requests in progress")
        await server.stop()
