"""Who may speak for a unit: invites, registrations awaiting approval, removal, admin rights.

An invite (lời mời) carries an unguessable token (`secrets.token_urlsafe`, 192 bits) that binds
whoever opens it to a unit at once; it expires (7 days by default), serves a limited number of
people (one by default) and can be revoked. Taking a use is one conditional UPDATE, so two
people racing for the last use cannot both get it. Without an invite a user registers
(/dangky) and stays pending until an admin approves or rejects. Every admin action is written
to the audit log here, so no caller can forget it. Nothing here renders text or sends.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from domain import audit
from domain import scope as scoped
from domain.errors import InputError
from domain.scope import Scope
from domain.text import clean_text, fold, matches
from models.audit import AuditLog
from models.base import rowcount, table_of
from models.units import AdminSource, Invite, Member, MemberStatus, Role, Unit

DEFAULT_INVITE_DAYS = 7
MAX_INVITE_USES = 50
# 24 random bytes = 192 bits (the issue asks for at least 128); token_urlsafe gives 32
# characters of [A-Za-z0-9_-], inside Telegram's 64-character limit for a /start parameter.
TOKEN_BYTES = 24
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
NAME_MAX = 120


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


# A short code to type where there are no deep links (Zalo, console): 8 characters from
# Crockford's base-32 alphabet (no I, L, O, U), shown as "ABCD-2345". Typed case-insensitively,
# with O read as 0 and I/L as 1, so a look-alike never makes a code wrong. 32^8 ≈ 10^12 codes
# and at most INVITE_ATTEMPTS wrong tries per user per INVITE_ATTEMPT_WINDOW make guessing
# hopeless. Every code holds a letter and a digit from 2-9, so a word or a year range ("2024-2025")
# typed to the bot is never read as one.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 8
INVITE_ATTEMPTS = 5
INVITE_ATTEMPT_WINDOW = timedelta(hours=1)
_LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
SHORT_CODE_SHAPE = re.compile(r"^\s*[A-Za-z0-9]{4}[-\s]?[A-Za-z0-9]{4}\s*$")


def new_short_code() -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if _has_plain_digit(code) and any(c.isalpha() for c in code):
            return code


def normalise_short_code(typed: str) -> str | None:
    """The stored form of a typed code ("abcd 2345", "ABCD-2345", "abcdo345"), or None."""
    if not SHORT_CODE_SHAPE.match(typed):
        return None
    code = re.sub(r"[-\s]", "", typed).upper()
    if not (_has_plain_digit(code) and any(c.isalpha() for c in code)):
        return None  # "baocaoxa", "2024-2025": words and years, not codes
    code = code.translate(_LOOK_ALIKES)
    return code if all(c in CODE_ALPHABET for c in code) else None


def _has_plain_digit(text: str) -> bool:
    """A digit 2–9: one no letter looks like, so a word never passes for a code."""
    return any(c in "23456789" for c in text)


def format_short_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


# --- invites -------------------------------------------------------------------------------
class InviteProblem:
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED = "used"
    REVOKED = "revoked"
    UNIT_INACTIVE = "unit_inactive"
    TOO_MANY = "too_many"


class InviteRefused(Exception):
    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def create_invite(
    session: Session,
    *,
    unit: Unit,
    by: Member,
    now: datetime,
    max_uses: int = 1,
    days: int = DEFAULT_INVITE_DAYS,
    token_factory: Callable[[], str] = new_token,
    code_factory: Callable[[], str] = new_short_code,
) -> Invite:
    if not 1 <= max_uses <= MAX_INVITE_USES:
        raise InputError("registration.bad_uses", example="3", max=MAX_INVITE_USES)
    invite = Invite(
        token=token_factory(),
        short_code=code_factory(),
        unit_id=unit.id,  # type: ignore[arg-type]  # a stored row: its id is set
        max_uses=max_uses,
        uses=0,
        expires_at=now + timedelta(days=days),
        created_at=now,
        created_by_id=by.id,
    )
    session.add(invite)
    session.flush()
    # The token is a credential: the audit log names the invite, never its token.
    audit.record(
        session,
        now=now,
        action="invite.create",
        actor=by,
        target_type="invite",
        target_id=invite.id,
        detail={"unit": unit.code, "max_uses": max_uses, "days": days},
        organiser_id=unit.organiser_id,
    )
    return invite


def find_invite(session: Session, token: str) -> Invite | None:
    """The invite of a link token or of a typed short code."""
    code = normalise_short_code(token)
    if code is not None:
        return session.exec(select(Invite).where(Invite.short_code == code)).first()
    if not _TOKEN_SHAPE.match(token):
        return None
    return session.exec(select(Invite).where(Invite.token == token)).first()


def invite_attempts_left(
    session: Session, *, channel: str, user_id: str, member: Member | None, now: datetime
) -> int:
    """How many more wrong invite codes this user may try now (refusals in the audit log)."""
    since = now - INVITE_ATTEMPT_WINDOW
    who = (
        AuditLog.actor_id == member.id
        if member is not None
        else AuditLog.actor == f"{channel}:{user_id}"
    )
    failed = session.exec(
        select(sa.func.count())
        .select_from(AuditLog)
        .where(
            AuditLog.action == "invite.redeem",
            AuditLog.outcome == "refused",
            AuditLog.at > since,
            who,
        )
    ).one()
    return max(0, INVITE_ATTEMPTS - int(failed))


def invite_problem(invite: Invite | None, now: datetime) -> str | None:
    """Why the invite cannot be used now, or None."""
    if invite is None:
        return InviteProblem.UNKNOWN
    if invite.revoked_at is not None:
        return InviteProblem.REVOKED
    if invite.uses >= invite.max_uses:
        return InviteProblem.USED
    if invite.expires_at <= now:
        return InviteProblem.EXPIRED
    return None


@dataclass(slots=True)
class Binding:
    member: Member
    unit: Unit
    previous_unit_id: int | None
    already: bool  # the member was already an officer of this unit: nothing was used


def redeem_invite(
    session: Session,
    *,
    token: str,
    channel: str,
    user_id: str,
    chat_id: str,
    display_name: str,
    member: Member | None,
    now: datetime,
) -> Binding:
    """Bind the user to the invite's unit at once (approved), or raise InviteRefused."""
    if invite_attempts_left(session, channel=channel, user_id=user_id, member=member, now=now) <= 0:
        # Not even looked up: a guesser learns nothing more until the window passes.
        raise InviteRefused(InviteProblem.TOO_MANY)
    invite = find_invite(session, token)
    unit = session.get(Unit, invite.unit_id) if invite is not None else None
    if (
        unit is not None
        and member is not None
        and member.status == MemberStatus.APPROVED
        and member.unit_id == unit.id
    ):
        # Opening one's own link again (it may be used up by now): nothing to take or refuse.
        return Binding(member, unit, unit.id, already=True)
    problem = invite_problem(invite, now)
    if problem is None and (unit is None or not unit.active):
        problem = InviteProblem.UNIT_INACTIVE
    if problem is not None or invite is None or unit is None:
        audit.record(
            session,
            now=now,
            action="invite.redeem",
            actor=member,
            actor_label=None if member else f"{channel}:{user_id}",
            target_type="invite",
            target_id=invite.id if invite else None,
            outcome="refused",
            detail={"problem": problem},
        )
        raise InviteRefused(problem or InviteProblem.UNKNOWN)
    table = table_of(Invite)
    taken = session.execute(
        sa.update(table)
        .where(
            table.c.id == invite.id,
            table.c.uses < table.c.max_uses,
            table.c.revoked_at.is_(None),
            table.c.expires_at > now,
        )
        .values(uses=table.c.uses + 1)
    )
    if rowcount(taken) != 1:  # another user took the last use a moment ago
        session.refresh(invite)
        raise InviteRefused(invite_problem(invite, now) or InviteProblem.USED)
    previous = member.unit_id if member is not None else None
    if member is None:
        member = Member(
            channel=channel,
            user_id=user_id,
            chat_id=chat_id,
            display_name=clean_text(display_name, max_length=NAME_MAX, multiline=False),
            created_at=now,
        )
    member.unit_id = unit.id
    member.status = MemberStatus.APPROVED
    member.decided_at = now
    member.decided_by_id = invite.created_by_id
    member.updated_at = now
    session.add(member)
    session.flush()
    session.refresh(invite)
    invite.last_used_by_id = member.id
    session.add(invite)
    audit.record(
        session,
        now=now,
        action="invite.redeem",
        actor=member,
        target_type="invite",
        target_id=invite.id,
        detail={"unit": unit.code, "previous_unit_id": previous},
    )
    return Binding(member, unit, previous, already=False)


