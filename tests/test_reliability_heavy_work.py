"""Heavy admin work (/xuat of a province) runs off the event loop and outside the update's
transaction: another user is answered while the workbook is being built, and a crash while it
is built does not replay it after the restart.

Before: the export ran inside the admin's update — on the event loop, holding the core's one
transaction turn — so polling, reminders and every other user waited (46 s in the report), and
a crash left the update uncommitted, so Telegram delivered it again and the export ran again.
"""

from __future__ import annotations

import asyncio
import io

import openpyxl
from sqlmodel import select

from bench.export import populate
from bot.runtime import build_core
from models.audit import AuditLog
from models.units import Role
from tests.utils.factories import make_member
from tests.utils.ids import ADMIN_USER_ID
from tests.utils.scenario import TestBot

UNITS = 3000


def seed(bot: TestBot) -> None:
    populate(bot.core.engine, UNITS)
    with bot.db() as db:
        make_member(db, ADMIN_USER_ID, role=Role.ADMIN, name="Phòng Nội vụ")
        db.commit()
    bot.core.flood.limit = 10_000


async def test_another_user_is_answered_while_an_export_is_built(bot: TestBot) -> None:
    seed(bot)
    admin, officer = bot.person(ADMIN_USER_ID), bot.person("10001")
    await admin.says("/xuat 353/KH-UBND")
    assert "Đang tạo tệp Excel" in admin.last_reply
    [export] = list(bot.core._background)
    await officer.says("/trogiup")
    assert "Các lệnh bạn dùng được" in officer.last_reply
    assert not export.done()  # answered while the workbook is still being built
    await bot.core.wait_background()
    document = admin.messages[-1].document
    assert document is not None
    book = openpyxl.load_workbook(io.BytesIO(document.content), read_only=True)
    assert book["Tình trạng nộp"].max_row == UNITS + 2  # the title row, the header, a row each


async def test_a_crash_while_an_export_is_built_does_not_replay_it(
    bot: TestBot, settings, engine, clock
) -> None:
    seed(bot)
    admin = bot.person(ADMIN_USER_ID)
    await admin.says("/xuat 353/KH-UBND")
    [export] = list(bot.core._background)
    export.cancel()  # the process dies while the workbook is built
    await asyncio.gather(export, return_exceptions=True)
    await bot.core.flush_marks()
    sent = len(admin.messages)

    restarted = build_core(settings, engine=engine, clock=clock, migrate=False)
    restarted.hub.register(bot.channel)
    await restarted.resume_unanswered("memory")
    await restarted.wait_background()
    assert len(admin.messages) == sent  # not built again behind the admin's back
    with bot.db() as db:
        assert len(db.exec(select(AuditLog).where(AuditLog.action == "admin.export")).all()) == 1
