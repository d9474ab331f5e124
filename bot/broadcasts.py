"""Sending a recorded broadcast (thông báo): every pending recipient once, through the delivery
service, one progress message edited as it goes, then the admin's summary; and resuming the
broadcasts a crash cut off.

Who receives a broadcast and how its rows are written is `domain.broadcast`; how its messages
are worded is given at build time (`BroadcastTexts`, from handlers/broadcasts.py through the
composition root). A send that certainly did not go (connection refused, HTTP 5xx, a rate
limit) is retried with backoff through an outage of minutes (`DeliveryService.push`); one whose
outcome is unknown (a timeout after the request left) stays `sending` — never resent, named in
the summary as unknown, never as failed. The summary and the "resumed" notice are retried the
same way, so they arrive once the platform is back. Database work runs outside any update
(`bot.db.outside_update`).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.clock import Clock
from bot.db import outside_update
from bot.delivery import DeliveryService, PushStatus
from bot.events import Address, Delivery, Outbound
from bot.hub import Hub
from bot.scheduler import IntervalJob
from domain import audit
from domain.broadcast import (
    BroadcastReport,
    Failure,
    Plan,
    Recipient,
    RecipientOutcome,
    claim_unfinished,
    finish_broadcast,
    load_plan,
    write_ledger,
)
from models.units import Member

if TYPE_CHECKING:
    from bot.core import BotCore

log = logging.getLogger("thidua.admin")

CONCURRENCY = 8
T = TypeVar("T")

# Resuming broadcasts (see `BroadcastWatch`). A sending process writes its broadcast's
# heartbeat with every send, several times a second.
BROADCAST_STARTUP_WAIT = 15.0  # seconds: a live sender elsewhere writes within this
BROADCAST_CHECK_EVERY = 60.0  # seconds between checks for broadcasts whose sender went silent
BROADCAST_STALE = timedelta(minutes=2)  # silent this long: its sender is gone


@dataclass(frozen=True, slots=True)
class BroadcastTexts:
    """How a broadcast's messages are worded (renderers given by handlers/ at build time)."""

    message: Callable[[str], Outbound]  # the admin's text as officers see it
    progress: Callable[[int, int], str]  # "đã gửi 120/143"
    resumed: Callable[[Plan], str]  # the notice that a restart resumed it
    summary: Callable[[BroadcastReport], str]


async def in_thread(engine: Engine, work: Callable[[Session], T]) -> T:
    return await outside_update(engine, work, what="broadcast transaction")


# --- one run ---------------------------------------------------------------------------------
@dataclass(slots=True)
class BroadcastResult:
    total: int
    sent: int = 0
    failures: list[Failure] = field(default_factory=list)
    unknown: list[Recipient] = field(default_factory=list)  # may or may not have arrived
    message_ids: dict[int, str | None] = field(default_factory=dict)

    @property
    def done(self) -> int:
        return self.sent + len(self.failures) + len(self.unknown)

    def reasons(self) -> Counter[str]:
        return Counter(f.reason for f in self.failures)


Progress = Callable[[int, int], Awaitable[None]]


async def send_broadcast(
    delivery: DeliveryService,
    recipients: Sequence[Recipient],
    message: Outbound | Callable[[], Outbound],
    *,
    progress: Progress | None = None,
    concurrency: int | None = None,
    ledger: Ledger | None = None,
) -> BroadcastResult:
    """Send `message` to every recipient once; `progress(done, total)` after each one.
    Given as a function, the message is built for each recipient in the wording of their
    channel (`Hub.worded_for`).

    With a `ledger`, each recipient is marked `sending` (committed) before its send and its
    outcome recorded; one the ledger refuses (another run took the broadcast over) is left to
    that run and not counted here. An unknown outcome is left `sending`."""
    concurrency = CONCURRENCY if concurrency is None else concurrency
    result = BroadcastResult(total=len(recipients))
    queue: asyncio.Queue[Recipient] = asyncio.Queue()
    for recipient in recipients:
        queue.put_nowait(recipient)

    async def deliver(recipient: Recipient) -> None:
        address = Address(recipient.channel, recipient.chat_id)
        if callable(message):
            with delivery.hub.worded_for(recipient.channel):
                built = message()
        else:
            built = message
        outcome = await delivery.push(Delivery(address, built))
        if outcome.status is PushStatus.SENT:
            result.sent += 1
            result.message_ids[recipient.member_id] = outcome.message_id
            if ledger is not None:
                ledger.sent(recipient, outcome.message_id)
        elif outcome.status is PushStatus.UNKNOWN:
            log.warning("broadcast to member %s: outcome unknown", recipient.member_id)
            result.unknown.append(recipient)
        else:
            failure = Failure(recipient, outcome.reason, outcome.permanent)
            result.failures.append(failure)
            if ledger is not None:
                ledger.failed(failure)

    async def worker() -> None:
        while not queue.empty():
            recipient = queue.get_nowait()
            if ledger is not None and not await ledger.enter(recipient):
                result.total -= 1  # another run's now
                continue
            await deliver(recipient)
            if progress is not None:
                await progress(result.done, result.total)

    await asyncio.gather(*(worker() for _ in range(max(1, min(concurrency, len(recipients))))))
    return result


