"""Broadcasts (thông báo): who receives one, sending it to all of them, and what came of it.

`select_recipients` turns an audience — every approved officer, one bloc (khối thi đua), or
the units still missing a deadline — into plain recipients (no ORM rows), so the sending can
run outside any database transaction. Members who blocked the bot, and members a platform
will not let the bot write to now (Zalo's reply window, `Hub.can_reach`), are set aside and
reported instead of being sent to. `send_broadcast` delivers through the hub with a few
sends in flight (the channel's rate limiter sets the pace), reports progress through a
callback, retries a send only when the platform said it was *not* delivered (a rate limit),
never after an uncertain failure, so nobody gets the message twice. `mark_unreachable`
records the members whose platform refused for good (HTTP 403: the user blocked the bot).
No texts, no catalog here: the message arrives already rendered.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from bot.events import Address, Delivery, Outbound
from bot.hub import Hub
from domain.campaigns import missing_units
from models.campaigns import Deadline
from models.units import Member, MemberStatus, Unit

log = logging.getLogger(__name__)

CONCURRENCY = 8
MAX_RATE_RETRIES = 3


class AudienceKind:
    ALL = "all"  # every approved officer of an active unit
    BLOC = "bloc"  # the officers of one bloc's active units
    MISSING = "missing"  # the officers of units that have not handed in a deadline's report


@dataclass(frozen=True, slots=True)
class Audience:
    kind: str
    bloc: str | None = None
    deadline_id: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "bloc": self.bloc, "deadline_id": self.deadline_id}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Audience:
        deadline_id = data.get("deadline_id")
        bloc = data.get("bloc")
        return cls(
            kind=str(data["kind"]),
            bloc=str(bloc) if bloc is not None else None,
            deadline_id=int(deadline_id) if isinstance(deadline_id, int | str) else None,
        )


@dataclass(frozen=True, slots=True)
class Recipient:
    member_id: int
    channel: str
    chat_id: str
    name: str
    unit_id: int
    unit_name: str


@dataclass(slots=True)
class Selection:
    recipients: list[Recipient]
    units: int  # units those recipients belong to
    skipped_unreachable: int  # members who blocked the bot and have not written since
    # Members the platform does not let the bot write to now (silent too long on Zalo).
    out_of_window: list[Recipient] = field(default_factory=list)


# "May the bot write to this member now?" — Hub.can_reach, with the time bound in.
Reachable = Callable[[Member], bool]


def blocs(*, session: Session) -> list[str]:
    """Blocs of active units, alphabetically."""
    rows = session.exec(
        select(Unit.bloc).where(Unit.active == True, col(Unit.bloc).is_not(None)).distinct()  # noqa: E712
    ).all()
    return sorted(b for b in rows if b)


def _reachable(member: Member) -> bool:
    """Blocked once, skipped — unless the user wrote to the bot since (they unblocked it)."""
    if member.unreachable_at is None:
        return True
    return member.last_seen_at is not None and member.last_seen_at > member.unreachable_at


def audience_units(audience: Audience, *, session: Session) -> list[Unit]:
    if audience.kind == AudienceKind.MISSING:
        deadline = session.get(Deadline, audience.deadline_id) if audience.deadline_id else None
        return missing_units(session, deadline) if deadline is not None else []
    query = select(Unit).where(Unit.active == True)  # noqa: E712
    if audience.kind == AudienceKind.BLOC:
        query = query.where(Unit.bloc == audience.bloc)
    elif audience.kind != AudienceKind.ALL:
        raise ValueError(f"unknown audience {audience.kind!r}")
    return list(session.exec(query.order_by(col(Unit.code))).all())


def select_recipients(
    audience: Audience, *, session: Session, reachable: Reachable | None = None
) -> Selection:
    """The approved members of the audience's units, each once, reachable ones only."""
    units = {u.id: u for u in audience_units(audience, session=session) if u.id is not None}
    if not units:
        return Selection([], 0, 0)
    members = session.exec(
        select(Member)
        .where(col(Member.unit_id).in_(list(units)), Member.status == MemberStatus.APPROVED)
        .order_by(col(Member.unit_id), col(Member.id))
    ).all()
    recipients: list[Recipient] = []
    out_of_window: list[Recipient] = []
    skipped = 0
    for member in members:
        if not _reachable(member):
            skipped += 1
            continue
        assert member.id is not None and member.unit_id is not None
        recipient = Recipient(
            member_id=member.id,
            channel=member.channel,
            chat_id=member.chat_id,
            name=member.display_name,
            unit_id=member.unit_id,
            unit_name=units[member.unit_id].name,
        )
        if reachable is not None and not reachable(member):
            out_of_window.append(recipient)
        else:
            recipients.append(recipient)
    unit_count = len({r.unit_id for r in recipients})
    return Selection(recipients, unit_count, skipped, out_of_window)


