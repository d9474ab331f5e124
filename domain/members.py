"""Who is talking: finding the member behind an update, and admins named in ADMIN_IDS (the
admins of the default organiser).

ADMIN_IDS means "admins from configuration" both ways: a user it names is made an admin on
their first message (`admin_source="config"`), and one it no longer names loses those rights
— at start-up (`sync_configured_admins`) and on their next message — going back to officer of
their unit, or to no access without one. Rights granted in the chat (/capquyen,
`admin_source="chat"`) do not depend on ADMIN_IDS; they end when revoked (/thuhoiquyen).

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
from domain.scope import admin_organiser_ids
from domain.text import clean_text
from models.organisers import DEFAULT_ORGANISER_ID, OrganiserMember, OrganiserRole
from models.units import AdminSource, Member, MemberStatus, Role

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
            admin_source=AdminSource.CONFIG,
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
        member.admin_source = AdminSource.CONFIG
        member.updated_at = now
        audit.record(
            session,
            now=now,
            action="admin.bootstrap",
            actor=member,
            target_type="member",
            target_id=member.id,
        )
    elif member is not None and not configured_admin and _config_admin(member):
        drop_configured_admin(session, member=member, now=now)
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


def _config_admin(member: Member) -> bool:
    return member.role == Role.ADMIN and member.admin_source == AdminSource.CONFIG


def drop_configured_admin(session: Session, *, member: Member, now: datetime) -> None:
    """Take back the rights ADMIN_IDS gave — the membership of the default (top) organiser —:
    officer of their unit again, or no access without one. Rights granted in another
    organiser stay (then the remaining rights count as granted in the chat)."""
    for row in session.exec(
        select(OrganiserMember).where(
            OrganiserMember.member_id == member.id,
            OrganiserMember.organiser_id == DEFAULT_ORGANISER_ID,
            OrganiserMember.role == OrganiserRole.ADMIN,
        )
    ).all():
        session.delete(row)
    session.flush()
    if member.acting_organiser_id == DEFAULT_ORGANISER_ID:
        member.acting_organiser_id = None
    if admin_organiser_ids(member, session=session):
        member.admin_source = AdminSource.CHAT
    else:
        member.role = Role.OFFICER
        member.admin_source = None
        if member.unit_id is None:
            member.status = MemberStatus.REMOVED
    member.updated_at = now
    session.add(member)
    audit.record(
        session,
        now=now,
        action="admin.config_removed",
        actor=None,
        actor_label="ADMIN_IDS",
        target_type="member",
        target_id=member.id,
        organiser_id=DEFAULT_ORGANISER_ID,
    )


def sync_configured_admins(
    session: Session, *, settings: AdminConfig, now: datetime
) -> list[Member]:
    """At start-up: admins from configuration that ADMIN_IDS no longer names lose the rights
    (before they write again: they would still get admins' notices and digests). Returns them;
    the caller commits."""
    dropped = []
    for member in session.exec(
        select(Member).where(Member.role == Role.ADMIN, Member.admin_source == AdminSource.CONFIG)
    ).all():
        if not settings.is_configured_admin(member.channel, member.user_id):
            drop_configured_admin(session, member=member, now=now)
            dropped.append(member)
    return dropped


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
