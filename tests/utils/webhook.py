"""Webhook test helpers shared by the Telegram and Zalo webhook tests: a fake Bot API that
remembers setWebhook, updates as Telegram posts them, posting with a secret header, a free
port and waiting for the web server to answer /healthz."""

from __future__ import annotations

import asyncio
import itertools
import socket
import time
from typing import Any

import httpx
from aiohttp import web
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models.conversation import ProcessedUpdate
from tests.fakes.telegram_api import FakeTelegram

SECRET = "s3cret-Webhook_value-0123456789"


class WebhookFakeTelegram(FakeTelegram):
    """The fake Bot API, plus setWebhook (remembered so tests can read what was registered)."""

    webhook: dict[str, Any] | None = None

    async def _m_setWebhook(self, params: dict[str, Any], files: Any) -> web.Response:
        self.webhook = params
        return self._ok(True)


_update_ids = itertools.count(5000)


def text_update(user_id: int, text: str, name: str = "Cán bộ Xã") -> dict[str, Any]:
    """An update as Telegram would post it to the webhook."""
    update_id = next(_update_ids)
    message: dict[str, Any] = {
        "message_id": update_id,
        "date": int(time.time()),
        "chat": {"id": user_id, "type": "private"},
        "from": {"id": user_id, "is_bot": False, "first_name": name},
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": update_id, "message": message}


async def post_update(
    url: str, update: dict[str, Any], header: str, secret: str | None
) -> httpx.Response:
    """POST an update as a platform does, with `secret` in `header` (no header when None)."""
    headers = {} if secret is None else {header: secret}
    async with httpx.AsyncClient() as client:
        return await client.post(url, json=update, headers=headers)


def free_port() -> int:
    """A loopback port nothing listens on, for LISTEN_PORT."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def wait_until_serving(port: int) -> httpx.Response:
    """The first /healthz answer of the web server starting on `port`."""
    async with httpx.AsyncClient() as client:
        for _ in range(200):
            try:
                return await client.get(f"http://127.0.0.1:{port}/healthz")
            except httpx.ConnectError:
                await asyncio.sleep(0.05)
    raise AssertionError(f"nothing answered on port {port}")


def handled_updates(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return list(session.exec(select(ProcessedUpdate.update_id)).all())
