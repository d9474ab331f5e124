"""The channel-neutral core: one Inbound in, the right handler called, answers delivered.

For each update it, in one database transaction: skips an update id already handled, finds
the member, checks the route's access, loads the chat's conversation state, calls the handler
and saves the state. Several processes may share the database: a chat's state row is locked
for the update (another process answering the same chat waits), its version is checked when
saved, and a lost race makes the whole update run again. Updates arriving together in one
process are handled one chat-turn at a time (see `BotCore.__init__`).
Bad input (`InputError`) becomes a short reply and the same question again, with nothing
already entered lost; any other error is logged once with the update id and answered with an
apology. Messages are sent only after the transaction committed (notices to other members
through the delivery service, `_send_answers`); once they went out the update
is marked answered (in batches, see `_mark_answered`), and at start-up a chat whose latest
update never was (the process died while sending) is asked its question again
(`resume_unanswered`).

Jobs a handler deferred (`ctx.defer`) start as background tasks after the commit and the
delivery of the update's answers, so long work (a broadcast) never holds the transaction open
nor keeps other users waiting; `wait_background` awaits them (tests, shutdown).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import functools
import hashlib
import logging
import random
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, select

from bot import catalog, owed
from bot.access import ACT_AS, Access, admin_scope, check
from bot.catalog import t
from bot.clock import Clock, SystemClock
from bot.context import Context, Job, saved_prompt
from bot.db import DatabaseNotWritable
from bot.delivery import PushStatus
from bot.errors import ConcurrentUpdate, InputError
from bot.events import Address, Button, Delivery, Inbound, Outbound
from bot.hub import Hub
from bot.router import Handler, Router, make_payload, split_payload
from bot.services import Services
from bot.settings import Settings
from domain import members
from domain.scope import Scope
from domain.text import clean_text, fold
from models.audit import AuditLog
from models.base import rowcount, table_of
from models.conversation import ConversationState, ProcessedUpdate
from models.organisers import Organiser
from models.units import Role, Unit

log = logging.getLogger("thidua.core")
MAX_ATTEMPTS = 5
RETRY_BACKOFF_SECONDS = 0.005
DUPLICATE = "duplicate"
RESENT = "resent"  # a repeat of an update whose answers a crash kept from going out
# A repeat arriving this soon after the update was handled is taken for the original still
# being answered (by another process of a fleet), not for one a crash cut off.
REDELIVERY_GRACE = timedelta(seconds=10)
# A chat cut off by a crash longer ago than this is not asked again at start-up.
RESUME_WITHIN = timedelta(hours=24)
MARK_BATCH = 500  # update ids per UPDATE … IN (…) when marking answers sent
# Handled update ids are kept this long, then deleted. Telegram keeps an update it could not
# deliver for 24 hours at most, so no repeat comes later; ids reused afterwards (Telegram picks
# them afresh after a week without updates) then meet no stale row at all.
PRUNE_AFTER = timedelta(days=3)
PRUNE_EVERY = timedelta(hours=1)


@dataclass(slots=True)
class _Handled:
    deliveries: list[Delivery]
    jobs: list[Job] = field(default_factory=list)
    # This handling recorded the update (its answers are to be marked sent afterwards).
    claimed: bool = False


@dataclass(slots=True)
class Route:
    handler: Handler | None
    access_key: str | None  # refusal key, None when allowed
    label: str
    access: Access = Access.PUBLIC


# A memory bound, not a rule: well above every form's limit (4,000 for long text) and above
# what one Telegram message carries, so the handler that has a limit sees the whole text and
# can say it is too long instead of the core cutting it without a word.
MAX_TEXT_LENGTH = 16_000
MAX_NAME_LENGTH = 120


def sanitize(event: Inbound) -> None:
    """Every text a user sends is NFC-normalised, stripped of control characters, trimmed and
    bounded before any handler sees it (Vietnamese typed on some keyboards arrives decomposed)."""
    event.text = clean_text(event.text, max_length=MAX_TEXT_LENGTH)
    event.args = clean_text(event.args, max_length=MAX_TEXT_LENGTH)
    event.display_name = clean_text(event.display_name, max_length=MAX_NAME_LENGTH, multiline=False)


class FloodGuard:
    """Per-user sliding window: past the limit a user gets one polite message, then silence
    until the window clears. Other users are not affected."""

    def __init__(self, limit: int, window: float, monotonic: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.window = window
        self._monotonic = monotonic
        self._hits: dict[tuple[str, str], deque[float]] = {}
        self._warned: set[tuple[str, str]] = set()

    def admit(self, channel: str, user_id: str) -> bool | None:
        """True: handle. False: drop silently. None: drop and warn the user once."""
        key = (channel, user_id)
        now = self._monotonic()
        hits = self._hits.setdefault(key, deque())
        while hits and now - hits[0] > self.window:
            hits.popleft()
        if len(hits) < self.limit:
            hits.append(now)
            self._warned.discard(key)
            return True
        if key in self._warned:
            return False
        self._warned.add(key)
        return None


class ChatTurns:
    """One update at a time per chat, in arrival order (asyncio locks are first-come,
    first-served); a chat's lock exists only while it has updates in progress."""

    def __init__(self) -> None:
        self._locks: dict[tuple[str, str], tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def turn(self, channel: str, chat_id: str) -> AsyncIterator[None]:
        key = (channel, chat_id)
        lock, waiting = self._locks.get(key, (None, 0))
        lock = lock or asyncio.Lock()
        self._locks[key] = (lock, waiting + 1)
        try:
            async with lock:
                yield
        finally:
            lock, waiting = self._locks[key]
            if waiting == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, waiting - 1)


