"""The hub: the channels this process serves, by name, and delivery of outbound messages.

A channel registers an `Outlet` (send a message to a chat, download a file a user sent);
replies and notifications to anyone, on any channel, go through `Hub.deliver`. Adding a
platform means adding an Outlet, not editing the core.

Some platforms let a bot write to a user only for a while after the user's last message
(`Outlet.reply_window`); `Hub.can_reach` answers "may we write to this member now?" from the
member's `last_seen_at`, so scheduled sends (reminders, broadcasts, digests) skip and report
such members instead of failing at the platform.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot import catalog
from bot.events import Attachment, Delivery, Inbound, Outbound

log = logging.getLogger(__name__)


class DeliveryError(Exception):
    """A send failed. `permanent` means retrying will not help (the user blocked the bot).
    `uncertain` means the request may have reached the platform all the same (a read timeout,
    a connection dropped mid-answer): resending could deliver the message twice."""

    def __init__(
        self,
        reason: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
        uncertain: bool = False,
    ):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after
        self.uncertain = uncertain


class Outlet(Protocol):
    """A channel's sending side.

    An outlet may also define `reply_window: timedelta | None`: how long after a user's last
    message the platform accepts messages to that user (None, or no attribute: any time).
    Read it through `Hub.reply_window` / `Hub.can_reach`, which supply the default.
    `has_buttons: bool` (default True) says whether people press buttons there or type the
    number of a choice; `receives_documents: bool` (default True) whether they can send the bot
    a document. Texts are worded to match (`Hub.wording`, `catalog.style`).
    """

    name: str

    async def send(
        self, chat_id: str, message: Outbound, reply_to: Inbound | None = None
    ) -> str | None:
        """Send one message; return the platform's message id. Raise DeliveryError on failure.
        With `message.edit_message_id` set, edit that earlier message instead (or, on a
        platform that cannot edit, send the text as a new message)."""
        ...

    async def download(self, attachment: Attachment) -> bytes:
        """The bytes of a file a user sent on this channel."""
        ...


@dataclass(slots=True)
class DeliveryResult:
    delivery: Delivery
    message_id: str | None = None
    error: DeliveryError | None = None


class Hub:
    def __init__(
        self,
        retry_delays: tuple[float, ...] = (1, 2, 4, 8, 15, 30, 60),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._outlets: dict[str, Outlet] = {}
        # The web desk answers at PUBLIC_URL (set by bot.runtime.build_core): people who cannot
        # send a document are pointed to its upload pages (`catalog.WEB_DESK`).
        self.web_desk_public = False
        self.retry_delays = retry_delays
        self.sleep = sleep

    def register(self, outlet: Outlet) -> None:
        self._outlets[outlet.name] = outlet

    def outlet(self, channel: str) -> Outlet:
        try:
            return self._outlets[channel]
        except KeyError:
            raise DeliveryError(f"channel {channel} is not served by this process") from None

    @property
    def channels(self) -> list[str]:
        return list(self._outlets)

    def _declared(self, channel: str, name: str, default: Any) -> Any:
        """What the channel's outlet declares as `name` (an optional class or instance
        attribute); `default` when it declares nothing or the channel is not served."""
        return getattr(self._outlets.get(channel), name, default)

    def reply_window(self, channel: str) -> timedelta | None:
        """How long after a user's last message the channel lets the bot write to them."""
        window: timedelta | None = self._declared(channel, "reply_window", None)
        return window

    def has_buttons(self, channel: str) -> bool:
        """Whether people on `channel` press buttons (else they type a choice's number)."""
        return bool(self._declared(channel, "has_buttons", True))

    def spaces_chats(self, channel: str) -> bool:
        """Whether the channel itself keeps requests to one chat apart (Telegram's
        `ChatSpacing`, which sees answers as well as pushed messages): pushed sends to it are
        then not paced a second time by `bot.delivery.ChatPacer`."""
        return bool(self._declared(channel, "spaces_chats", False))

    def receives_documents(self, channel: str) -> bool:
        """Whether people on `channel` can send the bot a document (not just a photo)."""
        return bool(self._declared(channel, "receives_documents", True))

    def wording(self, channel: str) -> tuple[str, ...]:
        """The catalog variants that fit `channel`, most specific first (`catalog.style`)."""
        variants: list[str] = []
        if not self.receives_documents(channel):
            if self.web_desk_public:
                variants.append(catalog.WEB_DESK)
            variants.append(catalog.NO_FILES)
        if not self.has_buttons(channel):
            variants.append(catalog.TYPED)
        return tuple(variants)

    @contextmanager
    def worded_for(self, channel: str) -> Iterator[None]:
        """Texts built inside the block are worded for a person on `channel`: the one place
        that turns a channel into catalog variants for a message to someone other than the
        person being answered (notices, reminders, digests, broadcasts, ballots)."""
        with catalog.style(*self.wording(channel)):
            yield

    def can_reach(self, channel: str, last_seen_at: datetime | None, now: datetime) -> bool:
        """Whether a message to a user last seen at `last_seen_at` is allowed now.

        False only when the channel has a reply window and the user has not written within it
        (or never wrote): callers skip that user and report it rather than send and fail.
        """
        window = self.reply_window(channel)
        if window is None:
            return True
        return last_seen_at is not None and now - last_seen_at <= window

    async def send(self, delivery: Delivery) -> DeliveryResult:
        try:
            outlet = self.outlet(delivery.address.channel)
            message_id = await outlet.send(
                delivery.address.chat_id, delivery.message, delivery.reply_to
            )
            return DeliveryResult(delivery, message_id=message_id)
        except DeliveryError as exc:
            log.warning(
                "delivery to %s:%s failed: %s",
                delivery.address.channel,
                delivery.address.chat_id,
                exc.reason,
            )
            return DeliveryResult(delivery, error=exc)

    async def deliver(self, deliveries: list[Delivery]) -> list[DeliveryResult]:
        """Send in order (a chat's messages must not overtake each other).

        An answer is not dropped because the platform is briefly unreachable: a send that
        failed for a passing reason (connection refused, 5xx, 429) is tried again after
        `retry_delays` (about two minutes in all), honouring a RetryAfter. A send that timed
        out may have arrived, so a retried answer can in rare cases show twice; losing it would
        be worse. A permanent failure (the user blocked the bot) is not retried.
        """
        results = []
        deliveries = coalesce(
            deliveries, lambda channel: getattr(self.outlet(channel), "joins_messages", False)
        )
        for delivery in deliveries:
            result = await self.send(delivery)
            for delay in self.retry_delays:
                if result.error is None or result.error.permanent:
                    break
                await self.sleep(max(delay, result.error.retry_after or 0))
                result = await self.send(delivery)
            results.append(result)
        return results

    async def download(self, channel: str, attachment: Attachment) -> bytes:
        return await self.outlet(channel).download(attachment)


