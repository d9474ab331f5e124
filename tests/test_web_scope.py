"""The web desk in a province (tests/test_organisers.py's world): a commune's admin logged in on
the desk sees and acts on their own commune only. Another commune's campaign, dashboard,
export, report, report decision, attachment, "Nhắc ngay", units and audit entries answer 404
or are simply absent — the same as for an id that does not exist — and nothing changes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlmodel import select

from bot.web.app import build_app
from bot.web.desk import COOKIE, Desk
from bot.web.keys import serializer
from models.audit import AuditLog
from models.campaigns import Campaign
from models.reports import Attachment, Report, ReportStatus
from tests.utils.factories import T0
from tests.utils.province import AN_BINH_SECRETS, Province
from tests.utils.scenario import Person, TestBot
from tests.utils.web import login_link

BASE = "http://127.0.0.1:8080"


@pytest.fixture
async def app_client(bot: TestBot) -> AsyncIterator[httpx.AsyncClient]:
    app = build_app([], engine=bot.core.engine, desk=Desk(bot.core))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as c:
        yield c


async def _log_in(client: httpx.AsyncClient, person: Person, bot: TestBot) -> str:
    """Log `client` in as `person` through their /web link; the session's CSRF token."""
    path = (await login_link(person)).removeprefix(BASE)
    done = await client.post(path)
    assert done.status_code == 303, done.text
    return str(serializer(bot.core.settings, "session").loads(client.cookies[COOKIE])["c"])


def _an_binh_words(text: str) -> list[str]:
    return [s for s in AN_BINH_SECRETS if s in text]


async def test_a_communes_admin_sees_nothing_of_another_commune_on_the_desk(
    bot: TestBot, province: Province, app_client: httpx.AsyncClient
) -> None:
    ids = province.ids
    with bot.db() as db:
        attachment = Attachment(
            report_id=ids["a_report"],
            field_id="",
            channel="memory",
            file_id="photo-a",
            file_name="anh.png",
            mime_type="image/png",
            size=1,
            sha256="0" * 64,
            stored_path="missing.png",
            created_at=T0,
        )
        db.add(attachment)
        b_campaign = db.exec(select(Campaign).where(Campaign.document_number == "7/KH-UBND")).one()
        db.commit()
        attachment_id, b_campaign_id = attachment.id, b_campaign.id
    # Hải (An Bình) opens his own commune's pages: the ids below are real and reachable.
    hai = bot.person("201", "Lò Văn Hải")
    async with httpx.AsyncClient(transport=app_client._transport, base_url=BASE) as hai_client:
        await _log_in(hai_client, hai, bot)
        own = await hai_client.get(f"/campaigns/{ids['a_campaign']}")
        assert own.status_code == 200 and "Đợt thi đua xã An Bình" in own.text
        assert (await hai_client.get(f"/reports/{ids['a_report']}")).status_code == 200
        assert "Nà Hiềng" in (await hai_client.get("/units")).text

    # Mai (Bắc Sơn) on the desk: her commune only.
    mai = bot.person("202", "Hà Thị Mai")
    csrf = await _log_in(app_client, mai, bot)
    home = await app_client.get("/")
    assert home.status_code == 200 and "Đợt thi đua xã Bắc Sơn" in home.text
    assert not _an_binh_words(home.text)
    # Neither the province's campaign (Mai is an officer there, not its admin).
    assert "Đợt thi đua của tỉnh 2026" not in home.text
    for path in (
        f"/campaigns/{ids['a_campaign']}",
        f"/campaigns/{ids['a_campaign']}/export.xlsx",
        f"/reports/{ids['a_report']}",
        f"/reports/{ids['a_report']}/files/{attachment_id}",
    ):
        response = await app_client.get(path)
        assert response.status_code == 404, path
        assert not _an_binh_words(response.text), path
    for path, data in (
        (f"/reports/{ids['a_report']}/accept", {}),
        (f"/reports/{ids['a_report']}/return", {"reason": "Thiếu số liệu"}),
        (f"/reports/{ids['a_report']}/reopen", {}),
        (f"/campaigns/{ids['a_campaign']}/remind", {"deadline_id": str(ids["a_deadline"])}),
        # Her own campaign with An Bình's deadline id: still not An Bình's to remind.
        (f"/campaigns/{b_campaign_id}/remind", {"deadline_id": str(ids["a_deadline"])}),
    ):
        response = await app_client.post(path, data={"csrf": csrf, **data})
        assert response.status_code == 404, path
    units = await app_client.get("/units")
    assert units.status_code == 200 and "Bản Khau Vai" in units.text
    assert not _an_binh_words(units.text)
    searched = await app_client.get("/units", params={"q": "Nà Hiềng"})
    assert "Nà Hiềng" not in searched.text.replace('value="Nà Hiềng"', "")
    audit_page = await app_client.get("/audit")
    assert audit_page.status_code == 200
    # Hải's login on the desk belongs to An Bình's log, not Bắc Sơn's.
    assert "memory:201" not in audit_page.text and "Lò Văn Hải" not in audit_page.text
    assert "web.login" in audit_page.text  # her own login is there

    with bot.db() as db:
        report = db.get(Report, ids["a_report"])
        assert report is not None and report.status == ReportStatus.SUBMITTED
        reminders = db.exec(select(AuditLog).where(AuditLog.action == "reminder.manual")).all()
        assert reminders == []
        logins = db.exec(select(AuditLog).where(AuditLog.action == "web.login")).all()
        assert {(e.actor, e.organiser_id) for e in logins} == {
            ("memory:201", province.an_binh.id),
            ("memory:202", province.bac_son.id),
        }
