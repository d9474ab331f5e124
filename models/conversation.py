"""Conversation state (trạng thái hội thoại), the log of handled updates, and the numbered
choices offered on channels without buttons.

One `ConversationState` row per (channel, chat) holds which flow a chat is in, its step and the
answers gathered so far, so a restart or another process continues where the last left off.
`version` is bumped on every write: a writer that read an older version lost a race and must
retry, instead of silently overwriting (optimistic locking).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import json_field, utc_field


class ConversationState(SQLModel, table=True):
    __tablename__ = "conversation_state"
    __table_args__ = (sa.UniqueConstraint("channel", "chat_id", name="uq_conversation_chat"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=32)
    chat_id: str = Field(max_length=64)
    flow: str | None = Field(default=None, max_length=64)
    step: str | None = Field(default=None, max_length=64)
    data: dict[str, Any] = json_field()
    version: int = 0
    updated_at: datetime = utc_field()


class ProcessedUpdate(SQLModel, table=True):
    """An update id already handled: a re-delivered update is acknowledged, not handled again.

    `answered_at` is set once the update's answers went out (`answers` keeps them until then):
    an update without it when the bot starts, or delivered again, was cut off by a crash, and
    its answers are sent then, once.
    `fingerprint` identifies what was sent (bot, chat, platform message id, content): an update
    arriving with a known id but another fingerprint is a new one reusing the id (ids start
    over with a new token or Bot API server); it takes the row over and `reuses` counts it.
    Rows are pruned some days after they were handled (`bot.core.PRUNE_AFTER`)."""

    __tablename__ = "processed_update"
    __table_args__ = (
        sa.UniqueConstraint("channel", "update_id", name="uq_processed_update"),
        sa.Index("ix_processed_update_chat", "channel", "chat_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=32)
    update_id: str = Field(max_length=64)
    handled_at: datetime = utc_field(index=True)
    chat_id: str | None = Field(default=None, max_length=64)
    answered_at: datetime | None = utc_field(nullable=True)
    fingerprint: str | None = Field(default=None, max_length=64)
    reuses: int = Field(default=0, sa_column_kwargs={"server_default": sa.text("0")})
    # The answers owed until `answered_at` (bot.owed): sent after a crash, once.
    answers: list[dict[str, Any]] | None = Field(
        default=None, sa_column=sa.Column(sa.JSON(), nullable=True)
    )


class OfferedChoice(SQLModel, table=True):
    """The buttons last offered to a chat on a channel that shows them as numbered choices.

    Zalo has no buttons: the bot lists "1. …, 2. …" and the user answers with the number. This
    row remembers what each number means, so an answer still works after a restart.
    `reply_to_update` is the update the buttons answered (None for a notification).
    `pushed`: choices of messages the bot sent on its own, marked with letters.
    """

    __tablename__ = "offered_choice"
    __table_args__ = (sa.UniqueConstraint("channel", "chat_id", name="uq_offered_choice_chat"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=32)
    chat_id: str = Field(max_length=64)
    # [[label, payload], …] in the order they were numbered.
    buttons: list[list[str]] = json_field()
    reply_to_update: str | None = Field(default=None, max_length=64)
    # Choices are typed as "#2" because the question also takes typed answers.
    prefixed: bool = False
    # The lettered choices of messages the bot sent on its own (reminders, notices): [[letter,
    # label, payload], …], oldest first; they outlive the conversation's numbers
    # (bot/channels/choices.py).
    pushed: list[list[str]] | None = Field(
        default=None, sa_column=sa.Column(sa.JSON(), nullable=True)
    )
    updated_at: datetime = utc_field()


class InboxUpdate(SQLModel, table=True):
    """A webhook update recorded before it is answered 200 and handled (hộp thư đến).

    The platform is answered as soon as the row is committed; handling follows. A crash in
    between leaves `handled_at` empty, and the next start handles the row. The core's own
    duplicate guard (the update id) keeps a row handled twice from being answered twice.
    """

    __tablename__ = "inbox_update"
    __table_args__ = (sa.UniqueConstraint("channel", "key", name="uq_inbox_update_key"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=32)
    key: str = Field(max_length=64)  # the platform's message id, or a hash of the body
    payload: dict[str, Any] = json_field()
    received_at: datetime = utc_field()
    handled_at: datetime | None = utc_field(nullable=True, index=True)
