"""The reminder scheduler: one APScheduler job inside the bot process that, every
REMINDER_TICK_SECONDS, sends the reminders now due and, from DIGEST_TIME on, the admins'
daily digest.

The schedule lives in the database, not in APScheduler: the job store is the in-memory default
and holds a single interval job, so nothing is persisted and no two schedulers ever share a
store. Each tick asks `domain.ledger` what is due, claims it (committed before any send),
sends through the hub and records every outcome; see that module for the guarantees. `tick()`
is a plain coroutine, so tests call it directly with a ManualClock.

Sending: channels keep their own limits (Telegram's AIORateLimiter: ~30 messages/s overall,
RetryAfter retried). What they lack is added here, for any channel: sends run concurrently up to
REMINDER_CONCURRENCY, and two reminders to the same chat are at least
REMINDER_CHAT_SPACING_SECONDS apart (the delivery service's `ChatPacer`; on Telegram the
channel's own spacing, TELEGRAM_CHAT_SPACING_SECONDS, does it instead).
Claims are made a chunk at a time just ahead of the sends; each row is marked `sending` just
before its send, in the same transaction that records the outcomes of the sends finished so
far (`_SendGate`), so a crash leaves at most one row per concurrent sender with an unknown
outcome. Rows a
crash left claimed but never sent are put back to be sent: at start-up those claimed before
it, at every tick those older than UNKNOWN_AFTER. No business rules here: whether a reminder
is wanted is decided in domain.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as day_time
from typing import TYPE_CHECKING, TypeVar
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlmodel import Session, col, select

from bot.catalog import t
from bot.db import outside_update
from bot.delivery import ChatPacer, PushStatus
from bot.events import Address, Delivery, Outbound
from domain.digest import (
    build_digest,
    claim_digest,
    digest_recipients,
    release_digest,
    unknown_soon,
)
from domain.ledger import (
    CLAIM_CHUNK,
    UNKNOWN_AFTER,
    Candidate,
    Claimed,
    Outcome,
    OutcomeCounts,
    claim,
    claim_retries,
    mark_sending,
    plan_due,
    record_outcomes,
    release_claims,
)
from domain.organisers import office_words
from domain.schedule import DEFAULT_POLICY, WorkCalendar, load_calendar
from models.campaigns import Campaign, Deadline
from models.organisers import DEFAULT_ORGANISER_ID, Organiser
from models.units import Member, Unit

if TYPE_CHECKING:
    from bot.core import BotCore

log = logging.getLogger("thidua.scheduler")
JOB_ID = "reminders-tick"
T = TypeVar("T")


@dataclass(slots=True)
class RunReport:
    """What one run of reminders did."""

    sent: int = 0
    failed: int = 0  # given up, reason recorded (blocked the bot, too many failures, too late)
    deferred: int = 0  # failed for sure this time: will be retried with backoff
    skipped: int = 0  # no longer wanted (covered by another reminder, unit submitted …)
    unknown: int = 0  # outcome unknown: left claimed, shown in the digest, never resent

    @property
    def total(self) -> int:
        return self.sent + self.failed + self.deferred + self.skipped + self.unknown

    def __str__(self) -> str:
        return (
            f"sent={self.sent} failed={self.failed} deferred={self.deferred} "
            f"skipped={self.skipped} unknown={self.unknown}"
        )


@dataclass(frozen=True, slots=True)
class IntervalJob:
    """Another timed job on the same APScheduler instance as the reminder tick (closing council
    rounds, resuming broadcasts): like the tick, what is due is read from the database at each
    run, so the job itself holds no state worth persisting."""

    id: str
    name: str
    run: Callable[[], Awaitable[object]]
    every: float  # seconds between runs
    first_after: float = 0.0  # seconds after start-up before the first run


@dataclass(slots=True)
class TickReport:
    reminders: RunReport
    digests: int


class _Lookup:
    """Deadlines, campaigns and unit names of a run, loaded a chunk at a time."""

    def __init__(self) -> None:
        self.deadlines: dict[int, Deadline] = {}
        self.campaigns: dict[int, Campaign] = {}
        self.units: dict[int, str] = {}
        # The office a campaign's reminders name, by organiser (None: the settings' name).
        self.offices: dict[int, str | None] = {}

    def prime(self, session: Session, items: Sequence[Claimed]) -> None:
        deadline_ids = {i.deadline_id for i in items} - self.deadlines.keys()
        for deadline in session.exec(
            select(Deadline).where(col(Deadline.id).in_(list(deadline_ids)))
        ).all():
            assert deadline.id is not None
            self.deadlines[deadline.id] = deadline
            if deadline.campaign_id not in self.campaigns:
                campaign = session.get(Campaign, deadline.campaign_id)
                if campaign is not None:
                    self.campaigns[deadline.campaign_id] = campaign
                    if campaign.organiser_id not in self.offices:
                        words = office_words(session, organiser_id=campaign.organiser_id)
                        self.offices[campaign.organiser_id] = words.get("organiser")
        unit_ids = {i.unit_id for i in items} - self.units.keys()
        if unit_ids:
            for unit_id, name in session.exec(
                select(Unit.id, Unit.name).where(col(Unit.id).in_(list(unit_ids)))
            ).all():
                if unit_id is not None:
                    self.units[unit_id] = name


class _SendGate:
    """Marks rows `sending` just before their sends, and records the outcomes of the sends
    finished so far, in one transaction for all the senders that arrive together (a group
    commit: at high rates one transaction serves several sends, at low rates each its own)."""

    def __init__(self, scheduler: ReminderScheduler, report: RunReport) -> None:
        self.scheduler = scheduler
        self.report = report
        self.finished: list[Outcome] = []
        self._waiting: list[tuple[int, asyncio.Future[bool]]] = []
        self._commit_due = False
        self._tasks: set[asyncio.Task[None]] = set()  # strong references

    async def enter(self, item: Claimed) -> bool:
        """True when the row is now `sending` and this run must send it; False when it is no
        longer claimed (another run took it over)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        self._waiting.append((item.log_id, future))
        if not self._commit_due:
            self._commit_due = True
            loop.call_soon(self._start_commit)  # senders arriving meanwhile join this one
        marked = await future
        if not marked:
            log.info("reminder %s was taken over by another run; not sent here", item.log_id)
        return marked

    def _start_commit(self) -> None:
        task = asyncio.create_task(self._commit())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _commit(self) -> None:
        # The batch is taken once the turn is ours, not before: senders that arrive while the
        # previous commit runs in its thread all join the next one (taking it at the start
        # made commits of one or two rows, 1,729 of them for 2,000 reminders).
        async with self.scheduler.core.database_turn():
            self._commit_due = False
            waiting, self._waiting = self._waiting, []
            outcomes, self.finished = self.finished, []
            now = self.scheduler.core.clock.now()

            def work(session: Session) -> tuple[OutcomeCounts | None, set[int]]:
                counts = record_outcomes(session, outcomes, now=now) if outcomes else None
                return counts, mark_sending(session, [log_id for log_id, _ in waiting])

            try:
                counts, marked = await self.scheduler._db(work, turn_held=True)
            except Exception as exc:
                for _, future in waiting:
                    future.set_exception(exc)
                return
        if counts is not None:
            self.scheduler._count(counts, self.report)
        for log_id, future in waiting:
            future.set_result(log_id in marked)

    async def flush(self) -> None:
        """Record what is left once every sender is done."""
        outcomes, self.finished = self.finished, []
        await self.scheduler._flush(outcomes, self.report)


