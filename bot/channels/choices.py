"""Numbered choices for channels without buttons: what "1", "2"… mean in each chat.

A channel that cannot show buttons (Zalo) lists them as "1. …, 2. …" and the user answers with
the number. The numbers always refer to the latest message that had buttons, and stop meaning
anything once the bot answers a later update without buttons (so a number typed as an answer
to a plain question is never read as a stale button). `DbChoiceStore` keeps this in the
database, so numbering survives a restart: each call is a transaction of its own
(`bot.db.in_transaction`), and the channel runs the store off the event loop
(`asyncio.to_thread`), as all database work outside an update is run; `MemoryChoiceStore` is for tests and the console.
Nothing here knows a platform or a business rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.clock import Clock
from bot.db import in_transaction
from bot.events import Button, Inbound, Outbound
from models.base import rowcount, table_of
from models.conversation import OfferedChoice


@dataclass(frozen=True, slots=True)
class Offer:
    """Buttons shown to a chat, in the order they were numbered."""

    buttons: tuple[Button, ...]
    # The update these buttons answered; None when they came with a notification.
    reply_to_update: str | None = None
    # The question also takes typed answers: a choice is then "#2", and a bare "2" is text.
    prefixed: bool = False

    def pick(self, number: int) -> Button | None:
        return self.buttons[number - 1] if 1 <= number <= len(self.buttons) else None

    def resolve(self, text: str) -> Button | None:
        """The button a typed reply chooses, or None when it is an ordinary answer."""
        text = text.strip()
        if self.prefixed:
            if not text.startswith("#"):
                return None
            text = text[1:].strip()
        if not (text.isascii() and text.isdigit()):
            return None
        return self.pick(int(text))


def choice_marker(message: Outbound, number: int) -> str:
    """How choice `number` is shown and typed: "2", or "#2" when text answers are welcome."""
    return f"#{number}" if message.accepts_text else str(number)


class ChoiceStore(Protocol):
    def load(self, chat_id: str) -> Offer | None: ...

    def save(self, chat_id: str, offer: Offer) -> None: ...

    def clear(self, chat_id: str) -> None: ...


def record_sent(
    store: ChoiceStore, chat_id: str, message: Outbound, reply_to: Inbound | None
) -> None:
    """Remember what the numbers mean after `message` went out to `chat_id`.

    New buttons replace the old ones. A reply without buttons ends the old offer, unless it
    answers the same update that made it (one update may send a question and a note); a
    notification without buttons (a reminder) leaves a pending question answerable.
    """
    buttons = [button for row in message.buttons for button in row]
    answering = reply_to.update_id if reply_to is not None else None
    if buttons:
        store.save(chat_id, Offer(tuple(buttons), answering, message.accepts_text))
        return
    if reply_to is None:
        return
    current = store.load(chat_id)
    if current is not None and (answering is None or current.reply_to_update != answering):
        store.clear(chat_id)


class MemoryChoiceStore:
    def __init__(self) -> None:
        self._offers: dict[str, Offer] = {}

    def load(self, chat_id: str) -> Offer | None:
        return self._offers.get(chat_id)

    def save(self, chat_id: str, offer: Offer) -> None:
        self._offers[chat_id] = offer

    def clear(self, chat_id: str) -> None:
        self._offers.pop(chat_id, None)


class DbChoiceStore:
    """Offers in the `offered_choice` table, one row per (channel, chat)."""

    def __init__(self, engine: Engine, clock: Clock, channel: str) -> None:
        self.engine = engine
        self.clock = clock
        self.channel = channel

    def _row(self, session: Session, chat_id: str) -> OfferedChoice | None:
        return session.exec(
            select(OfferedChoice).where(
                OfferedChoice.channel == self.channel, OfferedChoice.chat_id == chat_id
            )
        ).first()

    def load(self, chat_id: str) -> Offer | None:
        def read(session: Session) -> Offer | None:
            row = self._row(session, chat_id)
            if row is None:
                return None
            buttons = tuple(Button(label, payload) for label, payload in row.buttons)
            return Offer(buttons, row.reply_to_update, row.prefixed)

        return in_transaction(self.engine, read, commit=False, what="choice store")

    def save(self, chat_id: str, offer: Offer) -> None:
        values = {
            "buttons": [[b.label, b.payload] for b in offer.buttons],
            "reply_to_update": offer.reply_to_update,
            "prefixed": offer.prefixed,
            "updated_at": self.clock.now(),
        }
        table = table_of(OfferedChoice)

        def write(session: Session) -> None:
            updated = session.execute(
                sa.update(table)
                .where(table.c.channel == self.channel, table.c.chat_id == chat_id)
                .values(**values)
            )
            if rowcount(updated) == 0:
                session.execute(
                    sa.insert(table).values(channel=self.channel, chat_id=chat_id, **values)
                )

        for _attempt in range(2):
            try:
                in_transaction(self.engine, write, what="choice store")
                return
            except IntegrityError:  # another writer inserted first: update its row
                continue

    def clear(self, chat_id: str) -> None:
        table = table_of(OfferedChoice)
        in_transaction(
            self.engine,
            lambda session: session.execute(
                sa.delete(table).where(table.c.channel == self.channel, table.c.chat_id == chat_id)
            ),
            what="choice store",
        )
