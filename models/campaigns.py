"""Campaigns (đợt thi đua), their deadlines (mốc thời hạn) and the reminder delivery log.

A `Campaign` comes from a plan document (kế hoạch) and runs over all active units or chosen
blocs/units (`CampaignParticipant`). Each `Deadline` asks participating units for one report
form by a due instant. `ReminderLog` is the delivery log of reminders: its unique key
(deadline, member, slot) is claimed and committed before a message is sent, so no restart,
retry or second process can send the same reminder twice.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import json_field, utc_field
from models.organisers import DEFAULT_ORGANISER_ID


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    CLOSED = "closed"


class Campaign(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    organiser_id: int = Field(default=DEFAULT_ORGANISER_ID, foreign_key="organiser.id", index=True)
    # Document number as written on the plan, e.g. "353/KH-UBND"; unique per organiser.
    document_number: str = Field(max_length=64, index=True)
    name: str = Field(max_length=500)
    issuing_body: str = Field(default="", max_length=200)
    issued_on: date | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    description: str = Field(default="", max_length=4000)
    status: str = Field(default=CampaignStatus.DRAFT, max_length=16, index=True)
    # "all": every active unit takes part; "selected": the rows of CampaignParticipant.
    participants: str = Field(default="all", max_length=16)
    timezone: str = Field(default="Asia/Ho_Chi_Minh", max_length=64)
    created_at: datetime = utc_field()
    created_by_id: int | None = Field(default=None, foreign_key="member.id")
    activated_at: datetime | None = utc_field(nullable=True)
    closed_at: datetime | None = utc_field(nullable=True)
    # Cascading (phát động xuống cấp xã): the participating units that are organisers are
    # asked to run a matching campaign of their own; theirs points back here.
    cascade: bool = False
    parent_campaign_id: int | None = Field(default=None, foreign_key="campaign.id", index=True)


class CampaignParticipant(SQLModel, table=True):
    """One chosen unit or one chosen bloc (khối thi đua) of a campaign with selected units."""

    __tablename__ = "campaign_participant"

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    unit_id: int | None = Field(default=None, foreign_key="unit.id")
    bloc: str | None = Field(default=None, max_length=120)


class DeadlineKind:
    REGISTRATION = "registration"  # đăng ký thi đua
    PRELIMINARY = "preliminary"  # báo cáo sơ kết
    FINAL = "final"  # báo cáo tổng kết / thành tích
    NOMINATION = "nomination"  # hồ sơ đề nghị khen thưởng
    OTHER = "other"


class Deadline(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    kind: str = Field(default=DeadlineKind.OTHER, max_length=32)
    title: str = Field(max_length=300)
    due_at: datetime = utc_field(index=True)
    form_code: str = Field(max_length=64)
    # Overrides of the default reminder policy (domain.schedule.DEFAULT_POLICY); {} = defaults.
    reminder_policy: dict[str, Any] = json_field()
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()
    # In a commune's campaign answering a province's: the province's deadline this one feeds
    # (it must fall no later than that one).
    parent_deadline_id: int | None = Field(default=None, foreign_key="deadline.id")


class ReminderStatus(StrEnum):
    CLAIMED = "claimed"  # reserved for a run, not yet handed to the platform
    SENDING = "sending"  # handed to the platform; outcome unknown if it stays so
    SENT = "sent"
    RETRY = "retry"  # failed for sure; next_attempt_at says when to try again
    FAILED = "failed"  # given up, reason in error
    SKIPPED = "skipped"  # not sent on purpose (unit submitted meanwhile, unreachable user)


class ReminderLog(SQLModel, table=True):
    __tablename__ = "reminder_log"
    __table_args__ = (
        sa.UniqueConstraint("deadline_id", "member_id", "slot", name="uq_reminder_slot"),
    )

    id: int | None = Field(default=None, primary_key=True)
    deadline_id: int = Field(foreign_key="deadline.id", index=True)
    unit_id: int = Field(foreign_key="unit.id")
    member_id: int = Field(foreign_key="member.id")
    # Which reminder: e.g. "before-7d", "due", "overdue-1", "manual-2026112509".
    slot: str = Field(max_length=48)
    status: str = Field(default=ReminderStatus.CLAIMED, max_length=16, index=True)
    attempts: int = 0
    claimed_at: datetime = utc_field()
    sent_at: datetime | None = utc_field(nullable=True)
    next_attempt_at: datetime | None = utc_field(nullable=True)
    message_id: str | None = Field(default=None, max_length=64)
    error: str | None = Field(default=None, max_length=500)
