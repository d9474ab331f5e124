"""A message to someone other than the person being answered is worded for the recipient's
channel (issue 21): an admin on a channel with buttons returns a report, and the officer on
Zalo — no buttons, choices typed — is told to type, not to press; a colleague with buttons
keeps the button wording. The same for jobs an update defers (worded for the one who asked)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from bot import catalog
from bot.channels.text import html_to_plain
from bot.channels.zalo import ZaloChannel, build_zalo_channel
from bot.events import Address, Delivery, Inbound, Outbound
from bot.settings import Settings
from models.units import Role
from tests.fakes.zalo_api import FakeZalo
from tests.utils.factories import make_campaign, make_deadline, make_member, make_report, make_unit
from tests.utils.http import until
from tests.utils.ids import ADMIN_USER_ID
from tests.utils.scenario import TestBot
from tests.utils.waiting import eventually

ZALO_OFFICER = "6ede9afa66b88fe6d6a9"
ZALO_ADMIN = "5a0c9d1e2f3a4b5c6d7e"
BUTTON_OFFICER = "201"


@pytest.fixture
async def zalo_beside(
    bot: TestBot, zalo_api: FakeZalo, zalo_settings: Settings
) -> AsyncIterator[ZaloChannel]:
    """The Zalo channel on the same core as the memory channel (which has buttons): only for
    sending, nobody writes over it here."""
    channel = build_zalo_channel(zalo_settings, bot.core)
    yield channel
    await channel.aclose()


async def test_a_returned_report_is_worded_for_each_officers_channel(
    bot: TestBot, zalo_api: FakeZalo, zalo_beside: ZaloChannel
) -> None:
    with bot.db() as db:
        unit = make_unit(db, "Xã Bình Lư", code="XA-001")
        make_member(db, ADMIN_USER_ID, role=Role.ADMIN, name="Phòng Nội vụ")
        make_member(db, ZALO_OFFICER, unit=unit, channel="zalo", name="Lò Văn Tâm")
        make_member(db, BUTTON_OFFICER, unit=unit, name="Lò Thị Mai")
        deadline = make_deadline(db, make_campaign(db), title="Báo cáo thành tích đợt 1")
        make_report(db, unit, deadline)
        db.commit()
        deadline_id = deadline.id
    admin = bot.person(ADMIN_USER_ID, "Phòng Nội vụ")
    await admin.says(f"/travebaocao XA-001 {deadline_id} Thiếu chữ ký thủ trưởng")
    await admin.presses("Trả lại")
    assert "Đã trả lại" in admin.last_reply

    on_zalo = zalo_api.texts(ZALO_OFFICER)[-1]
    assert "Thiếu chữ ký thủ trưởng" in on_zalo
    assert "bấm" not in on_zalo.lower() and "nút" not in on_zalo.lower()
    assert "Gõ chữ cái" in on_zalo  # a pushed message's choices are lettered on Zalo
    with_buttons = bot.person(BUTTON_OFFICER).last_reply
    assert "Thiếu chữ ký thủ trưởng" in with_buttons and "Bấm nút" in with_buttons


async def test_a_notice_sent_from_zalo_keeps_the_button_wording_for_its_recipient(
    bot: TestBot, zalo_api: FakeZalo, zalo_beside: ZaloChannel
) -> None:
    """The other way round: the admin works on Zalo (typed wording for the admin's answers),
    the officer with buttons is told to press."""
    polling = asyncio.create_task(zalo_beside.run(bot.core.process))
    try:
        with bot.db() as db:
            unit = make_unit(db, "Xã Bình Lư", code="XA-001")
            make_member(db, ZALO_ADMIN, role=Role.ADMIN, channel="zalo", name="Phòng Nội vụ")
            make_member(db, BUTTON_OFFICER, unit=unit, name="Lò Thị Mai")
            deadline = make_deadline(db, make_campaign(db), title="Báo cáo thành tích đợt 1")
            make_report(db, unit, deadline)
            db.commit()
            deadline_id = deadline.id
        command = f"/travebaocao XA-001 {deadline_id} Thiếu chữ ký thủ trưởng"
        await until(
            zalo_api, ZALO_ADMIN, "Trả lại", lambda: zalo_api.push_text(ZALO_ADMIN, command)
        )
        await until(
            zalo_api, ZALO_ADMIN, "Đã trả lại", lambda: zalo_api.choose(ZALO_ADMIN, "Trả lại")
        )
        officer = bot.person(BUTTON_OFFICER)
        await eventually(lambda: officer.messages, what="the notice to the officer")
    finally:
        polling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await polling
    assert "Thiếu chữ ký thủ trưởng" in officer.last_reply and "Bấm nút" in officer.last_reply


async def test_a_deferred_job_answers_in_the_wording_of_the_one_who_asked(
    bot: TestBot, zalo_api: FakeZalo, zalo_beside: ZaloChannel
) -> None:
    """Background work an update started (a dossier, an export) writes to the person who asked
    after the update's own wording has ended: it is worded for their channel all the same."""
    said: list[str] = []

    async def job() -> None:
        said.append(catalog.t("reports.optional"))
        await bot.core.services.delivery.push(
            Delivery(Address("zalo", ZALO_OFFICER), Outbound(said[-1]))
        )

    event = Inbound(channel="zalo", chat_id=ZALO_OFFICER, user_id=ZALO_OFFICER, text="x")
    bot.core._start_jobs(event, [job])
    await bot.core.wait_background()
    assert said and "bấm" not in said[0].lower()
    assert "bấm" not in html_to_plain(zalo_api.texts(ZALO_OFFICER)[-1]).lower()