def revoke_invite(
    session: Session, *, invite_id: int, scope: Scope, by: Member, now: datetime
) -> Invite | None:
    """Revoke one invite of the scope; None when it has none such. Revoking twice changes
    nothing."""
    invite = scoped.invite(invite_id, scope=scope, session=session)
    if invite is None:
        return None
    if invite.revoked_at is None:
        invite.revoked_at = now
        session.add(invite)
        audit.record(
            session,
            now=now,
            action="invite.revoke",
            actor=by,
            target_type="invite",
            target_id=invite.id,
            organiser_id=scope.organiser_id,
        )
    return invite


def revoke_unit_invites(session: Session, *, unit: Unit, by: Member, now: datetime) -> int:
    """Revoke every invite of a unit that could still be used; how many were revoked."""
    open_invites = session.exec(
        select(Invite).where(
            Invite.unit_id == unit.id,
            col(Invite.revoked_at).is_(None),
            col(Invite.uses) < col(Invite.max_uses),
            Invite.expires_at > now,
        )
    ).all()
    for invite in open_invites:
        revoke_invite(
            session,
            invite_id=invite.id,  # type: ignore[arg-type]  # a stored row: its id is set
            scope=Scope.of(unit.organiser_id),
            by=by,
            now=now,
        )
    return len(open_invites)


