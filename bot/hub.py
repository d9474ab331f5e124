"""The hub: the channels this process serves, by name, and delivery of outbound messages.

A channel registers an `Outlet` (send a message to a chat, download a file a user sent);
replies and notifications to anyone, on any channel, go through `Hub.deliver`. Adding a
platform means adding an Outlet, not editing the core.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

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
    name: str

    async def send(
        self, chat_id: str, message: Outbound, reply_to: Inbound | None = None
    ) -> str | None:
        """Send one message; return the platform's message id. Raise DeliveryError on failure."""
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
    def __init__(self) -> None:
        self._outlets: dict[str, Outlet] = {}

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
        """Send in order (a chat's messages must not overtake each other)."""
        return [await self.send(delivery) for delivery in deliveries]

    async def download(self, channel: str, attachment: Attachment) -> bytes:
        return await self.outlet(channel).download(attachment)
