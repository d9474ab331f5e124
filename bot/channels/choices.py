"""Numbered choices for channels without buttons: what "1", "2"… and "A", "B"… mean in each chat.

A channel that cannot show buttons (Zalo, the console) lists them as "1. …, 2. …" and the user
answers with the number. The numbers always refer to the latest answer that had buttons, and
stop meaning anything once the bot answers a later update without buttons (so a number typed as
an answer to a plain question is never read as a stale button).

Messages the bot sends on its own (a reminder's «Làm báo cáo», an admin's «Duyệt») are not part
of the conversation: a person may act on them much later, after other questions. Their choices
are marked with letters instead ("A. Làm báo cáo"), given in turn from `PUSHED_MARKERS` per
chat, so each keeps its letter until the letter comes round again (19 pushed choices later)
whatever the conversation asks meanwhile; a letter typed alone chooses it, a number always
means the conversation's choice. `record_sent` says which markers a message's choices got. `DbChoiceStore` keeps this in the
database, so numbering survives a restart: each call is a transaction of its own
(`bot.db.in_transaction`), and the channel runs the store off the event loop
(`asyncio.to_thread`), as all database work outside an update is run; `MemoryChoiceStore` is for tests and the console.
Nothing here knows a platform or a business rule.
"""

from __future__ import annotations

from collections.abc import Sequence
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
        if self.prefixed and not text.startswith("#"):
            return None
        # "#2" always means choice 2, also where a bare "2" would do.
        text = text.removeprefix("#").strip()
        if not (text.isascii() and text.isdigit()):
            return None
        return self.pick(int(text))


def choice_marker(message: Outbound, number: int) -> str:
    """How choice `number` is shown and typed: "2", or "#2" when text answers are welcome."""
    return f"#{number}" if message.accepts_text else str(number)


# Letters for the choices of pushed messages: letters of the Vietnamese alphabet (no F, J, W,
# Z) without those that pass for digits (I, L, O), typed in either case.
PUSHED_MARKERS = "ABCDEGHKMNPQRSTUVXY"

Pushed = list[tuple[str, Button]]  # (letter, button), the oldest first


def allot(current: Pushed, buttons: Sequence[Button]) -> tuple[list[str], Pushed]:
    """The letters for `buttons`, the next ones after the last given, and the pushed choices
    once they are added (a letter given again forgets its earlier choice)."""
    start = PUSHED_MARKERS.index(current[-1][0]) + 1 if current else 0
    markers = [PUSHED_MARKERS[(start + i) % len(PUSHED_MARKERS)] for i in range(len(buttons))]
    kept = [(marker, button) for marker, button in current if marker not in markers]
    return markers, kept + list(zip(markers, buttons, strict=True))


def is_pushed_marker(markers: Sequence[str]) -> bool:
    """Whether these markers are letters (a pushed message's) rather than numbers."""
    return bool(markers) and markers[0] in PUSHED_MARKERS


class ChoiceStore(Protocol):
    def load(self, chat_id: str) -> Offer | None: ...

    def save(self, chat_id: str, offer: Offer) -> None: ...

    def clear(self, chat_id: str) -> None: ...

    def pushed(self, chat_id: str) -> Pushed: ...

    def push(self, chat_id: str, buttons: Sequence[Button]) -> list[str]: ...


def record_sent(
    store: ChoiceStore, chat_id: str, message: Outbound, reply_to: Inbound | None
) -> list[str]:
    """Remember what the markers mean after `message` went out to `chat_id`; return the marker
    of each of its buttons, in order.

    An answer's buttons are numbered and replace the conversation's old ones; an answer without
    buttons ends the old offer, unless it answers the same update that made it (one update may
    send a question and a note). A message sent on its own (`reply_to` None) gets letters and
    leaves the conversation's numbers alone, so a pending question stays answerable and its own
    choices outlive later questions.
    """
    buttons = [button for row in message.buttons for button in row]
    if buttons and reply_to is None and len(buttons) <= len(PUSHED_MARKERS):
        return store.push(chat_id, buttons)
    answering = reply_to.update_id if reply_to is not None else None
    if buttons:
        store.save(chat_id, Offer(tuple(buttons), answering, message.accepts_text))
        return [choice_marker(message, number) for number in range(1, len(buttons) + 1)]
    if reply_to is None:
        return []
    current = store.load(chat_id)
    if current is not None and (answering is None or current.reply_to_update != answering):
        store.clear(chat_id)
    return []


