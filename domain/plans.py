"""Starting a campaign from an accepted plan proposal: one draft `Campaign` and its `Deadline`s.

The proposal comes from `domain.plan_parser` and was checked by an admin. Nothing here parses
text or talks to anyone; activating the draft is the campaign capability's business.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from domain import audit
from domain import scope as scoped
from domain.forms import form_for_organiser, forms_in_use
from domain.plan_parser import PlanProposal, ProposedDeadline
from domain.scope import Scope
from models.campaigns import Campaign, CampaignStatus, Deadline, DeadlineKind
from models.organisers import Organiser
from models.units import Member

# The report form each kind of deadline asks for (forms/*.yaml).
FORM_BY_KIND = {
    DeadlineKind.REGISTRATION: "dang-ky-thi-dua",
    DeadlineKind.PRELIMINARY: "bao-cao-thanh-tich",
    DeadlineKind.FINAL: "bao-cao-thanh-tich",
    DeadlineKind.NOMINATION: "de-nghi-khen-thuong",
    DeadlineKind.OTHER: "bao-cao-thanh-tich",
}


class PlanNotReady(Exception):
    """The proposal cannot become a campaign yet. `reason`: missing_number, missing_name,
    end_before_start, duplicate (then `campaign` is the one already made from it)."""

    def __init__(self, reason: str, campaign: Campaign | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.campaign = campaign


def due_at(deadline: ProposedDeadline, timezone: str) -> datetime:
    """The due instant in UTC: the local date and time (17:00 unless the plan said)."""
    local = datetime.combine(deadline.due_on, deadline.due_time, tzinfo=ZoneInfo(timezone))
    return local.astimezone(UTC)


# A yearly rule is stored as its next occurrence, an ordinary deadline: the campaign runs for
# one year, and next year's plan (or the admin) sets the next one. The title says so, so
# officers and admins see that the date comes back every year; "dự kiến" likewise.
RECURRING_MARK = " (lặp lại hằng năm)"
TENTATIVE_MARK = " (dự kiến)"


def stored_title(deadline: ProposedDeadline) -> str:
    marks = (RECURRING_MARK if deadline.recurring else "") + (
        TENTATIVE_MARK if deadline.tentative else ""
    )
    return deadline.title[: 300 - len(marks)] + marks


def find_same_plan(session: Session, proposal: PlanProposal, *, scope: Scope) -> Campaign | None:
    """A campaign of the scope already made from this document (same number and issue date);
    a commune may run a campaign on the province's plan."""
    if not proposal.document_number:
        return None
    return session.exec(
        scoped.campaigns(scope).where(
            Campaign.document_number == proposal.document_number,
            Campaign.issued_on == proposal.issued_on,
        )
    ).first()


def check_ready(session: Session, proposal: PlanProposal, *, scope: Scope) -> None:
    """Raise `PlanNotReady` when the proposal lacks what a campaign needs."""
    if not proposal.document_number:
        raise PlanNotReady("missing_number")
    if not proposal.title:
        raise PlanNotReady("missing_name")
    if proposal.starts_on and proposal.ends_on and proposal.ends_on < proposal.starts_on:
        raise PlanNotReady("end_before_start")
    existing = find_same_plan(session, proposal, scope=scope)
    if existing is not None:
        raise PlanNotReady("duplicate", existing)


def create_campaign_from_plan(
    session: Session,
    *,
    proposal: PlanProposal,
    scope: Scope,
    actor: Member | None,
    now: datetime,
    timezone: str,
    description: str = "",
    dropped: int = 0,
    edited: int = 0,
    forms: Mapping[str, Any] | None = None,
) -> Campaign:
    """A draft campaign with one deadline per proposed deadline, audit-logged.
    `description` is shown with the campaign (the documents it is based on); `dropped` and
    `edited` (how many proposed deadlines the admin removed or changed) go into the audit
    entry. Each deadline asks for the scope's organiser's own version of its form when it has
    one (forms/<CODE>/, as /hanmoi does), chosen among `forms` (default: those the bot loaded,
    `domain.forms.forms_in_use`)."""
    check_ready(session, proposal, scope=scope)
    assert proposal.document_number and proposal.title  # checked above
    campaign = Campaign(
        organiser_id=scope.organiser_id,
        document_number=proposal.document_number,
        name=proposal.title,
        issuing_body=proposal.issuing_body or "",
        issued_on=proposal.issued_on,
        starts_on=proposal.starts_on,
        ends_on=proposal.ends_on,
        description=description[:4000],
        status=CampaignStatus.DRAFT,
        timezone=timezone,
        created_at=now,
        created_by_id=actor.id if actor else None,
    )
    session.add(campaign)
    session.flush()
    organiser = session.get(Organiser, scope.organiser_id)
    known = forms if forms is not None else forms_in_use()

    def form_code(kind: str) -> str:
        code = FORM_BY_KIND.get(kind, FORM_BY_KIND[DeadlineKind.OTHER])
        return form_for_organiser(known, organiser.code, code) if organiser else code

    for proposed in proposal.deadlines:
        session.add(
            Deadline(
                campaign_id=campaign.id,  # type: ignore[arg-type]  # flushed: the id is set
                kind=proposed.kind,
                title=stored_title(proposed),
                due_at=due_at(proposed, timezone),
                form_code=form_code(proposed.kind),
                reminder_policy={},
                created_at=now,
                updated_at=now,
            )
        )
    session.flush()
    audit.record(
        session,
        now=now,
        action="campaign.import_plan",
        actor=actor,
        organiser_id=scope.organiser_id,
        target_type="campaign",
        target_id=campaign.id,
        detail={
            "document_number": campaign.document_number,
            "deadlines": len(proposal.deadlines),
            "dropped_deadlines": dropped,
            "edited_deadlines": edited,
            "recurring_deadlines": sum(d.recurring for d in proposal.deadlines),
            "tentative_deadlines": sum(d.tentative for d in proposal.deadlines),
        },
    )
    return campaign
