"""Reminders for a missing signed scan (nhắc gửi bản ký): a report printed from a Word template
was handed in, but its signed, stamped scan has not come back.

A reminder goes to each reachable officer of the unit 1, 3 and 7 days after the report was
handed in (only the latest step that has fallen due, like the deadline reminders), on working
days between 08:00 and 17:00 local time. Each is claimed in the reminder delivery log
(`ReminderLog`, unique per deadline, member and slot `scan-<days>d@v<version>`) before it is
sent, so no restart or second process sends it twice; a new version of the report starts over.
This module decides who and when; it does not send or word anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from domain.dossier import printed_from_template, units_waiting_for_scan
from domain.schedule import WorkCalendar
from models.campaigns import Campaign, CampaignStatus, Deadline, ReminderLog, ReminderStatus
from models.units import Member, MemberStatus

STEPS_DAYS = (1, 3, 7)
OFFICE_HOURS = (time(8, 0), time(17, 0))


@dataclass(frozen=True, slots=True)
class ScanReminder:
    log_id: int
    deadline_id: int
    deadline_title: str
    unit_name: str
    report_id: int
    version: int
    channel: str
    chat_id: str


def slot_for(submitted_at: datetime, version: int, now: datetime) -> str | None:
    days = (now - submitted_at).total_seconds() / 86400
    due = [d for d in STEPS_DAYS if days >= d]
    return f"scan-{due[-1]}d@v{version}" if due else None


def claim_scan_reminders(
    session: Session,
    *,
    now: datetime,
    calendar: WorkCalendar,
    channels: Sequence[str],
) -> list[ScanReminder]:
    """Claim (commit in the caller's transaction) every scan reminder due now."""
    claimed: list[ScanReminder] = []
    deadlines = session.exec(
        select(Deadline, Campaign)
        .join(Campaign, col(Campaign.id) == Deadline.campaign_id)
        .where(
            Campaign.status == CampaignStatus.ACTIVE,
            printed_from_template(),
        )
    ).all()
    for deadline, campaign in deadlines:
        local = now.astimezone(ZoneInfo(campaign.timezone))
        if calendar.is_day_off(local.date()) or not (
            OFFICE_HOURS[0] <= local.time() < OFFICE_HOURS[1]
        ):
            continue
        for unit, report in units_waiting_for_scan(session, deadline):
            if report.submitted_at is None:
                continue
            slot = slot_for(report.submitted_at, report.version, now)
            if slot is None:
                continue
            officers = session.exec(
                select(Member).where(
                    Member.unit_id == unit.id,
                    Member.status == MemberStatus.APPROVED,
                    col(Member.unreachable_at).is_(None),
                    col(Member.channel).in_(list(channels)),
                )
            ).all()
            for member in officers:
                row = ReminderLog(
                    deadline_id=deadline.id or 0,
                    unit_id=unit.id or 0,
                    member_id=member.id or 0,
                    slot=slot,
                    status=ReminderStatus.SENDING,
                    attempts=1,
                    claimed_at=now,
                )
                try:
                    with session.begin_nested():
                        session.add(row)
                except IntegrityError:
                    continue  # claimed before: by an earlier tick or another process
                claimed.append(
                    ScanReminder(
                        log_id=row.id or 0,
                        deadline_id=deadline.id or 0,
                        deadline_title=deadline.title,
                        unit_name=unit.name,
                        report_id=report.id or 0,
                        version=report.version,
                        channel=member.channel,
                        chat_id=member.chat_id,
                    )
                )
    return claimed


def record_scan_outcome(
    session: Session, log_id: int, *, now: datetime, message_id: str | None, error: str | None
) -> None:
    row = session.get(ReminderLog, log_id)
    if row is None:
        return
    row.status = ReminderStatus.FAILED if error else ReminderStatus.SENT
    row.sent_at = None if error else now
    row.message_id = message_id
    row.error = error[:500] if error else None
    session.add(row)
