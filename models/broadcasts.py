"""Broadcasts (thông báo) and their per-recipient delivery log.

A `Broadcast` is written with all its `BroadcastRecipient` rows (`pending`) in the transaction of
the admin's confirmation, before anything is sent. A recipient becomes `sending` just before its
send (committed first) and `sent`/`failed` after, so a crash leaves the unsent ones `pending` —
sent when the broadcast resumes — and at most one per concurrent sender `sending`: its outcome is
unknown, it is never resent, the admin's summary counts it. `owner` is the run sending the
broadcast and `heartbeat_at` its last write: a run takes over an unfinished broadcast with a
conditional UPDATE on them (see domain.broadcast).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import json_field, utc_field
from models.organisers import DEFAULT_ORGANISER_ID


class BroadcastStatus(StrEnum):
    SENDING = "sending"  # under way, or cut off by a crash: resumed at start-up
    DONE = "done"


class Broadcast(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # The organiser whose admin sent it: only its units are addressed, only its admins see it.
    organiser_id: int = Field(default=DEFAULT_ORGANISER_ID, foreign_key="organiser.id", index=True)
    actor_id: int | None = Field(default=None, foreign_key="member.id")
    # Where the progress message and the summary go: the admin's chat.
    admin_channel: str = Field(max_length=32)
    admin_chat_id: str = Field(max_length=64)
    # The message as sent, already rendered.
    text: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    audience: dict[str, Any] = json_field()
    status: str = Field(default=BroadcastStatus.SENDING, max_length=16, index=True)
    owner: str | None = Field(default=None, max_length=64)  # the run sending it
    heartbeat_at: datetime = utc_field()  # that run's last write
    resumed: int = 0  # how many times a restart took it over
    created_at: datetime = utc_field()
    finished_at: datetime | None = utc_field(nullable=True)


class RecipientStatus(StrEnum):
    PENDING = "pending"  # not yet handed to the platform
    SENDING = "sending"  # handed to the platform; outcome unknown if it stays so
    SENT = "sent"
    FAILED = "failed"  # reason in error; permanent: the user blocked the bot
    SKIPPED = "skipped"  # not sent on purpose: out of the platform's reply window (Zalo)


class BroadcastRecipient(SQLModel, table=True):
    __tablename__ = "broadcast_recipient"
    __table_args__ = (
        sa.UniqueConstraint("broadcast_id", "member_id", name="uq_broadcast_recipient"),
        sa.Index("ix_broadcast_recipient_status", "broadcast_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    broadcast_id: int = Field(foreign_key="broadcast.id")
    member_id: int = Field(foreign_key="member.id")
    unit_id: int = Field(foreign_key="unit.id")
    status: str = Field(default=RecipientStatus.PENDING, max_length=16)
    error: str | None = Field(default=None, max_length=500)
    permanent: bool = False
    message_id: str | None = Field(default=None, max_length=64)
    sent_at: datetime | None = utc_field(nullable=True)