def _stamp_audit(ctx: Context) -> None:
    """Audit entries an admin route wrote without naming an organiser belong to the one the
    admin acts for: its admins read them, no other organiser's do."""
    if ctx.scope is None:
        return
    for entry in (*ctx.session.new, *ctx.session.identity_map.values()):
        if isinstance(entry, AuditLog) and entry.organiser_id is None:
            entry.organiser_id = ctx.scope.organiser_id


def _show_hat(route: Route, ctx: Context) -> None:
    """Someone who is both an officer of a unit and an admin of an organiser (a commune's
    officer in the province's campaign who runs the commune's own) is told, on the first line
    of the answer, which of the two the command spoke for."""
    member = ctx.member
    if member is None or member.unit_id is None or member.role != Role.ADMIN:
        return
    first = next((r for r in ctx.replies if r.text), None)
    if first is None:
        return
    if route.access is Access.ADMIN and ctx.scope is not None:
        organiser = ctx.session.get(Organiser, ctx.scope.organiser_id)
        hat = t("organisers.hat_admin", name=organiser.name) if organiser else ""
    elif route.access is Access.OFFICER:
        unit = ctx.session.get(Unit, member.unit_id)
        hat = t("organisers.hat_officer", name=unit.name) if unit else ""
    else:
        return
    if hat:
        first.text = f"{hat}\n{first.text}"


