"""The Zalo channel: the Zalo Bot Platform's Bot API on one side, the neutral core on the other.

`ZaloApi` is a thin client of our own over httpx: `POST <base>/bot<TOKEN>/<method>` with a JSON
body, answered by `{"ok": true, "result": …}` or `{"ok": false, "error_code", "description"}`.
`to_inbound` turns an update (`event_name` + `message`) into an `Inbound`; `ZaloChannel`
long-polls getUpdates (backing off on errors), reads a typed number as the button it stands
for, and renders an `Outbound` the way Zalo can show it: plain text (no markup), split under
2000 characters, buttons as a numbered list, and, for a file, a message saying how else to get
it (Zalo bots can neither send nor receive files). What the platform offers and lacks, and
where that was learnt, is in docs/zalo.md. Only translation lives here; the token never
reaches a log line or an error message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx

from bot import inbox
from bot.catalog import t
from bot.channels.choices import (
    ChoiceStore,
    DbChoiceStore,
    choice_marker,
    is_pushed_marker,
    looks_like_choice,
    record_sent,
    resolve,
)
from bot.channels.parsing import parse_command
from bot.channels.text import html_to_plain, split_text
from bot.events import Attachment, Button, Inbound, Outbound, OutboundFile
from bot.hub import DeliveryError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from bot.channels.webhook import Endpoint, WebhookCall
    from bot.clock import Clock
    from bot.core import BotCore
    from bot.settings import Settings

CHANNEL = "zalo"
log = logging.getLogger("thidua.zalo")

DEFAULT_BASE_URL = "https://bot-api.zaloplatforms.com"
TEXT_LIMIT = 2000  # sendMessage: "độ dài từ 1 đến 2000 ký tự"
POLL_TIMEOUT_SECONDS = 30  # getUpdates' documented default
FILE_LINK_TTL = timedelta(days=3)  # a file sent as a link: long enough to open it after a weekend
NO_UPDATES_CODE = 408  # getUpdates' answer when the long poll ends without an update
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
SECRET_HEADER = "X-Bot-Api-Secret-Token"
CLOSE_WAIT_SECONDS = 10.0  # at shutdown, how long updates already acknowledged may finish

EVENT_TEXT = "message.text.received"
EVENT_IMAGE = "message.image.received"
EVENT_STICKER = "message.sticker.received"
# "a message not yet supported" (files, videos…) or, per the docs, any message from an account
# of a specially protected group (children, people with disabilities…): content withheld.
EVENT_UNSUPPORTED = "message.unsupported.received"
# Seen in third-party adapters, not in Zalo's own list; handled if they come.
EVENT_LINK = "message.link.received"
EVENT_VOICE = "message.voice.received"

TEXT_EVENTS = {EVENT_TEXT, EVENT_LINK}
# Kinds the bot cannot use: the core answers with this catalog text and repeats its question.
UNSUPPORTED_REPLIES = {
    EVENT_UNSUPPORTED: "zalo.file_not_received",
    EVENT_VOICE: "zalo.message_not_supported",
}
# A sticker is a greeting or a thumbs-up, not a request: no answer at all.
SILENT_EVENTS = {EVENT_STICKER}


class ZaloApiError(Exception):
    """A Bot API call failed. `code` is Zalo's error_code (or the HTTP status); None when the
    server was not reached. The message never holds the token."""

    def __init__(
        self,
        method: str,
        code: int | None,
        description: str,
        retry_after: float | None = None,
        *,
        sent: bool = False,
    ) -> None:
        super().__init__(
            f"{method} failed ({code if code is not None else 'no answer'}): {description}"
        )
        self.method = method
        self.code = code
        self.description = description
        self.retry_after = retry_after
        # True when the request may have reached Zalo although no answer came back.
        self.sent = sent

    @property
    def no_updates(self) -> bool:
        return self.method == "getUpdates" and self.code == NO_UPDATES_CODE


class ZaloStartupError(Exception):
    """The bot cannot start on Zalo (token refused, server unreachable): one line to show."""


class ZaloApi:
    """The Bot API methods this bot uses, over one pooled httpx client."""

    def __init__(
        self,
        token: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: float = 15.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._token = token
        self._endpoint = f"{base_url.rstrip('/')}/bot{token}"
        self._client = httpx.AsyncClient(timeout=timeout, transport=transport)

    async def aclose(self) -> None:
        await self._client.aclose()

    def _redact(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text

    async def call(
        self, method: str, payload: Mapping[str, Any] | None = None, *, timeout: float | None = None
    ) -> Any:
        """The `result` of a call, or ZaloApiError."""
        try:
            response = await self._client.post(
                f"{self._endpoint}/{method}",
                json=dict(payload or {}),
                timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
            )
        except httpx.ConnectError:
            # Refused or unresolvable before anything was sent: certainly not delivered.
            raise ZaloApiError(method, None, "ConnectError") from None
        except httpx.ConnectTimeout:
            raise ZaloApiError(method, None, "ConnectTimeout") from None
        except httpx.TimeoutException:
            raise ZaloApiError(method, None, "timed out", sent=True) from None
        except httpx.HTTPError as exc:
            # httpx messages can carry the request URL, and the URL carries the token.
            # Anything else (a connection dropped mid-answer) may have reached Zalo.
            raise ZaloApiError(method, None, type(exc).__name__, sent=True) from None
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise ZaloApiError(method, response.status_code, f"HTTP {response.status_code}")
        if response.status_code >= 400 or data.get("ok") is not True:
            code = data.get("error_code")
            parameters = data.get("parameters")
            retry_after = parameters.get("retry_after") if isinstance(parameters, dict) else None
            raise ZaloApiError(
                method,
                _as_int(code, default=response.status_code),
                self._redact(str(data.get("description") or f"HTTP {response.status_code}")),
                retry_after=float(retry_after) if isinstance(retry_after, int | float) else None,
            )
        return data.get("result")

    async def get_me(self) -> dict[str, Any]:
        result = await self.call("getMe")
        return result if isinstance(result, dict) else {}

    async def get_updates(self, timeout: int = POLL_TIMEOUT_SECONDS) -> list[dict[str, Any]]:
        """Wait up to `timeout` seconds for updates. Zalo answers one update per call (the
        documented shape); a list is accepted too, should it ever batch them."""
        result = await self.call("getUpdates", {"timeout": str(timeout)}, timeout=timeout + 10)
        if isinstance(result, list):
            return [item for item in result if isinstance(item, dict)]
        return [result] if isinstance(result, dict) else []

    async def set_webhook(self, url: str, secret_token: str) -> Any:
        return await self.call("setWebhook", {"url": url, "secret_token": secret_token})

    async def delete_webhook(self) -> Any:
        return await self.call("deleteWebhook")

    async def send_message(self, chat_id: str, text: str) -> dict[str, Any]:
        result = await self.call("sendMessage", {"chat_id": chat_id, "text": text})
        return result if isinstance(result, dict) else {}

    async def send_photo(self, chat_id: str, photo_url: str, caption: str = "") -> dict[str, Any]:
        payload = {"chat_id": chat_id, "photo": photo_url}
        if caption:
            payload["caption"] = caption
        result = await self.call("sendPhoto", payload)
        return result if isinstance(result, dict) else {}

    async def download(self, url: str, max_bytes: int = MAX_DOWNLOAD_BYTES) -> bytes:
        """The bytes behind a media URL Zalo sent (an image a user posted)."""
        try:
            async with self._client.stream("GET", url) as response:
                if response.status_code != 200:
                    raise ZaloApiError("download", response.status_code, "file not available")
                content = bytearray()
                async for chunk in response.aiter_bytes():
                    content += chunk
                    if len(content) > max_bytes:
                        raise ZaloApiError("download", 413, "file too large")
                return bytes(content)
        except httpx.HTTPError as exc:
            raise ZaloApiError("download", None, type(exc).__name__) from None


def _as_int(value: object, *, default: int) -> int:
    """Zalo's error_code as an int (Zalo's other APIs use negative codes; keep them)."""
    if isinstance(value, bool):
        return default
    try:
        return int(value)  # type: ignore[call-overload]  # anything int() refuses raises, caught below
    except (TypeError, ValueError):
        return default


# --- updates → Inbound ---------------------------------------------------------------------
def _unwrap(update: Mapping[str, Any]) -> Mapping[str, Any]:
    """Webhook bodies come bare or wrapped like a getUpdates answer ({"ok", "result"})."""
    result = update.get("result")
    if isinstance(result, Mapping) and ("event_name" in result or "message" in result):
        return result
    return update


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _photo_url(message: Mapping[str, Any]) -> str | None:
    photo = message.get("photo")
    candidates = [message.get("photo_url"), photo]
    if isinstance(photo, Mapping):
        candidates += [photo.get("url"), photo.get("media_url")]
    for candidate in candidates:
        if isinstance(candidate, str) and candidate.startswith(("https://", "http://")):
            return candidate
    return None


def to_inbound(update: Mapping[str, Any]) -> Inbound | None:
    """The neutral event for a Zalo update, or None for what the bot does not handle (logged)."""
    update = _unwrap(update)
    event = _text(update.get("event_name"))
    message = update.get("message")
    if not isinstance(message, Mapping):
        log.info("zalo update ignored: event=%s carries no message", event or "?")
        return None
    chat: Mapping[str, Any] = message.get("chat") or {}
    sender: Mapping[str, Any] = message.get("from") or {}
    chat = chat if isinstance(chat, Mapping) else {}
    sender = sender if isinstance(sender, Mapping) else {}
    user_id = str(sender.get("id") or chat.get("id") or "")
    chat_id = str(chat.get("id") or user_id)
    if not chat_id or not user_id:
        log.info("zalo update ignored: event=%s without a chat or sender", event or "?")
        return None
    if sender.get("is_bot") is True:
        log.debug("zalo update ignored: sent by a bot")
        return None
    if str(chat.get("chat_type") or "PRIVATE").upper() != "PRIVATE":
        # Officers talk to the bot one to one; a group message would let anyone act.
        log.info("zalo update ignored: event=%s in a group chat", event or "?")
        return None
    message_id = message.get("message_id")
    base: dict[str, Any] = {
        "channel": CHANNEL,
        "chat_id": chat_id,
        "user_id": user_id,
        "display_name": _text(sender.get("display_name"))
        or _text(sender.get("first_name"))
        or _text(sender.get("name")),
        "update_id": str(message_id)[:64] if message_id not in (None, "") else None,
    }
    if event in TEXT_EVENTS:
        text = _text(message.get("text"))
        if not text.strip():
            log.info("zalo update ignored: event=%s with no text", event)
            return None
        command, args = parse_command(text)
        return Inbound(**base, text=text, command=command, args=args)
    if event == EVENT_IMAGE:
        url = _photo_url(message)
        if url is None:
            log.info("zalo image without a usable URL (keys: %s)", sorted(message))
            return Inbound(**base, unsupported="zalo.message_not_supported")
        attachment = Attachment(
            file_id=url,
            file_name=f"anh-zalo-{base['update_id'] or 'tin-nhan'}.jpg",
            mime_type="image/jpeg",
            kind="photo",
            unique_id=base["update_id"],
        )
        return Inbound(**base, text=_text(message.get("caption")), attachment=attachment)
    if event in UNSUPPORTED_REPLIES:
        return Inbound(**base, unsupported=UNSUPPORTED_REPLIES[event])
    if event in SILENT_EVENTS:
        log.info("zalo update ignored: event=%s (kind not handled)", event)
        return None
    log.info("zalo update ignored: unknown event=%r", event)
    return None


# --- Outbound → texts ----------------------------------------------------------------------
def _buttons(message: Outbound) -> list[Button]:
    return [button for row in message.buttons for button in row]


def render(
    message: Outbound,
    links: Mapping[str, str] | None = None,
    markers: Sequence[str] | None = None,
) -> list[str]:
    """The texts Zalo shows for `message`, each within the limit; the choices end the last.
    `links`: file name → a signed link to it (`bot.web.links.publish_file`), when the web
    server can serve one. `markers`: what each choice is typed as (`record_sent`'s answer);
    by default the conversation's numbers."""
    parts: list[str] = []
    if message.text:
        parts.append(html_to_plain(message.text))
    for item in (message.document, message.photo):
        if item is None:
            continue
        if item.caption and item.caption != message.text:
            parts.append(html_to_plain(item.caption))
        # Zalo bots cannot send files (sendPhoto takes a public URL, there is no sendDocument):
        # a link to the file instead, when there is a public web address to serve it from.
        url = (links or {}).get(item.file_name)
        if url:
            parts.append(html_to_plain(t("zalo.file_link", file_name=item.file_name, url=url)))
        else:
            parts.append(html_to_plain(t("zalo.file_not_sent", file_name=item.file_name)))
    buttons = _buttons(message)
    if buttons:
        if markers is None or len(markers) != len(buttons):
            markers = [choice_marker(message, number) for number in range(1, len(buttons) + 1)]
        if is_pushed_marker(markers):
            hint = "choices.pushed_hint"
        else:
            hint = "zalo.choose_hint_prefixed" if message.accepts_text else "zalo.choose_hint"
        lines = [html_to_plain(t(hint))]
        lines += [
            html_to_plain(t("zalo.choice_line", number=marker, label=button.label))
            for marker, button in zip(markers, buttons, strict=True)
        ]
        parts.append("\n".join(lines))
    text = "\n\n".join(part.strip("\n") for part in parts if part.strip())
    return [chunk for chunk in split_text(text, TEXT_LIMIT) if chunk.strip()]


# Zalo's published error table ("Bảng mã lỗi", Zalo Bot Platform developer docs, read in a
# verbatim copy — see docs/zalo.md): 400 bad request, 401 token expired or invalid, 403
# "Internal server error", 404 not found, 408 request timeout, 429 quota exceeded. None of them
# says "the user blocked the bot", so only "not found" is taken to mean the chat is out of reach
# for good; a server error (403, 5xx) must never silence an officer.
PERMANENT_CODES = frozenset({404})
UNCERTAIN_CODES = frozenset({408})  # the call timed out on Zalo's side: it may have gone through


def delivery_error(exc: ZaloApiError) -> DeliveryError:
    """How the core should treat a failed send: retry, give up for this chat, or 'unknown'."""
    if exc.code == 429:
        return DeliveryError(str(exc), retry_after=exc.retry_after or 1.0)
    if exc.code == 401:
        # The bot's token, not the officer: retrying later may work once an operator fixes it.
        log.error("zalo refused the bot token (401): check ZALO_BOT_TOKEN")
        return DeliveryError(str(exc))
    if exc.code in PERMANENT_CODES:
        return DeliveryError(str(exc), permanent=True)
    if exc.code in UNCERTAIN_CODES or (exc.code is None and exc.sent):
        return DeliveryError(str(exc), uncertain=True)
    # 400, 403, 5xx, connection refused: certainly not delivered; safe to send again.
    return DeliveryError(str(exc))


Handle = Callable[[Inbound], Awaitable[object]]


class ZaloChannel:
    """The Outlet the hub sends through, and the long-polling loop that feeds the core."""

    name = CHANNEL
    has_buttons = False  # no buttons in the Bot API: choices are numbered, typed as numbers
    receives_documents = False  # only photos reach a bot; documents arrive withheld

    def __init__(
        self,
        api: ZaloApi,
        *,
        choices: ChoiceStore,
        reply_window: timedelta | None = None,
        webhook_secret: str | None = None,
        poll_timeout: int = POLL_TIMEOUT_SECONDS,
        backoff: tuple[float, float] = (1.0, 60.0),
        startup_backoff: tuple[float, float] = (1.0, 60.0),
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        inbox: tuple[Engine, Clock] | None = None,
        file_links: Callable[[OutboundFile], Awaitable[str]] | None = None,
    ) -> None:
        self.api = api
        # Turns a file the bot would upload into a link Zalo users can open (PUBLIC_URL set).
        self.file_links = file_links
        # Webhook updates are recorded here before Zalo is answered (bot/inbox.py); without
        # it (a channel built by hand in a test) an update is handled before answering.
        self.inbox = inbox
        self._handling: set[asyncio.Task[None]] = set()
        self.choices = choices
        # Read by Hub.can_reach: reminders skip users who have not written within it.
        self.reply_window = reply_window
        self.webhook_secret = webhook_secret
        self.poll_timeout = poll_timeout
        self.backoff = backoff
        self.startup_backoff = startup_backoff
        self._sleep = sleep

    # --- lifecycle ----------------------------------------------------------------------------
    async def start(self, webhook_url: str | None = None) -> dict[str, Any]:
        """Check the token (getMe), then either make sure no webhook blocks getUpdates (long
        polling) or, given `webhook_url`, have Zalo post updates there with our secret. Zalo
        does one or the other: getUpdates gets nothing while a webhook is set."""
        me = await self._reach()
        name = me.get("account_name") or me.get("id")
        if webhook_url:
            await self._set_webhook(webhook_url)
            log.info("zalo bot %s ready (webhook)", name)
            return me
        try:
            await self.api.delete_webhook()
        except ZaloApiError as exc:
            log.warning("zalo deleteWebhook failed (%s); getUpdates may get nothing", exc)
        log.info("zalo bot %s ready (long polling)", name)
        return me

    async def _reach(self) -> dict[str, Any]:
        """getMe, waiting while Zalo cannot be reached (no answer, 5xx, 429) with pauses
        doubling from `startup_backoff[0]` to `[1]` seconds, each try logged: a network blip at
        boot must not stop the server. A refused token stops start-up at once."""
        initial, ceiling = self.startup_backoff
        attempt = 0
        while True:
            try:
                me = await self.api.get_me()
            except ZaloApiError as exc:
                # 403 is Zalo's "internal server error", not a refused token: waited out.
                if exc.code in {401, 404}:
                    raise ZaloStartupError(
                        "Zalo từ chối ZALO_BOT_TOKEN (sai hoặc đã bị thu hồi). Lấy lại token "
                        "trong Zalo Bot Creator rồi sửa tệp .env."
                    ) from None
                if exc.code is not None and exc.code < 500 and exc.code not in {403, 429}:
                    raise ZaloStartupError(f"Không kết nối được Zalo Bot API: {exc}") from None
                attempt += 1
                delay = exc.retry_after or min(ceiling, initial * 2 ** (attempt - 1))
                log.warning(
                    "Zalo Bot API unreachable at start-up (attempt %d: %s); retrying in %.0f s",
                    attempt,
                    exc,
                    delay,
                )
                await self._sleep(delay)
                continue
            if attempt:
                log.info("Zalo Bot API reached after %d failed attempts", attempt)
            return me

    async def _set_webhook(self, url: str) -> None:
        """setWebhook with our secret. Every process of a fleet does it at start-up with the
        same values (harmless); the webhook is not deleted at shutdown, others still serve it."""
        if not self.webhook_secret:
            raise ValueError("a Zalo webhook without a secret would accept anyone's updates")
        try:
            await self.api.set_webhook(url, self.webhook_secret)
        except ZaloApiError as exc:
            raise ZaloStartupError(
                f"Zalo không nhận ZALO_WEBHOOK_URL ({exc.description}). Kiểm tra địa chỉ (phải "
                "là HTTPS công khai) và ZALO_WEBHOOK_SECRET (8–256 ký tự) trong tệp .env."
            ) from None

    async def aclose(self) -> None:
        # Let updates already answered 200 finish; one cut off stays in the inbox for the
        # next start.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wait_handled(), CLOSE_WAIT_SECONDS)
        for task in list(self._handling):
            task.cancel()
        await self.api.aclose()

    # --- Outlet ----------------------------------------------------------------------------
    async def send(
        self, chat_id: str, message: Outbound, reply_to: Inbound | None = None
    ) -> str | None:
        message_id: str | None = None
        # What the numbers mean is stored before the message goes out: once it is on the
        # person's screen their "1" may arrive at once, and must find the offer. The store may
        # be the database: its work runs off the event loop (bot.db.outside_update). A send
        # that then fails leaves an offer nobody saw, which no number can reach by mistake.
        markers = await asyncio.to_thread(record_sent, self.choices, chat_id, message, reply_to)
        try:
            links = await self._file_links(message)
            for text in render(message, links, markers):
                result = await self.api.send_message(chat_id, text)
                if result.get("message_id"):
                    message_id = str(result["message_id"])
            if message.photo is not None and message.photo.file_name in links:
                # The picture itself too (a chart), from the same link.
                await self.api.send_photo(chat_id, links[message.photo.file_name])
        except ZaloApiError as exc:
            raise delivery_error(exc) from None
        return message_id

    async def _file_links(self, message: Outbound) -> dict[str, str]:
        """A link for each file: its own (`OutboundFile.link`: a kind the web desk serves,
        checked against the organiser) or, when the web server is public, a published copy."""
        links: dict[str, str] = {}
        for item in (message.document, message.photo):
            if item is not None and item.link is not None:
                links[item.file_name] = await item.link()
            elif item is not None and self.file_links is not None:
                links[item.file_name] = await self.file_links(item)
        return links

    async def download(self, attachment: Attachment) -> bytes:
        if attachment.kind != "photo" or not attachment.file_id.startswith(("https://", "http://")):
            raise DeliveryError(f"zalo cannot download {attachment.file_name}", permanent=True)
        try:
            return await self.api.download(attachment.file_id)
        except ZaloApiError as exc:
            raise DeliveryError(str(exc)) from None

    # --- input -----------------------------------------------------------------------------
    def inbound(self, update: Mapping[str, Any]) -> Inbound | None:
        """`to_inbound`, with a typed number read as the button it was offered for."""
        event = to_inbound(update)
        if event is None or event.command is not None or event.attachment is not None:
            return event
        return self.resolve_choice(event)

    def resolve_choice(self, event: Inbound) -> Inbound:
        if not looks_like_choice(event.text):  # most texts: no database read
            return event
        button = resolve(self.choices, event.chat_id, event.text)
        if button is None:
            # No offer (a number answering a plain question, or numbering lost): plain text.
            return event
        return replace(event, text="", payload=button.payload)

    async def _dispatch(self, update: Mapping[str, Any], handle: Handle) -> None:
        try:
            event = await asyncio.to_thread(self.inbound, update)  # reads the choice store
            if event is not None:
                await handle(event)
        except Exception:  # one bad update must not stop the loop
            log.exception("zalo update could not be handled")

    async def run(self, handle: Handle) -> None:
        """Long-poll getUpdates until cancelled, backing off while Zalo is unreachable."""
        failures = 0
        while True:
            try:
                updates = await self.api.get_updates(self.poll_timeout)
            except ZaloApiError as exc:
                if exc.no_updates:
                    failures = 0
                    continue
                failures += 1
                initial, ceiling = self.backoff
                delay = min(ceiling, initial * 2 ** (failures - 1))
                if exc.code == 401:
                    log.error(
                        "zalo refused the token; check ZALO_BOT_TOKEN (retry in %.0f s)", delay
                    )
                else:
                    log.warning("zalo getUpdates failed: %s; retry in %.1f s", exc, delay)
                await self._sleep(delay)
                continue
            failures = 0
            for update in updates:
                await self._dispatch(update, handle)

    async def accept_webhook(
        self, secret_header: str | None, body: bytes, handle: Handle, *, remote: str = "?"
    ) -> int:
        """Handle one webhook call (for a web server that mounts it); the HTTP status to send.

        Zalo signs webhook calls with the secret given to setWebhook in the
        X-Bot-Api-Secret-Token header; anything else is refused. The update is handled before
        the status is returned.
        """
        from bot.channels.webhook import has_secret

        expected = self.webhook_secret or ""
        refused = "zalo webhook call refused"
        if not has_secret(secret_header, expected, refused=refused, remote=remote, logger=log):
            return 403
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            log.warning("zalo webhook call with an unreadable update")
            return 400
        if self.inbox is None:
            await self._dispatch(payload, handle)
            return 200
        engine, clock = self.inbox
        message = (
            payload.get("result", payload) if isinstance(payload.get("result"), dict) else payload
        )
        inner: Mapping[str, Any] = message.get("message") or {}
        inner = inner if isinstance(inner, Mapping) else {}
        key = inbox.update_key(inner.get("message_id"), body)
        row_id = await asyncio.to_thread(
            inbox.record, engine, channel=CHANNEL, key=key, payload=payload, now=clock.now()
        )
        if row_id is None:
            log.info("zalo webhook update %s posted again: recorded before, not handled twice", key)
            return 200
        task = asyncio.create_task(self._handle_recorded(row_id, payload, handle))
        self._handling.add(task)
        task.add_done_callback(self._handling.discard)
        return 200

    async def _handle_recorded(
        self, row_id: int, payload: Mapping[str, Any], handle: Handle
    ) -> None:
        assert self.inbox is not None
        engine, clock = self.inbox
        # A failing handler is logged (and answered with an apology) by the core; the row is
        # done either way. Only a crash or a cancellation leaves it for the next start.
        await self._dispatch(payload, handle)
        await asyncio.to_thread(inbox.mark_handled, engine, row_id, clock.now())

    async def handle_pending(self, handle: Handle) -> int:
        """Handle the webhook updates a crash left recorded but unhandled; how many there were."""
        if self.inbox is None:
            return 0
        engine, _clock = self.inbox
        rows = await asyncio.to_thread(inbox.pending, engine, channel=CHANNEL)
        for row in rows:
            await self._handle_recorded(row.id, row.payload, handle)
        if rows:
            log.info(
                "zalo: handled %d webhook update(s) left over from before a restart", len(rows)
            )
        return len(rows)

    async def wait_handled(self) -> None:
        """Until every webhook update answered so far has been handled (shutdown, tests)."""
        while self._handling:
            await asyncio.gather(*list(self._handling), return_exceptions=True)


def zalo_endpoint(channel: ZaloChannel, handle: Handle, path: str) -> Endpoint:
    """Zalo's webhook as an endpoint of the process's web server (`bot.channels.webhook`)."""
    from bot.channels.webhook import Endpoint

    async def accept(call: WebhookCall) -> int:
        return await channel.accept_webhook(
            call.headers.get(SECRET_HEADER), call.body, handle, remote=call.remote_ip
        )

    return Endpoint(path, accept)


def build_zalo_channel(
    settings: Settings,
    core: BotCore,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    **options: Any,
) -> ZaloChannel:
    """A ZaloChannel for the settings, registered on the core's hub as channel "zalo".

    `options` go to ZaloChannel (tests pass a short poll_timeout and backoff).
    """
    token = settings.zalo_bot_token.get_secret_value() if settings.zalo_bot_token else ""
    if not token:
        raise ValueError("ZALO_BOT_TOKEN is not set")
    hours = settings.zalo_reply_window_hours
    secret = settings.zalo_webhook_secret
    if settings.public_url and "file_links" not in options:
        options["file_links"] = _published_links(settings, core)
    channel = ZaloChannel(
        ZaloApi(token, settings.zalo_base_url, transport=transport),
        choices=DbChoiceStore(core.engine, core.clock, CHANNEL),
        inbox=(core.engine, core.clock),
        reply_window=timedelta(hours=hours) if hours else None,
        webhook_secret=secret.get_secret_value() if secret else None,
        **options,
    )
    core.hub.register(channel)
    return channel


def _published_links(settings: Settings, core: BotCore) -> Callable[[OutboundFile], Awaitable[str]]:
    """Files for Zalo users become signed links on PUBLIC_URL (the web server serves them)."""
    import mimetypes

    from bot.web.links import FileOut, publish_file

    async def link(file: OutboundFile) -> str:
        mime = mimetypes.guess_type(file.file_name)[0] or "application/octet-stream"
        out = FileOut(file.content, file.file_name, mime)
        return await asyncio.to_thread(
            publish_file, settings, out, FILE_LINK_TTL, now=core.clock.now()
        )

    return link
