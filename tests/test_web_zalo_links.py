"""Zalo cannot receive files from a bot: with PUBLIC_URL set, the XLSX of /xuat and the chart of
/tiendo reach a Zalo admin as signed links served by the bot's own web server (the chart also
as a photo, from that link), and the links open the very files."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import zipfile
from collections.abc import AsyncIterator
from dataclasses import replace
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
from bot.web.keys import serializer
from bot.web.links import (
    DOSSIER,
    LinkError,
    keep_for_link,
    published_dir,
    read_file_token,
    read_kept,
    signed_file_url,
)
from bot.web.server import WebServer
from models.organisers import DEFAULT_ORGANISER_ID
from tests.fakes.zalo_api import FakeZalo
from tests.utils.factories import (
    T0,
    make_campaign,
    make_deadline,
    make_organiser,
    make_report,
    make_unit,
)
from tests.utils.ids import ADMIN_USER_ID
from tests.utils.webhook import free_port

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


async def test_the_dossier_reaches_zalo_as_a_link_of_its_organiser(
    zalo_api: FakeZalo, zalo_with_links: BotCore, engine: Engine
) -> None:
    """/hoso on Zalo: the ZIP is kept for the campaign and sent as a `dossier` link (not a
    published copy), which opens the ZIP; the same file named for another organiser opens
    nothing."""
    zalo_api.push_text(ADMIN_USER_ID, "/hoso", name="Phòng Nội vụ")
    message = await zalo_api.wait_for_text(ADMIN_USER_ID, "/f/")
    found = LINK.search(message.text)
    assert found and ".zip" in message.text
    settings, now = zalo_with_links.settings, zalo_with_links.clock.now()
    link = read_file_token(settings, found.group(0).rsplit("/", 1)[1], now=now)
    assert link.kind == DOSSIER and link.organiser_id == DEFAULT_ORGANISER_ID
    assert not published_dir(settings).exists()
    async with httpx.AsyncClient() as client:
        dossier = await client.get(found.group(0))
        assert dossier.status_code == 200
        assert dossier.headers["content-disposition"].startswith("attachment")
        with zipfile.ZipFile(io.BytesIO(dossier.content)) as archive:
            assert any(name.endswith("00-muc-luc.xlsx") for name in archive.namelist())
        with Session(engine) as db:
            other = make_organiser(db, "Xã Khác", code="XA-KHAC")
            db.commit()
            other_id = other.id or 0
        forged = signed_file_url(
            settings,
            DOSSIER,
            link.ident or 0,
            timedelta(hours=1),
            organiser_id=other_id,
            digest=link.digest,
            now=now,
        )
        assert (await client.get(forged)).status_code == 404


def test_a_kept_copy_is_read_only_through_its_kind_id_and_digest(settings: Settings) -> None:
    """`keep_for_link` copies live under their kind and id: a link naming another id, another
    kind or a digest that is not one reads nothing, and a digest not of hex shape is forged."""
    digest = keep_for_link(settings, DOSSIER, 7, b"PK-dossier", now=T0)
    url = signed_file_url(
        settings, DOSSIER, 7, timedelta(hours=1), organiser_id=1, digest=digest, now=T0
    )
    link = read_file_token(settings, url.rsplit("/", 1)[1], now=T0)
    assert read_kept(settings, link) == b"PK-dossier"
    assert read_kept(settings, replace(link, ident=8)) is None
    assert read_kept(settings, replace(link, kind="export")) is None
    assert read_kept(settings, replace(link, digest="../" + digest[3:])) is None
    forged = serializer(settings, "file").dumps(
        {"k": DOSSIER, "i": 7, "o": 1, "h": "../../x", "e": int(T0.timestamp()) + 60}
    )
    with pytest.raises(LinkError):
        read_file_token(settings, forged, now=T0)
