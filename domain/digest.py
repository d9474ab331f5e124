"""The admins' daily digest of reminders (tóm tắt nhắc hạn): reminders whose outcome is unknown
or that were given up, and units still missing days after a due date; claimed once a day per
admin. This module must not send, render messages or read the clock: times are passed in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from domain.campaigns import DeadlineProgress, deadline_progress
from domain.ledger import OUT_OF_REACH, UNKNOWN_AFTER
from models.base import insert_ignoring, table_of
from models.campaigns import Campaign, CampaignStatus, Deadline, ReminderLog, ReminderStatus
from models.conversation import ProcessedUpdate
from models.organisers import DEFAULT_ORGANISER_ID, OrganiserMember, OrganiserRole
from models.units import Member, MemberStatus, Unit

# Units still missing this many days after the due date are named in the digest.
ESCALATE_AFTER_DAYS = 3
# Deadlines further ahead than this are left out of the digest (nothing to chase yet).
DIGEST_HORIZON = timedelta(days=14)


# --- the admins' daily digest ------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ReminderIssue:
    """A reminder an admin should know about: outcome unknown, or given up."""

    deadline_title: str
    unit_name: str
    member_name: str
    slot: str
    error: str


@dataclass(slots=True)
class DigestEntry:
    progress: DeadlineProgress
    escalated: list[Unit]


@dataclass(slots=True)
class Digest:
    day: date
    entries: list[DigestEntry] = field(default_factory=list)
    unknown: list[ReminderIssue] = field(default_factory=list)
    failed: list[ReminderIssue] = field(default_factory=list)
    # Officers the channel would not let the bot remind (Zalo reply window), last day.
    out_of_reach: list[ReminderIssue] = field(default_factory=list)
    sent_last_day: int = 0
    waiting_retry: int = 0

    @property
    def empty(self) -> bool:
        return not (self.entries or self.unknown or self.failed or self.out_of_reach)


def _issues(session: Session, rows: Sequence[ReminderLog]) -> list[ReminderIssue]:
    issues: list[ReminderIssue] = []
    for row in rows:
        deadline = session.get(Deadline, row.deadline_id)
        unit = session.get(Unit, row.unit_id)
        member = session.get(Member, row.member_id)
        issues.append(
            ReminderIssue(
                deadline.title if deadline else "?",
                unit.name if unit else "?",
                member.display_name if member else "?",
                row.slot,
                row.error or "",
            )
        )
    return issues


def build_digest(
    session: Session, *, organiser_id: int = DEFAULT_ORGANISER_ID, now: datetime, tz: ZoneInfo
) -> Digest:
    """For one organiser's admins, per open deadline of its campaigns (active, due within two
    weeks or past with units missing): how many submitted, late, missing, and the units
    missing three days after the due date; its reminders whose outcome is unknown, those given
    up in the last day, and volume sent."""
    digest = Digest(day=now.astimezone(tz).date())
    rows = session.exec(
        select(Deadline, Campaign)
        .join(Campaign, col(Campaign.id) == Deadline.campaign_id)
        .where(Campaign.status == CampaignStatus.ACTIVE, Campaign.organiser_id == organiser_id)
        .order_by(col(Deadline.due_at))
    ).all()
    for deadline, campaign in rows:
        if deadline.due_at > now + DIGEST_HORIZON:
            continue
        progress = deadline_progress(session, deadline, campaign=campaign)
        if deadline.due_at <= now and not progress.missing:
            continue
        days_late = (digest.day - deadline.due_at.astimezone(tz).date()).days
        escalated = progress.missing if days_late >= ESCALATE_AFTER_DAYS else []
        digest.entries.append(DigestEntry(progress, escalated))
    day_ago = now - timedelta(days=1)
    unknown = session.exec(
        _logs_of(organiser_id)
        .where(
            ReminderLog.status == ReminderStatus.SENDING,
            col(ReminderLog.claimed_at) < now - UNKNOWN_AFTER,
            col(ReminderLog.claimed_at) >= now - timedelta(days=7),
        )
        .order_by(col(ReminderLog.claimed_at))
    ).all()
    digest.unknown = _issues(session, unknown)
    failed = session.exec(
        _logs_of(organiser_id)
        .where(
            ReminderLog.status == ReminderStatus.FAILED,
            col(ReminderLog.claimed_at) >= day_ago,
        )
        .order_by(col(ReminderLog.claimed_at))
    ).all()
    digest.failed = _issues(session, failed)
    out_of_reach = session.exec(
        _logs_of(organiser_id)
        .where(
            ReminderLog.status == ReminderStatus.SKIPPED,
            ReminderLog.error == OUT_OF_REACH,
            col(ReminderLog.claimed_at) >= day_ago,
        )
        .order_by(col(ReminderLog.claimed_at))
    ).all()
    digest.out_of_reach = _issues(session, out_of_reach)
    digest.sent_last_day = session.exec(
        _logs_of(organiser_id, count=True).where(
            ReminderLog.status == ReminderStatus.SENT, col(ReminderLog.sent_at) >= day_ago
        )
    ).one()
    digest.waiting_retry = session.exec(
        _logs_of(organiser_id, count=True).where(ReminderLog.status == ReminderStatus.RETRY)
    ).one()
    return digest


def _logs_of(organiser_id: int, *, count: bool = False) -> Any:
    """Reminder log rows (or their count) of one organiser's deadlines."""
    query = select(sa.func.count(col(ReminderLog.id))) if count else select(ReminderLog)
    return (
        query.join(Deadline, col(Deadline.id) == col(ReminderLog.deadline_id))
        .join(Campaign, col(Campaign.id) == col(Deadline.campaign_id))
        .where(Campaign.organiser_id == organiser_id)
    )


