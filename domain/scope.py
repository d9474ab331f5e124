"""The organiser scope (phạm vi cơ quan): the one filter every admin query goes through.

An admin acts for one organiser at a time; a province's admin also reads its communes'
campaigns, read-only, as a roll-up. A `Scope` names the organisers a query may see, and the
functions here are the only way handlers list or fetch units, campaigns, deadlines, reports,
members, broadcasts and audit entries by id: an id from another organiser (a forged button
payload) gives None, exactly as an id that does not exist — the caller refuses and audits.

Must not decide *who* gets which scope: that is `bot.access`. Must not render anything.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from models.audit import AuditLog
from models.broadcasts import Broadcast
from models.campaigns import Campaign, Deadline
from models.organisers import DEFAULT_ORGANISER_ID, Organiser, OrganiserMember, OrganiserRole
from models.reports import Report
from models.units import Invite, Member, MemberStatus, Unit


@dataclass(frozen=True, slots=True)
class Scope:
    """The organisers whose data a query may see. `organiser_id` is the one acted for."""

    organiser_id: int
    organiser_ids: frozenset[int]

    @classmethod
    def of(cls, organiser_id: int, *others: int) -> Scope:
        return cls(organiser_id, frozenset((organiser_id, *others)))

    def covers(self, organiser_id: int | None) -> bool:
        return organiser_id is not None and organiser_id in self.organiser_ids


DEFAULT_SCOPE = Scope.of(DEFAULT_ORGANISER_ID)

# Asked on every admin update: built once.
_ADMIN_ORGANISERS = (
    select(OrganiserMember.organiser_id)
    .join(Organiser, col(Organiser.id) == col(OrganiserMember.organiser_id))
    .where(
        OrganiserMember.member_id == sa.bindparam("om_member"),
        OrganiserMember.role == OrganiserRole.ADMIN,
        Organiser.active == True,  # noqa: E712
    )
    .order_by(col(OrganiserMember.organiser_id))
)


def admin_organiser_ids(member: Member | None, *, session: Session) -> list[int]:
    """The organisers `member` administers (none unless approved)."""
    if member is None or member.id is None or member.status != MemberStatus.APPROVED:
        return []
    return list(session.exec(_ADMIN_ORGANISERS, params={"om_member": member.id}).all())


# --- lists ----------------------------------------------------------------------------------
def units(scope: Scope) -> SelectOfScalar[Unit]:
    return select(Unit).where(col(Unit.organiser_id).in_(scope.organiser_ids))


def campaigns(scope: Scope) -> SelectOfScalar[Campaign]:
    return select(Campaign).where(col(Campaign.organiser_id).in_(scope.organiser_ids))


def deadlines(scope: Scope) -> SelectOfScalar[Deadline]:
    return (
        select(Deadline)
        .join(Campaign, col(Campaign.id) == col(Deadline.campaign_id))
        .where(col(Campaign.organiser_id).in_(scope.organiser_ids))
    )


def members(scope: Scope) -> SelectOfScalar[Member]:
    """Members bound to a unit of the scope (officers, pending registrations)."""
    return (
        select(Member)
        .join(Unit, col(Unit.id) == col(Member.unit_id))
        .where(col(Unit.organiser_id).in_(scope.organiser_ids))
    )


def broadcasts(scope: Scope) -> SelectOfScalar[Broadcast]:
    return select(Broadcast).where(col(Broadcast.organiser_id).in_(scope.organiser_ids))


def audit_entries(scope: Scope, *, limit: int = 50) -> SelectOfScalar[AuditLog]:
    return (
        select(AuditLog)
        .where(col(AuditLog.organiser_id).in_(scope.organiser_ids))
        .order_by(col(AuditLog.id).desc())
        .limit(limit)
    )


def admins_of(organiser_id: int, *, session: Session) -> list[Member]:
    """Approved admins of one organiser the bot can still write to."""
    return list(
        session.exec(
            select(Member)
            .join(OrganiserMember, col(OrganiserMember.member_id) == col(Member.id))
            .where(
                OrganiserMember.organiser_id == organiser_id,
                OrganiserMember.role == OrganiserRole.ADMIN,
                Member.status == MemberStatus.APPROVED,
                col(Member.unreachable_at).is_(None),
            )
            .order_by(col(Member.id))
        ).all()
    )


# --- one row by id: None when missing or outside the scope ------------------------------------
def unit(unit_id: int | None, *, scope: Scope, session: Session) -> Unit | None:
    row = session.get(Unit, unit_id) if unit_id is not None else None
    return row if row is not None and scope.covers(row.organiser_id) else None


def campaign(campaign_id: int | None, *, scope: Scope, session: Session) -> Campaign | None:
    row = session.get(Campaign, campaign_id) if campaign_id is not None else None
    return row if row is not None and scope.covers(row.organiser_id) else None


def deadline(deadline_id: int | None, *, scope: Scope, session: Session) -> Deadline | None:
    row = session.get(Deadline, deadline_id) if deadline_id is not None else None
    if row is None or campaign(row.campaign_id, scope=scope, session=session) is None:
        return None
    return row


def report(report_id: int | None, *, scope: Scope, session: Session) -> Report | None:
    row = session.get(Report, report_id) if report_id is not None else None
    if row is None or deadline(row.deadline_id, scope=scope, session=session) is None:
        return None
    return row


def member(member_id: int | None, *, scope: Scope, session: Session) -> Member | None:
    """A member of a unit in the scope, or an admin of an organiser in it."""
    row = session.get(Member, member_id) if member_id is not None else None
    if row is None:
        return None
    if row.unit_id is not None and unit(row.unit_id, scope=scope, session=session) is not None:
        return row
    administered = admin_organiser_ids(row, session=session)
    return row if any(scope.covers(o) for o in administered) else None


def invite(invite_id: int | None, *, scope: Scope, session: Session) -> Invite | None:
    row = session.get(Invite, invite_id) if invite_id is not None else None
    if row is None or unit(row.unit_id, scope=scope, session=session) is None:
        return None
    return row


def broadcast(broadcast_id: int | None, *, scope: Scope, session: Session) -> Broadcast | None:
    row = session.get(Broadcast, broadcast_id) if broadcast_id is not None else None
    return row if row is not None and scope.covers(row.organiser_id) else None


# --- which organiser a row belongs to ----------------------------------------------------------
def organiser_of_campaign(campaign: Campaign, *, session: Session) -> Organiser:
    """The office that runs `campaign` (its name and signing place go on documents)."""
    found = session.get(Organiser, campaign.organiser_id)
    assert found is not None  # a foreign key
    return found


def organiser_of_unit(unit: Unit, *, session: Session) -> Organiser:
    found = session.get(Organiser, unit.organiser_id)
    assert found is not None  # a foreign key
    return found
