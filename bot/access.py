"""Access rules — the one place that says who may do what.

Routes declare an `Access` level; `check()` decides for a member and gives the catalog key of
the refusal. Rules about data (may this member act for that unit?) are here too, so handlers
and button payloads are checked the same way on every press.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from domain import audit, council
from domain import scope as scoped
from domain.scope import Scope
from models.broadcasts import Broadcast
from models.campaigns import Campaign, Deadline
from models.council import CouncilItem, CouncilMember, CouncilRound, ScoreCard
from models.organisers import Organiser
from models.reports import Report
from models.units import Invite, Member, MemberStatus, Role, Unit

if TYPE_CHECKING:
    from bot.context import Context

# Button payload prefix: "act as admin of this organiser" (handlers.organisers answers it).
ACT_AS = "og-act"


class Access(StrEnum):
    PUBLIC = "public"  # anyone, registered or not (/start, /dangky, /trogiup)
    MEMBER = "member"  # an approved officer or an admin
    OFFICER = "officer"  # an approved member bound to a unit (admins with a unit too)
    ADMIN = "admin"
    # An admin or a member with a seat on the council (Hội đồng TĐKT). The route admits any
    # approved member; the seat itself is checked by `is_council` on every press, since it
    # needs the database.
    COUNCIL = "council"


def is_approved(member: Member | None) -> bool:
    return member is not None and member.status == MemberStatus.APPROVED


def is_admin(member: Member | None) -> bool:
    return is_approved(member) and member is not None and member.role == Role.ADMIN


def check(member: Member | None, access: Access) -> str | None:
    """None when allowed, else the catalog key of the refusal to show."""
    if access is Access.PUBLIC:
        return None
    if member is None or member.status in {MemberStatus.REJECTED, MemberStatus.REMOVED}:
        return "access.not_registered"
    if member.status == MemberStatus.PENDING:
        return "access.pending"
    if access is Access.ADMIN and member.role != Role.ADMIN:
        return "access.admin_only"
    if access is Access.OFFICER and member.unit_id is None:
        return "access.no_unit"
    return None


def admin_scope(member: Member | None, *, session: Session) -> Scope | list[Organiser]:
    """What an admin route may see: the one organiser the member administers, or the one
    they chose to act for (`Member.acting_organiser_id`, set with /coquan). An admin of
    several who has not chosen gets the list to choose from; an admin of none, an empty list.

    The scope is one organiser: an admin of a province and of a commune acts for one at a
    time, so every answer is about one office and it is clear which hat they wear."""
    if not is_admin(member):
        return []
    assert member is not None
    ids = scoped.admin_organiser_ids(member, session=session)
    if len(ids) == 1:
        return Scope.of(ids[0])
    if member.acting_organiser_id is not None and member.acting_organiser_id in ids:
        return Scope.of(member.acting_organiser_id)
    found = [session.get(Organiser, i) for i in ids]
    return [o for o in found if o is not None]


def acting_scope(member: Member | None, *, session: Session) -> Scope | None:
    """The admin scope of a member outside an admin route (an admin filling in a report);
    None when they administer nothing, or several without having chosen."""
    decision = admin_scope(member, session=session)
    return decision if isinstance(decision, Scope) else None


def can_act_for_unit(
    member: Member | None, unit_id: int, *, session: Session, scope: Scope | None = None
) -> bool:
    """Officers act for their own unit; admins for the units of the organiser they act for."""
    if not is_approved(member) or member is None:
        return False
    if member.unit_id == unit_id:
        return True
    scope = scope or acting_scope(member, session=session)
    return scope is not None and scoped.unit(unit_id, scope=scope, session=session) is not None


def is_council(member: Member | None, seat: object | None) -> bool:
    """A council member: approved and holding an active seat (`domain.council.seat_of`)."""
    return is_approved(member) and seat is not None and bool(getattr(seat, "active", False))


def council_refusal(member: Member | None, seat: object | None) -> str | None:
    """For routes of `Access.COUNCIL`: None for admins and council members, else the refusal."""
    return None if is_admin(member) or is_council(member, seat) else "access.council_only"


def council_scope(
    member: Member | None, seat_organiser_ids: list[int], *, session: Session
) -> Scope | None:
    """What the council's routes show a member: the councils they sit on
    (`domain.council.seat_organisers`) and, for an admin, the organiser they act for. None
    when neither: the member is refused. A seat on one commune's council shows nothing of
    another's rounds, sheets or scores."""
    if not is_approved(member):
        return None
    ids = list(seat_organiser_ids)
    acting = acting_scope(member, session=session) if is_admin(member) else None
    if acting is not None:
        ids.insert(0, acting.organiser_id)
    return Scope.of(ids[0], *ids[1:]) if ids else None


def can_run_council(member: Member | None) -> bool:
    """Open, close and confirm review rounds, manage seats, attach scoring tables: admins."""
    return is_admin(member)


def can_see_tallies(member: Member | None, seat: object | None) -> bool:
    """Counts of a round and every unit's scores: admins and council members, nobody else."""
    return is_admin(member) or is_council(member, seat)


def can_vote(member: Member | None, electorate: list[int]) -> bool:
    """Only the voting members a round was opened with vote in it — admins included."""
    return is_approved(member) and member is not None and member.id in electorate


def can_see_personal_data(
    viewer: Member | None, subject: Member, *, scope: Scope | None, session: Session
) -> bool:
    """Names and phone numbers: the member themself, and admins of their organiser."""
    if viewer is not None and viewer.id == subject.id:
        return True
    if scope is None or not is_admin(viewer):
        return False
    return scoped.member(subject.id, scope=scope, session=session) is not None


