"""Helpers for the units and registration tests: the people, invite tokens, table snapshots."""

from __future__ import annotations

import io
import re

from openpyxl import Workbook
from sqlmodel import select

from models.units import Member, Unit
from tests.utils.ids import ADMIN_USER_ID
from tests.utils.scenario import Person, TestBot

_TOKEN = re.compile(r"start[= ]([A-Za-z0-9_-]{16,64})")
_SHORT_CODE = re.compile(r"\b([0-9A-Z]{4}-[0-9A-Z]{4})\b")


def admin_of(bot: TestBot) -> Person:
    return bot.person(ADMIN_USER_ID, "Trưởng phòng Nội vụ")


def token_in(text: str) -> str:
    """The invite token in a /moi reply: a t.me link's token, else the short code to type."""
    match = _TOKEN.search(text) or _SHORT_CODE.search(text)
    assert match, f"no invite token in {text!r}"
    return match.group(1)


def units_snapshot(bot: TestBot) -> list[tuple[str, str, str, str | None]]:
    with bot.db() as db:
        rows = db.exec(select(Unit).order_by(Unit.code)).all()
    return [(u.code, u.name, u.kind, u.bloc) for u in rows]


def csv_bytes(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


HEADER = "ma,ten,loai,khoi"  # the header row of a units file (/nhapdonvi)


async def send_import(
    bot: TestBot, content: bytes, name: str, mime: str | None = "text/csv"
) -> Person:
    """The admin sends `content` as a units file to /nhapdonvi."""
    admin = admin_of(bot)
    await admin.says("/nhapdonvi")
    assert "CSV" in admin.last_reply
    await admin.sends_file(content, name, mime)
    return admin


def member(bot: TestBot, user_id: str) -> Member | None:
    """The member row of a chat user, read fresh."""
    with bot.db() as db:
        return db.exec(select(Member).where(Member.user_id == user_id)).first()
