"""Plan upload on the web desk (issue 21: Zalo cannot send the bot a document): an admin uploads
the plan, sees the deadlines the chat's parser found, unticks what is wrong and creates the
draft campaign with the chat's own domain functions. Uploads are checked (type, zip bombs,
the parser in a child process), the proposal posted back is signed for its viewer, and a
Zalo admin is pointed to this page when PUBLIC_URL is set."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.clock import ManualClock
from bot.runtime import build_core
from bot.settings import Settings
from bot.web.app import build_app
from bot.web.desk import COOKIE, Desk
from bot.web.keys import serializer
from models.audit import AuditLog
from models.campaigns import Campaign, CampaignStatus, Deadline, DeadlineKind
from models.units import Role
from tests.utils.factories import make_member, make_organiser
from tests.utils.ids import ADMIN_USER_ID
from tests.utils.plan_files import make_docx, plan_text
from tests.utils.scenario import Person, TestBot
from tests.utils.web import login_link

BASE = "http://127.0.0.1:8080"
COMMUNE = "ke-hoach-xa-27-KH-UBND-2026.txt"


@pytest.fixture
async def client(bot: TestBot) -> AsyncIterator[httpx.AsyncClient]:
    with bot.db() as db:
        make_member(db, ADMIN_USER_ID, role=Role.ADMIN, name="Trưởng phòng Nội vụ")
        other = make_organiser(db, "Xã Khác", code="XA-KHAC")
        make_member(db, "901", role=Role.ADMIN, name="Quản trị xã Khác", organiser=other)
        db.commit()
    app = build_app([], engine=bot.core.engine, desk=Desk(bot.core))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as c:
        yield c


async def log_in(client: httpx.AsyncClient, person: Person, bot: TestBot) -> str:
    path = (await login_link(person)).removeprefix(BASE)
    assert (await client.post(path)).status_code == 303
    return str(serializer(bot.core.settings, "session").loads(client.cookies[COOKIE])["c"])


async def upload(
    client: httpx.AsyncClient, csrf: str, content: bytes, name: str = "ke-hoach.docx"
) -> httpx.Response:
    return await client.post(
        "/plans/read", data={"csrf": csrf}, files={"file": (name, content, "application/pdf")}
    )


def review_form(page: str) -> dict[str, str]:
    """The review page's fields as the browser would post them (ticked boxes apart)."""
    token = re.search(r'name="proposal" value="([^"]+)"', page)
    number = re.search(r'name="number" value="([^"]*)"', page)
    name = re.search(r'name="name" value="([^"]*)"', page)
    assert token and number and name
    return {"proposal": token.group(1), "number": number.group(1), "name": name.group(1)}


def campaigns(bot: TestBot) -> list[Campaign]:
    with bot.db() as db:
        return list(db.exec(select(Campaign)).all())


async def test_admin_uploads_a_plan_unticks_a_deadline_and_creates_the_draft(
    bot: TestBot, client: httpx.AsyncClient
) -> None:
    csrf = await log_in(client, bot.person(ADMIN_USER_ID), bot)
    assert 'action="/plans/read"' in (await client.get("/plans")).text
    page = await upload(client, csrf, make_docx(plan_text(COMMUNE)))
    assert page.status_code == 200
    text = page.text
    assert 'value="27/KH-UBND"' in text and "16:30 20/03/2026" in text
    assert "⚠️ trước ngày ban hành kế hoạch" in text
    assert "Kế hoạch số 45/KH-UBND ngày 15/01/2026 của UBND tỉnh Lai Châu" in text
    assert campaigns(bot) == []  # nothing before "create"
    form = review_form(text)
    kept = re.findall(r'name="keep" value="(\d+)"', text)
    assert kept == ["1", "2", "3", "4", "5"]

    # Everything ticked, the flagged one too, without confirming: refused, nothing made.
    flagged = await client.post("/plans/create", data={"csrf": csrf, **form, "keep": kept})
    assert flagged.status_code == 422 and "Vẫn tạo với các thời hạn có cảnh báo" in flagged.text
    assert campaigns(bot) == []

    done = await client.post("/plans/create", data={"csrf": csrf, **form, "keep": kept[1:]})
    assert done.status_code == 303
    [campaign] = campaigns(bot)
    assert done.headers["location"].startswith(f"/campaigns/{campaign.id}?")
    assert campaign.status == CampaignStatus.DRAFT and campaign.document_number == "27/KH-UBND"
    assert campaign.description == "Kế hoạch số 45/KH-UBND ngày 15/01/2026 của UBND tỉnh Lai Châu"
    with bot.db() as db:
        rows = db.exec(select(Deadline).order_by(Deadline.due_at)).all()
        entry = db.exec(select(AuditLog).where(AuditLog.action == "campaign.import_plan")).one()
    assert (rows[0].kind, rows[0].due_at) == (
        DeadlineKind.REGISTRATION,
        datetime(2026, 3, 20, 9, 30, tzinfo=UTC),
    )
    assert len(rows) == 4
    assert entry.detail["via"] == "qua web" and entry.detail["dropped_deadlines"] == 1
    shown = (await client.get(done.headers["location"])).text
    assert "nháp" in shown  # the chat's "created" sentence, as the flash

    # The same plan again: the chat's duplicate rule.
    again = await client.post("/plans/create", data={"csrf": csrf, **form, "keep": kept[1:]})
    assert again.status_code == 422 and "không tạo trùng" in again.text
    assert len(campaigns(bot)) == 1


