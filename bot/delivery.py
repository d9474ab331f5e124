"""The delivery service: how every message that is not the direct answer to an update goes out
— reminders, digests, broadcasts, notices to other members, the admin's summaries.

A handler decides *what* to say (a renderer registered at build time, see `PushTexts`); this
module decides *when* and *how fast*, with one set of rules for every kind of pushed message:

- Pacing. Sends to one chat stay `ChatPacer.spacing` seconds apart, except on a channel that
  spaces its own chats (`Hub.spaces_chats`: Telegram, whose `ChatSpacing` also sees the
  answers, TELEGRAM_CHAT_SPACING_SECONDS) — one pacer per chat, never two. The overall
  ceiling is the channel's own limiter (Telegram's AIORateLimiter, ~30 messages/s).
  Interactive answers do not come through here: they go straight to the hub after their
  update, so bulk sends never queue in front of them.
- Outcomes. `push` returns one of three `PushStatus`es and never guesses:
  `sent`; `failed` — certainly not delivered (the user blocked the bot: `permanent`; or the
  platform refused the request: connection refused, an HTTP 5xx, a rate limit, once the
  retries are used up); `unknown` — the request may have reached the platform although no
  answer came back (a timeout after the request left). Platforms have no idempotency key, so
  an unknown outcome is never sent again: callers report it (the admins' digest, the
  broadcast summary), never as a failure.
- Retries. A send that certainly did not go is tried again after `retry_delays` (1 s doubling
  to a minute, about six minutes in all in production: enough to ride out an outage of
  minutes), honouring a RetryAfter. Callers that keep their own persisted backoff (the
  reminder ledger) push with `retry=False` and record `failed` as "retry later".

The persisted side — claiming each send once, marking it `sending` before the send, recording
the outcome, resuming after a crash — is the caller's ledger (`domain.ledger` for reminders,
`bot.broadcasts.Ledger` for broadcasts), all of it written outside updates with
`bot.db.outside_update`. This module must not import handlers/ or render text.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from bot.events import Delivery, Outbound
from bot.hub import Hub

if TYPE_CHECKING:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from sqlmodel import Session

    from bot.broadcasts import BroadcastTexts
    from domain.digest import Digest
    from models.campaigns import Campaign, Deadline
    from models.council import CouncilRound
    from models.units import Member

log = logging.getLogger("thidua.delivery")

# Waits between tries of a send that certainly did not go: about six minutes in all.
DEFAULT_RETRY_DELAYS: tuple[float, ...] = (1, 2, 4, 8, 15, 30, 60, 60, 60, 60, 60)

Sleep = Callable[[float], Awaitable[object]]


class PushStatus(StrEnum):
    SENT = "sent"
    FAILED = "failed"  # certainly not delivered (see `PushOutcome.permanent`)
    UNKNOWN = "unknown"  # may or may not have arrived: never resent, reported


@dataclass(frozen=True, slots=True)
class PushOutcome:
    status: PushStatus
    message_id: str | None = None
    reason: str = ""
    permanent: bool = False  # retrying cannot help: the user blocked the bot
    retry_after: float | None = None  # the platform's own "try again in" of the last try
    attempts: int = 1

    @property
    def sent(self) -> bool:
        return self.status is PushStatus.SENT


class ChatPacer:
    """Keeps sends to one chat at least `spacing` seconds apart; other chats are not held up.

    Each send reserves the next free moment of its chat, so concurrent senders queue in order
    without a lock. `spaced_elsewhere(channel)` true: that channel paces its chats itself
    (`Hub.spaces_chats`), and this pacer lets its sends through."""

    def __init__(
        self,
        spacing: float,
        *,
        spaced_elsewhere: Callable[[str], bool] = lambda channel: False,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.spacing = spacing
        self.spaced_elsewhere = spaced_elsewhere
        self._monotonic = monotonic
        self._sleep = sleep
        self._next: dict[tuple[str, str], float] = {}

    async def wait(self, chat: tuple[str, str]) -> None:
        if self.spacing <= 0 or self.spaced_elsewhere(chat[0]):
            return
        now = self._monotonic()
        start = max(now, self._next.get(chat, now))
        self._next[chat] = start + self.spacing
        if len(self._next) > 50_000:
            self._next = {k: v for k, v in self._next.items() if v > now}
        if start > now:
            await self._sleep(start - now)


class DeliveryService:
    """Pushes messages through the hub with the rules above; one per process (`Services`)."""

    def __init__(
        self,
        hub: Hub,
        *,
        pacer: ChatPacer | None = None,
        retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.hub = hub
        self.pacer = pacer or ChatPacer(0)
        self.retry_delays = retry_delays
        self.sleep = sleep

    async def push(
        self, delivery: Delivery, *, retry: bool = True, pace: bool = True
    ) -> PushOutcome:
        """Send one pushed message; see the module docstring for what each outcome means."""
        address = delivery.address
        if address.channel not in self.hub.channels:
            # Nothing to retry: this process does not serve the member's platform.
            return PushOutcome(PushStatus.FAILED, reason=f"channel {address.channel} not served")
        if pace:
            await self.pacer.wait((address.channel, address.chat_id))
        delays = iter(self.retry_delays if retry else ())
        attempts = 0
        while True:
            attempts += 1
            try:
                result = await self.hub.send(delivery)
            except Exception as exc:  # not a DeliveryError: nobody can tell whether it went
                log.exception("push to %s:%s raised", address.channel, address.chat_id)
                reason = f"{type(exc).__name__}: {exc}"
                return PushOutcome(PushStatus.UNKNOWN, reason=reason, attempts=attempts)
            error = result.error
            if error is None:
                return PushOutcome(PushStatus.SENT, result.message_id, attempts=attempts)
            if error.permanent or error.uncertain:
                status = PushStatus.FAILED if error.permanent else PushStatus.UNKNOWN
                return PushOutcome(
                    status, reason=error.reason, permanent=error.permanent, attempts=attempts
                )
            delay = next(delays, None)
            if delay is None:
                return PushOutcome(
                    PushStatus.FAILED,
                    reason=error.reason,
                    retry_after=error.retry_after,
                    attempts=attempts,
                )
            await self.sleep(max(delay, error.retry_after or 0))


# --- how pushed messages are worded: registered by handlers at build time ---------------------
class ReminderRenderer(Protocol):
    def __call__(
        self,
        *,
        deadline: Deadline,
        campaign: Campaign,
        unit_name: str,
        now: datetime,
        reminder_slot: str,
        organiser: str | None = None,
    ) -> Outbound: ...


class DigestRenderer(Protocol):
    def __call__(self, digest: Digest, *, now: datetime, tz: ZoneInfo) -> Outbound: ...


@dataclass(frozen=True, slots=True)
class CouncilTexts:
    """The council's pushed messages: the tally of a round closed by time (to each admin) and
    the reminder to a member who has not voted on every nominee."""

    # Each admin with a function building their message, called in their channel's wording.
    closed_messages: Callable[[Session, CouncilRound], list[tuple[Member, Callable[[], Outbound]]]]
    reminder_message: Callable[[Session, CouncilRound, Member, ZoneInfo], Outbound]


@dataclass(frozen=True, slots=True)
class PushTexts:
    """How each kind of pushed message is worded: given by handlers/ at build time (the
    composition root, bot/runtime.py), so nothing else in bot/ imports handlers/."""

    reminder: ReminderRenderer
    digest: DigestRenderer
    broadcast: BroadcastTexts
    council: CouncilTexts | None = None