@dataclass(frozen=True, slots=True)
class Failure:
    recipient: Recipient
    reason: str
    permanent: bool


@dataclass(slots=True)
class BroadcastResult:
    total: int
    sent: int = 0
    failures: list[Failure] = field(default_factory=list)
    message_ids: dict[int, str | None] = field(default_factory=dict)

    @property
    def done(self) -> int:
        return self.sent + len(self.failures)

    def reasons(self) -> Counter[str]:
        return Counter(f.reason for f in self.failures)


Progress = Callable[[int, int], Awaitable[None]]
Sleep = Callable[[float], Awaitable[None]]


async def send_broadcast(
    hub: Hub,
    recipients: Sequence[Recipient],
    message: Outbound,
    *,
    progress: Progress | None = None,
    concurrency: int = CONCURRENCY,
    sleep: Sleep = asyncio.sleep,
) -> BroadcastResult:
    """Send `message` to every recipient once; `progress(done, total)` after each one."""
    result = BroadcastResult(total=len(recipients))
    queue: asyncio.Queue[Recipient] = asyncio.Queue()
    for recipient in recipients:
        queue.put_nowait(recipient)

    async def deliver(recipient: Recipient) -> None:
        delivery = Delivery(Address(recipient.channel, recipient.chat_id), message)
        for _attempt in range(MAX_RATE_RETRIES + 1):
            outcome = await hub.send(delivery)
            error = outcome.error
            if error is None:
                result.sent += 1
                result.message_ids[recipient.member_id] = outcome.message_id
                return
            # Only a rate limit says for sure that nothing was delivered: wait and retry.
            if error.retry_after is None:
                break
            await sleep(error.retry_after)
        assert error is not None
        result.failures.append(Failure(recipient, error.reason, error.permanent))

    async def worker() -> None:
        while not queue.empty():
            recipient = queue.get_nowait()
            try:
                await deliver(recipient)
            except Exception as exc:  # an outlet bug must not stop the others
                log.exception("broadcast to member %s failed", recipient.member_id)
                result.failures.append(Failure(recipient, type(exc).__name__, False))
            if progress is not None:
                await progress(result.done, result.total)

    await asyncio.gather(*(worker() for _ in range(max(1, min(concurrency, len(recipients))))))
    return result


def mark_unreachable(result: BroadcastResult, *, session: Session, now: datetime) -> int:
    """Record members the platform refused for good; they are skipped from now on."""
    ids = [f.recipient.member_id for f in result.failures if f.permanent]
    if not ids:
        return 0
    members = session.exec(select(Member).where(col(Member.id).in_(ids))).all()
    for member in members:
        member.unreachable_at = now
        member.updated_at = now
    return len(members)


class ProgressMessage:
    """One message edited as a broadcast goes ("đã gửi 120/143"), at most every
    `min_interval` seconds, so the edits themselves stay well inside the rate limits."""

    def __init__(
        self,
        hub: Hub,
        address: Address,
        render: Callable[[int, int], str],
        *,
        min_interval: float = 2.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.hub = hub
        self.address = address
        self.render = render
        self.min_interval = min_interval
        self.monotonic = monotonic
        self.message_id: str | None = None
        self.edits = 0
        self._last = 0.0
        self._lock = asyncio.Lock()
        self._shown: tuple[int, int] | None = None

    async def start(self, total: int) -> None:
        outcome = await self.hub.send(Delivery(self.address, Outbound(self.render(0, total))))
        self.message_id = outcome.message_id
        self._last = self.monotonic()
        self._shown = (0, total)

    async def update(self, done: int, total: int) -> None:
        """The progress callback: edits when enough time passed and no edit is under way."""
        if self._lock.locked() or self.monotonic() - self._last < self.min_interval:
            return
        async with self._lock:
            await self._edit(done, total)

    async def finish(self, done: int, total: int) -> None:
        """The final count; waits for an edit under way, so the last one wins."""
        async with self._lock:
            await self._edit(done, total)

    async def _edit(self, done: int, total: int) -> None:
        if self.message_id is None or self._shown == (done, total):
            return
        message = Outbound(self.render(done, total), edit_message_id=self.message_id)
        outcome = await self.hub.send(Delivery(self.address, message))
        self._last = self.monotonic()
        if outcome.error is None:
            self.edits += 1
            self._shown = (done, total)