async def test_uploads_are_checked_and_the_proposal_is_the_viewers_own(
    bot: TestBot, client: httpx.AsyncClient
) -> None:
    from tests.utils.plan_files import zip_bomb_docx

    csrf = await log_in(client, bot.person(ADMIN_USER_ID), bot)
    bomb = await upload(client, csrf, zip_bomb_docx(size=40 * 1024 * 1024))
    assert bomb.status_code == 422 and "độc hại" in bomb.text
    wrong = await upload(client, csrf, b"MZ\x90\x00", "ke-hoach.exe")
    assert wrong.status_code == 422 and ".docx, .pdf hoặc .txt" in wrong.text
    assert (await upload(client, csrf, b"", "ke-hoach.txt")).status_code == 422
    missing = await client.post("/plans/read", data={"csrf": csrf})
    assert missing.status_code == 422 and "Chưa chọn tệp" in missing.text
    assert (await client.post("/plans/read", data={})).status_code == 403  # no CSRF token

    page = await upload(client, csrf, plan_text(COMMUNE).encode(), "ke-hoach.txt")
    form = review_form(page.text)
    tampered = {**form, "proposal": form["proposal"][:-4] + "AAAA"}
    refused = await client.post("/plans/create", data={"csrf": csrf, **tampered, "keep": "2"})
    assert refused.status_code == 422 and "đã cũ hoặc không phải của bạn" in refused.text
    # Another admin posting this admin's proposal (leaked from the page): not theirs.
    async with httpx.AsyncClient(transport=client._transport, base_url=BASE) as other:
        other_csrf = await log_in(other, bot.person("901"), bot)
        leaked = await other.post("/plans/create", data={"csrf": other_csrf, **form, "keep": "2"})
        assert leaked.status_code == 422
        # Their own upload makes a campaign of their own organiser only.
        own = review_form(
            (await upload(other, other_csrf, plan_text(COMMUNE).encode(), "k.txt")).text
        )
        made = await other.post("/plans/create", data={"csrf": other_csrf, **own, "keep": "2"})
        assert made.status_code == 303
    [campaign] = campaigns(bot)
    assert campaign.organiser_id != 1
    # A stranger reaches none of it.
    async with httpx.AsyncClient(transport=client._transport, base_url=BASE) as stranger:
        assert (await stranger.get("/plans")).status_code == 401
        assert (await stranger.post("/plans/create", data={**form, "keep": "2"})).status_code == 401


def _zalo_like_bot(settings: Settings, engine: Engine, clock: ManualClock) -> TestBot:
    from bot.channels.memory import MemoryChannel

    core = build_core(settings, engine=engine, clock=clock, migrate=False)
    channel = MemoryChannel()
    channel.receives_documents = False  # type: ignore[attr-defined]  # Zalo's capability
    core.hub.register(channel)
    with TestBot(core, channel).db() as db:
        make_member(db, ADMIN_USER_ID, role=Role.ADMIN, name="Quản trị")
        db.commit()
    return TestBot(core, channel)


@pytest.mark.parametrize("public", [True, False])
async def test_a_zalo_admin_is_pointed_to_the_upload_page_when_the_desk_is_public(
    settings: Settings, engine: Engine, clock: ManualClock, public: bool
) -> None:
    url = "https://thidua.example.gov.vn"
    bot = _zalo_like_bot(
        settings.model_copy(update={"public_url": url if public else None}), engine, clock
    )
    admin = bot.person(ADMIN_USER_ID, "Quản trị")
    await admin.says("/nhapkehoach")
    if public:
        assert f"{url}/plans" in admin.last_reply and "Nhập kế hoạch" in admin.last_reply
        assert "Telegram" not in admin.last_reply
    else:
        assert "Telegram" in admin.last_reply and "/plans" not in admin.last_reply
    await admin.says("không có tệp")
    assert ("/plans" in admin.last_reply) is public


def test_every_web_desk_variant_points_to_a_desk_page() -> None:
    from string import Formatter

    from bot.catalog import load_catalog

    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in Formatter().parse(text) if name}

    entries = load_catalog()
    variants = {k.removesuffix("@webdesk"): v for k, v in entries.items() if k.endswith("@webdesk")}
    assert variants, "the web desk variants file was not read"
    for key, text in variants.items():
        assert "{desk_url}/" in text, key
        assert fields(text) - {"desk_url"} <= fields(entries[key]), key
