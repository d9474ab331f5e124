"""A fake Zalo Bot API server over real HTTP, for end-to-end tests.

It speaks the Zalo Bot Platform's Bot API as documented (docs/zalo.md): `POST
/bot<TOKEN>/<method>` with a JSON body, answered by `{"ok": true, "result": …}` or `{"ok":
false, "error_code", "description"}`; getUpdates long-polls and hands out one update per call,
ending an empty poll with error_code 408. Methods: getMe, getUpdates, setWebhook,
deleteWebhook, getWebhookInfo, sendMessage (1–2000 characters), sendPhoto, sendSticker,
sendChatAction. It also serves the images users "send" (their photo_url) under /media/.

Tests push what users do (`push_text`, `choose`, `push_image`, `push_unsupported`,
`push_update` for any raw shape; `text_update` / `event` build an update to post to a
webhook) and read what the bot sent (`sent`, `texts`, `wait_for`,
`wait_for_text`). `failing_status` simulates an outage.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.outbox import Outbox

TEXT_LIMIT = 2000
BOT_INFO = {
    "id": "1459232241454765289",
    "account_name": "bot.ThiDuaTest",
    "account_type": "BASIC",
    "can_join_groups": False,
}
_CHOICE_LINE = re.compile(r"^(#?\d+|[A-Z])\. (.+)$")


@dataclass
class SentMessage:
    message_id: str
    chat_id: str
    method: str
    text: str = ""
    photo: str | None = None

    @property
    def choices(self) -> list[tuple[str, str]]:
        """The numbered choices listed in the text, as typed: ("1", "Có") or ("#1", "Bỏ qua")."""
        found = []
        lines = self.text.splitlines()
        # Choices follow the hint line ("… để chọn:"); numbered lines above it are content.
        hints = [i for i, line in enumerate(lines) if "chọn" in line and line.endswith(":")]
        for line in lines[hints[-1] + 1 :] if hints else lines:
            match = _CHOICE_LINE.match(line)
            if match:
                found.append((match.group(1), match.group(2)))
        return found


# Zalo Bot Platform's published error table, as the fake answers it.
DOCUMENTED_ERRORS = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Internal server error",
    404: "Not found",
    408: "Request timeout",
    429: "Quota exceeded",
}


@dataclass
class FakeZalo(Outbox):
    token: str = "1459232241454765289:TEST-zalo-secret-abcdefghijklmnop"
    sent: dict[str, list[SentMessage]] = field(default_factory=lambda: defaultdict(list))
    calls: list[str] = field(default_factory=list)
    # What the last setWebhook registered (deleteWebhook clears both); `calls` keeps the order.
    webhook_url: str = ""
    webhook_secret: str = ""
    # When set, every API call is answered with this HTTP status (an outage).
    failing_status: int | None = None
    # Documented error codes the next send calls answer with, one per call, in order
    # (Zalo's "Bảng mã lỗi": 400, 401, 403 internal server error, 404, 408, 429).
    send_errors: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._updates: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._new_update = asyncio.Event()
        self._sent_event = asyncio.Event()
        self.media: dict[str, bytes] = {}
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self._api)
        app.router.add_get("/media/{name}", self._media)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        self._new_update.set()  # end pending long polls at once
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- what users do --------------------------------------------------------------------
    def _message_id(self) -> str:
        return f"{next(self._ids):020x}"

    def message(self, user_id: str, name: str, **content: Any) -> dict[str, Any]:
        """A `message` object as Zalo sends it (a private chat: chat id = sender id)."""
        return {
            "message_id": self._message_id(),
            "date": int(time.time() * 1000),
            "chat": {"id": user_id, "chat_type": "PRIVATE"},
            "from": {"id": user_id, "display_name": name, "is_bot": False},
            **content,
        }

    def push_update(self, update: dict[str, Any]) -> None:
        """Queue any raw update for the next getUpdates."""
        self._updates.append(update)
        self._new_update.set()

    def event(self, event_name: str, user_id: str, name: str, **content: Any) -> dict[str, Any]:
        """An update as Zalo sends it, by getUpdates or to a webhook."""
        return {"event_name": event_name, "message": self.message(user_id, name, **content)}

    def text_update(self, user_id: str, text: str, name: str = "Cán bộ Xã") -> dict[str, Any]:
        return self.event("message.text.received", user_id, name, text=text)

    def push_event(self, event_name: str, user_id: str, name: str, **content: Any) -> str:
        update = self.event(event_name, user_id, name, **content)
        self.push_update(update)
        return update["message"]["message_id"]

    def push_text(self, user_id: str, text: str, name: str = "Cán bộ Xã") -> str:
        return self.push_event("message.text.received", user_id, name, text=text)

    def choose(self, user_id: str, label: str, name: str = "Cán bộ Xã") -> str:
        """Answer with the number of the choice whose label contains `label`, as a user would
        type it after reading the latest message that listed choices."""
        for message in reversed(self.sent[str(user_id)]):
            for marker, text in message.choices:
                if label in text:
                    return self.push_text(user_id, marker, name)
        raise AssertionError(f"no choice {label!r} offered to {user_id}")

    def push_image(
        self, user_id: str, content: bytes, caption: str = "", name: str = "Cán bộ Xã"
    ) -> str:
        media_name = f"{self._message_id()}.jpg"
        self.media[media_name] = content
        extra = {"caption": caption} if caption else {}
        return self.push_event(
            "message.image.received",
            user_id,
            name,
            photo_url=f"{self.base_url}/media/{media_name}",
            **extra,
        )

    def push_unsupported(self, user_id: str, name: str = "Cán bộ Xã") -> str:
        """What Zalo delivers when a user sends a document: no file, no link to it."""
        return self.push_event("message.unsupported.received", user_id, name)

    # --- what tests read ------------------------------------------------------------------
    def texts(self, chat_id: str) -> list[str]:
        return [m.text for m in self.sent[str(chat_id)]]

    # --- the API --------------------------------------------------------------------------
    @staticmethod
    def _ok(result: Any) -> web.Response:
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    def _error(code: int, description: str, status: int = 200) -> web.Response:
        return web.json_response(
            {"ok": False, "error_code": code, "description": description}, status=status
        )

    async def _api(self, request: web.Request) -> web.Response:
        if self.failing_status is not None:
            return web.Response(status=self.failing_status, text="Bad Gateway")
        if request.match_info["token"] != self.token:
            return self._error(401, "Unauthorized", status=401)
        method = request.match_info["method"]
        self.calls.append(method)
        try:
            params = await request.json() if request.can_read_body else {}
        except ValueError:
            return self._error(400, "Bad Request: invalid JSON", status=400)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return self._error(404, "Not Found", status=404)
        return await handler(params)

    async def _m_getMe(self, params: dict[str, Any]) -> web.Response:
        return self._ok(BOT_INFO)

    async def _m_getUpdates(self, params: dict[str, Any]) -> web.Response:
        if self.webhook_url:
            return self._error(400, "Bad Request: webhook is set, use deleteWebhook first")
        timeout = float(params.get("timeout") or 30)
        if not self._updates:
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), min(timeout, 2.0))
        if not self._updates:
            return self._error(408, "Request timeout")
        return self._ok(self._updates.pop(0))

    async def _m_setWebhook(self, params: dict[str, Any]) -> web.Response:
        secret = str(params.get("secret_token") or "")
        if not 8 <= len(secret) <= 256:
            return self._error(400, "Bad Request: secret_token must be 8-256 characters")
        self.webhook_url = str(params.get("url") or "")
        self.webhook_secret = secret
        return self._ok({"url": self.webhook_url, "updated_at": int(time.time() * 1000)})

    async def _m_deleteWebhook(self, params: dict[str, Any]) -> web.Response:
        self.webhook_url = self.webhook_secret = ""
        return self._ok({"url": "", "updated_at": int(time.time() * 1000)})

    async def _m_getWebhookInfo(self, params: dict[str, Any]) -> web.Response:
        return self._ok({"url": self.webhook_url, "updated_at": int(time.time() * 1000)})

    def _record(self, method: str, chat_id: str, **fields: Any) -> web.Response:
        message = SentMessage(self._message_id(), str(chat_id), method, **fields)
        self.sent[str(chat_id)].append(message)
        self._sent_event.set()
        return self._ok({"message_id": message.message_id, "date": int(time.time() * 1000)})

    def _injected_error(self) -> web.Response | None:
        if not self.send_errors:
            return None
        code = self.send_errors.pop(0)
        return self._error(code, DOCUMENTED_ERRORS.get(code, "Error"), status=code)

    async def _m_sendMessage(self, params: dict[str, Any]) -> web.Response:
        if (injected := self._injected_error()) is not None:
            return injected
        text = params.get("text")
        if not params.get("chat_id") or not isinstance(text, str):
            return self._error(400, "Bad Request: chat_id and text are required")
        if not 1 <= len(text) <= TEXT_LIMIT:
            return self._error(400, "Bad Request: text must be 1-2000 characters")
        return self._record("sendMessage", params["chat_id"], text=text)

    async def _m_sendPhoto(self, params: dict[str, Any]) -> web.Response:
        if (injected := self._injected_error()) is not None:
            return injected
        photo = str(params.get("photo") or "")
        if not photo.startswith(("http://", "https://")):
            return self._error(400, "Bad Request: photo must be a URL")
        return self._record(
            "sendPhoto", params["chat_id"], text=str(params.get("caption") or ""), photo=photo
        )

    async def _m_sendSticker(self, params: dict[str, Any]) -> web.Response:
        return self._record("sendSticker", params["chat_id"], text="")

    async def _m_sendChatAction(self, params: dict[str, Any]) -> web.Response:
        return web.json_response({"ok": True})

    async def _media(self, request: web.Request) -> web.Response:
        content = self.media.get(request.match_info["name"])
        if content is None:
            return web.Response(status=404)
        return web.Response(body=content, content_type="image/jpeg")