def refuse_out_of_scope(
    session: Session,
    *,
    member: Member | None,
    scope: Scope | None,
    target_type: str,
    target_id: object,
    now: datetime,
) -> str:
    """An id the admin's organiser does not own (a forged button payload, a typed id of
    another office): the catalog key of the answer, and — when the row exists, so it belongs
    to another organiser — an audit line. The answer is the same whether the row exists
    elsewhere or not at all, so nothing of another organiser leaks through it; an id that
    names nothing is a stale button, not an attempt."""
    model = _TARGETS.get(target_type)
    exists = (
        model is not None
        and isinstance(target_id, int)
        and session.get(model, target_id) is not None
    )
    if exists or model is None:
        audit.record(
            session,
            now=now,
            action="access.out_of_scope",
            actor=member,
            target_type=target_type,
            target_id=target_id,
            outcome="denied",
            organiser_id=scope.organiser_id if scope else None,
        )
    return "organisers.out_of_scope"


def in_scope(ctx: Context, target_type: str, target_id: int | None) -> Any:
    """The row of an admin route's organiser named by an id from a button or a command, or
    None (a stale id, or another organiser's — that one audited, see refuse_out_of_scope)."""
    getter = _GETTERS[target_type]
    row = getter(target_id, scope=ctx.admin_scope, session=ctx.session)
    if row is None and target_id is not None:
        refuse_in_update(ctx, target_type, target_id)
    return row


def refuse_in_update(ctx: Context, target_type: str, target_id: object) -> str:
    """`refuse_out_of_scope` for the update `ctx` answers (its member, scope and time)."""
    return refuse_out_of_scope(
        ctx.session,
        member=ctx.member,
        scope=ctx.scope,
        target_type=target_type,
        target_id=target_id,
        now=ctx.now(),
    )


_GETTERS: dict[str, Callable[..., Any]] = {
    "unit": scoped.unit,
    "campaign": scoped.campaign,
    "deadline": scoped.deadline,
    "report": scoped.report,
    "member": scoped.member,
    "invite": scoped.invite,
    "broadcast": scoped.broadcast,
}
_TARGETS: dict[str, type] = {
    "unit": Unit,
    "campaign": Campaign,
    "deadline": Deadline,
    "report": Report,
    "member": Member,
    "invite": Invite,
    "organiser": Organiser,
    "broadcast": Broadcast,
    "council_member": CouncilMember,
    "council_round": CouncilRound,
    "council_item": CouncilItem,
    "score_card": ScoreCard,
}


# --- the web desk -----------------------------------------------------------------------------
# The desk shows every unit's data of one organiser to that office: its admins, in the scope
# they act for (`acting_scope`, chosen with /coquan when they administer several). Council
# members (`is_council` with their seat) see the council's part only: the campaigns they sit on
# (`domain.council.seat_campaign_ids`), their nominations, rounds and counts, and the bloc
# rankings — never a report, a file, a unit list or an officer. Each page asks these; none
# keeps a copy.
@dataclass(frozen=True, slots=True)
class WebAccess:
    """What a desk session may see: an admin's organiser scope, or — for a council member who
    is not acting as an admin — the campaigns whose council pages they may open."""

    scope: Scope | None
    council_campaigns: frozenset[int] = frozenset()
    seat_organiser_id: int | None = None  # the council member's seat's

    @property
    def is_office(self) -> bool:
        return self.scope is not None

    @property
    def audit_organiser_id(self) -> int | None:
        """Whose audit log shows what this session does to itself (its link, login, logout):
        the organiser the admin acts for, or the one whose council the member sits on."""
        return self.scope.organiser_id if self.scope is not None else self.seat_organiser_id


def web_access(member: Member | None, *, session: Session) -> WebAccess | None:
    """The desk's rights of this member (re-read on every request); None: no desk at all."""
    if is_admin(member):
        scope = acting_scope(member, session=session)
        if scope is not None:
            return WebAccess(scope)
    if member is None or member.id is None:
        return None
    seat = council.seat_of(session, member_id=member.id)
    if not is_council(member, seat):
        return None
    assert seat is not None
    return WebAccess(
        None,
        frozenset(council.seat_campaign_ids(session, seat=seat)),
        seat_organiser_id=seat.organiser_id,
    )


def web_scope(member: Member | None, *, session: Session) -> Scope | None:
    """The organiser whose data a desk page of this member shows; None when there is none."""
    found = web_access(member, session=session)
    return found.scope if found is not None else None


def web_council_campaign(
    rights: WebAccess, campaign_id: int, *, session: Session
) -> Campaign | None:
    """A campaign whose council pages (nominations, rounds, rankings) the session may open:
    one of the admin's scope, or one the council member sits on; None otherwise."""
    if rights.scope is not None:
        return scoped.campaign(campaign_id, scope=rights.scope, session=session)
    if campaign_id not in rights.council_campaigns:
        return None
    return session.get(Campaign, campaign_id)


def can_decide_reports(member: Member | None) -> bool:
    """Duyệt / Trả lại / Mở lại a report, send "Nhắc ngay", import units — on rows of the
    admin's scope (the page looks them up through `domain.scope`)."""
    return is_admin(member)


def can_open_unit_file(
    member: Member | None, unit_id: int | None, *, scope: Scope | None, session: Session
) -> bool:
    """A file that belongs to a unit's report (an attachment): that unit's people and the
    admins of its organiser (`scope`, the one they act for). A file of no unit (a campaign
    export, a chart) is the office's: admins with a scope; the page checks the campaign is in
    it."""
    if unit_id is None:
        return is_admin(member) and scope is not None
    return can_act_for_unit(member, unit_id, session=session, scope=scope)