class ReminderScheduler:
    def __init__(
        self,
        core: BotCore,
        *,
        calendar: WorkCalendar | None = None,
        pacer: ChatPacer | None = None,
    ) -> None:
        self.core = core
        self.settings = core.settings
        self.calendar = calendar or load_calendar(self.settings.holidays_file)
        # One pacer per process for every pushed message (bot.delivery).
        self.pacer = pacer or core.services.delivery.pacer
        self.concurrency = self.settings.reminder_concurrency
        self.claim_chunk = CLAIM_CHUNK
        hour, minute = self.settings.digest_time.split(":")
        self.digest_at = day_time(int(hour), int(minute))
        self._scheduler: AsyncIOScheduler | None = None
        self._running = asyncio.Lock()
        self._again = False
        # Rows claimed before this moment and still `claimed` belong to a run that died.
        self._started = core.clock.now()
        self._released_at_start = False
        # More pushed nudges run at each tick after the deadline reminders (the composition
        # root adds them: the signed-scan reminders of handlers/signing.py).
        self.extra_jobs: list[Callable[[ReminderScheduler], Awaitable[object]]] = []
        # Other timed jobs, started and stopped with the tick (the composition root adds them).
        self.interval_jobs: list[IntervalJob] = []
        self._job_runs: set[asyncio.Task[None]] = set()

    # --- one tick ---------------------------------------------------------------------------
    async def tick(self) -> TickReport:
        """Send what is due now (retries first, then scheduled reminders), then the digest."""
        reminders = await self.run_reminders()
        await self._run_extra_jobs()
        digests = await self.send_digests()
        if reminders.total or digests:
            log.info("reminders: %s; digests sent=%d", reminders, digests)
        return TickReport(reminders, digests)

    async def _run_extra_jobs(self) -> None:
        """Each extra nudge; a failure is logged and never stops the deadline reminders."""
        for job in self.extra_jobs:
            try:
                await job(self)
            except Exception:
                log.exception("a reminder job failed; the next tick tries again")

    async def run_reminders(self) -> RunReport:
        report = RunReport()
        channels = self.core.hub.channels
        if not channels:
            return report
        await self._release_stranded()
        candidates = await self._db(
            lambda s: plan_due(
                s, now=self.core.clock.now(), calendar=self.calendar, channels=channels
            ),
            commit=False,
        )
        await self._deliver(self._claimed_chunks(candidates, channels, report), report)
        return report

    async def _claimed_chunks(
        self, candidates: list[Candidate], channels: Sequence[str], report: RunReport
    ) -> AsyncIterator[list[Claimed]]:
        """Claims, a chunk at a time, as the senders need them: waiting retries (and queued
        manual reminders) first, then the scheduled reminders planned for this tick."""
        while True:
            result = await self._db(
                lambda s: claim_retries(
                    s, now=self.core.clock.now(), calendar=self.calendar, channels=channels
                )
            )
            report.skipped += result.skipped
            report.failed += result.failed
            if result.claimed:
                yield result.claimed
            if not (result.claimed or result.skipped or result.failed):
                break
        for start in range(0, len(candidates), self.claim_chunk):
            chunk = candidates[start : start + self.claim_chunk]
            result = await self._db(
                functools.partial(
                    claim,
                    candidates=chunk,
                    now=self.core.clock.now(),
                    channels=channels,
                    can_reach=self._reachable,
                )
            )
            report.skipped += result.skipped
            if result.claimed:
                yield result.claimed

    async def _release_stranded(self) -> None:
        now = self.core.clock.now()
        before = now - UNKNOWN_AFTER
        if not self._released_at_start:
            before = max(before, self._started)
            self._released_at_start = True
        released = await self._db(lambda s: release_claims(s, before=before, now=now))
        if released:
            log.info("reminders: %d claimed but never sent (a run died) go out again", released)

    async def _deliver(self, chunks: AsyncIterator[list[Claimed]], report: RunReport) -> None:
        queue: asyncio.Queue[Claimed | None] = asyncio.Queue(maxsize=self.concurrency)
        gate = _SendGate(self, report)
        lookup = _Lookup()
        workers = self.concurrency

        async def produce() -> None:
            try:
                async for chunk in chunks:
                    await self._db(functools.partial(lookup.prime, items=chunk), commit=False)
                    for item in chunk:
                        await queue.put(item)
            finally:
                for _ in range(workers):
                    await queue.put(None)

        async def work() -> None:
            while (item := await queue.get()) is not None:
                outcome = await self._send_one(item, lookup, gate)
                if outcome is not None:
                    gate.finished.append(outcome)

        async with asyncio.TaskGroup() as group:
            group.create_task(produce())
            for _ in range(workers):
                group.create_task(work())
        await gate.flush()

    async def _send_one(self, item: Claimed, lookup: _Lookup, gate: _SendGate) -> Outcome | None:
        """Send one claimed reminder; None when it turned out not to be this run's to send."""
        deadline = lookup.deadlines.get(item.deadline_id)
        campaign = lookup.campaigns.get(deadline.campaign_id) if deadline else None
        if deadline is None or campaign is None:
            if not await gate.enter(item):
                return None
            return Outcome(item, error="deadline no longer exists")
        # Worded for the recipient's channel ("gõ" where choices are typed), as an answer is.
        with self.core.hub.worded_for(item.channel):
            message = self.core.services.push_texts.reminder(
                deadline=deadline,
                campaign=campaign,
                unit_name=lookup.units.get(item.unit_id, ""),
                now=self.core.clock.now(),
                reminder_slot=item.slot,
                organiser=lookup.offices.get(campaign.organiser_id),
            )
        await self.pacer.wait((item.channel, item.chat_id))
        if not await gate.enter(item):
            return None
        # The ledger keeps its own persisted backoff (domain.ledger.backoff): one try here.
        outcome = await self.core.services.delivery.push(
            Delivery(Address(item.channel, item.chat_id), message), retry=False, pace=False
        )
        if outcome.status is PushStatus.SENT:
            return Outcome(item, message_id=outcome.message_id)
        return Outcome(
            item,
            error=outcome.reason,
            permanent=outcome.permanent,
            retry_after=outcome.retry_after,
            uncertain=outcome.status is PushStatus.UNKNOWN,
        )

    @staticmethod
    def _count(counts: OutcomeCounts, report: RunReport) -> None:
        report.sent += counts.sent
        report.failed += counts.failed
        report.deferred += counts.deferred
        report.unknown += counts.unknown

    async def _flush(self, outcomes: list[Outcome], report: RunReport) -> None:
        if not outcomes:
            return
        batch = list(outcomes)
        outcomes.clear()
        counts = await self._db(lambda s: record_outcomes(s, batch, now=self.core.clock.now()))
        self._count(counts, report)

    # --- the daily digest --------------------------------------------------------------------
    async def send_digests(self) -> int:
        """From DIGEST_TIME until quiet hours, each admin gets today's digest once."""
        render = self.core.services.push_texts.digest
        now = self.core.clock.now()
        tz = self.settings.tz
        local = now.astimezone(tz)
        if local.time() < self.digest_at or DEFAULT_POLICY.is_quiet(local):
            return 0
        if now < self._started + UNKNOWN_AFTER and await self._db(
            lambda s: unknown_soon(s, before=self._started, now=now), commit=False
        ):
            # A restart: reminders the previous process left `sending` count as unknown only
            # UNKNOWN_AFTER after their claim. Sent now, the day's one digest would leave them
            # out and they would wait a day: it waits for them.
            return 0
        channels = self.core.hub.channels
        admins = await self._db(lambda s: digest_recipients(s, channels), commit=False)
        sent = 0
        # One digest per organiser and wording, built once: each admin gets those of the
        # organisers they run, worded for their channel.
        messages: dict[tuple[int, tuple[str, ...]], Outbound | None] = {}
        for admin, organiser_id in admins:
            assert admin.id is not None
            admin_id = admin.id
            if not await self._db(
                functools.partial(
                    claim_digest,
                    member_id=admin_id,
                    day=local.date(),
                    now=now,
                    organiser_id=organiser_id,
                )
            ):
                continue
            key = (organiser_id, self.core.hub.wording(admin.channel))
            if key not in messages:
                with self.core.hub.worded_for(admin.channel):
                    messages[key] = await self._db(
                        functools.partial(
                            _digest_for, organiser_id=organiser_id, now=now, tz=tz, render=render
                        ),
                        commit=False,
                    )
            message = messages[key]
            if message is None:
                continue
            await self.pacer.wait((admin.channel, admin.chat_id))
            outcome = await self.core.services.delivery.push(
                Delivery(Address(admin.channel, admin.chat_id), message), retry=False, pace=False
            )
            if outcome.status is PushStatus.SENT:
                sent += 1
            elif outcome.permanent:
                await self._db(functools.partial(_mark_unreachable, member_id=admin_id, now=now))
            elif outcome.status is PushStatus.FAILED:
                # Certainly not delivered (the platform unreachable): today's digest is claimed
                # again by a later tick instead of being lost for the day.
                await self._db(
                    functools.partial(
                        release_digest,
                        member_id=admin_id,
                        day=local.date(),
                        organiser_id=organiser_id,
                    )
                )
        return sent

    def _reachable(self, member: Member) -> bool:
        """Whether the member's channel lets the bot write to them now (Zalo's reply window)."""
        return self.core.hub.can_reach(member.channel, member.last_seen_at, self.core.clock.now())

    # --- database ------------------------------------------------------------------------------
    async def _db(
        self, work: Callable[[Session], T], *, commit: bool = True, turn_held: bool = False
    ) -> T:
        """`work` through `bot.db.outside_update`, in this process's database turn (taken
        here unless the caller holds it already)."""
        return await outside_update(
            self.core.engine,
            work,
            commit=commit,
            what="reminder transaction",
            turn=None if turn_held else self.core.database_turn,
        )

    # --- APScheduler -----------------------------------------------------------------------------
    def start(self) -> None:
        """Start ticking (call inside the running event loop); the first tick runs at once, so
        reminders that fell due while the bot was down are caught up at start-up."""
        tz = ZoneInfo(self.settings.timezone)
        scheduler = AsyncIOScheduler(timezone=tz)
        scheduler.add_job(
            self._run_tick,
            IntervalTrigger(seconds=self.settings.reminder_tick_seconds, timezone=tz),
            id=JOB_ID,
            name="reminders and daily digest",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            next_run_time=datetime.now(tz),
        )
        for job in self.interval_jobs:
            scheduler.add_job(
                functools.partial(self._run_job, job),
                IntervalTrigger(seconds=job.every, timezone=tz),
                id=job.id,
                name=job.name,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=None,
                next_run_time=datetime.now(tz) + timedelta(seconds=job.first_after),
            )
        scheduler.start()
        self._scheduler = scheduler
        log.info("reminder scheduler started (tick every %ss)", self.settings.reminder_tick_seconds)

    def shutdown(self) -> None:
        """Stop scheduling; a reminder tick under way is cancelled (its rows left `sending` are
        reported as unknown, never resent). Runs of the interval jobs under way go on: `stop`
        waits for them."""
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        self._scheduler = None

    async def stop(self) -> None:
        """Stop ticking, letting work under way finish first: a tick (APScheduler's shutdown
        cancels a running job, which logs a CancelledError traceback — `:thoat` right after
        start) and the interval jobs (a broadcast being resumed is finished while the channels
        are still open)."""
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.pause()
        async with self._running:
            self.shutdown()
        while self._job_runs:
            await asyncio.wait(set(self._job_runs))

    async def _run_job(self, job: IntervalJob) -> None:
        # APScheduler cancels the jobs it runs when it shuts down (it cannot wait in a
        # coroutine); the run itself is a task of ours, shielded, so `stop` can let it finish.
        run = asyncio.create_task(self._guarded(job), name=job.id)
        self._job_runs.add(run)
        run.add_done_callback(self._job_runs.discard)
        await asyncio.shield(run)

    @staticmethod
    async def _guarded(job: IntervalJob) -> None:
        try:
            await job.run()
        except Exception:
            log.exception("%s failed; its next run tries again", job.name)

    @property
    def scheduler(self) -> AsyncIOScheduler | None:
        return self._scheduler

    def wake(self) -> None:
        """Run a tick soon (an admin queued reminders); ticks never overlap."""
        if self._scheduler is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        # After the current update has committed: the core commits before its next await.
        loop.call_soon(lambda: asyncio.ensure_future(self._run_tick()))

    async def _run_tick(self) -> None:
        if self._running.locked():
            self._again = True
            return
        async with self._running:
            while True:
                self._again = False
                try:
                    await self.tick()
                except Exception:
                    log.exception("reminder tick failed; the next tick tries again")
                if not self._again:
                    break


def _mark_unreachable(session: Session, member_id: int | None, now: datetime) -> None:
    member = session.get(Member, member_id)
    if member is not None and member.unreachable_at is None:
        member.unreachable_at = now
        session.add(member)


def _digest_for(
    session: Session,
    organiser_id: int,
    now: datetime,
    tz: ZoneInfo,
    render: Callable[..., Outbound],
) -> Outbound | None:
    """One organiser's digest as a message (named after the organiser unless it is the
    default one); None when there is nothing to report."""
    digest = build_digest(session, organiser_id=organiser_id, now=now, tz=tz)
    if digest.empty:
        return None
    message = render(digest, now=now, tz=tz)
    if organiser_id != DEFAULT_ORGANISER_ID:
        organiser = session.get(Organiser, organiser_id)
        if organiser is not None:
            message.text = t("organisers.hat_admin", name=organiser.name) + "\n" + message.text
    return message
