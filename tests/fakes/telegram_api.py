"""A fake Telegram Bot API server over real HTTP, for end-to-end tests and benchmarks.

It speaks enough of the Bot API for python-telegram-bot to run against it through `base_url`:
getMe, getUpdates (long polling), deleteWebhook, sendMessage, editMessageText,
answerCallbackQuery, sendDocument, sendPhoto, getFile and file downloads. Tests push user
messages, button presses and documents in, and read what the bot sent out. It can enforce a
rate limit (429 with retry_after, as Telegram does) and simulate an outage: every request
answered with an error status (`failing_status`), only sends failing (`failing_sends`), sends
to some chats hanging unanswered (`stalled_chats`), every send carried out but answered too
late (`hanging_sends`), or the server stopped and started again on the same port (connection
refused in between). An update stays on the server until the bot
confirms it, as Telegram does: by asking getUpdates for a higher offset.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.outbox import Outbox

BOT_USER = {"id": 999000, "is_bot": True, "first_name": "Thi đua", "username": "thidua_test_bot"}


@dataclass
class SentMessage:
    message_id: int
    chat_id: str
    method: str
    text: str = ""
    reply_markup: dict[str, Any] | None = None
    file_name: str | None = None
    content: bytes | None = None
    caption: str = ""
    edits: int = 0

    @property
    def buttons(self) -> list[tuple[str, str]]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]


@dataclass
class FakeTelegram(Outbox):
    token: str = "123456789:TEST-token-abcdefghijklmnopqrstuv"
    # Messages per second allowed overall; None = no limit.
    rate_limit: float | None = None
    # Messages per second allowed to one chat (Telegram: about one); None = no limit.
    chat_rate_limit: float | None = None
    sent: dict[str, list[SentMessage]] = field(default_factory=lambda: defaultdict(list))
    calls: list[str] = field(default_factory=list)
    throttled: int = 0
    # When set, every request is answered with this HTTP status (an outage).
    failing_status: int | None = None
    # When set, only sends and edits are answered with this HTTP status.
    failing_sends: int | None = None
    # Sends and edits to these chats hang without an answer (and are not recorded).
    stalled_chats: set[str] = field(default_factory=set)
    # Requests that reached the server while their chat was stalled, by chat.
    stalled_requests: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    # When set, every send and edit is carried out (recorded: the user has it) but answered
    # only this many seconds later: the bot's request times out after it left (a hang).
    hanging_sends: float | None = None
    # Requests answered with `failing_status` (how hard the bot hammers a server that is down).
    failed_requests: int = 0
    # Sends and edits answered with `failing_sends`, by chat.
    refused_sends: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    # Every update id getUpdates handed out, in order (repeats when the bot fetches it again).
    handed_out: list[int] = field(default_factory=list)
    # What the bot registered with setWebhook (webhook mode).
    webhook: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._new_update = asyncio.Event()
        self._sent_event = asyncio.Event()
        self._send_times: deque[float] = deque()
        self._chat_sent_at: dict[str, float] = {}
        self.chat_throttled = 0
        self.files: dict[str, tuple[str, bytes]] = {}
        self._runner: web.AppRunner | None = None
        self._stopping = False
        self.port = 0

    # --- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        self._stopping = False
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.*}", self._file)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        self.stalled_chats.clear()
        self._stopping = True
        self._new_update.set()  # long polls under way return now instead of at their timeout
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- what users do --------------------------------------------------------------------
    def _user(self, user_id: int, name: str) -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": name}

    def _push(self, payload: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, **payload})
        self._new_update.set()
        return update_id

    def restart_update_ids(self, start: int = 1) -> None:
        """Number the next updates from `start` again, as after a new bot token, a new Bot API
        server, or Telegram choosing ids afresh after a week without updates."""
        self._update_ids = itertools.count(start)

    def push_raw(self, update: dict[str, Any]) -> int:
        """Queue an update exactly as given, update_id included (a repeated delivery)."""
        self._updates.append(dict(update))
        self._new_update.set()
        return int(update["update_id"])

    def update(self, update_id: int) -> dict[str, Any]:
        """A queued update by id (to deliver it again with push_raw)."""
        return next(u for u in self._updates if u["update_id"] == update_id)

    def _message(self, user_id: int, name: str, **content: Any) -> dict[str, Any]:
        user = self._user(user_id, name)
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": user["first_name"]},
            "from": user,
            **content,
        }

    def push_text(self, user_id: int, text: str, name: str = "Cán bộ Xã") -> int:
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            length = len(text.split()[0])
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return self._push({"message": self._message(user_id, name, **content)})

    def push_callback(
        self, user_id: int, data: str, message_id: int, name: str = "Cán bộ Xã"
    ) -> int:
        user = self._user(user_id, name)
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private"},
            "from": BOT_USER,
            "text": "…",
        }
        query = {
            "id": str(next(self._message_ids)),
            "from": user,
            "chat_instance": "1",
            "data": data,
            "message": message,
        }
        return self._push({"callback_query": query})

    def press(self, user_id: int, label: str, name: str = "Cán bộ Xã") -> int:
        """Press the button whose label contains `label` on the latest message with buttons."""
        for message in reversed(self.sent[str(user_id)]):
            for text, data in message.buttons:
                if label in text:
                    return self.push_callback(user_id, data, message.message_id, name)
        raise AssertionError(f"no button {label!r} sent to {user_id}")

    def push_document(
        self,
        user_id: int,
        content: bytes,
        file_name: str,
        mime_type: str,
        caption: str = "",
        name: str = "Cán bộ Xã",
    ) -> int:
        file_id = f"doc{next(self._message_ids)}"
        self.files[file_id] = (file_name, content)
        document = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": len(content),
        }
        extra = {"caption": caption} if caption else {}
        return self._push({"message": self._message(user_id, name, document=document, **extra)})

    # --- what tests read ------------------------------------------------------------------
    @property
    def unconfirmed(self) -> int:
        """Updates the bot has not confirmed yet (by asking for a higher offset)."""
        return len(self._updates)

    def texts(self, chat_id: int | str) -> list[str]:
        return [m.text or m.caption for m in self.sent[str(chat_id)]]

    def total_sent(self) -> int:
        return sum(len(v) for v in self.sent.values())

    # --- the API --------------------------------------------------------------------------
    async def _params(
        self, request: web.Request
    ) -> tuple[dict[str, Any], dict[str, tuple[str, bytes]]]:
        files: dict[str, tuple[str, bytes]] = {}
        if request.content_type == "application/json":
            return await request.json(), files
        params: dict[str, Any] = {}
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                if part.filename:  # type: ignore[union-attr]
                    files[part.name] = (part.filename, bytes(await part.read()))  # type: ignore[union-attr]
                else:
                    params[part.name] = await part.text()  # type: ignore[union-attr]
        else:
            params.update(await request.post())
            params.update(request.query)
        for key in ("reply_markup",):
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        return params, files

    @staticmethod
    def _ok(result: Any) -> web.Response:
        return web.json_response({"ok": True, "result": result})

    async def _api(self, request: web.Request) -> web.Response:
        if self.failing_status is not None:
            self.failed_requests += 1
            return web.Response(status=self.failing_status, text="Bad Gateway")
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        self.calls.append(method)
        params, files = await self._params(request)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        if method.startswith("send") or method.startswith("edit"):
            if self.failing_sends is not None:
                self.refused_sends[str(params.get("chat_id"))] += 1
                return web.Response(status=self.failing_sends, text="Bad Gateway")
            if str(params.get("chat_id")) in self.stalled_chats:
                # No answer while stalled (the bot's request hangs); then a failure, unrecorded.
                self.stalled_requests[str(params.get("chat_id"))] += 1
                while str(params.get("chat_id")) in self.stalled_chats:
                    await asyncio.sleep(0.05)
                return web.Response(status=502, text="Bad Gateway")
            throttle = self._throttle(str(params.get("chat_id")))
            if throttle is not None:
                return throttle
            if self.hanging_sends is not None:
                response = await handler(params, files)
                await asyncio.sleep(self.hanging_sends)
                return response
        return await handler(params, files)

    def _throttle(self, chat_id: str) -> web.Response | None:
        now = time.monotonic()
        if self.chat_rate_limit is not None:
            last = self._chat_sent_at.get(chat_id)
            # A little slack: the bot's own spacing is measured on another clock.
            if last is not None and now - last < 0.95 / self.chat_rate_limit:
                self.throttled += 1
                self.chat_throttled += 1
                return web.json_response(
                    {
                        "ok": False,
                        "error_code": 429,
                        "description": "Too Many Requests: retry after 1",
                        "parameters": {"retry_after": 1},
                    },
                    status=429,
                )
            self._chat_sent_at[chat_id] = now
        if self.rate_limit is None:
            return None
        while self._send_times and now - self._send_times[0] >= 1.0:
            self._send_times.popleft()
        if len(self._send_times) >= self.rate_limit:
            self.throttled += 1
            return web.json_response(
                {
                    "ok": False,
                    "error_code": 429,
                    "description": "Too Many Requests: retry after 1",
                    "parameters": {"retry_after": 1},
                },
                status=429,
            )
        self._send_times.append(now)
        return None

    async def _m_getMe(self, params: dict[str, Any], files: Any) -> web.Response:
        return self._ok(BOT_USER)

    async def _m_setWebhook(self, params: dict[str, Any], files: Any) -> web.Response:
        self.webhook = params
        return self._ok(True)

    async def _m_deleteWebhook(self, params: dict[str, Any], files: Any) -> web.Response:
        return self._ok(True)

    async def _m_setMyCommands(self, params: dict[str, Any], files: Any) -> web.Response:
        return self._ok(True)

    async def _m_getUpdates(self, params: dict[str, Any], files: Any) -> web.Response:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates and timeout > 0 and not self._stopping:
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), min(timeout, 2.0))
        limit = int(params.get("limit") or 100)
        batch = self._updates[:limit]
        self.handed_out += [u["update_id"] for u in batch]
        return self._ok(batch)

    def _record(self, method: str, chat_id: str, **fields: Any) -> SentMessage:
        message = SentMessage(next(self._message_ids), str(chat_id), method, **fields)
        self.sent[str(chat_id)].append(message)
        self._sent_event.set()
        return message

    def _message_json(self, message: SentMessage, **extra: Any) -> dict[str, Any]:
        result = {
            "message_id": message.message_id,
            "date": int(time.time()),
            "chat": {"id": int(message.chat_id), "type": "private"},
            "from": BOT_USER,
            **extra,
        }
        if message.reply_markup:
            result["reply_markup"] = message.reply_markup
        return result

    async def _m_sendMessage(self, params: dict[str, Any], files: Any) -> web.Response:
        text = str(params.get("text", ""))
        if len(text) > 4096:
            return web.json_response(
                {"ok": False, "error_code": 400, "description": "Bad Request: message is too long"},
                status=400,
            )
        message = self._record(
            "sendMessage", params["chat_id"], text=text, reply_markup=params.get("reply_markup")
        )
        return self._ok(self._message_json(message, text=text))

    async def _m_editMessageText(self, params: dict[str, Any], files: Any) -> web.Response:
        chat = str(params["chat_id"])
        message_id = int(params["message_id"])
        for message in self.sent[chat]:
            if message.message_id == message_id:
                message.text = str(params.get("text", ""))
                message.reply_markup = params.get("reply_markup")
                message.edits += 1
                self._sent_event.set()
                return self._ok(self._message_json(message, text=message.text))
        return web.json_response(
            {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: message to edit not found",
            },
            status=400,
        )

    async def _m_editMessageReplyMarkup(self, params: dict[str, Any], files: Any) -> web.Response:
        chat = str(params["chat_id"])
        message_id = int(params["message_id"])
        for message in self.sent[chat]:
            if message.message_id == message_id:
                if not message.reply_markup and not params.get("reply_markup"):
                    return web.json_response(
                        {
                            "ok": False,
                            "error_code": 400,
                            "description": "Bad Request: message is not modified",
                        },
                        status=400,
                    )
                message.reply_markup = params.get("reply_markup") or None
                message.edits += 1
                self._sent_event.set()
                return self._ok(self._message_json(message, text=message.text))
        return web.json_response(
            {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: message to edit not found",
            },
            status=400,
        )

    async def _m_answerCallbackQuery(self, params: dict[str, Any], files: Any) -> web.Response:
        return self._ok(True)

    async def _send_file(
        self,
        method: str,
        field_name: str,
        params: dict[str, Any],
        files: dict[str, tuple[str, bytes]],
    ) -> web.Response:
        file_name, content = files.get(field_name, ("?", b""))
        caption = str(params.get("caption") or "")
        if len(caption) > 1024:
            return web.json_response(
                {
                    "ok": False,
                    "error_code": 400,
                    "description": "Bad Request: message caption is too long",
                },
                status=400,
            )
        message = self._record(
            method,
            params["chat_id"],
            file_name=file_name,
            content=content,
            caption=caption,
            reply_markup=params.get("reply_markup"),
        )
        file_id = f"sent{message.message_id}"
        self.files[file_id] = (file_name, content)
        if field_name == "photo":
            extra = {
                "photo": [
                    {"file_id": file_id, "file_unique_id": file_id, "width": 800, "height": 600}
                ]
            }
        else:
            extra = {
                "document": {"file_id": file_id, "file_unique_id": file_id, "file_name": file_name}
            }
        return self._ok(self._message_json(message, caption=caption, **extra))

    async def _m_sendDocument(
        self, params: dict[str, Any], files: dict[str, tuple[str, bytes]]
    ) -> web.Response:
        return await self._send_file("sendDocument", "document", params, files)

    async def _m_sendPhoto(
        self, params: dict[str, Any], files: dict[str, tuple[str, bytes]]
    ) -> web.Response:
        return await self._send_file("sendPhoto", "photo", params, files)

    async def _m_getFile(self, params: dict[str, Any], files: Any) -> web.Response:
        file_id = str(params["file_id"])
        if file_id not in self.files:
            return web.json_response(
                {"ok": False, "error_code": 400, "description": "Bad Request: invalid file_id"},
                status=400,
            )
        _name, content = self.files[file_id]
        return self._ok(
            {
                "file_id": file_id,
                "file_unique_id": f"u{file_id}",
                "file_size": len(content),
                "file_path": f"documents/{file_id}",
            }
        )

    async def _file(self, request: web.Request) -> web.Response:
        file_id = request.match_info["path"].rsplit("/", 1)[-1]
        if file_id not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[file_id][1])
