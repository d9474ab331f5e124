"""Waiting on the fake Bot API servers (Telegram, Zalo): act, then wait for the answer.

`saying`, `pressing` and `choosing` build the acts `until` takes, so a walk through a form
reads `await until(api, OFFICER, "Câu 2/12", say("/baocao"))`; `seed_officer` puts the
commune, its officer (and the office's admin) and the open deadline such a walk needs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from models.units import Role
from tests.fakes.outbox import Outbox
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.zalo_api import FakeZalo
from tests.utils.factories import make_campaign, make_deadline, make_member, make_unit
from tests.utils.ids import ADMIN_USER_ID

Act = Callable[[], object]


async def until(api: Outbox, chat: int | str, fragment: str, act: Act) -> Any:
    """Do `act`, then wait for a new message to `chat` containing `fragment`; return it."""
    seen = len(api.sent[str(chat)])
    act()
    return await api.wait_for_text(chat, fragment, after=seen)


def saying(api: FakeTelegram | FakeZalo, chat: Any) -> Callable[[str], Act]:
    """`say(text)`: the act of `chat` typing `text`."""
    return lambda text: lambda: api.push_text(chat, text)


def pressing(api: FakeTelegram, chat: int) -> Callable[[str], Act]:
    """`press(label)`: the act of `chat` pressing the Telegram button labelled `label`."""
    return lambda label: lambda: api.press(chat, label)


def choosing(api: FakeZalo, chat: str) -> Callable[[str], Act]:
    """`choose(label)`: the act of `chat` typing the number of the Zalo choice `label`."""
    return lambda label: lambda: api.choose(chat, label)


def seed_officer(
    engine: Engine,
    officer: int | str,
    *,
    channel: str,
    admin: str | None = None,
    **deadline: Any,
) -> None:
    """Commune Bình Lư with its officer Lò Văn Tâm on `channel`, the office's admin named
    `admin` (none if None), and an open deadline of an active campaign (`deadline` overrides
    `make_deadline`'s fields; the title is "Báo cáo thành tích đợt 1" unless given); committed."""
    with Session(engine) as db:
        unit = make_unit(db, "Xã Bình Lư", code="XA-001")
        make_member(db, str(officer), unit=unit, channel=channel, name="Lò Văn Tâm")
        if admin is not None:
            make_member(db, ADMIN_USER_ID, role=Role.ADMIN, channel=channel, name=admin)
        deadline.setdefault("title", "Báo cáo thành tích đợt 1")
        make_deadline(db, make_campaign(db), **deadline)
        db.commit()