# --- registrations -------------------------------------------------------------------------
def check_person_name(text: str) -> str:
    name = clean_text(text, max_length=NAME_MAX + 1, multiline=False)
    letters = sum(1 for ch in name if ch.isalpha())
    if letters < 2 or any(ch.isdigit() for ch in name):
        raise InputError("registration.bad_name", example="Lò Văn Tâm")
    if len(name) > NAME_MAX:
        raise InputError("registration.name_too_long", example="Lò Văn Tâm", max=NAME_MAX)
    return name


def check_phone(text: str) -> str:
    """A Vietnamese phone number, kept as digits from 0: "+84 912.345.678" → "0912345678"."""
    digits = re.sub(r"[\s.\-()]", "", text)
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) in (11, 12):
        digits = "0" + digits[2:]
    if not re.fullmatch(r"0\d{9,10}", digits):
        raise InputError("registration.bad_phone", example="0912 345 678")
    return digits


def submit_registration(
    session: Session,
    *,
    channel: str,
    user_id: str,
    chat_id: str,
    member: Member | None,
    unit: Unit,
    full_name: str,
    phone: str | None,
    now: datetime,
) -> Member:
    """Record a pending registration for a unit (a rejected or removed user may try again)."""
    if member is None:
        member = Member(channel=channel, user_id=user_id, chat_id=chat_id, created_at=now)
    elif member.status == MemberStatus.APPROVED:
        raise ValueError("an approved member does not register again")
    member.display_name = full_name
    member.phone = phone
    member.unit_id = unit.id
    member.role = Role.OFFICER
    member.status = MemberStatus.PENDING
    member.decided_at = None
    member.decided_by_id = None
    member.updated_at = now
    session.add(member)
    session.flush()
    return member


