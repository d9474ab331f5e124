"""Who is talking: finding the member behind an update, and admins named in ADMIN_IDS (the
admins of the default organiser).

Rules of registration (invites, approval, roles) build on these functions in the units
capability; this module only identifies users and records refusals.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

import sqlalchemy as sa
from sqlmodel import Session, select

from domain import audit
from domain.dates import as_utc
from domain.organisers import ensure_default_admin
from domain.text import clean_text
from models.units import Member, MemberStatus, Role

# How fresh `Member.last_seen_at` is kept. Writing it on every message made each update of a
# registered user an extra UPDATE of the member row (and a row lock other processes wait on);
# what reads it (may the bot still write to this user on Zalo?) counts in hours, not seconds.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)


class Sender(Protocol):
    """Who wrote (an inbound event as bot/ builds it): only what the rules here read."""

    channel: str
    user_id: str
    chat_id: str
    display_name: str


class AdminConfig(Protocol):
    """The settings as far as identifying admins goes (ADMIN_IDS)."""

    def is_configured_admin(self, channel: str, user_id: str) -> bool: ...


# Every update looks its sender up: the statement is built once, with its values bound at run
# time (building it anew each time cost as much as running it).
_MEMBER_BY_USER = select(Member).where(
    Member.channel == sa.bindparam("m_channel"), Member.user_id == sa.bindparam("m_user")
)


def find_member(session: Session, *, channel: str, user_id: str) -> Member | None:
    return session.exec(_MEMBER_BY_USER, params={"m_channel": channel, "m_user": user_id}).first()


def identify(
    session: Session, *, event: Sender, settings: AdminConfig, now: datetime
) -> Member | None:
    """The member who sent `event`; admins named in ADMIN_IDS are created or promoted here."""
    member = find_member(session, channel=event.channel, user_id=event.user_id)
    configured_admin = settings.is_configured_admin(event.channel, event.user_id)
    if member is None and configured_admin:
        member = Member(
            channel=event.channel,
            user_id=event.user_id,
            chat_id=event.chat_id,
            display_name=clean_text(event.display_name, max_length=120, multiline=False),
            role=Role.ADMIN,
            status=MemberStatus.APPROVED,
            created_at=now,
            updated_at=now,
            decided_at=now,
        )
        session.add(member)
        session.flush()
        audit.record(
            session,
            now=now,
            action="admin.bootstrap",
            actor=member,
            target_type="member",
            target_id=member.id,
        )
    elif (
        member is not None
        and configured_admin
        and (member.role != Role.ADMIN or member.status != MemberStatus.APPROVED)
    ):
        member.role = Role.ADMIN
        member.status = MemberStatus.APPROVED
        member.updated_at = now
    if member is not None and configured_admin:
        # ADMIN_IDS names the admins of the default (top) organiser.
        session.flush()
        ensure_default_admin(member, now=now, session=session)
    if member is not None:
        last_seen = as_utc(member.last_seen_at) if member.last_seen_at else None
        if last_seen is None or now - last_seen >= LAST_SEEN_RESOLUTION:
            member.last_seen_at = now
        if member.chat_id != event.chat_id and event.chat_id == event.user_id:
            member.chat_id = event.chat_id
        if member.unreachable_at is not None:
            # They blocked the bot once and are writing again: reminders may reach them.
            member.unreachable_at = None
    return member


def audit_refusal(
    session: Session, *, member: Member | None, event: Sender, route: str, now: datetime
) -> None:
    audit.record(
        session,
        now=now,
        action="access.denied",
        actor=member,
        actor_label=None if member else f"{event.channel}:{event.user_id}",
        target_type="route",
        target_id=route,
        outcome="denied",
    )
