"""The webhook inbox: an update is written down before the platform is told "200", then handled.

Zalo's docs advise answering webhook calls quickly; handling an update (a report step, a file
download) can take longer. So a webhook channel records the raw update durably, answers, and
handles it afterwards. A crash between the two leaves the row unhandled, and the next start
handles it (`pending`). The same update posted again finds its row already there and is not
handled a second time; and should a row be handled twice after all (a crash after handling,
before `mark_handled`), the core's duplicate guard on the update id answers it once.

Nothing here knows a platform or a business rule; the functions are synchronous and meant to
run in a worker thread (`asyncio.to_thread`), each in its own short transaction.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from models.base import table_of
from models.conversation import InboxUpdate

KEY_LENGTH = 64


@dataclass(frozen=True, slots=True)
class Recorded:
    id: int
    payload: dict[str, Any]


def update_key(message_id: object, body: bytes) -> str:
    """The platform's message id, or (without one) a hash of the raw body."""
    if message_id not in (None, ""):
        return str(message_id)[:KEY_LENGTH]
    return "sha256:" + hashlib.sha256(body).hexdigest()[: KEY_LENGTH - 7]


def record(
    engine: Engine, *, channel: str, key: str, payload: Mapping[str, Any], now: datetime
) -> int | None:
    """Write the update down; its row id, or None when it was recorded before (a re-post)."""
    with Session(engine) as session:
        row = InboxUpdate(
            channel=channel,
            key=key,
            payload=json.loads(json.dumps(payload)),
            received_at=now,
        )
        session.add(row)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            return None
        return row.id


def mark_handled(engine: Engine, row_id: int, now: datetime) -> None:
    table = table_of(InboxUpdate)
    with engine.begin() as connection:
        connection.execute(sa.update(table).where(table.c.id == row_id).values(handled_at=now))


def pending(engine: Engine, *, channel: str, limit: int = 500) -> list[Recorded]:
    """Updates recorded but not handled (a crash came between), oldest first."""
    with Session(engine) as session:
        rows = session.exec(
            select(InboxUpdate)
            .where(InboxUpdate.channel == channel, InboxUpdate.handled_at.is_(None))  # type: ignore[union-attr]  # a column at class level
            .order_by(InboxUpdate.id)  # type: ignore[arg-type]  # a column at class level
            .limit(limit)
        ).all()
        return [Recorded(row.id, dict(row.payload)) for row in rows if row.id is not None]