class ProgressMessage:
    """One message edited as a broadcast goes ("đã gửi 120/143"), at most every
    `min_interval` seconds, so the edits themselves stay well inside the rate limits. The first
    message is pushed (retried through an outage); edits are best effort."""

    def __init__(
        self,
        hub: Hub,
        address: Address,
        render: Callable[[int, int], str],
        *,
        min_interval: float = 2.0,
        monotonic: Callable[[], float] = time.monotonic,
        delivery: DeliveryService | None = None,
    ) -> None:
        self.hub = hub
        self.delivery = delivery or DeliveryService(hub)
        self.address = address
        self.render = render
        self.min_interval = min_interval
        self.monotonic = monotonic
        self.message_id: str | None = None
        self.edits = 0
        self._last = 0.0
        self._lock = asyncio.Lock()
        self._shown: tuple[int, int] | None = None

    async def start(self, total: int, *, done: int = 0) -> None:
        message = Outbound(self.render(done, total))
        outcome = await self.delivery.push(Delivery(self.address, message), pace=False)
        self.message_id = outcome.message_id
        self._last = self.monotonic()
        self._shown = (done, total)

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


class Ledger:
    """A broadcast's delivery log while a run sends it: `enter` marks a recipient `sending`
    (committed) just before the send, `sent`/`failed` note outcomes, written with the next
    marks — one transaction for all the senders that arrive together — or by `flush`."""

    def __init__(
        self, engine: Engine, broadcast_id: int, *, owner: str, now: Callable[[], datetime]
    ) -> None:
        self.engine = engine
        self.broadcast_id = broadcast_id
        self.owner = owner
        self.now = now
        self.lost = False  # another run took the broadcast over
        self._outcomes: list[RecipientOutcome] = []
        self._waiting: list[tuple[int, asyncio.Future[bool]]] = []
        self._writer: asyncio.Task[None] | None = None

    def sent(self, recipient: Recipient, message_id: str | None) -> None:
        self._outcomes.append((recipient, message_id, None))

    def failed(self, failure: Failure) -> None:
        self._outcomes.append((failure.recipient, None, failure))

    async def enter(self, recipient: Recipient) -> bool:
        """True when the recipient is now `sending` and this run must send to them."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((recipient.member_id, future))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_marks())
        return await future

    async def flush(self) -> None:
        """Write the outcomes not written yet (the run's last sends)."""
        while self._writer is not None:
            await asyncio.wait([self._writer])
        outcomes, self._outcomes = self._outcomes, []
        await in_thread(self.engine, functools.partial(self._write, outcomes=outcomes))

    async def _write_marks(self) -> None:
        try:
            await asyncio.sleep(0)  # senders arriving together join this transaction
            while self._waiting:
                waiting, self._waiting = self._waiting, []
                outcomes, self._outcomes = self._outcomes, []
                ids = [member_id for member_id, _ in waiting]
                try:
                    write = functools.partial(self._write, outcomes=outcomes, member_ids=ids)
                    marked = await in_thread(self.engine, write)
                except Exception as exc:
                    for _, future in waiting:
                        future.set_exception(exc)
                    continue
                for member_id, future in waiting:
                    future.set_result(member_id in marked)
        finally:
            self._writer = None

    def _write(
        self,
        session: Session,
        outcomes: Sequence[RecipientOutcome],
        member_ids: Sequence[int] = (),
    ) -> set[int]:
        owned, marked = write_ledger(
            session,
            self.broadcast_id,
            owner=self.owner,
            outcomes=outcomes,
            member_ids=member_ids,
            now=self.now(),
        )
        if not owned:
            self.lost = True
        return marked


async def run_broadcast(
    delivery: DeliveryService,
    engine: Engine,
    clock: Clock,
    texts: BroadcastTexts,
    broadcast_id: int,
    owner: str,
) -> None:
    """Send a recorded broadcast to the recipients still pending, one progress message
    edited as it goes, then the summary; run by the core after the confirming update committed
    (`ctx.defer`), or by `resume_broadcasts` after a restart.

    Why a background task and not the update itself: 300 messages at Telegram's 30/s take
    ten seconds; done inside the update they would hold its database transaction (and on
    SQLite the write lock) and keep every other user waiting. Each send is recorded
    (`Ledger`) in short transactions of its own, in a worker thread.
    """
    plan = await in_thread(engine, lambda s: load_plan(s, broadcast_id))
    # The admin's own notices in the wording of the admin's channel; each officer's copy in
    # that of the officer's (`send_broadcast`).
    with delivery.hub.worded_for(plan.admin.channel):
        await _run_broadcast(delivery, engine, clock, texts, broadcast_id, owner, plan)


async def _run_broadcast(
    delivery: DeliveryService,
    engine: Engine,
    clock: Clock,
    texts: BroadcastTexts,
    broadcast_id: int,
    owner: str,
    plan: Plan,
) -> None:
    admin = Address(plan.admin.channel, plan.admin.chat_id)
    message = functools.partial(texts.message, plan.text)
    if plan.resumed:
        await _push_to_admin(delivery, admin, texts.resumed(plan))
    progress = ProgressMessage(delivery.hub, admin, texts.progress, delivery=delivery)
    await progress.start(plan.total, done=plan.done)
    ledger = Ledger(engine, broadcast_id, owner=owner, now=clock.now)

    async def advance(done: int, _total: int) -> None:
        await progress.update(plan.done + done, plan.total)

    result = await send_broadcast(delivery, plan.pending, message, progress=advance, ledger=ledger)
    await ledger.flush()
    if ledger.lost:
        log.info("broadcast %s was taken over by another process", broadcast_id)
        return
    await progress.finish(plan.done + result.done, plan.total)

    def finish(session: Session) -> BroadcastReport | None:
        now = clock.now()
        report = finish_broadcast(session, broadcast_id, owner=owner, now=now)
        if report is not None:
            audit.record(
                session,
                now=now,
                action="admin.broadcast.result",
                actor=session.get(Member, plan.actor_id) if plan.actor_id else None,
                target_type="broadcast",
                target_id=broadcast_id,
                detail={
                    "total": report.total,
                    "sent": report.sent,
                    "failed": len(report.failures),
                    "blocked": report.blocked,
                    "unknown": len(report.unknown),
                    "resumed": report.resumed,
                    "reasons": dict(report.reasons()),
                },
            )
        return report

    report = await in_thread(engine, finish)
    if report is not None:
        await _push_to_admin(delivery, admin, texts.summary(report))


async def _push_to_admin(delivery: DeliveryService, admin: Address, text: str) -> None:
    """The admin's notices and summary: retried until the platform is back (or given up)."""
    outcome = await delivery.push(Delivery(admin, Outbound(text)), pace=False)
    if outcome.status is not PushStatus.SENT:
        log.error(
            "broadcast notice to the admin %s:%s %s: %s",
            admin.channel,
            admin.chat_id,
            outcome.status,
            outcome.reason,
        )


# --- resuming after a crash ----------------------------------------------------------------
class BroadcastWatch:
    """Resuming the broadcasts a crash cut off, as an interval job of the scheduler.

    The first check (`BROADCAST_STARTUP_WAIT` after start-up) takes over those whose sender has
    not written since this watch was made, at start-up: a sender still alive in another process
    of a fleet has written meanwhile and keeps its broadcast. Every later check
    (`BROADCAST_CHECK_EVERY` apart) takes over those whose sender has been silent for `stale`
    (a process of the fleet died and none restarted). A broadcast taken over from a sender that
    was only slow is still sent once to each officer (`resume_broadcasts`). `check` reads the
    injected clock only, so tests call it directly."""

    def __init__(self, core: BotCore, *, stale: timedelta = BROADCAST_STALE) -> None:
        self.core = core
        self.stale = stale
        self.started = core.clock.now()
        self._checked = False

    async def check(self) -> int:
        """One check; how many broadcasts it resumed (once they are all done)."""
        if not self._checked:
            self._checked = True
            return await resume_broadcasts(self.core, before=self.started)
        return await resume_broadcasts(self.core, before=self.core.clock.now() - self.stale)

    def job(
        self,
        *,
        startup_wait: float = BROADCAST_STARTUP_WAIT,
        every: float = BROADCAST_CHECK_EVERY,
    ) -> IntervalJob:
        return IntervalJob(
            id="broadcasts-watch",
            name="resume broadcasts cut off",
            run=self.check,
            every=every,
            first_after=startup_wait,
        )


async def resume_broadcasts(core: BotCore, *, before: datetime | None = None) -> int:
    """Send the rest of every broadcast whose sender has not written since `before` (default
    now: it died), each taken over by one process only; returns how many, once they are all
    done. Recipients a crash left `sending` are not sent again: the admin's summary counts them
    as unknown. Called by `BroadcastWatch` once the channels are up."""
    owner = uuid.uuid4().hex
    now = core.clock.now()
    try:
        ids = await in_thread(
            core.engine,
            lambda s: claim_unfinished(s, before=before or now, now=now, owner=owner),
        )
    except Exception:
        log.exception("unfinished broadcasts could not be claimed; the next check tries again")
        return 0
    for broadcast_id in ids:
        log.info("broadcast %s cut off by a restart: resuming", broadcast_id)
    services = core.services
    texts = services.push_texts.broadcast
    results = await asyncio.gather(
        *(run_broadcast(services.delivery, core.engine, core.clock, texts, i, owner) for i in ids),
        return_exceptions=True,
    )
    for broadcast_id, result in zip(ids, results, strict=True):
        if isinstance(result, Exception):
            log.error("broadcast %s: resuming failed", broadcast_id, exc_info=result)
        elif isinstance(result, BaseException):
            raise result
    return len(ids)
