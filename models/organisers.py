"""Organisers (cơ quan tổ chức thi đua) and who administers them.

Since 1/7/2025 local government has two levels (Luật Tổ chức chính quyền địa phương số
72/2025/QH15, Điều 2): the province, whose Sở Nội vụ runs campaigns for communes, departments
and schools, and the commune, whose office runs its own campaigns for villages, schools and
agencies. One deployment serves them all: every `Unit`, `Campaign` and broadcast belongs to
one `Organiser`, and admins are admins *of an organiser* (`OrganiserMember`), never of
everything.

An organiser may itself be a unit of its parent (`unit_id`): a commune takes part in the
province's campaigns as a unit and organises its own. The default organiser is created first,
by the migration, so it has id 1; rows made without naming an organiser — a single-office
deployment, which needs no configuration — belong to it.

This module holds tables only; the rules are in `domain.organisers` and `domain.scope`.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import utc_field

# The first organiser, made by the migration (existing data moves into it) or with the table.
DEFAULT_ORGANISER_ID = 1
DEFAULT_ORGANISER_CODE = "MACDINH"
DEFAULT_ORGANISER_NAME = "Cơ quan tổ chức"


class OrganiserLevel:
    """Level of government of an office; free text so a provider can add its own."""

    PROVINCE = "tinh"
    COMMUNE = "xa"
    OTHER = "khac"


class Organiser(SQLModel, table=True):
    """An office that runs campaigns (cơ quan tổ chức): owns units, campaigns, admins."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, sa_column_kwargs={"unique": True})
    name: str = Field(max_length=200)
    level: str = Field(default=OrganiserLevel.OTHER, max_length=16)
    # The place it governs, e.g. "tỉnh Lai Châu", "xã Bình Lư".
    place: str = Field(default="", max_length=200)
    # Where its documents are signed ("Lai Châu, ngày … tháng … năm …").
    signing_place: str = Field(default="", max_length=100)
    parent_id: int | None = Field(default=None, foreign_key="organiser.id", index=True)
    # The unit this organiser is in its parent's campaigns (a commune in the province's).
    # use_alter: unit refers to organiser too; the cycle is broken for table ordering.
    unit_id: int | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.Integer(), sa.ForeignKey("unit.id", use_alter=True), unique=True, nullable=True
        ),
    )
    active: bool = True
    created_at: datetime = utc_field()


class OrganiserRole:
    ADMIN = "admin"


class OrganiserMember(SQLModel, table=True):
    """One role of one member in one organiser (member × organiser × role)."""

    __tablename__ = "organiser_member"
    __table_args__ = (
        sa.UniqueConstraint("member_id", "organiser_id", "role", name="uq_organiser_member"),
    )

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    organiser_id: int = Field(foreign_key="organiser.id", index=True)
    role: str = Field(default=OrganiserRole.ADMIN, max_length=16)
    created_at: datetime = utc_field()
    granted_by_id: int | None = Field(default=None, foreign_key="member.id")