def digest_recipients(session: Session, channels: Sequence[str]) -> list[tuple[Member, int]]:
    """(admin, organiser) pairs: each admin gets the digest of every organiser they run."""
    rows = session.exec(
        select(Member, OrganiserMember.organiser_id)
        .join(OrganiserMember, col(OrganiserMember.member_id) == col(Member.id))
        .where(
            OrganiserMember.role == OrganiserRole.ADMIN,
            Member.status == MemberStatus.APPROVED,
            col(Member.unreachable_at).is_(None),
            col(Member.channel).in_(list(channels)),
        )
        .order_by(col(Member.id), col(OrganiserMember.organiser_id))
    ).all()
    return [(member, organiser_id) for member, organiser_id in rows]


DIGEST_CHANNEL = "digest"


def unknown_soon(session: Session, *, before: datetime, now: datetime) -> bool:
    """Whether reminders claimed before `before` (a process's start) are still `sending` but not
    yet old enough to count as unknown (UNKNOWN_AFTER): a digest sent now would miss them."""
    row = session.exec(
        select(ReminderLog.id)
        .where(
            ReminderLog.status == ReminderStatus.SENDING,
            col(ReminderLog.claimed_at) < before,
            col(ReminderLog.claimed_at) >= now - UNKNOWN_AFTER,
        )
        .limit(1)
    ).first()
    return row is not None


def claim_digest(
    session: Session,
    *,
    member_id: int,
    day: date,
    now: datetime,
    organiser_id: int = DEFAULT_ORGANISER_ID,
) -> bool:
    """Claim today's digest of one organiser for an admin (once per day, across restarts and
    processes; the default organiser's key is the one used before organisers existed).

    The key lives in `processed_update`, the table whose job is "handled once"; the caller
    commits before sending."""
    table = table_of(ProcessedUpdate)
    statement = (
        insert_ignoring(session, table, keys=["channel", "update_id"])
        .values(
            channel=DIGEST_CHANNEL, update_id=_key(day, member_id, organiser_id), handled_at=now
        )
        .returning(table.c.id)
    )
    return session.execute(statement).first() is not None


def release_digest(
    session: Session, *, member_id: int, day: date, organiser_id: int = DEFAULT_ORGANISER_ID
) -> None:
    """Give back an admin's digest of `day` whose send certainly failed (the platform was
    unreachable): a later tick claims and sends it. The caller commits."""
    table = table_of(ProcessedUpdate)
    session.execute(
        sa.delete(table).where(
            table.c.channel == DIGEST_CHANNEL,
            table.c.update_id == _key(day, member_id, organiser_id),
        )
    )


def _key(day: date, member_id: int, organiser_id: int) -> str:
    # The default organiser's key is the one used before organisers existed.
    key = f"{day:%Y%m%d}:{member_id}"
    return key if organiser_id == DEFAULT_ORGANISER_ID else f"{key}:{organiser_id}"