class BotCore:
    def __init__(
        self,
        *,
        settings: Settings,
        engine: Engine,
        router: Router,
        clock: Clock | None = None,
        services: Services | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.router = router
        self.clock = clock or SystemClock()
        self.services = services or Services()
        self.services.help = router.help_entries()
        self.flood = FloodGuard(settings.flood_max_per_window, settings.flood_window_seconds)
        # Strong references: the event loop keeps only weak ones to running tasks.
        self._background: set[asyncio.Task[None]] = set()
        # Updates may arrive together (webhook requests, PTB's concurrent updates). A chat's
        # updates are handled and answered in order; and only one transaction is open in this
        # process at a time, because database calls block the event loop: a handler awaiting
        # (a download) while its transaction holds a lock, and a second transaction waiting
        # for that lock, would freeze the loop the first one needs to finish. Sending answers
        # happens outside the transaction, so it still overlaps other updates' work.
        self._chat_turns = ChatTurns()
        self._transaction = asyncio.Lock()
        # Updates whose answers went out, waiting to be marked answered (`_mark_answered`).
        self._unmarked: dict[str, list[str]] = {}
        self._marking: asyncio.Task[None] | None = None
        self._pruned_at: datetime | None = None

    @property
    def hub(self) -> Hub:
        return self.services.hub

    @contextlib.asynccontextmanager
    async def database_turn(self) -> AsyncIterator[None]:
        """This process's one-transaction-at-a-time turn, for database work done outside an
        update (`bot.db.outside_update(..., turn=core.database_turn)`: the reminder scheduler,
        the council and scan jobs, the web desk): it waits, without blocking the loop, while an
        update's transaction is open (see `__init__`)."""
        async with self._transaction:
            yield

    def database_busy(self) -> bool:
        """Whether a transaction holds this process's turn now (synchronous work may run
        without waiting when it does not)."""
        return self._transaction.locked()

    async def process(
        self, event: Inbound, *, before_delivery: Callable[[], Awaitable[None]] | None = None
    ) -> list[Delivery]:
        """Handle an update, deliver every answer, then start the jobs it deferred; returns what
        was delivered. A chat's updates are handled and answered one at a time, in order.

        `before_delivery` is awaited once the update is handled (its transaction committed, or
        it failed for good) and before its answers go out: a channel may confirm the update to
        its platform from there."""
        async with self._chat_turns.turn(event.channel, event.chat_id):
            handled = await self._handle(event)
            if before_delivery is not None:
                await before_delivery()
            await self._send_answers(event, handled.deliveries)
            if handled.claimed and event.update_id is not None:
                self._mark_answered(event.channel, str(event.update_id))
        self._start_jobs(event, handled.jobs)
        return handled.deliveries

    async def handle(self, event: Inbound) -> list[Delivery]:
        """Handle an update and return the answers to deliver (nothing is sent here; deferred
        jobs start at once, without waiting for the answers to be delivered)."""
        async with self._chat_turns.turn(event.channel, event.chat_id):
            handled = await self._handle(event)
        self._start_jobs(event, handled.jobs)
        return handled.deliveries

    async def wait_background(self) -> None:
        """Wait until every background job (including ones started meanwhile) has finished and
        every answered update is marked so."""
        while self._background or self._marking is not None:
            await asyncio.gather(*self._background, return_exceptions=True)
            await self.flush_marks()

    async def flush_marks(self) -> None:
        """Wait until the updates answered so far are marked answered (at shutdown)."""
        while self._marking is not None:
            await asyncio.wait([self._marking])

    async def resume_unanswered(self, channel: str, *, within: timedelta = RESUME_WITHIN) -> int:
        """At start-up: send what every chat of `channel` is owed whose latest update was handled
        but whose answers a crash kept from going out (within the last `within`): the answers
        kept with the update (`bot.owed`), or, for an update recorded without them, the
        question the chat's conversation is at.

        Telegram does not deliver such an update again when polling (it was confirmed once
        handled), and in webhook mode the core would only skip a repeat; without this the user
        would wait for an answer that never comes. Kept answers are marked answered before they
        are sent (two processes starting together send them once); a re-asked question is
        marked after, so a crash right then shows it twice, the lesser evil. Returns how many
        chats were answered."""
        async with self._transaction:
            with Session(self.engine, expire_on_commit=False) as session:
                self._prune(session)
                pending = self._unanswered(session, channel, self.clock.now() - within)
                session.commit()
        answered = 0
        for chat_id, (update_ids, kept, prompt) in pending.items():
            if kept is not None:
                if await self._take_owed(kept):
                    log.info("chat=%s:%s sent the answers a restart owed it", channel, chat_id)
                    await self.hub.deliver(owed.load(kept.answers))
                    answered += 1
            elif prompt is not None:
                log.info("chat=%s:%s asked again after a restart", channel, chat_id)
                await self.hub.deliver([Delivery(Address(channel, chat_id), prompt)])
                answered += 1
            for update_id in update_ids:
                await self._mark_answered_id(channel, update_id)
        return answered

    async def _take_owed(self, row: ProcessedUpdate) -> bool:
        """Mark a kept answer sent, before sending it; False when another process did."""
        async with self._transaction:
            with Session(self.engine) as session:
                taken = session.execute(_TAKE_OWED, {"t_id": row.id, "t_at": self.clock.now()})
                session.commit()
        return rowcount(taken) == 1

    def _start_jobs(self, event: Inbound, jobs: list[Job]) -> None:
        for job in jobs:
            task = asyncio.create_task(self._run_job(event, job))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _run_job(self, event: Inbound, job: Job) -> None:
        try:
            # Worded, like the update's answers, for the person who asked (a job that writes
            # to others words each message for its recipient: `Hub.worded_for`).
            with self.hub.worded_for(event.channel):
                await job()
        except Exception:
            log.exception("update=%s background job failed", event.update_id)

    async def _handle(self, event: Inbound) -> _Handled:
        started = time.perf_counter()
        sanitize(event)
        admitted = self.flood.admit(event.channel, event.user_id)
        if admitted is not True:
            log.info("update=%s user=%s flood-dropped", event.update_id, event.user_id)
            if admitted is None:
                return _Handled([self._to_chat(event, Outbound(t("core.flood")))])
            return _Handled([])
        label = "?"
        # Texts say "bấm" where people press buttons and "gõ số" where they type a choice.
        wording = catalog.use_style(*self.hub.wording(event.channel))
        try:
            for attempt in range(1, MAX_ATTEMPTS + 1):
                try:
                    async with self._transaction:
                        label, deliveries, jobs = await self._handle_once(event)
                    return _Handled(deliveries, jobs, claimed=label not in (DUPLICATE, RESENT))
                except (ConcurrentUpdate, IntegrityError, OperationalError) as exc:
                    if attempt == MAX_ATTEMPTS:
                        raise
                    log.info(
                        "update=%s retry %d after %s", event.update_id, attempt, type(exc).__name__
                    )
                    # Jittered back-off so two processes that collided do not collide again.
                    await asyncio.sleep(random.uniform(0, RETRY_BACKOFF_SECONDS * 2**attempt))
            raise AssertionError("unreachable")
        except DatabaseNotWritable as exc:
            # The operator's problem, said in one line; the officer gets the apology.
            log.error("update=%s %s", event.update_id, exc)
            return _Handled([self._to_chat(event, Outbound(t("core.error")))])
        except Exception:
            log.exception("update=%s user=%s handler error", event.update_id, event.user_id)
            async with self._transaction:
                claimed = self._mark_processed_after_error(event)
            return _Handled([self._to_chat(event, Outbound(t("core.error")))], claimed=claimed)
        finally:
            catalog.reset_style(wording)
            log.info(
                "update=%s user=%s route=%s ms=%.1f",
                event.update_id,
                event.user_id,
                label,
                (time.perf_counter() - started) * 1000,
            )

    # --------------------------------------------------------------------------------------
    async def _handle_once(self, event: Inbound) -> tuple[str, list[Delivery], list[Job]]:
        with Session(self.engine, expire_on_commit=False) as session:
            claim = None if event.update_id is None else self._claim_update(session, event)
            if event.update_id is not None and claim is None:
                session.rollback()
                resent = self._owed_answers(session, event)
                session.commit()
                return (RESENT, resent, []) if resent else (DUPLICATE, [], [])
            now = self.clock.now()
            member = members.identify(session, event=event, settings=self.settings, now=now)
            state, version = self._load_state(session, event)
            ctx = Context(
                event=event,
                session=session,
                settings=self.settings,
                clock=self.clock,
                services=self.services,
                member=member,
                state=state,
            )
            route = self._route(event, ctx)
            choices = self._enter_admin_scope(route, ctx) if route.access_key is None else None
            if choices:
                # An admin of several organisers who has not said which one they act for.
                # A reply, not a question: the chat's own flow keeps its question.
                ctx.reply(t("organisers.pick_first"), choices)
            elif route.access_key is not None:
                ctx.say(route.access_key)
                members.audit_refusal(
                    session, member=member, event=event, route=route.label, now=now
                )
            elif route.handler is None:
                self._no_route(event, ctx)
            elif await self._run(route.handler, event, ctx):
                _show_hat(route, ctx)
                _stamp_audit(ctx)
            else:
                # Bad input: nothing the handler wrote may stay. Undoing the whole transaction
                # and recording the update again costs less than a savepoint around every
                # handler (two more round trips per update on PostgreSQL), bad input being rare.
                session.rollback()
                claim = None if event.update_id is None else self._claim_update(session, event)
                if event.update_id is not None and claim is None:
                    session.rollback()  # another process handled it meanwhile
                    return DUPLICATE, [], []
                members.identify(session, event=event, settings=self.settings, now=now)
            self._save_state(session, state, version, now)
            deliveries = self._deliveries(event, ctx)
            if claim is not None and deliveries:
                # Kept until they went out: a crash before that owes them (bot.owed).
                session.execute(_STORE_ANSWERS, {"a_id": claim, "a_answers": owed.dump(deliveries)})
            session.commit()
        return route.label, deliveries, list(ctx.deferred)

    async def _run(self, handler: Handler, event: Inbound, ctx: Context) -> bool:
        """Call the handler; False when it refused the input (`InputError`): the chat's state
        is as before, the answer says what was wrong and asks the question again, and the
        caller undoes what the handler wrote."""
        snapshot = (ctx.state.flow, ctx.state.step, copy.deepcopy(ctx.state.data))
        try:
            await handler(event, ctx)
            return True
        except InputError as exc:
            ctx.state.flow, ctx.state.step, ctx.state.data = snapshot
            ctx.replies.clear()
            ctx.notifications.clear()
            ctx.deferred.clear()
            text = t(exc.key, **exc.params)
            if exc.example:
                text += "\n" + t("core.example", example=exc.example)
            ctx.reply(text)
            prompt = ctx.last_prompt()
            if prompt is not None:
                ctx.replies.append(prompt)
            return False

    def _route(self, event: Inbound, ctx: Context) -> Route:
        member = ctx.member
        flow = self.router.flows.get(ctx.state.flow or "")
        if ctx.state.flow and flow is None:
            # A flow that no longer exists (renamed in a release): forget it.
            ctx.end()
        if event.unsupported is not None:
            return Route(None, None, "unsupported")
        if event.command is not None:
            if flow is not None and event.command in flow.commands:
                return Route(
                    flow.commands[event.command],
                    check(member, flow.access),
                    f"{flow.name}/{event.command}",
                    flow.access,
                )
            command = self.router.commands.get(event.command)
            if command is None:
                return Route(None, None, f"/{event.command}?")
            return Route(
                command.handler, check(member, command.access), f"/{command.name}", command.access
            )
        if event.payload is not None:
            prefix, _ = split_payload(event.payload)
            button = self.router.buttons.get(prefix)
            if button is None:
                return Route(None, None, f"button:{prefix}?")
            return Route(
                button.handler, check(member, button.access), f"button:{prefix}", button.access
            )
        if flow is not None and flow.handler is not None:
            return Route(
                flow.handler,
                check(member, flow.access),
                f"flow:{flow.name}/{ctx.state.step}",
                flow.access,
            )
        if flow is None and event.text:
            for text_route in self.router.texts:
                if text_route.pattern.fullmatch(event.text):
                    label = f"text:{text_route.pattern.pattern}"
                    return Route(
                        text_route.handler,
                        check(member, text_route.access),
                        label,
                        text_route.access,
                    )
            # "baocao" or "báo cáo" typed without the slash: the command of that name.
            word = fold(event.text).strip(" .!?").replace(" ", "")
            if len(word) <= MAX_NAME_LENGTH and word in self.router.commands:
                event.command, event.args = word, ""
                return self._route(event, ctx)
        return Route(None, None, "text")

    @staticmethod
    def _enter_admin_scope(route: Route, ctx: Context) -> list[list[Button]] | None:
        """For an admin route, the organiser the member acts for becomes `ctx.scope`; buttons to
        choose one when they administer several and have not chosen; a refusal when none."""
        if route.access is not Access.ADMIN:
            return None
        decision = admin_scope(ctx.member, session=ctx.session)
        if isinstance(decision, Scope):
            ctx.scope = decision
            return None
        if not decision:
            route.access_key = "access.admin_only"
            return None
        return [[Button(o.name, make_payload(ACT_AS, o.id))] for o in decision]

    def _no_route(self, event: Inbound, ctx: Context) -> None:
        if event.unsupported is not None:
            # Say how else to send it, then repeat the question the chat is answering.
            ctx.say(event.unsupported)
            prompt = ctx.last_prompt()
            if prompt is not None:
                ctx.replies.append(prompt)
        elif event.command is not None:
            ctx.say("core.unknown_command", command=event.command)
        elif event.payload is not None:
            ctx.say("core.stale_button")
        else:
            ctx.say("core.not_understood")

    # --- persistence -------------------------------------------------------------------------
    def _claim_update(self, session: Session, event: Inbound) -> int | None:
        """Record the update id as handled (its row's id); None when some process already did.

        One INSERT … ON CONFLICT DO NOTHING, not a look-up then an insert: two processes
        given the same update (a re-delivery) cannot both pass, and on SQLite the update's
        transaction takes the write lock with its first statement, so it waits its turn
        (busy timeout) instead of failing later on a stale snapshot.
        """
        statement = _CLAIM[session.get_bind().dialect.name]
        params = {
            "c_channel": event.channel,
            "c_update": str(event.update_id),
            "c_chat": event.chat_id,
            "c_at": self.clock.now(),
            "c_fingerprint": fingerprint(event),
        }
        row = session.execute(statement, params).first()
        if row is None:
            return None
        if row.reuses:
            # Same id, different content: a new update, not a repeat (ids started over).
            log.warning(
                "update=%s channel=%s: this id was used before for another update; update ids "
                "started over (new bot token, new Bot API server, or Telegram's fresh ids after "
                "a quiet week) — handled as new",
                event.update_id,
                event.channel,
            )
        return row.id

    def _owed_answers(self, session: Session, event: Inbound) -> list[Delivery]:
        """For a repeat of an update already handled: the answers it still owes, if a crash
        kept them from going out — claimed here (marked answered) so they go out once."""
        channel, update_id = event.channel, str(event.update_id)
        if update_id in self._unmarked.get(channel, ()):
            return []  # answered by this process, the mark not written yet
        row = session.execute(_OWED, {"o_channel": channel, "o_update": update_id}).first()
        if row is None or row.answers is None or row.fingerprint != fingerprint(event):
            return []
        now = self.clock.now()
        if now - row.handled_at < REDELIVERY_GRACE:
            return []
        taken = session.execute(_TAKE_OWED, {"t_id": row.id, "t_at": now})
        if rowcount(taken) != 1:
            return []  # another process sent them meanwhile
        log.info("update=%s answers a crash kept back sent on its re-delivery", update_id)
        return owed.load(row.answers)

    def _mark_processed_after_error(self, event: Inbound) -> bool:
        if event.update_id is None:
            return False
        try:
            with Session(self.engine) as session:
                claimed = self._claim_update(session, event) is not None
                session.commit()
                return claimed
        except Exception:  # the apology still goes out; a redelivery would be handled again
            log.warning("update=%s could not be marked handled after an error", event.update_id)
            return False

    def _mark_answered(self, channel: str, update_id: str) -> None:
        """Record, soon, that the update's answers went out. Marks are written in batches: one
        UPDATE for all the updates answered while the previous batch waited for this process's
        transaction turn — one when idle, dozens under load — instead of a transaction each.
        A crash before the batch is written costs no more than an unmarked update always did:
        the chat's question is asked again at start-up (`resume_unanswered`)."""
        self._unmarked.setdefault(channel, []).append(update_id)
        if self._marking is None:
            self._marking = asyncio.create_task(self._write_marks(), name="mark-answered")

    async def _write_marks(self) -> None:
        pending: dict[str, list[str]] = {}
        try:
            async with self._transaction:
                # From here on, updates answered meanwhile go to the next batch.
                pending, self._unmarked, self._marking = self._unmarked, {}, None
                with Session(self.engine) as session:
                    for channel, update_ids in pending.items():
                        self._write_answered(session, channel, update_ids)
                    if self._pruned_at is None or self.clock.now() - self._pruned_at >= PRUNE_EVERY:
                        self._prune(session)
                    session.commit()
        except Exception:  # only costs a repeated question after the next crash
            log.warning("%d updates could not be marked answered", sum(map(len, pending.values())))
        finally:
            if self._marking is asyncio.current_task():  # cancelled before its turn
                self._marking = None

    async def _mark_answered_id(self, channel: str, update_id: str) -> None:
        """Mark one update answered at once (start-up)."""
        try:
            async with self._transaction:
                with Session(self.engine) as session:
                    self._write_answered(session, channel, [update_id])
                    session.commit()
        except Exception:  # only costs a repeated question after the next crash
            log.warning("update=%s could not be marked answered", update_id)

    def _prune(self, session: Session) -> None:
        """Forget the updates handled more than PRUNE_AFTER ago (once an hour, and at start)."""
        now = self.clock.now()
        session.execute(
            sa.delete(ProcessedUpdate).where(
                ProcessedUpdate.handled_at < now - PRUNE_AFTER  # type: ignore[arg-type]  # a column, not a datetime
            )
        )
        self._pruned_at = now

    def _write_answered(self, session: Session, channel: str, update_ids: list[str]) -> None:
        now = self.clock.now()
        for start in range(0, len(update_ids), MARK_BATCH):
            session.execute(
                sa.update(ProcessedUpdate)
                .where(
                    ProcessedUpdate.channel == channel,  # type: ignore[arg-type]  # a column at class level
                    ProcessedUpdate.update_id.in_(update_ids[start : start + MARK_BATCH]),  # type: ignore[attr-defined]  # a column at class level
                )
                .values(answered_at=now)
            )

    @staticmethod
    def _unanswered(
        session: Session, channel: str, since: datetime
    ) -> dict[str, tuple[list[str], ProcessedUpdate | None, Outbound | None]]:
        """Chats whose latest update has no answered_at: their unanswered update ids, and what
        they are owed — the latest update's row when it kept its answers, else the question to
        ask again if the chat is in a flow."""
        rows = session.exec(
            select(ProcessedUpdate).where(
                ProcessedUpdate.channel == channel,
                ProcessedUpdate.answered_at == None,  # noqa: E711
                ProcessedUpdate.chat_id != None,  # noqa: E711
                ProcessedUpdate.handled_at >= since,
            )
        ).all()
        chats: dict[str, tuple[list[str], ProcessedUpdate | None, Outbound | None]] = {}
        for chat_id in sorted({r.chat_id for r in rows if r.chat_id is not None}):
            mine = [r for r in rows if r.chat_id == chat_id]
            latest = session.exec(
                select(sa.func.max(ProcessedUpdate.id)).where(
                    ProcessedUpdate.channel == channel, ProcessedUpdate.chat_id == chat_id
                )
            ).one()
            kept = next((r for r in mine if r.id == latest and r.answers), None)
            prompt = None
            if kept is None and latest in {r.id for r in mine}:
                state = session.exec(
                    select(ConversationState).where(
                        ConversationState.channel == channel, ConversationState.chat_id == chat_id
                    )
                ).first()
                if state is not None and state.flow is not None:
                    prompt = saved_prompt(state)
            ids = [r.update_id for r in mine if kept is None or r.id != kept.id]
            chats[chat_id] = (ids, kept, prompt)
        return chats

    def _load_state(self, session: Session, event: Inbound) -> tuple[ConversationState, int | None]:
        # FOR UPDATE (PostgreSQL; SQLite has one writer anyway): a second process answering the
        # same chat waits here until this update commits, then reads what it wrote. Without the
        # lock both would read the same version and one would lose the race on every retry
        # while answers keep coming. The version check in `_save_state` stays as the safety net.
        state = session.exec(
            _STATE_FOR_UPDATE, params={"s_channel": event.channel, "s_chat": event.chat_id}
        ).first()
        if state is None:
            return ConversationState(channel=event.channel, chat_id=event.chat_id, data={}), None
        session.expunge(state)
        state.data = copy.deepcopy(state.data or {})
        return state, state.version

    def _save_state(
        self, session: Session, state: ConversationState, version: int | None, now: datetime
    ) -> None:
        table = table_of(ConversationState)
        values = {"flow": state.flow, "step": state.step, "data": state.data, "updated_at": now}
        if version is None:
            if state.flow is None:
                return
            session.execute(
                sa.insert(table).values(
                    channel=state.channel, chat_id=state.chat_id, version=1, **values
                )
            )
            return
        result = session.execute(
            _SAVE_STATE,
            {
                "s_id": state.id,
                "s_version": version,
                "s_next": version + 1,
                **{f"s_{name}": value for name, value in values.items()},
            },
        )
        if rowcount(result) != 1:
            raise ConcurrentUpdate(f"conversation {state.channel}:{state.chat_id}")

    # --- answers -----------------------------------------------------------------------------
    async def _send_answers(self, event: Inbound, deliveries: list[Delivery]) -> None:
        """The answers to the chat through the hub (retried, in order); notices to other
        members are pushed messages (`bot.delivery`): tried once here, and one that certainly
        did not go is handed to a background push that retries it with backoff, so an outage
        neither loses it nor holds this chat's turn. An unknown outcome is not sent again."""
        answers = [d for d in deliveries if d.reply_to is not None]
        notices = [d for d in deliveries if d.reply_to is None]
        await self.hub.deliver(answers)
        delivery = self.services.delivery
        for notice in notices:
            outcome = await delivery.push(notice, retry=False, pace=False)
            if outcome.status is PushStatus.FAILED and not outcome.permanent:
                self._start_jobs(event, [functools.partial(self._push_later, notice)])

    async def _push_later(self, notice: Delivery) -> None:
        outcome = await self.services.delivery.push(notice)
        if not outcome.sent:
            log.error(
                "notice to %s:%s %s after retries: %s",
                notice.address.channel,
                notice.address.chat_id,
                outcome.status,
                outcome.reason,
            )

    @staticmethod
    def _to_chat(event: Inbound, message: Outbound) -> Delivery:
        return Delivery(Address(event.channel, event.chat_id), message, reply_to=event)

    def _deliveries(self, event: Inbound, ctx: Context) -> list[Delivery]:
        return [self._to_chat(event, m) for m in ctx.replies] + list(ctx.notifications)


# --- statements run on every update, built once (values bound at run time) ------------------
def fingerprint(event: Inbound) -> str:
    """What identifies the content of an update beyond its id: the channel's `source` (bot and
    message id) and what the user sent. A re-delivery has the same; a new update reusing the
    id does not."""
    attachment = event.attachment
    parts = (
        event.source or "",
        event.chat_id,
        event.user_id,
        event.message_id or "",
        event.text,
        event.payload or "",
        (attachment.unique_id or attachment.file_id) if attachment else "",
        event.unsupported or "",
    )
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def _claim_statement(insert: Callable[..., Any]) -> Any:
    table = table_of(ProcessedUpdate)
    statement = insert(table).values(
        channel=sa.bindparam("c_channel"),
        update_id=sa.bindparam("c_update"),
        chat_id=sa.bindparam("c_chat"),
        handled_at=sa.bindparam("c_at", type_=table.c.handled_at.type),
        fingerprint=sa.bindparam("c_fingerprint"),
    )
    # A known id with another fingerprint is a new update reusing the id: it takes the row
    # over (and is handled). A row without a fingerprint (written before it existed) compares
    # as NULL, so it keeps the old rule — a repeat — until it is pruned.
    excluded = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=["channel", "update_id"],
        set_={
            "chat_id": excluded.chat_id,
            "handled_at": excluded.handled_at,
            "fingerprint": excluded.fingerprint,
            "answered_at": None,
            "reuses": table.c.reuses + 1,
        },
        where=table.c.fingerprint != excluded.fingerprint,
    ).returning(table.c.id, table.c.reuses)


