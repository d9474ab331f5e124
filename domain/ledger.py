"""The reminder delivery ledger (`ReminderLog`): who gets which reminder, claiming it once,
marking it sending, recording outcomes and retries — never twice, never silently lost.

How a reminder goes out (the scheduler in `bot/scheduler.py` drives it, one tick at a time):
1. `plan_due` reads deadlines, policies and report statuses and lists the reminders due now.
2. `claim` inserts their log rows (status `claimed`) under the unique key (deadline, member,
   slot); the caller commits *before* sending. A row another process already claimed is not
   inserted again, so a restart, a retry or a second bot process cannot repeat a reminder.
3. Just before its send a row is switched to `sending` (`mark_sending`, committed), and only the
   sender whose switch took effect sends. A row a crash left `claimed` was never handed to the
   platform: `release_claims` puts it back to be sent (a run claims a chunk of rows ahead of
   its sends, so without this a crash would strand up to a chunk of reminders).
4. After the send `record_outcomes` marks each row: `sent` (with the platform's message id),
   `retry` (failed for sure: try again later with backoff), `failed` (given up, reason kept; a
   user who blocked the bot is marked unreachable), or it stays `sending` when the outcome is
   unknown (the process died or the network broke mid-request). Platforms have no idempotency
   key, so an unknown outcome is never resent blindly: the admins' daily digest shows it. The
   sender writes outcomes together with its next `sending` mark, so a crash leaves at most one
   unresolved row per concurrent sender.

"Always current". Just before each claim the unit's report, the member's status and the campaign
are read again, so a unit that submitted at 09:59 gets no 10:00 reminder, a closed campaign
stops reminding, and a removed officer gets nothing. A member gets at most one scheduled reminder
per deadline a day and no manual reminder within an hour of another for the same deadline
(the deadline row is locked while claiming, so two processes cannot both pass that check).

This module must not send, render messages or read the clock: times are passed in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from domain.campaigns import SUBMITTED_STATES
from domain.schedule import (
    DEFAULT_POLICY,
    Policy,
    Slot,
    SlotKind,
    WorkCalendar,
    current_slot,
    irrelevance,
    manual_slot_key,
    policy_of,
    schedule,
    slot_kind,
)
from models.base import insert_ignoring, rowcount, table_of
from models.campaigns import Campaign, CampaignStatus, Deadline, ReminderLog, ReminderStatus
from models.reports import Report
from models.units import Member, MemberStatus

# Retries of sends that failed for sure: 1, 2, 4 … minutes, at most an hour apart, then give up.
MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=1)
# A claim younger than this may still be in flight in another process: not yet "unknown" (a
# row still `sending`), nor stranded (a row still `claimed`, put back to be sent).
# A claim younger than this may still be in flight in another process: not yet "unknown" (a
# row still `sending`), nor stranded (a row still `claimed`, put back to be sent).
UNKNOWN_AFTER = timedelta(minutes=10)
CLAIM_CHUNK = 200


# --- who gets what ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Candidate:
    """One reminder due to one member."""

    deadline_id: int
    unit_id: int
    member_id: int
    slot: str


@dataclass(frozen=True, slots=True)
class Claimed:
    """A claimed log row, committed: the caller now sends it and records the outcome."""

    log_id: int
    deadline_id: int
    unit_id: int
    member_id: int
    slot: str
    channel: str
    chat_id: str
    attempts: int


def _reachable_officers(
    session: Session, channels: Sequence[str], unit_ids: Iterable[int] | None = None
) -> dict[int, list[Member]]:
    """Approved members bound to a unit, not known to have blocked the bot, on a channel this
    process serves; by unit."""
    query = select(Member).where(
        Member.status == MemberStatus.APPROVED,
        col(Member.unit_id).is_not(None),
        col(Member.unreachable_at).is_(None),
        col(Member.channel).in_(list(channels)),
    )
    if unit_ids is not None:
        query = query.where(col(Member.unit_id).in_(list(unit_ids)))
    result: dict[int, list[Member]] = defaultdict(list)
    for member in session.exec(query.order_by(col(Member.id))).all():
        assert member.unit_id is not None
        result[member.unit_id].append(member)
    return result


def _submitted_unit_ids(session: Session, deadline_id: int, unit_ids: Iterable[int]) -> set[int]:
    ids = list(set(unit_ids))
    if not ids:
        return set()
    return set(
        session.exec(
            select(Report.unit_id).where(
                Report.deadline_id == deadline_id,
                col(Report.unit_id).in_(ids),
                col(Report.status).in_(SUBMITTED_STATES),
            )
        ).all()
    )


def _missing_unit_ids(session: Session, deadline: Deadline, campaign: Campaign) -> list[int]:
    from domain.campaigns import participating_units

    units = [u.id for u in participating_units(session, campaign) if u.id is not None]
    assert deadline.id is not None
    submitted = _submitted_unit_ids(session, deadline.id, units)
    return [u for u in units if u not in submitted]


def plan_due(
    session: Session, *, now: datetime, calendar: WorkCalendar, channels: Sequence[str]
) -> list[Candidate]:
    """Every scheduled reminder due now and not yet in the log, deadline by deadline."""
    candidates: list[Candidate] = []
    officers: dict[int, list[Member]] | None = None
    campaigns = session.exec(
        select(Campaign).where(Campaign.status == CampaignStatus.ACTIVE).order_by(col(Campaign.id))
    ).all()
    for campaign in campaigns:
        deadlines = session.exec(
            select(Deadline).where(Deadline.campaign_id == campaign.id).order_by(col(Deadline.id))
        ).all()
        for deadline in deadlines:
            slot = current_slot(deadline, campaign, now=now, calendar=calendar)
            if slot is None:
                continue
            assert deadline.id is not None
            if officers is None:
                officers = _reachable_officers(session, channels)
            logged = set(
                session.exec(
                    select(ReminderLog.member_id).where(
                        ReminderLog.deadline_id == deadline.id, ReminderLog.slot == slot.key
                    )
                ).all()
            )
            for unit_id in _missing_unit_ids(session, deadline, campaign):
                for member in officers.get(unit_id, []):
                    if member.id not in logged:
                        assert member.id is not None
                        candidates.append(Candidate(deadline.id, unit_id, member.id, slot.key))
    return candidates


# --- claiming ---------------------------------------------------------------------------------
def _lock_deadline(session: Session, deadline_id: int) -> bool:
    """Serialise claims for one deadline across processes: a row lock on PostgreSQL, the write
    lock on SQLite (taken by the first statement, so later reads in the transaction are
    current). False when the deadline no longer exists."""
    table = table_of(Deadline)
    result = session.execute(
        sa.update(table).where(table.c.id == deadline_id).values(kind=table.c.kind)
    )
    return rowcount(result) == 1


def _insert_ignore(session: Session, rows: list[dict[str, Any]]) -> list[tuple[int, int, str]]:
    """Insert log rows, skipping those whose (deadline, member, slot) exists; (id, member_id,
    slot) of the rows inserted."""
    if not rows:
        return []
    table = table_of(ReminderLog)
    statement = insert_ignoring(
        session, table, keys=["deadline_id", "member_id", "slot"]
    ).returning(table.c.id, table.c.member_id, table.c.slot)
    # Executed for many rows at once (SQLAlchemy's "insertmanyvalues"): one compiled statement.
    return [(row[0], row[1], row[2]) for row in session.execute(statement, rows).all()]


def _cover_start(slot: str, now: datetime, tz: ZoneInfo) -> datetime:
    """Since when another reminder for the same deadline makes this one a double: the local
    hour for a manual reminder, the local day for a scheduled one."""
    local = now.astimezone(tz)
    if slot_kind(slot) == SlotKind.MANUAL:
        start = local.replace(minute=0, second=0, microsecond=0)
    else:
        start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start.astimezone(UTC)


def _covered(
    session: Session,
    deadline_id: int,
    member_ids: Iterable[int],
    since: datetime,
    exclude_log_ids: Iterable[int] = (),
) -> set[int]:
    ids = list(set(member_ids))
    if not ids:
        return set()
    query = select(ReminderLog.member_id).where(
        ReminderLog.deadline_id == deadline_id,
        col(ReminderLog.member_id).in_(ids),
        col(ReminderLog.status).in_(
            [
                ReminderStatus.CLAIMED,
                ReminderStatus.SENDING,
                ReminderStatus.SENT,
                ReminderStatus.RETRY,
            ]
        ),
        col(ReminderLog.claimed_at) >= since,
    )
    excluded = list(exclude_log_ids)
    if excluded:
        query = query.where(col(ReminderLog.id).not_in(excluded))
    return set(session.exec(query).all())


def _eligible(member: Member | None, unit_id: int, channels: Sequence[str]) -> bool:
    return (
        member is not None
        and member.status == MemberStatus.APPROVED
        and member.unit_id == unit_id
        and member.unreachable_at is None
        and member.channel in channels
    )


def _row(c: Candidate, status: str, now: datetime, **extra: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "deadline_id": c.deadline_id,
        "unit_id": c.unit_id,
        "member_id": c.member_id,
        "slot": c.slot,
        "status": status,
        "attempts": 0,
        "claimed_at": now,
        "sent_at": None,
        "next_attempt_at": None,
        "message_id": None,
        "error": None,
    }
    values.update(extra)
    return values


@dataclass(slots=True)
class ClaimResult:
    claimed: list[Claimed] = field(default_factory=list)
    skipped: int = 0  # covered by another reminder, or no longer due
    failed: int = 0  # given up while waiting for a retry


OUT_OF_REACH = "out of reach: has not written to the bot within the channel's reply window"


def claim(
    session: Session,
    candidates: Sequence[Candidate],
    *,
    now: datetime,
    channels: Sequence[str],
    can_reach: Callable[[Member], bool] | None = None,
) -> ClaimResult:
    """Claim reminders about to be sent; the caller commits, then sends `result.claimed`.

    Everything that decides whether a reminder is still wanted is read again here, under the
    deadline's lock: the campaign, the unit's report, the member. A member who already had a
    reminder for this deadline today is recorded as skipped ("covered"). A member the channel
    will not let the bot write to now (`can_reach` False: Zalo's reply window) is recorded as
    skipped with OUT_OF_REACH, so the admins' digest names them instead of the reminder
    silently not going."""
    result = ClaimResult()
    groups: dict[int, list[Candidate]] = defaultdict(list)
    for c in candidates:
        groups[c.deadline_id].append(c)
    for deadline_id, group in sorted(groups.items()):  # locks in one order: no deadlock
        if not _lock_deadline(session, deadline_id):
            continue
        deadline = session.get(Deadline, deadline_id)
        campaign = session.get(Campaign, deadline.campaign_id) if deadline else None
        if deadline is None or campaign is None or campaign.status != CampaignStatus.ACTIVE:
            continue
        tz = ZoneInfo(campaign.timezone)
        submitted = _submitted_unit_ids(session, deadline_id, (c.unit_id for c in group))
        members = {
            m.id: m
            for m in session.exec(
                select(Member).where(col(Member.id).in_([c.member_id for c in group]))
            ).all()
        }
        wanted = [
            c
            for c in group
            if c.unit_id not in submitted
            and _eligible(members.get(c.member_id), c.unit_id, channels)
        ]
        fresh: list[dict[str, Any]] = []
        covered_rows: list[dict[str, Any]] = []
        if can_reach is not None:
            out_of_reach = [c for c in wanted if not can_reach(members[c.member_id])]
            covered_rows += [
                _row(c, ReminderStatus.SKIPPED, now, error=OUT_OF_REACH) for c in out_of_reach
            ]
            wanted = [c for c in wanted if c not in out_of_reach]
        by_slot: dict[str, list[Candidate]] = defaultdict(list)
        for c in wanted:
            by_slot[c.slot].append(c)
        for slot, items in by_slot.items():
            covered = _covered(
                session, deadline_id, (c.member_id for c in items), _cover_start(slot, now, tz)
            )
            for c in items:
                if c.member_id in covered:
                    covered_rows.append(
                        _row(c, ReminderStatus.SKIPPED, now, error="covered: another reminder")
                    )
                else:
                    fresh.append(_row(c, ReminderStatus.CLAIMED, now, attempts=1))
        result.skipped += len(_insert_ignore(session, covered_rows))
        for log_id, member_id, slot in _insert_ignore(session, fresh):
            unit_id = next(c.unit_id for c in by_slot[slot] if c.member_id == member_id)
            member = members[member_id]
            result.claimed.append(
                Claimed(
                    log_id=log_id,
                    deadline_id=deadline_id,
                    unit_id=unit_id,
                    member_id=member_id,
                    slot=slot,
                    channel=member.channel,
                    chat_id=member.chat_id,
                    attempts=1,
                )
            )
    return result


def claim_retries(
    session: Session,
    *,
    now: datetime,
    calendar: WorkCalendar,
    channels: Sequence[str],
    limit: int = CLAIM_CHUNK,
) -> ClaimResult:
    """Claim log rows waiting for a (re)try that is due: sends that failed for sure, and manual
    reminders queued by an admin. Each is checked again first; one no longer wanted is
    closed as skipped (unit submitted, campaign closed, deadline moved, superseded) or failed
    (too late to be useful), with the reason."""
    result = ClaimResult()
    due_ids = session.exec(
        select(ReminderLog.id)
        .where(
            ReminderLog.status == ReminderStatus.RETRY,
            col(ReminderLog.next_attempt_at) <= now,
        )
        .order_by(col(ReminderLog.next_attempt_at), col(ReminderLog.id))
        .limit(limit)
    ).all()
    if not due_ids:
        return result
    deadline_ids = sorted(
        set(
            session.exec(
                select(ReminderLog.deadline_id).where(col(ReminderLog.id).in_(list(due_ids)))
            ).all()
        )
    )
    session.rollback()  # start the writing transaction with the lock (see _lock_deadline)
    for deadline_id in deadline_ids:
        if not _lock_deadline(session, deadline_id):
            continue
        rows = session.exec(
            select(ReminderLog).where(
                col(ReminderLog.id).in_(list(due_ids)),
                ReminderLog.deadline_id == deadline_id,
                ReminderLog.status == ReminderStatus.RETRY,
            )
        ).all()
        if not rows:
            continue
        deadline = session.get(Deadline, deadline_id)
        assert deadline is not None
        campaign = session.get(Campaign, deadline.campaign_id)
        assert campaign is not None
        tz = ZoneInfo(campaign.timezone)
        policy = policy_of(deadline)
        if policy.is_quiet(now.astimezone(tz)):
            continue
        submitted = _submitted_unit_ids(session, deadline_id, (r.unit_id for r in rows))
        members = {
            m.id: m
            for m in session.exec(
                select(Member).where(col(Member.id).in_([r.member_id for r in rows]))
            ).all()
        }
        slots = {s.key: s for s in schedule(deadline.due_at, policy, tz=tz, calendar=calendar)}
        fallen = [s for s in slots.values() if s.fire_at <= now]
        latest = max(fallen, key=lambda s: s.fire_at).key if fallen else None
        for row in rows:
            member = members.get(row.member_id)
            if member is not None and member.channel not in channels:
                continue  # another process serves this channel
            verdict = _retry_verdict(
                row, deadline, campaign, policy, slots, latest, submitted, member, now, tz
            )
            if verdict is None:
                since = _cover_start(row.slot, now, tz)
                itself = [row.id] if row.id is not None else []
                if row.member_id in _covered(session, deadline_id, [row.member_id], since, itself):
                    verdict = (ReminderStatus.SKIPPED, "covered: another reminder")
            if verdict is not None:
                status, reason = verdict
                row.status = status
                row.next_attempt_at = None
                row.error = _reason(reason, row.error)
                session.add(row)
                if status == ReminderStatus.FAILED:
                    result.failed += 1
                else:
                    result.skipped += 1
                continue
            table = table_of(ReminderLog)
            updated = session.execute(
                sa.update(table)
                .where(table.c.id == row.id, table.c.status == ReminderStatus.RETRY)
                .values(
                    status=ReminderStatus.CLAIMED,
                    attempts=table.c.attempts + 1,
                    claimed_at=now,
                    next_attempt_at=None,
                )
            )
            if rowcount(updated) == 1 and member is not None and row.id is not None:
                result.claimed.append(
                    Claimed(
                        log_id=row.id,
                        deadline_id=deadline_id,
                        unit_id=row.unit_id,
                        member_id=row.member_id,
                        slot=row.slot,
                        channel=member.channel,
                        chat_id=member.chat_id,
                        attempts=row.attempts + 1,
                    )
                )
        session.flush()
    return result


def release_claims(session: Session, *, before: datetime, now: datetime) -> int:
    """Put back to be sent the rows claimed before `before` and never handed to the platform
    (still `claimed`: their run died between the claim and the send). They wait as retries due
    now, their claim not counted as an attempt, so `claim_retries` checks them again (still
    wanted? covered?) and sends them. Returns how many. The caller commits."""
    table = table_of(ReminderLog)
    result = session.execute(
        sa.update(table)
        .where(table.c.status == ReminderStatus.CLAIMED, table.c.claimed_at < before)
        .values(
            status=ReminderStatus.RETRY,
            next_attempt_at=now,
            attempts=sa.case((table.c.attempts > 0, table.c.attempts - 1), else_=0),
        )
    )
    return rowcount(result)


def mark_sending(session: Session, log_ids: Sequence[int]) -> set[int]:
    """Switch claimed rows to `sending` just before their sends; returns the ids switched. A row
    left out is no longer claimed (released, and taken by another run): it must not be sent
    here. The caller commits before sending."""
    if not log_ids:
        return set()
    table = table_of(ReminderLog)
    result = session.execute(
        sa.update(table)
        .where(col(table.c.id).in_(list(log_ids)), table.c.status == ReminderStatus.CLAIMED)
        .values(status=ReminderStatus.SENDING)
        .returning(table.c.id)
    )
    return {row[0] for row in result.all()}


def _reason(reason: str, previous: str | None) -> str:
    text = f"{reason}; last error: {previous}" if previous else reason
    return text[:500]


def _retry_verdict(
    row: ReminderLog,
    deadline: Deadline,
    campaign: Campaign,
    policy: Policy,
    slots: dict[str, Slot],
    latest: str | None,
    submitted: set[int],
    member: Member | None,
    now: datetime,
    tz: ZoneInfo,
) -> tuple[str, str] | None:
    """None when a waiting row should be sent now; else (final status, reason)."""
    if campaign.status != CampaignStatus.ACTIVE:
        return ReminderStatus.SKIPPED, "campaign not active"
    if row.unit_id in submitted:
        return ReminderStatus.SKIPPED, "unit submitted"
    if member is None or not _eligible(member, row.unit_id, [member.channel]):
        return ReminderStatus.SKIPPED, "member no longer an approved, reachable officer"
    if slot_kind(row.slot) == SlotKind.MANUAL:
        stamp = row.slot.split("@", 1)[1]
        asked = datetime.strptime(stamp, "%Y%m%d%H").replace(tzinfo=tz)
        if now - asked > timedelta(hours=policy.catchup_hours):
            return ReminderStatus.FAILED, "gave up: too late"
        return None
    slot = slots.get(row.slot)
    if slot is None:
        return ReminderStatus.SKIPPED, "deadline or policy changed"
    if latest is not None and latest != slot.key:
        return ReminderStatus.SKIPPED, "superseded by a later reminder"
    why = irrelevance(slot, deadline, campaign, policy, now)
    if why is not None:
        return ReminderStatus.FAILED, f"gave up: {why.replace('_', ' ')}"
    return None


# --- manual reminders ("Nhắc ngay") ------------------------------------------------------------
@dataclass(slots=True)
class ManualQueue:
    missing_units: int = 0
    queued_members: int = 0
    queued_units: int = 0
    covered_members: int = 0
    units_without_officer: int = 0
    send_at: datetime | None = None  # UTC; later than now during quiet hours


def queue_manual(
    session: Session, deadline: Deadline, *, now: datetime, channels: Sequence[str]
) -> ManualQueue:
    """Queue a reminder now to every reachable officer of the units still missing a deadline.

    The rows are written in the caller's transaction with status `retry` and no attempt yet,
    due at once (or when quiet hours end); the scheduler sends them like any retry, so the
    same claim rules apply. Their slot is keyed by the local hour: pressing twice in an hour,
    or right after a scheduled reminder, sends nothing twice."""
    assert deadline.id is not None
    _lock_deadline(session, deadline.id)
    campaign = session.get(Campaign, deadline.campaign_id)
    assert campaign is not None
    tz = ZoneInfo(campaign.timezone)
    policy = policy_of(deadline)
    result = ManualQueue()
    missing = _missing_unit_ids(session, deadline, campaign)
    result.missing_units = len(missing)
    officers = _reachable_officers(session, channels, missing)
    slot = manual_slot_key(now, tz)
    members = [m for unit_id in missing for m in officers.get(unit_id, [])]
    result.units_without_officer = sum(1 for u in missing if not officers.get(u))
    covered = _covered(
        session, deadline.id, (m.id for m in members if m.id), _cover_start(slot, now, tz)
    )
    send_at = policy.after_quiet(now.astimezone(tz)).astimezone(UTC)
    result.send_at = send_at
    rows = [
        _row(
            Candidate(deadline.id, m.unit_id, m.id, slot),  # type: ignore[arg-type]  # a stored row: its id is set
            ReminderStatus.RETRY,
            now,
            next_attempt_at=send_at,
        )
        for m in members
        if m.id not in covered
    ]
    inserted = {member_id for _, member_id, _ in _insert_ignore(session, rows)}
    result.queued_members = len(inserted)
    result.queued_units = len({m.unit_id for m in members if m.id in inserted})
    result.covered_members = len(members) - len(inserted)
    return result


# --- outcomes -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one claimed send."""

    claimed: Claimed
    message_id: str | None = None
    error: str | None = None
    permanent: bool = False  # retrying cannot help: the user blocked the bot
    retry_after: float | None = None
    uncertain: bool = False  # the request may or may not have reached the platform

    @property
    def sent(self) -> bool:
        return self.error is None and not self.uncertain


@dataclass(slots=True)
class OutcomeCounts:
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    unknown: int = 0


def backoff(attempts: int) -> timedelta:
    """Wait before attempt `attempts + 1`: 1, 2, 4 … minutes, capped at an hour."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_CAP)


def record_outcomes(
    session: Session, outcomes: Sequence[Outcome], *, now: datetime
) -> OutcomeCounts:
    """Mark rows after their sends; the caller commits. Only a row still `sending` is touched,
    so a late or repeated call cannot overwrite another process's result."""
    counts = OutcomeCounts()
    table = table_of(ReminderLog)
    sent = [o for o in outcomes if o.sent]
    if sent:  # the common case, in one statement for the whole batch
        session.execute(
            sa.update(table)
            .where(
                table.c.id == sa.bindparam("sent_log_id"),
                table.c.status == ReminderStatus.SENDING,
            )
            .values(
                status=ReminderStatus.SENT,
                sent_at=now,
                message_id=sa.bindparam("sent_message_id"),
                error=None,
            ),
            [{"sent_log_id": o.claimed.log_id, "sent_message_id": o.message_id} for o in sent],
        )
        counts.sent = len(sent)
    quiet_policies: dict[int, tuple[Policy, ZoneInfo]] = {}
    for outcome in outcomes:
        c = outcome.claimed
        where = sa.and_(table.c.id == c.log_id, table.c.status == ReminderStatus.SENDING)
        values: dict[str, Any]
        if outcome.sent:
            continue
        if outcome.uncertain:
            # Left `sending`: nobody can tell whether it arrived. The digest shows it.
            values = {"error": f"unknown outcome: {outcome.error}"[:500]}
            counts.unknown += 1
        elif outcome.permanent:
            values = {"status": ReminderStatus.FAILED, "error": (outcome.error or "")[:500]}
            member = session.get(Member, c.member_id)
            if member is not None and member.unreachable_at is None:
                member.unreachable_at = now
                session.add(member)
            counts.failed += 1
        elif c.attempts >= MAX_ATTEMPTS:
            values = {
                "status": ReminderStatus.FAILED,
                "error": f"gave up after {c.attempts} attempts: {outcome.error}"[:500],
            }
            counts.failed += 1
        else:
            wait = backoff(c.attempts)
            if outcome.retry_after:
                wait = max(wait, timedelta(seconds=outcome.retry_after))
            if c.deadline_id not in quiet_policies:
                deadline = session.get(Deadline, c.deadline_id)
                campaign = session.get(Campaign, deadline.campaign_id) if deadline else None
                tz = ZoneInfo(campaign.timezone if campaign else "Asia/Ho_Chi_Minh")
                quiet_policies[c.deadline_id] = (
                    policy_of(deadline) if deadline else DEFAULT_POLICY,
                    tz,
                )
            policy, tz = quiet_policies[c.deadline_id]
            retry_at = policy.after_quiet((now + wait).astimezone(tz)).astimezone(UTC)
            values = {
                "status": ReminderStatus.RETRY,
                "next_attempt_at": retry_at,
                "error": (outcome.error or "")[:500],
            }
            counts.deferred += 1
        session.execute(sa.update(table).where(where).values(**values))
    return counts