# Telegram counts messages per chat (about one a second): a note and the question after it go
# out as one message. Well under the 4,096-character limit, so a join never needs splitting.
JOINED_TEXT_LIMIT = 3500


def coalesce(deliveries: list[Delivery], joins: Callable[[str], bool]) -> list[Delivery]:
    """One update's answers to one chat, joined where nothing is lost: a plain text (no
    buttons, file, edit or replace) is put in front of the next message to the same chat
    when that one is a new text message too. Channels that do not `join` keep them apart."""
    result: list[Delivery] = []
    for delivery in deliveries:
        previous = result[-1] if result else None
        if (
            previous is not None
            and joins(delivery.address.channel)
            and previous.address == delivery.address
            and previous.reply_to is delivery.reply_to
            and _plain(previous.message)
            and not (
                delivery.message.document
                or delivery.message.photo
                or delivery.message.edit_message_id is not None
                or delivery.message.replace
            )
            and len(previous.message.text) + len(delivery.message.text) + 2 <= JOINED_TEXT_LIMIT
        ):
            joined = dataclasses.replace(
                delivery.message,
                text="\n\n".join(t for t in (previous.message.text, delivery.message.text) if t),
            )
            result[-1] = dataclasses.replace(delivery, message=joined)
            continue
        result.append(delivery)
    return result


def _plain(message: Outbound) -> bool:
    return not (
        message.buttons
        or message.document
        or message.photo
        or message.replace
        or message.edit_message_id is not None
    )
