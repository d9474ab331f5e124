"""Zalo cannot receive files from a bot: with PUBLIC_URL set, the XLSX of /xuat and the chart of
/tiendo reach a Zalo admin as signed links served by the bot's own web server (the chart also
as a photo, from that link), and the links open the very files."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import openpyxl
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.channels.zalo import build_zalo_channel
from bot.clock import ManualClock
from bot.core import BotCore
from bot.runtime import build_core
from bot.settings import Settings
from bot.web.desk import Desk
from bot.web.server import WebServer
from tests.fakes.zalo_api import FakeZalo
from tests.test_webhook import free_port
from tests.utils.factories import T0, make_campaign, make_deadline, make_report, make_unit
from tests.utils.ids import ADMIN_USER_ID

LINK = re.compile(r"http://127\.0\.0\.1:\d+/f/\S+")


@pytest.fixture
async def zalo_with_links(
    zalo_api: FakeZalo, zalo_settings: Settings, engine: Engine, clock: ManualClock
) -> AsyncIterator[BotCore]:
    port = free_port()
    settings = zalo_settings.model_copy(
        update={"public_url": f"http://127.0.0.1:{port}", "listen_port": port}
    )
    with Session(engine) as db:
        first = make_unit(db, "Xã Bình Lư", code="XA-001")
        make_unit(db, "Xã Bản Bo", code="XA-002")
        campaign = make_campaign(db)
        deadline = make_deadline(db, campaign, due_at=T0 + timedelta(days=7))
        make_report(db, first, deadline)
        db.commit()
    core = build_core(settings, engine=engine, clock=clock, migrate=False)
    channel = build_zalo_channel(settings, core, poll_timeout=1, backoff=(0.01, 0.05))
    await channel.start()
    polling = asyncio.create_task(channel.run(core.process))
    server = WebServer([], engine=engine, port=port, desk=Desk(core))
    await server.start()
    yield core
    await server.stop()
    polling.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await polling
    await channel.aclose()


async def test_export_and_chart_reach_zalo_as_links(
    zalo_api: FakeZalo, zalo_with_links: BotCore
) -> None:
    zalo_api.push_text(ADMIN_USER_ID, "/xuat", name="Phòng Nội vụ")
    message = await zalo_api.wait_for_text(ADMIN_USER_ID, "/f/")
    found = LINK.search(message.text)
    assert found and ".xlsx" in message.text
    async with httpx.AsyncClient() as client:
        workbook = await client.get(found.group(0))
    assert workbook.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(workbook.content))
    cells = {str(c.value) for sheet in book for row in sheet.iter_rows() for c in row}
    assert "Xã Bình Lư" in cells

    seen = len(zalo_api.sent[ADMIN_USER_ID])
    zalo_api.push_text(ADMIN_USER_ID, "/tiendo", name="Phòng Nội vụ")
    text = await zalo_api.wait_for_text(ADMIN_USER_ID, ".png", after=seen)
    index = zalo_api.sent[ADMIN_USER_ID].index(text)
    after = await zalo_api.wait_for(ADMIN_USER_ID, count=index + 2)
    photo = after[index + 1]
    assert photo.method == "sendPhoto" and photo.photo and "/f/" in photo.photo
    async with httpx.AsyncClient() as client:
        chart = await client.get(photo.photo)
    assert chart.status_code == 200 and chart.content.startswith(b"\x89PNG")
    assert chart.headers["content-disposition"].startswith("inline")