def looks_like_choice(text: str) -> bool:
    """Whether typed text could choose something: a number ("2", "#2") or a lone letter."""
    bare = text.strip().removeprefix("#").strip()
    return (bare.isascii() and bare.isdigit()) or (
        len(bare) == 1 and bare.upper() in PUSHED_MARKERS
    )


def resolve(store: ChoiceStore, chat_id: str, text: str) -> Button | None:
    """The button typed `text` chooses in `chat_id`, or None when it is an ordinary answer: a
    number is the conversation's choice, a lone letter a pushed message's."""
    if not looks_like_choice(text):
        return None
    text = text.strip()
    bare = text.removeprefix("#").strip()
    if bare.isdigit():
        offer = store.load(chat_id)
        return offer.resolve(text) if offer is not None else None
    return dict(store.pushed(chat_id)).get(bare.upper())


class MemoryChoiceStore:
    def __init__(self) -> None:
        self._offers: dict[str, Offer] = {}
        self._pushed: dict[str, Pushed] = {}

    def load(self, chat_id: str) -> Offer | None:
        return self._offers.get(chat_id)

    def save(self, chat_id: str, offer: Offer) -> None:
        self._offers[chat_id] = offer

    def clear(self, chat_id: str) -> None:
        self._offers.pop(chat_id, None)

    def pushed(self, chat_id: str) -> Pushed:
        return list(self._pushed.get(chat_id, []))

    def push(self, chat_id: str, buttons: Sequence[Button]) -> list[str]:
        markers, self._pushed[chat_id] = allot(self._pushed.get(chat_id, []), buttons)
        return markers


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
            if row is None or not row.buttons:
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
        """Forget the conversation's numbers; the pushed choices stay."""
        table = table_of(OfferedChoice)
        in_transaction(
            self.engine,
            lambda session: session.execute(
                sa.update(table)
                .where(table.c.channel == self.channel, table.c.chat_id == chat_id)
                .values(buttons=[], reply_to_update=None, prefixed=False)
            ),
            what="choice store",
        )

    def pushed(self, chat_id: str) -> Pushed:
        def read(session: Session) -> Pushed:
            row = self._row(session, chat_id)
            return _pushed_of(row.pushed if row is not None else None)

        return in_transaction(self.engine, read, commit=False, what="choice store")

    def push(self, chat_id: str, buttons: Sequence[Button]) -> list[str]:
        """Give `buttons` the next letters of the chat, read and written in one transaction
        (the row locked on PostgreSQL; on SQLite a concurrent writer makes one of them try
        again), so two pushes never share a letter."""
        table = table_of(OfferedChoice)

        def write(session: Session) -> list[str]:
            where = (table.c.channel == self.channel, table.c.chat_id == chat_id)
            stored = session.execute(
                sa.select(table.c.pushed).where(*where).with_for_update()
            ).first()
            markers, pushed = allot(_pushed_of(stored[0] if stored else None), buttons)
            values = {
                "pushed": [[m, b.label, b.payload] for m, b in pushed],
                "updated_at": self.clock.now(),
            }
            if stored is not None:
                session.execute(sa.update(table).where(*where).values(**values))
            else:
                session.execute(
                    sa.insert(table).values(
                        channel=self.channel,
                        chat_id=chat_id,
                        buttons=[],
                        reply_to_update=None,
                        prefixed=False,
                        **values,
                    )
                )
            return markers

        for _attempt in range(2):
            try:
                return in_transaction(self.engine, write, what="choice store")
            except IntegrityError:  # another writer inserted the row first: add to it
                continue
        return in_transaction(self.engine, write, what="choice store")


def _pushed_of(stored: object) -> Pushed:
    if not isinstance(stored, list):
        return []
    return [
        (str(marker), Button(str(label), str(payload)))
        for marker, label, payload in stored
        if str(marker) in PUSHED_MARKERS
    ]
