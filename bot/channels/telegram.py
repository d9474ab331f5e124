"""The Telegram channel: python-telegram-bot on one side, the neutral core on the other.

`to_inbound` turns an `Update` (message, command, button press, document, photo) into an
`Inbound`; `TelegramOutlet` renders an `Outbound` (HTML parse mode, inline keyboards, long texts
split under 4096 characters, captions over 1024 moved into a message, documents and photos,
edits of an earlier message with `editMessageText`). Requests go over aiohttp
(`telegram_http`); sends go through PTB's AIORateLimiter (TELEGRAM_MAX_MESSAGES_PER_SECOND
overall, evenly spaced) with RetryAfter retried a few times; failures become `DeliveryError`.
Telegram also counts messages per chat (about one a second): `ChatSpacing` keeps every request
to one chat — answers, pushed messages, the parts of a long text, edits — that far apart; at a
person's pace the first message of an answer still goes at once. After a button press the pressed
message's keyboard is taken away (unless the answer replaced that message), so old buttons
do not linger.
`TelegramPoller` long-polls getUpdates and confirms an update to Telegram only once the core
has handled it, so a crash loses none. No business rules here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

import aiohttp
import httpx
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    Update,
)
from telegram.constants import MessageLimit, ParseMode
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes, TypeHandler

from bot.channels.parsing import parse_command
from bot.channels.telegram_http import AiohttpRequest
from bot.channels.text import split_text
from bot.events import Attachment, Inbound, Outbound
from bot.hub import DeliveryError

if TYPE_CHECKING:
    from bot.core import BotCore
    from bot.settings import Settings

CHANNEL = "telegram"
log = logging.getLogger("thidua.telegram")

# Updates handed to the core at once (TelegramPoller; PTB's Application in webhook mode). The
# core keeps each chat's updates in order and runs one database transaction at a time, so this
# only lets one update's network waits (sending answers to Telegram, ~50–200 ms away) overlap
# other updates' work; one at a time, a process would answer a few dozen updates a second at
# most. More at once would not answer faster: the updates of a big batch would all progress
# together, each finishing late, instead of the first ones first.
CONCURRENT_UPDATES = 8
TEXT_LIMIT = MessageLimit.MAX_TEXT_LENGTH  # 4096
CAPTION_LIMIT = MessageLimit.CAPTION_LENGTH  # 1024


def to_inbound(update: Update, bot_id: str = "") -> Inbound | None:
    """The neutral event for an update, or None for kinds the bot does not handle. `bot_id`
    (the number before the token's colon) goes into `Inbound.source` with the message or
    callback id, so that ids starting over under a new token are not taken for repeats."""
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None:
        return None
    if update.callback_query is not None:
        source = f"{bot_id}:callback:{update.callback_query.id}"
    elif update.message is not None:
        sent_at = int(update.message.date.timestamp())
        source = f"{bot_id}:message:{update.message.message_id}:{sent_at}"
    else:
        source = f"{bot_id}:update"
    base: dict[str, Any] = {
        "source": source,
        "channel": CHANNEL,
        "chat_id": str(chat.id),
        "user_id": str(user.id),
        "display_name": user.full_name or "",
        "username": user.username,
        "update_id": str(update.update_id),
    }
    if update.callback_query is not None:
        query = update.callback_query
        message_id = str(query.message.message_id) if query.message else None
        return Inbound(**base, payload=query.data or "", message_id=message_id)
    message = update.message
    if message is None:
        return None
    if message.document is not None:
        doc = message.document
        attachment = Attachment(
            file_id=doc.file_id,
            file_name=doc.file_name,
            mime_type=doc.mime_type,
            size=doc.file_size,
            unique_id=doc.file_unique_id,
        )
        return Inbound(**base, text=message.caption or "", attachment=attachment)
    if message.photo:
        photo = message.photo[-1]  # the largest size
        attachment = Attachment(
            file_id=photo.file_id,
            file_name=f"anh-{photo.file_unique_id}.jpg",
            mime_type="image/jpeg",
            size=photo.file_size,
            kind="photo",
            unique_id=photo.file_unique_id,
        )
        return Inbound(**base, text=message.caption or "", attachment=attachment)
    if message.text is None:
        return None
    command, args = parse_command(message.text)
    return Inbound(**base, text=message.text, command=command, args=args)


def _keyboard(message: Outbound) -> InlineKeyboardMarkup | None:
    if not message.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.label, callback_data=b.payload) for b in row]
            for row in message.buttons
        ]
    )


class ChatSpacing:
    """Keeps requests to one chat `spacing` seconds apart, counted from the end of the previous
    one (its arrival at Telegram is then certainly over), so a chat never gets two messages
    within the second Telegram allows — a 429 there costs a pause of a whole second or more.
    An answer's first message waits only when the bot itself wrote to that chat less than
    `spacing` ago (at a person's pace it goes at once); what follows it in the same answer
    waits its turn. Background requests (a keyboard taken away) give way to answers and
    pushed messages waiting for the same chat. A waiter checks again after its pause, so a
    request that went meanwhile pushes it back."""

    def __init__(
        self,
        spacing: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.spacing = spacing
        self._monotonic = monotonic
        self._sleep = sleep
        self._last: dict[str, float] = {}
        self._waiting: dict[str, int] = {}  # chat -> answers and pushes waiting their turn

    @contextlib.asynccontextmanager
    async def turn(self, chat_id: str, *, background: bool = False) -> AsyncIterator[None]:
        """Wait until a request to `chat_id` may go, then make it inside the block."""
        if self.spacing <= 0:
            yield
            return
        if not background:
            self._waiting[chat_id] = self._waiting.get(chat_id, 0) + 1
        try:
            while True:
                now = self._monotonic()
                free = self._last.get(chat_id, float("-inf")) + self.spacing
                if now >= free and not (background and self._waiting.get(chat_id)):
                    break
                await self._sleep(max(free - now, self.spacing / 10))
        finally:
            if not background:
                self._waiting[chat_id] -= 1
                if not self._waiting[chat_id]:
                    del self._waiting[chat_id]
        self._last[chat_id] = now
        try:
            yield
        finally:
            now = self._monotonic()
            self._last[chat_id] = now
            if len(self._last) > 50_000:
                self._last = {k: v for k, v in self._last.items() if v > now - self.spacing}


class TelegramOutlet:
    name = CHANNEL
    # One update's note and question go out as one message (bot.hub.coalesce): Telegram
    # allows about one message a second per chat.
    joins_messages = True

    def __init__(self, bot: Bot, *, chat_spacing: float = 0.0) -> None:
        self.bot = bot
        self.spacing = ChatSpacing(chat_spacing)
        # Every request to a chat, answer or pushed, waits its turn here (`Hub.spaces_chats`):
        # the delivery service's own pacer stands aside, so a reminder is paced once, by the
        # one mechanism that also knows about the answers going to the same chat.
        self.spaces_chats = chat_spacing > 0
        # Pressed messages an answer replaced (their keyboard is the answer's own).
        self._replaced: set[tuple[str, str]] = set()

    async def send(
        self, chat_id: str, message: Outbound, reply_to: Inbound | None = None
    ) -> str | None:
        try:
            return await self._send(chat_id, message, reply_to)
        except Forbidden as exc:
            raise _delivery_error(exc, permanent=True) from None
        except RetryAfter as exc:
            raise _delivery_error(exc, retry_after=_seconds(exc.retry_after)) from None
        except TelegramError as exc:
            error = _delivery_error(exc)
            error.uncertain = _maybe_delivered(exc)
            raise error from None

    async def clear_keyboard(self, chat_id: str, message_id: str) -> None:
        """Take the keyboard off a message whose button was pressed, unless the answer to the
        press replaced that message (its keyboard, if any, is then the answer's). Waits its
        turn in the chat like any request; a failure only leaves the old buttons, which
        answer a press with the stale-button note."""
        if (chat_id, message_id) in self._replaced:
            self._replaced.discard((chat_id, message_id))
            return
        try:
            async with self.spacing.turn(chat_id, background=True):
                await self.bot.edit_message_reply_markup(
                    chat_id=chat_id, message_id=int(message_id), reply_markup=None
                )
        except TelegramError as exc:  # gone, too old, or no keyboard left: nothing to do
            log.debug("could not clear the keyboard of a pressed message: %s", exc)

    async def _try_edit(
        self,
        chat_id: str,
        message: Outbound,
        reply_to: Inbound,
        markup: InlineKeyboardMarkup | None,
    ) -> str | None:
        """Replace the message a pressed button sits on; None when it cannot be edited."""
        try:
            async with self.spacing.turn(chat_id):
                edited = await self.bot.edit_message_text(
                    message.text,
                    chat_id=chat_id,
                    message_id=int(reply_to.message_id or 0),
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                )
        except BadRequest as exc:
            # "message is not modified" or too old to edit: the caller sends it anew.
            log.debug("edit failed, sending anew: %s", exc.message)
            return None
        self._replaced.add((chat_id, str(reply_to.message_id)))
        if len(self._replaced) > 10_000:
            self._replaced.clear()
        return str(edited.message_id) if isinstance(edited, Message) else reply_to.message_id

    async def _edit(
        self,
        chat_id: str,
        message_id: str,
        message: Outbound,
        markup: InlineKeyboardMarkup | None,
    ) -> str:
        """Edit an earlier message (Outbound.edit_message_id); failures are raised."""
        if len(message.text) > TEXT_LIMIT or message.document or message.photo:
            raise BadRequest("only a text of at most 4096 characters can replace a message")
        try:
            async with self.spacing.turn(chat_id):
                await self.bot.edit_message_text(
                    message.text,
                    chat_id=chat_id,
                    message_id=int(message_id),
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                )
        except BadRequest as exc:
            # Same text as before (a progress count that did not move): nothing to do.
            if "not modified" not in exc.message:
                raise
        return message_id

    async def _send(self, chat_id: str, message: Outbound, reply_to: Inbound | None) -> str | None:
        markup = _keyboard(message)
        if message.edit_message_id is not None:
            return await self._edit(chat_id, message.edit_message_id, message, markup)
        editable = (
            message.replace
            and reply_to is not None
            and reply_to.message_id
            and message.text
            and len(message.text) <= TEXT_LIMIT
            and not (message.document or message.photo)
        )
        if editable:
            assert reply_to is not None
            edited_id = await self._try_edit(chat_id, message, reply_to, markup)
            if edited_id is not None:
                return edited_id
        sent: Message | None = None
        file = message.document or message.photo
        if file is not None:
            caption = file.caption or (message.text if len(message.text) <= CAPTION_LIMIT else "")
            rest = message.text if caption != message.text else ""
            if len(caption) > CAPTION_LIMIT:
                rest, caption = "\n\n".join(p for p in (caption, rest) if p), ""
            input_file = InputFile(file.content, filename=file.file_name)
            send_file = self.bot.send_photo if message.photo is not None else self.bot.send_document
            async with self.spacing.turn(chat_id):
                sent = await send_file(
                    chat_id,
                    input_file,
                    caption=caption or None,
                    parse_mode=ParseMode.HTML,
                    reply_markup=None if rest else markup,
                )
            if not rest:
                return str(sent.message_id)
            text = rest
        else:
            text = message.text
        chunks = split_text(text, TEXT_LIMIT)
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            async with self.spacing.turn(chat_id):
                sent = await self.bot.send_message(
                    chat_id,
                    chunk,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup if last else None,
                    link_preview_options=None,
                )
        return str(sent.message_id) if sent else None

    async def download(self, attachment: Attachment) -> bytes:
        file = await self.bot.get_file(attachment.file_id)
        return bytes(await file.download_as_bytearray())


def _seconds(value: object) -> float:
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)  # type: ignore[arg-type]  # PTB gives int or timedelta; float() is the int case


def _maybe_delivered(exc: TelegramError) -> bool:
    """True when the request may have reached Telegram although we got no answer: a read or
    write timeout, or the connection broken after sending. A refused connection, a pool
    timeout and an HTTP error status (5xx included) mean it did not go."""
    if not isinstance(exc, NetworkError) or isinstance(exc, BadRequest):
        return False
    cause = exc.__cause__
    if isinstance(cause, httpx.HTTPError):  # PTB's default backend
        return not isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
    if isinstance(cause, aiohttp.ClientError | TimeoutError):  # ours (telegram_http)
        # Refused, or no connection within the connect/pool timeout: the request never left.
        # Anything else (a read timeout, the total timeout, the server hanging up mid-answer)
        # came after the request was written.
        return not isinstance(cause, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError)
    return False  # Telegram answered, with an error status


def _delivery_error(
    exc: TelegramError, *, permanent: bool = False, retry_after: float | None = None
) -> DeliveryError:
    transient = isinstance(exc, NetworkError) and not isinstance(exc, BadRequest)
    return DeliveryError(
        f"{type(exc).__name__}: {exc.message}",
        permanent=permanent or (not transient and retry_after is None),
        retry_after=retry_after,
    )


class _PauseEvent(asyncio.Event):
    """AIORateLimiter's "no flood pause on" event, counting the pauses."""

    def __init__(self) -> None:
        super().__init__()
        self.pauses = 0

    def clear(self) -> None:
        if self.is_set():
            self.pauses += 1
        super().clear()


class SpacedRateLimiter(AIORateLimiter):
    """PTB's AIORateLimiter plus what it lacks after a 429: a sender that took its turn before
    the flood pause takes a fresh turn after it. PTB lets every queued sender hold its turn
    through the pause, so they all leave the moment it ends — a burst that Telegram answers
    with another 429 and another pause, over and over (measured: 16 messages/s instead of 29).
    Everything else (overall and group limits, retries) is PTB's own."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._retry_after_event = _PauseEvent()
        self._retry_after_event.set()

    async def _run_request(
        self,
        chat: bool,
        group: str | int | bool,
        allow_paid_broadcast: bool,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
    ) -> Any:
        pauses = self._retry_after_event
        assert isinstance(pauses, _PauseEvent)
        # A sender arriving during a pause has not had its turn in it yet: it takes one after.
        seen = pauses.pauses - (0 if pauses.is_set() else 1)

        async def on_fresh_turn(*call_args: Any, **call_kwargs: Any) -> Any:
            nonlocal seen
            while pauses.pauses != seen:  # a pause began while this sender held its turn
                seen = pauses.pauses
                await pauses.wait()
                if chat and self._base_limiter is not None:
                    await self._base_limiter.acquire()
            return await callback(*call_args, **call_kwargs)

        return await super()._run_request(
            chat, group, allow_paid_broadcast, on_fresh_turn, args, kwargs
        )


def rate_limiter(per_second: float, max_retries: int) -> AIORateLimiter:
    """PTB's limiter with a bucket of one: sends leave evenly, 1/per_second apart. Its default
    bucket lets 30 go at once, then refills over the second; Telegram counts by the second and
    answers such bursts with 429, on which the limiter stops every send. 0 lifts the limit."""
    if per_second <= 0:
        return SpacedRateLimiter(overall_max_rate=0, max_retries=max_retries)
    return SpacedRateLimiter(
        overall_max_rate=1, overall_time_period=1 / per_second, max_retries=max_retries
    )


async def handle_update(
    core: BotCore,
    bot: Bot,
    update: Update,
    before_delivery: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Hand one update to the core (`before_delivery`: see `BotCore.process`).

    Nothing is awaited before the core takes the update, so updates handed over in order
    reach the core's chat turns in that order."""
    if update.callback_query is not None:
        # Stop the spinner on the pressed button at once; the answer comes as a message.
        task = asyncio.create_task(_stop_spinner(update))
        _spinners.add(task)
        task.add_done_callback(_spinners.discard)
    event = to_inbound(update, bot_id=bot.token.split(":", 1)[0])
    if event is None:
        log.debug("update=%s ignored (kind not handled)", update.update_id)
        return
    # Invite links (/moi) need the bot's @username, which only Telegram knows (getMe at
    # initialize); handlers must not ask the platform, so the channel hands it over, once.
    if core.services.bot_username is None:
        core.services.bot_username = bot.username
    await core.process(event, before_delivery=before_delivery)
    if event.payload is not None and event.message_id is not None:
        # Old buttons must not linger under the pressed message; done in the background, as
        # it waits its turn in the chat after the answer.
        outlet = core.hub.outlet(CHANNEL)
        if isinstance(outlet, TelegramOutlet):
            task = asyncio.create_task(outlet.clear_keyboard(event.chat_id, event.message_id))
            _spinners.add(task)
            task.add_done_callback(_spinners.discard)


_spinners: set[asyncio.Task[None]] = set()  # strong references to running tasks


async def _stop_spinner(update: Update) -> None:
    assert update.callback_query is not None
    try:
        await update.callback_query.answer()
    except TelegramError as exc:
        log.debug("answerCallbackQuery failed: %s", exc)


class TelegramPoller:
    """Long polling that confirms an update to Telegram only after the core has handled it.

    Telegram keeps an update until a getUpdates call asks for a higher offset. PTB's Updater
    asks for it as soon as it has queued a batch, before handling any of it, so a process
    killed then loses the whole batch. Here the next poll (the confirmation) waits until every
    update of the batch is handled (committed; answers may still be on their way): after a
    crash Telegram delivers the unconfirmed ones again and the core recognises those it had
    already handled (ProcessedUpdate). The updates of a batch are handed to the core
    `concurrent_updates` at a time, first come first served; a chat's updates reach it in order
    (the core then handles and answers them one at a time).
    While Telegram is unreachable (connection refused, 5xx, timeouts) polls are retried after
    pauses doubling from `backoff[0]` to `backoff[1]` seconds.
    """

    def __init__(
        self,
        application: Application,
        core: BotCore,
        *,
        timeout: float = 10.0,
        backoff: tuple[float, float] = (1.0, 30.0),
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        concurrent_updates: int = CONCURRENT_UPDATES,
    ) -> None:
        self.bot = application.bot
        self._slots = asyncio.Semaphore(concurrent_updates)
        self.core = core
        self.timeout = timeout
        self.backoff = backoff
        self._sleep = sleep
        self._offset: int | None = None  # confirmed up to here
        self._fetched: int | None = None  # fetched up to here (confirmed once handled)
        self._webhook_cleared = False
        # Per chat, whether its latest update reached the core yet (keeps a chat in order).
        self._reached: dict[str, asyncio.Future[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        """Poll until cancelled."""
        failures = 0
        while True:
            try:
                if not self._webhook_cleared:
                    await self.bot.delete_webhook()  # a webhook makes getUpdates fail
                    self._webhook_cleared = True
                updates = await self.bot.get_updates(
                    offset=self._offset, timeout=self.timeout, allowed_updates=Update.ALL_TYPES
                )
            except RetryAfter as exc:
                await self._sleep(_seconds(exc.retry_after))
                continue
            except Exception as exc:  # the network, Telegram, or an answer we could not read
                failures += 1
                initial, ceiling = self.backoff
                delay = min(ceiling, initial * 2 ** (failures - 1))
                if isinstance(exc, InvalidToken):
                    log.error("Telegram refused the token; check TELEGRAM_BOT_TOKEN")
                log.warning("getUpdates failed (%s); retrying in %.1f s", _describe(exc), delay)
                await self._sleep(delay)
                continue
            if failures:
                log.info("getUpdates works again after %d failed attempts", failures)
                failures = 0
            if updates:
                self._fetched = updates[-1].update_id + 1
                await asyncio.gather(*(self._dispatch(update) for update in updates))
                self._offset = self._fetched

    async def aclose(self) -> None:
        """After `run` was cancelled: let updates under way finish, then confirm them."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._fetched is not None and self._fetched != self._offset:
            try:
                await self.bot.get_updates(offset=self._fetched, timeout=0)
                self._offset = self._fetched
            except TelegramError as exc:  # they come again after a restart, and are skipped
                log.warning("could not confirm the last updates: %s", _describe(exc))

    def _dispatch(self, update: Update) -> asyncio.Future[None]:
        """Hand an update to the core once its chat's previous one has reached it; returns a
        future resolved when the update is handled."""
        chat = update.effective_chat
        key = str(chat.id) if chat is not None else f"update-{update.update_id}"
        loop = asyncio.get_running_loop()
        handled: asyncio.Future[None] = loop.create_future()
        reached: asyncio.Future[None] = loop.create_future()
        previous = self._reached.get(key)
        self._reached[key] = reached

        async def confirmable() -> None:
            if not handled.done():
                handled.set_result(None)

        async def work() -> None:
            try:
                if previous is not None:
                    await previous
                async with self._slots:
                    # handle_update reaches the core's chat turn before it first awaits, and
                    # from there the core keeps the chat's order.
                    reached.set_result(None)
                    await handle_update(self.core, self.bot, update, confirmable)
            except Exception:  # one bad update must not stop the others
                log.exception("update=%s could not be handled", update.update_id)
            finally:
                for future in (reached, handled):
                    if not future.done():
                        future.set_result(None)
                if self._reached.get(key) is reached:
                    del self._reached[key]

        task = asyncio.create_task(work(), name=f"telegram-update-{update.update_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return handled


# Pauses between start-up attempts while Telegram cannot be reached: doubling up to a minute.
STARTUP_BACKOFF = (1.0, 60.0)


async def reach_telegram(
    bot: Bot,
    *,
    backoff: tuple[float, float] = STARTUP_BACKOFF,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> None:
    """Initialise the bot (getMe), waiting for Telegram as long as it takes: a network blip at
    boot must not stop a server that no supervisor restarts. Each failed try is logged with the
    pause before the next. A refused token (InvalidToken) and a refused request (BadRequest)
    are raised at once: waiting cannot mend them. SIGTERM or Ctrl+C ends the wait."""
    await retry_at_startup(bot.initialize, "getMe", backoff=backoff, sleep=sleep)


async def retry_at_startup(
    call: Callable[[], Awaitable[object]],
    what: str,
    *,
    backoff: tuple[float, float] = STARTUP_BACKOFF,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> None:
    initial, ceiling = backoff
    attempt = 0
    while True:
        try:
            await call()
        except RetryAfter as exc:
            await sleep(_seconds(exc.retry_after))
            continue
        except (InvalidToken, BadRequest):
            raise
        except NetworkError as exc:  # refused, timed out, 5xx
            attempt += 1
            delay = min(ceiling, initial * 2 ** (attempt - 1))
            log.warning(
                "Telegram Bot API unreachable at start-up (%s, attempt %d: %s); retrying in %.0f s",
                what,
                attempt,
                _describe(exc),
                delay,
            )
            await sleep(delay)
            continue
        if attempt:
            log.info("Telegram Bot API reached after %d failed attempts (%s)", attempt, what)
        return


def _describe(exc: BaseException) -> str:
    message = exc.message if isinstance(exc, TelegramError) else str(exc)
    return f"{type(exc).__name__}: {message}"


def build_application(
    settings: Settings,
    core: BotCore,
    *,
    max_retries: int = 3,
    overall_max_rate: float | None = None,
    concurrent_updates: int = CONCURRENT_UPDATES,
) -> Application:
    """A PTB Application whose bot sends for the core (its outlet is registered on the hub) and
    whose every update is handed to the core. Long polling feeds the core through
    `TelegramPoller`, webhook mode through the Application (`telegram_webhook`).

    `overall_max_rate` overrides TELEGRAM_MAX_MESSAGES_PER_SECOND (0 = no limit, for a
    benchmark against the fake Bot API). `concurrent_updates`: see CONCURRENT_UPDATES.
    """
    per_second = (
        settings.telegram_max_messages_per_second if overall_max_rate is None else overall_max_rate
    )
    if settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    builder: ApplicationBuilder = (
        Application.builder()
        .token(settings.telegram_bot_token.get_secret_value())
        .rate_limiter(rate_limiter(per_second, max_retries))
        .concurrent_updates(concurrent_updates)
        .request(AiohttpRequest())
        # getUpdates long-polls on a session and connection of its own, as PTB does by default.
        .get_updates_request(AiohttpRequest(connection_pool_size=1))
    )
    if settings.telegram_base_url:
        # Settings accept ".../bot" too (the Bot API convention); PTB wants the server.
        base = settings.telegram_base_url.rstrip("/").removesuffix("/bot")
        builder = builder.base_url(f"{base}/bot").base_file_url(f"{base}/file/bot")
    application = builder.build()
    core.hub.register(
        TelegramOutlet(application.bot, chat_spacing=settings.telegram_chat_spacing_seconds)
    )

    async def on_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await handle_update(core, context.bot, update)

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        update_id = update.update_id if isinstance(update, Update) else None
        log.error("update=%s error outside the core: %s", update_id, context.error)

    application.add_handler(TypeHandler(Update, on_update))
    application.add_error_handler(on_error)
    return application
