"""Units (đơn vị) and the people who talk to the bot for them.

A `Unit` is whatever takes part in campaigns — a commune, a department, a school, a village —
with its kind taken from reference data (refdata/unit_kinds.yaml), never hard-coded. A `Member`
is one user on one channel (Telegram, Zalo, console): an officer of a unit (cán bộ phụ trách
thi đua) or an admin. An `Invite` binds whoever opens it to a unit.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import utc_field
from models.organisers import DEFAULT_ORGANISER_ID


class UnitKind:
    """Kinds shipped in refdata; the column is free text so an organiser can add its own."""

    COMMUNE = "xa"
    VILLAGE = "thon"
    AGENCY = "coquan"
    SCHOOL = "truong"
    ENTERPRISE = "doanhnghiep"
    OTHER = "khac"


class Unit(SQLModel, table=True):
    """A participating unit (đơn vị) of one organiser; codes are unique within it."""

    __table_args__ = (sa.UniqueConstraint("organiser_id", "code", name="uq_unit_code"),)

    id: int | None = Field(default=None, primary_key=True)
    organiser_id: int = Field(default=DEFAULT_ORGANISER_ID, foreign_key="organiser.id", index=True)
    code: str = Field(max_length=32)
    name: str = Field(max_length=200)
    # Name and code without diacritics, lower-case: what searches compare against.
    search_key: str = Field(default="", max_length=240, index=True)
    kind: str = Field(default=UnitKind.OTHER, max_length=32)
    bloc: str | None = Field(default=None, max_length=120, index=True)
    parent_id: int | None = Field(default=None, foreign_key="unit.id")
    active: bool = True
    created_at: datetime = utc_field()


class Role:
    ADMIN = "admin"
    OFFICER = "officer"


class MemberStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    REMOVED = "removed"


class Member(SQLModel, table=True):
    """A user on one channel, with a role and (for officers) a unit."""

    __table_args__ = (sa.UniqueConstraint("channel", "user_id", name="uq_member_identity"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=32)
    user_id: str = Field(max_length=64)
    # Where the bot writes to this member; on Telegram and Zalo private chats it is the user id.
    chat_id: str = Field(max_length=64)
    display_name: str = Field(default="", max_length=120)
    phone: str | None = Field(default=None, max_length=20)
    role: str = Field(default=Role.OFFICER, max_length=16)
    unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    status: str = Field(default=MemberStatus.PENDING, max_length=16, index=True)
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()
    decided_at: datetime | None = utc_field(nullable=True)
    decided_by_id: int | None = Field(default=None, foreign_key="member.id")
    # Set when the platform says the user blocked the bot (HTTP 403): no more sends.
    unreachable_at: datetime | None = utc_field(nullable=True)
    # The last time the user wrote to the bot (Zalo only lets a bot answer within a window).
    last_seen_at: datetime | None = utc_field(nullable=True)
    # Which organiser's admin this member is acting as, when they administer several.
    acting_organiser_id: int | None = Field(default=None, foreign_key="organiser.id")
    # Why an admin is one: "config" while ADMIN_IDS names them (taken back when it no longer
    # does), "chat" when granted with /capquyen (until revoked with /thuhoiquyen).
    admin_source: str | None = Field(default=None, max_length=16)
    # Web desk sessions carry the value they were opened with; "/web thoat" bumps it, which
    # ends every session of this member at once (models.web).
    web_generation: int = 0


class AdminSource:
    CONFIG = "config"
    CHAT = "chat"


class Invite(SQLModel, table=True):
    """An invite link (lời mời) that binds whoever opens it to a unit."""

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    # Typed where there are no deep links (Zalo, console); None for invites made before it.
    short_code: str | None = Field(default=None, max_length=8, sa_column_kwargs={"unique": True})
    unit_id: int = Field(foreign_key="unit.id", index=True)
    max_uses: int = 1
    uses: int = 0
    expires_at: datetime = utc_field()
    created_at: datetime = utc_field()
    created_by_id: int | None = Field(default=None, foreign_key="member.id")
    last_used_by_id: int | None = Field(default=None, foreign_key="member.id")
    revoked_at: datetime | None = utc_field(nullable=True)