def pending_registrations(
    session: Session, *, scope: Scope, limit: int | None = None
) -> list[Member]:
    """Registrations waiting for an admin of the scope: those for its units."""
    statement = (
        scoped.members(scope)
        .where(Member.status == MemberStatus.PENDING)
        .order_by(col(Member.updated_at), col(Member.id))
    )
    if limit is not None:
        statement = statement.limit(limit)
    return list(session.exec(statement).all())


def count_pending(session: Session, *, scope: Scope) -> int:
    return session.exec(
        select(func.count())
        .select_from(Member)
        .join(Unit, col(Unit.id) == col(Member.unit_id))
        .where(
            Member.status == MemberStatus.PENDING,
            col(Unit.organiser_id).in_(scope.organiser_ids),
        )
    ).one()


def admins_of_unit(session: Session, unit_id: int | None) -> list[Member]:
    """Approved admins of the unit's organiser the bot can still write to: they decide on
    a registration for it."""
    unit = session.get(Unit, unit_id) if unit_id is not None else None
    return [] if unit is None else scoped.admins_of(unit.organiser_id, session=session)


def _decide(
    session: Session,
    *,
    member_id: int,
    expected: str,
    status: str,
    action: str,
    scope: Scope,
    by: Member,
    now: datetime,
) -> Member | None:
    """Move a member to `status`, decided by `by`, only if still in `expected` status (two
    admins may press at once), and audit it as `action`; None when it was not."""
    table = table_of(Member)
    values = {"status": status, "decided_at": now, "decided_by_id": by.id, "updated_at": now}
    result = session.execute(
        sa.update(table).where(table.c.id == member_id, table.c.status == expected).values(**values)
    )
    member = session.get(Member, member_id)
    if member is not None:
        session.refresh(member)
    if member is None or rowcount(result) != 1:
        return None
    audit.record(
        session,
        now=now,
        action=action,
        actor=by,
        target_type="member",
        target_id=member.id,
        detail={"unit_id": member.unit_id},
        organiser_id=scope.organiser_id,
    )
    return member


def decide_registration(
    session: Session, *, member_id: int, approve: bool, scope: Scope, by: Member, now: datetime
) -> Member | None:
    """Approve or reject a pending registration for a unit of the scope; None when it is no
    longer pending (or not the scope's)."""
    if scoped.member(member_id, scope=scope, session=session) is None:
        return None
    return _decide(
        session,
        member_id=member_id,
        expected=MemberStatus.PENDING,
        status=MemberStatus.APPROVED if approve else MemberStatus.REJECTED,
        action="registration.approve" if approve else "registration.reject",
        scope=scope,
        by=by,
        now=now,
    )


def remove_officer(
    session: Session, *, member_id: int, scope: Scope, by: Member, now: datetime
) -> Member | None:
    """Take an officer of the scope off their unit; None when there is no such officer."""
    target = scoped.member(member_id, scope=scope, session=session)
    if target is None or target.role != Role.OFFICER or target.id == by.id:
        return None
    return _decide(
        session,
        member_id=member_id,
        expected=MemberStatus.APPROVED,
        status=MemberStatus.REMOVED,
        action="member.remove",
        scope=scope,
        by=by,
        now=now,
    )


def grant_admin(
    session: Session, *, member_id: int, scope: Scope, by: Member, now: datetime
) -> Member | None:
    """Make an approved officer of the scope an admin of the organiser acted for; None when
    there is no such member there, or they already are."""
    from domain.organisers import grant_admin as grant_organiser_admin
    from models.organisers import Organiser

    member = scoped.member(member_id, scope=scope, session=session)
    organiser = session.get(Organiser, scope.organiser_id)
    if member is None or organiser is None or member.status != MemberStatus.APPROVED:
        return None
    granted = grant_organiser_admin(
        member, organiser, by=by, now=now, session=session, action="member.grant_admin"
    )
    if not granted:
        return None
    return member


