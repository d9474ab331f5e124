"""Campaign queries every capability shares: who takes part, which deadlines are open, who
has not submitted. Creating and editing campaigns builds on these.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, or_, select

from models.campaigns import Campaign, CampaignParticipant, CampaignStatus, Deadline
from models.reports import Report, ReportStatus
from models.units import Unit

# A report in these states counts as handed in for reminders and "who is missing".
SUBMITTED_STATES = (ReportStatus.SUBMITTED, ReportStatus.ACCEPTED)


def participating_units(session: Session, campaign: Campaign) -> list[Unit]:
    """Active units taking part: all of them, or the chosen units and blocs."""
    query = select(Unit).where(Unit.active == True)  # noqa: E712
    if campaign.participants != "all":
        rows = session.exec(
            select(CampaignParticipant).where(CampaignParticipant.campaign_id == campaign.id)
        ).all()
        unit_ids = [r.unit_id for r in rows if r.unit_id is not None]
        blocs = [r.bloc for r in rows if r.bloc]
        if not unit_ids and not blocs:
            return []
        query = query.where(or_(col(Unit.id).in_(unit_ids), col(Unit.bloc).in_(blocs)))
    return list(session.exec(query.order_by(Unit.code)).all())


def takes_part(session: Session, campaign: Campaign, unit: Unit) -> bool:
    return any(u.id == unit.id for u in participating_units(session, campaign))


def open_deadlines_for_unit(session: Session, unit: Unit) -> list[Deadline]:
    """Deadlines of active campaigns the unit takes part in, soonest first (overdue included:
    a late report is still wanted)."""
    deadlines: list[Deadline] = []
    campaigns = session.exec(select(Campaign).where(Campaign.status == CampaignStatus.ACTIVE)).all()
    for campaign in campaigns:
        if takes_part(session, campaign, unit):
            deadlines += session.exec(
                select(Deadline).where(Deadline.campaign_id == campaign.id)
            ).all()
    return sorted(deadlines, key=lambda d: d.due_at)


class UnitStatus:
    NOT_STARTED = "not_started"
    DRAFT = "draft"
    SUBMITTED = "submitted"  # on time
    LATE = "late"  # submitted after the due instant
    RETURNED = "returned"
    ACCEPTED = "accepted"
    OVERDUE = "overdue"  # nothing handed in and the due instant has passed
    REOPENED = "reopened"  # handed in, then opened again by an admin for changes


def unit_status(report: Report | None, deadline: Deadline, now: datetime) -> str:
    """Where a unit stands on a deadline, as shown in /hanchot and progress views."""
    if report is not None and report.status == ReportStatus.REOPENED:
        return UnitStatus.REOPENED
    if report is None or report.status == ReportStatus.DRAFT:
        if now > deadline.due_at:
            return UnitStatus.OVERDUE
        return UnitStatus.DRAFT if report is not None and report.answers else UnitStatus.NOT_STARTED
    if report.status == ReportStatus.RETURNED:
        return UnitStatus.RETURNED
    if report.status == ReportStatus.ACCEPTED:
        return UnitStatus.ACCEPTED
    return UnitStatus.SUBMITTED if report.on_time else UnitStatus.LATE


def reports_by_unit(session: Session, deadline: Deadline) -> dict[int, Report]:
    rows = session.exec(select(Report).where(Report.deadline_id == deadline.id)).all()
    return {r.unit_id: r for r in rows}


def missing_units(session: Session, deadline: Deadline) -> list[Unit]:
    """Participating units that have not handed in the report a deadline asks for."""
    campaign = session.get(Campaign, deadline.campaign_id)
    if campaign is None:
        return []
    reports = reports_by_unit(session, deadline)
    return [
        unit
        for unit in participating_units(session, campaign)
        if unit.id not in reports or reports[unit.id].status not in SUBMITTED_STATES
    ]


def unit_ids(units: Sequence[Unit]) -> list[int]:
    return [u.id for u in units if u.id is not None]
