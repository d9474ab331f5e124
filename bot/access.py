"""Access rules — the one place that says who may do what.

Routes declare an `Access` level; `check()` decides for a member and gives the catalog key of
the refusal. Rules about data (may this member act for that unit?) are here too, so handlers
and button payloads are checked the same way on every press.
"""

from __future__ import annotations

from enum import StrEnum

from models.units import Member, MemberStatus, Role


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


def can_act_for_unit(member: Member | None, unit_id: int) -> bool:
    """Officers act only for their own unit; admins for every unit."""
    if is_admin(member):
        return True
    return is_approved(member) and member is not None and member.unit_id == unit_id


def is_council(member: Member | None, seat: object | None) -> bool:
    """A council member: approved and holding an active seat (`domain.council.seat_of`)."""
    return is_approved(member) and seat is not None and bool(getattr(seat, "active", False))


def council_refusal(member: Member | None, seat: object | None) -> str | None:
    """For routes of `Access.COUNCIL`: None for admins and council members, else the refusal."""
    return None if is_admin(member) or is_council(member, seat) else "access.council_only"


def can_run_council(member: Member | None) -> bool:
    """Open, close and confirm review rounds, manage seats, attach scoring tables: admins."""
    return is_admin(member)


def can_see_tallies(member: Member | None, seat: object | None) -> bool:
    """Counts of a round and every unit's scores: admins and council members, nobody else."""
    return is_admin(member) or is_council(member, seat)


def can_vote(member: Member | None, electorate: list[int]) -> bool:
    """Only the voting members a round was opened with vote in it — admins included."""
    return is_approved(member) and member is not None and member.id in electorate


def can_see_personal_data(viewer: Member | None, subject: Member) -> bool:
    """Names and phone numbers: admins, and the member themself."""
    return is_admin(viewer) or (viewer is not None and viewer.id == subject.id)


# --- the web desk -----------------------------------------------------------------------------
# The desk shows every unit's data, so it is for the office: admins. Council members
# (`is_council` with their seat) are not let in yet — the desk has no council pages; when it
# has, admit them here and nowhere else. Each page asks these; none keeps a copy.
def can_use_web_desk(member: Member | None) -> bool:
    """May ask for a login link with /web and open desk pages."""
    return is_admin(member)


def can_decide_reports(member: Member | None) -> bool:
    """Duyệt / Trả lại / Mở lại a report, send "Nhắc ngay", import units."""
    return is_admin(member)


def can_open_unit_file(member: Member | None, unit_id: int | None) -> bool:
    """A file that belongs to a unit's report (an attachment): that unit's people and admins.
    A file of no unit (a campaign export, a chart) is the office's: admins only."""
    if unit_id is None:
        return is_admin(member)
    return can_act_for_unit(member, unit_id)
