"""Campaigns (đợt thi đua) and their deadlines: the queries every capability shares (who takes
part, which deadlines are open, who has not submitted, progress counts) and the admin actions
that create, activate, edit and close them, each written to the audit log.

Must not render messages or read the clock: times come in as arguments. Reminder timing lives
in `domain.schedule`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, or_, select

from domain import audit
from domain.scope import Scope
from domain.scope import campaigns as campaigns_in
from domain.scope import units as units_in
from models.campaigns import (
    Campaign,
    CampaignParticipant,
    CampaignStatus,
    Deadline,
    DeadlineKind,
)
from models.organisers import DEFAULT_ORGANISER_ID
from models.reports import Report, ReportStatus
from models.units import Member, Unit

# A report in these states counts as handed in for reminders and "who is missing".
SUBMITTED_STATES = (ReportStatus.SUBMITTED, ReportStatus.ACCEPTED)


def participating_units(session: Session, campaign: Campaign) -> list[Unit]:
    """Active units of the campaign's organiser taking part: all of them, or the chosen units
    and blocs (a province campaign never reaches a commune's villages)."""
    query = select(Unit).where(Unit.active == True, Unit.organiser_id == campaign.organiser_id)  # noqa: E712
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
    """Whether one unit is among `participating_units` — asked of that unit alone, not by
    loading every unit (every /baocao asks it; a province has thousands of units)."""
    if not unit.active or unit.organiser_id != campaign.organiser_id:
        return False
    if campaign.participants == "all":
        return True
    chosen: sa.ColumnElement[bool] = col(CampaignParticipant.unit_id) == unit.id
    if unit.bloc:
        chosen = or_(chosen, CampaignParticipant.bloc == unit.bloc)
    query = select(CampaignParticipant.id).where(
        CampaignParticipant.campaign_id == campaign.id, chosen
    )
    return session.exec(query.limit(1)).first() is not None


def open_deadlines_for_unit(session: Session, unit: Unit) -> list[Deadline]:
    """Deadlines of active campaigns the unit takes part in, soonest first (overdue included:
    a late report is still wanted)."""
    deadlines: list[Deadline] = []
    campaigns = session.exec(
        select(Campaign).where(
            Campaign.status == CampaignStatus.ACTIVE, Campaign.organiser_id == unit.organiser_id
        )
    ).all()
    for campaign in campaigns:
        if takes_part(session, campaign, unit):
            deadlines += session.exec(
                select(Deadline).where(Deadline.campaign_id == campaign.id)
            ).all()
    return sorted(deadlines, key=lambda d: d.due_at)


class UnitStatus(StrEnum):
    NOT_STARTED = "not_started"
    DRAFT = "draft"
    SUBMITTED = "submitted"  # on time
    LATE = "late"  # submitted after the due instant
    RETURNED = "returned"
    ACCEPTED = "accepted"
    OVERDUE = "overdue"  # nothing handed in and the due instant has passed
    REOPENED = "reopened"  # handed in, then opened again by an admin for changes


def unit_status(report: Report | None, deadline: Deadline, now: datetime | None) -> UnitStatus:
    """Where a unit stands on a deadline: the one status every screen and the export show
    (catalog `status.*`). On time or late is decided by the first hand-in: a report handed in
    again after an admin returned or reopened it keeps its first punctuality (domain.reports.
    submit). `now` None: never overdue (an export without a clock)."""
    if report is not None and report.status == ReportStatus.REOPENED:
        return UnitStatus.REOPENED
    if report is None or report.status == ReportStatus.DRAFT:
        if now is not None and now > deadline.due_at:
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


# --- progress --------------------------------------------------------------------------------
@dataclass(slots=True)
class DeadlineProgress:
    """Where the participating units stand on one deadline: /dotthidua and the digest."""

    deadline: Deadline
    campaign: Campaign
    total: int = 0
    on_time: int = 0
    late: int = 0
    missing: list[Unit] = field(default_factory=list)

    @property
    def submitted(self) -> int:
        return self.on_time + self.late


def deadline_progress(
    session: Session, deadline: Deadline, *, campaign: Campaign | None = None
) -> DeadlineProgress:
    campaign = campaign or session.get(Campaign, deadline.campaign_id)
    assert campaign is not None
    units = participating_units(session, campaign)
    reports = reports_by_unit(session, deadline)
    progress = DeadlineProgress(deadline, campaign, total=len(units))
    for unit in units:
        report = reports.get(unit.id) if unit.id is not None else None
        if report is None or report.status not in SUBMITTED_STATES:
            progress.missing.append(unit)
        elif report.on_time is False:
            progress.late += 1
        else:
            progress.on_time += 1
    return progress


# --- reference lists --------------------------------------------------------------------------
# Deadline kinds in the order admins pick them; Vietnamese labels are in the catalog.
DEADLINE_KINDS = (
    DeadlineKind.REGISTRATION,
    DeadlineKind.PRELIMINARY,
    DeadlineKind.FINAL,
    DeadlineKind.NOMINATION,
    DeadlineKind.OTHER,
)
# Report forms a deadline can ask for (forms/<code>.yaml, built by the reports capability).
KNOWN_FORMS = ("dang-ky-thi-dua", "bao-cao-thanh-tich", "de-nghi-khen-thuong")
DEFAULT_FORM = {
    DeadlineKind.REGISTRATION: "dang-ky-thi-dua",
    DeadlineKind.PRELIMINARY: "bao-cao-thanh-tich",
    DeadlineKind.FINAL: "bao-cao-thanh-tich",
    DeadlineKind.NOMINATION: "de-nghi-khen-thuong",
    DeadlineKind.OTHER: "bao-cao-thanh-tich",
}
DEFAULT_DUE_TIME = time(17, 0)


def blocs(session: Session, *, scope: Scope) -> list[str]:
    """The blocs (khối thi đua) of the scope's active units, sorted."""
    rows = session.exec(
        select(Unit.bloc)
        .where(
            Unit.active == True,  # noqa: E712
            col(Unit.bloc).is_not(None),
            col(Unit.organiser_id).in_(scope.organiser_ids),
        )
        .distinct()
    ).all()
    return sorted({b for b in rows if b})


def active_units(session: Session, *, scope: Scope) -> list[Unit]:
    query = units_in(scope).where(Unit.active == True).order_by(Unit.name)  # noqa: E712
    return list(session.exec(query).all())


# --- creating and changing campaigns and deadlines ---------------------------------------------
class CampaignStateError(ValueError):
    """The campaign is not in a state that allows this (e.g. closing a closed one)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(slots=True)
class Participants:
    """All active units, or the chosen blocs and units."""

    everyone: bool = True
    blocs: list[str] = field(default_factory=list)
    unit_ids: list[int] = field(default_factory=list)


def set_participants(session: Session, campaign: Campaign, participants: Participants) -> None:
    for row in session.exec(
        select(CampaignParticipant).where(CampaignParticipant.campaign_id == campaign.id)
    ).all():
        session.delete(row)
    campaign.participants = "all" if participants.everyone else "selected"
    if not participants.everyone:
        assert campaign.id is not None
        for bloc in participants.blocs:
            session.add(CampaignParticipant(campaign_id=campaign.id, bloc=bloc))
        for unit_id in participants.unit_ids:
            session.add(CampaignParticipant(campaign_id=campaign.id, unit_id=unit_id))
    session.add(campaign)
    session.flush()


def participants_of(session: Session, campaign: Campaign) -> Participants:
    if campaign.participants == "all":
        return Participants()
    rows = session.exec(
        select(CampaignParticipant).where(CampaignParticipant.campaign_id == campaign.id)
    ).all()
    return Participants(
        everyone=False,
        blocs=[r.bloc for r in rows if r.bloc],
        unit_ids=[r.unit_id for r in rows if r.unit_id is not None],
    )


def create_campaign(
    session: Session,
    *,
    document_number: str,
    name: str,
    issuing_body: str = "",
    issued_on: date | None = None,
    starts_on: date | None = None,
    ends_on: date | None = None,
    participants: Participants | None = None,
    activate: bool = False,
    timezone: str = "Asia/Ho_Chi_Minh",
    organiser_id: int = DEFAULT_ORGANISER_ID,
    actor: Member | None,
    now: datetime,
) -> Campaign:
    """A new campaign, as a draft unless `activate` (the admin confirmed): only active
    campaigns remind."""
    campaign = Campaign(
        organiser_id=organiser_id,
        document_number=document_number,
        name=name,
        issuing_body=issuing_body,
        issued_on=issued_on,
        starts_on=starts_on,
        ends_on=ends_on,
        status=CampaignStatus.DRAFT,
        timezone=timezone,
        created_at=now,
        created_by_id=actor.id if actor else None,
    )
    session.add(campaign)
    session.flush()
    set_participants(session, campaign, participants or Participants())
    audit.record(
        session,
        now=now,
        action="campaign.create",
        actor=actor,
        organiser_id=campaign.organiser_id,
        target_type="campaign",
        target_id=campaign.id,
        detail={"document_number": document_number, "name": name},
    )
    if activate:
        activate_campaign(session, campaign, actor=actor, now=now)
    return campaign


def activate_campaign(
    session: Session, campaign: Campaign, *, actor: Member | None, now: datetime
) -> None:
    if campaign.status != CampaignStatus.DRAFT:
        raise CampaignStateError("not_draft")
    campaign.status = CampaignStatus.ACTIVE
    campaign.activated_at = now
    session.add(campaign)
    audit.record(
        session,
        now=now,
        action="campaign.activate",
        actor=actor,
        organiser_id=campaign.organiser_id,
        target_type="campaign",
        target_id=campaign.id,
    )


def close_campaign(
    session: Session, campaign: Campaign, *, actor: Member | None, now: datetime
) -> None:
    """Close a campaign: its deadlines stop reminding (and leave /hanchot)."""
    if campaign.status == CampaignStatus.CLOSED:
        raise CampaignStateError("closed")
    campaign.status = CampaignStatus.CLOSED
    campaign.closed_at = now
    session.add(campaign)
    audit.record(
        session,
        now=now,
        action="campaign.close",
        actor=actor,
        organiser_id=campaign.organiser_id,
        target_type="campaign",
        target_id=campaign.id,
    )


CAMPAIGN_FIELDS = ("document_number", "name", "issuing_body", "starts_on", "ends_on")


def edit_campaign(
    session: Session,
    campaign: Campaign,
    *,
    changes: dict[str, Any],
    actor: Member | None,
    now: datetime,
) -> None:
    if campaign.status == CampaignStatus.CLOSED:
        raise CampaignStateError("closed")
    before: dict[str, Any] = {}
    for key, value in changes.items():
        if key not in CAMPAIGN_FIELDS:
            raise ValueError(f"unknown campaign field {key}")
        before[key] = _jsonable(getattr(campaign, key))
        setattr(campaign, key, value)
    session.add(campaign)
    audit.record(
        session,
        now=now,
        action="campaign.edit",
        actor=actor,
        organiser_id=campaign.organiser_id,
        target_type="campaign",
        target_id=campaign.id,
        detail={"before": before, "after": {k: _jsonable(v) for k, v in changes.items()}},
    )


def add_deadline(
    session: Session,
    campaign: Campaign,
    *,
    kind: str,
    title: str,
    due_at: datetime,
    form_code: str,
    reminder_policy: dict[str, Any] | None = None,
    parent_deadline_id: int | None = None,
    actor: Member | None,
    now: datetime,
) -> Deadline:
    if campaign.status == CampaignStatus.CLOSED:
        raise CampaignStateError("closed")
    _check_before_parent(session, parent_deadline_id, due_at)
    deadline = Deadline(
        parent_deadline_id=parent_deadline_id,
        campaign_id=campaign.id,  # type: ignore[arg-type]  # flushed: the id is set
        kind=kind,
        title=title,
        due_at=due_at,
        form_code=form_code,
        reminder_policy=reminder_policy or {},
        created_at=now,
        updated_at=now,
    )
    session.add(deadline)
    session.flush()
    audit.record(
        session,
        now=now,
        action="deadline.create",
        actor=actor,
        organiser_id=campaign.organiser_id,
        target_type="deadline",
        target_id=deadline.id,
        detail={"campaign_id": campaign.id, "title": title, "due_at": due_at.isoformat()},
    )
    return deadline


DEADLINE_FIELDS = ("title", "due_at", "form_code", "reminder_policy", "kind")


def edit_deadline(
    session: Session,
    deadline: Deadline,
    *,
    changes: dict[str, Any],
    actor: Member | None,
    now: datetime,
) -> None:
    """Change a deadline. A new due date moves its reminders (their slots are named by it)."""
    campaign = session.get(Campaign, deadline.campaign_id)
    if campaign is None or campaign.status == CampaignStatus.CLOSED:
        raise CampaignStateError("closed")
    if "due_at" in changes:
        _check_before_parent(session, deadline.parent_deadline_id, changes["due_at"])
    before: dict[str, Any] = {}
    for key, value in changes.items():
        if key not in DEADLINE_FIELDS:
            raise ValueError(f"unknown deadline field {key}")
        before[key] = _jsonable(getattr(deadline, key))
        setattr(deadline, key, value)
    deadline.updated_at = now
    session.add(deadline)
    audit.record(
        session,
        now=now,
        action="deadline.edit",
        actor=actor,
        organiser_id=campaign.organiser_id,
        target_type="deadline",
        target_id=deadline.id,
        detail={"before": before, "after": {k: _jsonable(v) for k, v in changes.items()}},
    )


def _check_before_parent(session: Session, parent_id: int | None, due_at: datetime) -> None:
    """A commune's deadline answering a province's falls no later than it: the commune must
    gather its units' reports before handing in its own."""
    parent = session.get(Deadline, parent_id) if parent_id is not None else None
    if parent is not None and due_at > parent.due_at:
        raise CampaignStateError("after_parent")


def _jsonable(value: object) -> object:
    if isinstance(value, date | datetime | time):
        return value.isoformat()
    return value


def list_campaigns(session: Session, *, scope: Scope, include_closed: int = 3) -> list[Campaign]:
    """The scope's open campaigns (active, then drafts, newest first) and last few closed."""
    order: dict[str, int] = {CampaignStatus.ACTIVE: 0, CampaignStatus.DRAFT: 1}
    rows = session.exec(campaigns_in(scope).order_by(col(Campaign.id).desc())).all()
    current = sorted(
        (c for c in rows if c.status != CampaignStatus.CLOSED), key=lambda c: order[c.status]
    )
    closed = [c for c in rows if c.status == CampaignStatus.CLOSED][:include_closed]
    return current + closed


def deadlines_of(session: Session, campaign: Campaign) -> list[Deadline]:
    return list(
        session.exec(
            select(Deadline)
            .where(Deadline.campaign_id == campaign.id)
            .order_by(col(Deadline.due_at), col(Deadline.id))
        ).all()
    )


def active_campaigns(*, scope: Scope, session: Session) -> list[Campaign]:
    """The scope's campaigns now active, oldest first."""
    return list(
        session.exec(
            campaigns_in(scope)
            .where(Campaign.status == CampaignStatus.ACTIVE)
            .order_by(col(Campaign.id))
        ).all()
    )


def recent_campaigns(*, scope: Scope, session: Session, limit: int) -> list[Campaign]:
    """The scope's latest `limit` campaigns of any status, newest first."""
    query = campaigns_in(scope).order_by(col(Campaign.id).desc()).limit(limit)
    return list(session.exec(query).all())