# Both dialects offer INSERT … ON CONFLICT DO UPDATE … WHERE, each with its own construct.
_CLAIM = {
    "sqlite": _claim_statement(sqlite.insert),
    "postgresql": _claim_statement(postgresql.insert),
}

_PROCESSED = table_of(ProcessedUpdate)

_STORE_ANSWERS = (
    sa.update(_PROCESSED)
    .where(_PROCESSED.c.id == sa.bindparam("a_id"))
    .values(answers=sa.bindparam("a_answers", type_=_PROCESSED.c.answers.type))
)

_OWED = sa.select(
    _PROCESSED.c.id,
    _PROCESSED.c.handled_at,
    _PROCESSED.c.fingerprint,
    _PROCESSED.c.answers,
).where(
    _PROCESSED.c.channel == sa.bindparam("o_channel"),
    _PROCESSED.c.update_id == sa.bindparam("o_update"),
    _PROCESSED.c.answered_at.is_(None),
)

# Answered_at is set before the owed answers are sent: of two processes (or a start-up and a
# re-delivery) only the one whose UPDATE took effect sends them.
_TAKE_OWED = (
    sa.update(_PROCESSED)
    .where(
        _PROCESSED.c.id == sa.bindparam("t_id"),
        _PROCESSED.c.answered_at.is_(None),
    )
    .values(answered_at=sa.bindparam("t_at", type_=_PROCESSED.c.answered_at.type))
)

_STATE_FOR_UPDATE = (
    select(ConversationState)
    .where(
        ConversationState.channel == sa.bindparam("s_channel"),
        ConversationState.chat_id == sa.bindparam("s_chat"),
    )
    .with_for_update()
)


def _save_state_statement() -> Any:
    table = table_of(ConversationState)
    typed = {name: table.c[name].type for name in ("flow", "step", "data", "updated_at")}
    return (
        sa.update(table)
        .where(table.c.id == sa.bindparam("s_id"), table.c.version == sa.bindparam("s_version"))
        .values(
            version=sa.bindparam("s_next"),
            **{name: sa.bindparam(f"s_{name}", type_=type_) for name, type_ in typed.items()},
        )
    )


_SAVE_STATE = _save_state_statement()