def list_admins(session: Session, *, scope: Scope) -> list[Member]:
    """Every approved admin of the scope's organiser (reachable or not), by name."""
    from models.organisers import OrganiserMember, OrganiserRole

    rows = session.exec(
        select(Member)
        .join(OrganiserMember, col(OrganiserMember.member_id) == col(Member.id))
        .where(
            OrganiserMember.organiser_id == scope.organiser_id,
            OrganiserMember.role == OrganiserRole.ADMIN,
            Member.role == Role.ADMIN,
            Member.status == MemberStatus.APPROVED,
        )
    ).all()
    return sorted(rows, key=lambda m: (fold(m.display_name), m.id or 0))


class RevokeRefused(Exception):
    """Admin rights that cannot be taken back here: `reason` is "config" (ADMIN_IDS names the
    admin of the default organiser: edit it and restart) or "last" (the organiser would be
    left without an admin)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def revoke_admin(
    session: Session, *, member_id: int, scope: Scope, by: Member, now: datetime
) -> Member | None:
    """Take an admin's rights in the scope's organiser back (domain.organisers.revoke_admin);
    without another organiser they are an officer of their unit again, or have no access
    without one. None when that member is not an admin of this organiser any more;
    RevokeRefused for the ADMIN_IDS ones (of the default organiser) and for the organiser's
    last admin (who therefore cannot remove themself)."""
    from domain.organisers import revoke_admin as revoke_organiser_admin
    from models.organisers import DEFAULT_ORGANISER_ID, Organiser, OrganiserMember, OrganiserRole

    organiser = session.get(Organiser, scope.organiser_id)
    member = session.get(Member, member_id)
    if member is None or organiser is None or member.status != MemberStatus.APPROVED:
        return None
    if member.id not in {m.id for m in list_admins(session, scope=scope)}:
        return None
    if member.admin_source == AdminSource.CONFIG and organiser.id == DEFAULT_ORGANISER_ID:
        raise RevokeRefused("config")
    # Locked (PostgreSQL): two admins revoking each other at once cannot leave none.
    admins_now = session.exec(
        select(OrganiserMember.id)
        .where(
            OrganiserMember.organiser_id == organiser.id,
            OrganiserMember.role == OrganiserRole.ADMIN,
        )
        .with_for_update()
    ).all()
    if len(admins_now) <= 1:
        raise RevokeRefused("last")
    if not revoke_organiser_admin(member, organiser, by=by, now=now, session=session):
        return None
    if member.role != Role.ADMIN:
        member.admin_source = None
        if member.unit_id is None:
            member.status = MemberStatus.REMOVED
    member.decided_at, member.decided_by_id = now, by.id
    session.add(member)
    audit.record(
        session,
        now=now,
        action="member.revoke_admin",
        actor=by,
        target_type="member",
        target_id=member.id,
        detail={"unit_id": member.unit_id, "self": member.id == by.id},
        organiser_id=organiser.id,
    )
    return member


def find_members(
    session: Session,
    query: str,
    *,
    scope: Scope,
    role: str = Role.OFFICER,
    status: str = MemberStatus.APPROVED,
    limit: int = 50,
) -> list[Member]:
    """Members whose name, or whose unit's code or name, contains every word of `query`."""
    rows = session.exec(
        select(Member, Unit)
        .join(Unit, col(Member.unit_id) == col(Unit.id))
        .where(
            Member.role == role,
            Member.status == status,
            col(Unit.organiser_id).in_(scope.organiser_ids),
        )
        .order_by(Unit.code, Member.display_name)
    ).all()
    found = [
        member
        for member, unit in rows
        if matches(query, member.display_name, unit.search_key if unit else "")
    ]
    return found[:limit]
