"""The office's web desk over HTTP (httpx on the ASGI app, no browser): logging in with a link
from /web, who may open what (stranger, officer, admin; forged and expired links and cookies),
CSRF, security headers, path traversal, and the pages calling the chat's domain functions."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import openpyxl
import pytest
from sqlmodel import select

from bot.channels.memory import MemoryChannel
from bot.clock import ManualClock
from bot.web.app import build_app
from bot.web.desk import COOKIE, Desk
from bot.web.keys import serializer
from bot.web.links import signed_file_url
from models.audit import AuditLog
from models.campaigns import ReminderLog
from models.organisers import DEFAULT_ORGANISER_ID
from models.reports import Attachment, Report, ReportStatus
from models.units import Member, Unit
from tests.utils.factories import make_member
from tests.utils.scenario import TestBot
from tests.utils.web import DeskWorld, desk_world, login_link, tiny_png

BASE = "http://127.0.0.1:8080"


@pytest.fixture
async def world(bot: TestBot) -> DeskWorld:
    return await desk_world(bot)


@pytest.fixture
def desk(bot: TestBot) -> Desk:
    return Desk(bot.core)


@pytest.fixture
async def client(desk: Desk, bot: TestBot) -> AsyncIterator[httpx.AsyncClient]:
    app = build_app([], engine=bot.core.engine, desk=desk)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as c:
        yield c


@pytest.fixture
async def stranger(desk: Desk, bot: TestBot) -> AsyncIterator[httpx.AsyncClient]:
    app = build_app([], engine=bot.core.engine, desk=desk)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as c:
        yield c


async def log_in(client: httpx.AsyncClient, world: DeskWorld) -> str:
    """Log the client in as the admin through the chat's link; the session's CSRF token."""
    link = await login_link(world.admin)
    path = link.removeprefix(BASE)
    page = await client.get(path)
    assert page.status_code == 200 and "Đăng nhập" in page.text
    done = await client.post(path)
    assert done.status_code == 303 and done.headers["location"] == "/"
    return csrf_of(client, world)


def csrf_of(client: httpx.AsyncClient, world: DeskWorld) -> str:
    """The CSRF token of the client's session (the one the pages put in every form)."""
    data = serializer(world.bot.core.settings, "session").loads(client.cookies[COOKIE])
    return str(data["c"])


def pages(world: DeskWorld) -> list[str]:
    return [
        "/",
        f"/campaigns/{world.campaign_id}",
        f"/campaigns/{world.campaign_id}/export.xlsx",
        f"/reports/{world.report_id}",
        f"/reports/{world.report_id}/files/{world.attachment_id}",
        "/units",
        "/audit",
        f"/campaigns/{world.campaign_id}/council",
        f"/campaigns/{world.campaign_id}/rankings",
        f"/campaigns/{world.campaign_id}/dossier",
        f"/campaigns/{world.campaign_id}/dossier.zip",
        f"/campaigns/{world.campaign_id}/excel",
        f"/campaigns/{world.campaign_id}/excel.xlsx",
        "/plans",
    ]


def posts(world: DeskWorld) -> list[str]:
    return [
        f"/reports/{world.report_id}/accept",
        f"/reports/{world.report_id}/return",
        f"/reports/{world.report_id}/reopen",
        f"/campaigns/{world.campaign_id}/remind",
        "/units/import",
        "/logout",
        f"/campaigns/{world.campaign_id}/dossier",
        f"/campaigns/{world.campaign_id}/excel",
        "/plans/read",
        "/plans/create",
    ]


# --- logging in ---------------------------------------------------------------------------------
async def test_link_from_web_logs_the_admin_in_once(
    world: DeskWorld, client: httpx.AsyncClient, stranger: httpx.AsyncClient
) -> None:
    link = await login_link(world.admin)
    assert "10 phút" in world.admin.last_reply
    path = link.removeprefix(BASE)
    # Opening the link (as a chat app's preview would) spends nothing.
    assert (await stranger.get(path)).status_code == 200
    done = await client.post(path)
    assert done.status_code == 303
    cookie = done.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "max-age=" in cookie
    home = await client.get("/")
    assert home.status_code == 200 and "Đợt thi đua chào mừng Đại hội" in home.text
    again = await stranger.post(path)
    assert again.status_code == 410 and "đã được dùng" in again.text
    assert COOKIE not in stranger.cookies
    with world.bot.db() as db:
        logins = db.exec(select(AuditLog).where(AuditLog.action == "web.login")).all()
    assert [entry.outcome for entry in logins] == ["ok"]


async def test_expired_and_forged_links_get_a_clear_page(
    world: DeskWorld, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    link = await login_link(world.admin)
    clock.advance(timedelta(minutes=11))
    expired = await client.post(link.removeprefix(BASE))
    assert expired.status_code == 410 and "hết hạn" in expired.text
    forged = await client.post("/login/" + "A" * 43)
    assert forged.status_code == 410 and "không hợp lệ" in forged.text
    assert COOKIE not in client.cookies
    assert (await client.get("/")).status_code == 401


async def test_links_are_rate_limited(world: DeskWorld) -> None:
    for _ in range(5):
        await login_link(world.admin)
    await world.admin.says("/web")
    assert "quá nhiều" in world.admin.last_reply and "/login/" not in world.admin.last_reply


async def test_officer_gets_no_link_and_no_page_even_with_a_signed_cookie(
    world: DeskWorld, client: httpx.AsyncClient, bot: TestBot, clock: ManualClock
) -> None:
    await world.officer.says("/web")
    assert "/login/" not in world.officer.last_reply
    with bot.db() as db:
        officer = db.exec(select(Member).where(Member.user_id == "200")).one()
    # Even a correctly signed cookie naming the officer opens nothing: the role is re-checked.
    forged = serializer(bot.core.settings, "session").dumps(
        {
            "m": officer.id,
            "g": 0,
            "e": int((clock.now() + timedelta(hours=1)).timestamp()),
            "c": "x",
        }
    )
    client.cookies.set(COOKIE, forged)
    for path in pages(world):
        assert (await client.get(path)).status_code == 401, path
    for path in posts(world):
        assert (await client.post(path, data={"csrf": "x"})).status_code == 401, path


async def test_stranger_reaches_nothing(world: DeskWorld, stranger: httpx.AsyncClient) -> None:
    for path in pages(world):
        response = await stranger.get(path)
        assert response.status_code == 401, path
        assert "/web" in response.text
    for path in posts(world):
        assert (await stranger.post(path, data={"csrf": ""})).status_code == 401, path
    with world.bot.db() as db:
        assert db.get(Report, world.report_id).status == ReportStatus.SUBMITTED  # type: ignore[union-attr]


async def test_tampered_and_expired_cookies_are_refused(
    world: DeskWorld, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    await log_in(client, world)
    good = client.cookies[COOKIE]
    client.cookies.set(COOKIE, good[:-2] + ("AA" if not good.endswith("AA") else "BB"))
    assert (await client.get("/")).status_code == 401
    client.cookies.set(COOKIE, good)
    assert (await client.get("/")).status_code == 200
    clock.advance(timedelta(hours=8, minutes=1))
    assert (await client.get("/")).status_code == 401


async def test_web_thoat_logs_out_everywhere(world: DeskWorld, client: httpx.AsyncClient) -> None:
    await log_in(client, world)
    assert (await client.get("/")).status_code == 200
    await world.admin.says("/web thoat")
    assert "mọi thiết bị" in world.admin.last_reply
    assert (await client.get("/")).status_code == 401


async def test_logout_ends_the_session(world: DeskWorld, client: httpx.AsyncClient) -> None:
    csrf = await log_in(client, world)
    response = await client.post("/logout", data={"csrf": csrf})
    assert response.status_code == 200 and "Đã đăng xuất" in response.text
    assert (await client.get("/")).status_code == 401


# --- security -------------------------------------------------------------------------------------
async def test_post_without_csrf_is_refused(world: DeskWorld, client: httpx.AsyncClient) -> None:
    await log_in(client, world)
    for data in ({}, {"csrf": "wrong"}):
        response = await client.post(f"/reports/{world.report_id}/accept", data=data)
        assert response.status_code == 403
    with world.bot.db() as db:
        assert db.get(Report, world.report_id).status == ReportStatus.SUBMITTED  # type: ignore[union-attr]


async def test_post_from_another_site_is_refused(
    world: DeskWorld, client: httpx.AsyncClient
) -> None:
    csrf = await log_in(client, world)
    response = await client.post(
        f"/reports/{world.report_id}/accept",
        data={"csrf": csrf},
        headers={"origin": "https://evil.example"},
    )
    assert response.status_code == 403
    with world.bot.db() as db:
        assert db.get(Report, world.report_id).status == ReportStatus.SUBMITTED  # type: ignore[union-attr]
    link = await login_link(world.admin)
    login = await client.post(link.removeprefix(BASE), headers={"origin": "https://evil.example"})
    assert login.status_code == 403
    same_site = await client.post(
        f"/reports/{world.report_id}/accept", data={"csrf": csrf}, headers={"origin": BASE}
    )
    assert same_site.status_code == 303


async def test_pages_carry_security_headers(world: DeskWorld, client: httpx.AsyncClient) -> None:
    await log_in(client, world)
    for path in ("/", f"/campaigns/{world.campaign_id}", "/healthz", "/login/x"):
        headers = (await client.get(path)).headers
        assert "frame-ancestors 'self'" in headers["content-security-policy"], path
        assert "script-src 'self'" in headers["content-security-policy"]
        assert headers["x-frame-options"] == "SAMEORIGIN"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"


async def test_html_in_data_is_escaped(
    world: DeskWorld, client: httpx.AsyncClient, bot: TestBot
) -> None:
    with bot.db() as db:
        unit = db.get(Unit, world.unit_ids["TT-001"])
        assert unit is not None
        unit.name = '<script>alert("x")</script> Tam Đường'
        db.add(unit)
        db.commit()
    await log_in(client, world)
    page = await client.get(f"/campaigns/{world.campaign_id}")
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text


async def test_ids_that_do_not_match_are_not_found(
    world: DeskWorld, client: httpx.AsyncClient
) -> None:
    await log_in(client, world)
    # The photo belongs to XA-001's report, not XA-002's: asking for it under the other
    # report's id, or for ids that do not exist, finds nothing.
    for path in (
        f"/reports/{world.other_report_id}/files/{world.attachment_id}",
        f"/reports/{world.report_id}/files/99999",
        "/reports/99999",
        "/campaigns/99999",
    ):
        assert (await client.get(path)).status_code == 404, path


async def test_path_traversal_is_refused(
    world: DeskWorld, client: httpx.AsyncClient, bot: TestBot
) -> None:
    await log_in(client, world)
    for path in (
        f"/reports/{world.report_id}/files/..%2F..%2Fetc%2Fpasswd",
        f"/reports/{world.report_id}/files/../../../etc/passwd",
        "/static/..%2f..%2fdesk.py",
        "/static/../desk.py",
        "/f/..%2F..%2Fetc%2Fpasswd",
    ):
        response = await client.get(path)
        assert response.status_code in (403, 404), path
        assert "root:" not in response.text and "import" not in response.text
    # A stored path that would leave STORAGE_DIR is never followed.
    with bot.db() as db:
        sneaky = Attachment(
            report_id=world.report_id,
            channel="memory",
            file_id="x",
            file_name="passwd",
            stored_path="../../../../etc/passwd",
            mime_type="image/png",
            created_at=world.bot.core.clock.now(),
        )
        db.add(sneaky)
        db.commit()
        sneaky_id = sneaky.id
    response = await client.get(f"/reports/{world.report_id}/files/{sneaky_id}")
    assert response.status_code == 404 and "root:" not in response.text


# --- pages ----------------------------------------------------------------------------------------
async def test_dashboard_counts_filters_and_search(
    world: DeskWorld, client: httpx.AsyncClient
) -> None:
    await log_in(client, world)
    page = (await client.get(f"/campaigns/{world.campaign_id}")).text
    for name, value in (("submitted", 2), ("total", 3), ("on_time", 1), ("late", 1)):
        assert f'data-count="{name}">{value}<' in page, name
    assert 'data-count="missing">1<' in page
    assert "Xã Bình Lư" in page and "Xã Bản Bo" in page and "Thị trấn Tam Đường" in page
    # The chat's own status words, per cell.
    assert "đã nộp muộn" in page and "đã nộp đúng hạn" in page and "chưa làm" in page
    found = (await client.get(f"/campaigns/{world.campaign_id}", params={"q": "binh lu"})).text
    assert "Xã Bình Lư" in found and "Xã Bản Bo" not in found
    bloc = (
        await client.get(f"/campaigns/{world.campaign_id}", params={"bloc": "Khối thị trấn"})
    ).text
    assert "Thị trấn Tam Đường" in bloc and "Xã Bình Lư" not in bloc
    late = (await client.get(f"/campaigns/{world.campaign_id}", params={"status": "late"})).text
    assert "Xã Bản Bo" in late and "Xã Bình Lư" not in late


async def test_remind_now_queues_the_missing_units_officers(
    world: DeskWorld, client: httpx.AsyncClient
) -> None:
    csrf = await log_in(client, world)
    response = await client.post(
        f"/campaigns/{world.campaign_id}/remind",
        data={"csrf": csrf, "deadline_id": str(world.deadline_id)},
    )
    assert response.status_code == 303
    page = (await client.get(response.headers["location"])).text
    assert "Đã xếp lịch nhắc" in page and "1 cán bộ của 1 đơn vị" in page
    with world.bot.db() as db:
        queued = db.exec(select(ReminderLog)).all()
        entry = db.exec(select(AuditLog).where(AuditLog.action == "reminder.manual")).one()
    assert [row.unit_id for row in queued] == [world.unit_ids["TT-001"]]
    assert entry.detail["via"] == "qua web"


async def test_report_page_shows_answers_files_and_returns_with_a_reason(
    world: DeskWorld, client: httpx.AsyncClient, desk: Desk
) -> None:
    csrf = await log_in(client, world)
    page = (await client.get(f"/reports/{world.report_id}")).text
    assert "Tập thể lao động tiên tiến" in page  # an answer, under its question
    assert "ảnh hội nghị.png" in page and f"/files/{world.attachment_id}" in page
    photo = await client.get(f"/reports/{world.report_id}/files/{world.attachment_id}")
    assert photo.status_code == 200 and photo.content == tiny_png()
    assert photo.headers["content-type"] == "image/png"
    assert photo.headers["content-disposition"].startswith("inline")
    download = await client.get(
        f"/reports/{world.report_id}/files/{world.attachment_id}", params={"download": "1"}
    )
    assert download.headers["content-disposition"].startswith("attachment")

    short = await client.post(f"/reports/{world.report_id}/return", data={"csrf": csrf})
    assert "lý do" in (await client.get(short.headers["location"])).text
    before = len(world.officer.messages)
    done = await client.post(
        f"/reports/{world.report_id}/return",
        data={"csrf": csrf, "reason": "Thiếu số liệu ở câu 3"},
    )
    assert done.status_code == 303
    await desk.wait_deliveries()
    notice = world.officer.messages[before:]
    assert len(notice) == 1 and "Thiếu số liệu ở câu 3" in notice[0].text
    assert notice[0].buttons  # "open the report" button, as from the chat
    with world.bot.db() as db:
        report = db.get(Report, world.report_id)
        entry = db.exec(select(AuditLog).where(AuditLog.action == "report.return")).one()
    assert report is not None and report.status == ReportStatus.RETURNED
    assert entry.detail == {"reason": "Thiếu số liệu ở câu 3", "version": 1, "via": "qua web"}
    # Returned: accepting now is refused with the domain's reason, nothing changes.
    again = await client.post(f"/reports/{world.report_id}/accept", data={"csrf": csrf})
    assert "chưa được nộp" in (await client.get(again.headers["location"])).text


async def test_a_return_from_the_desk_is_worded_for_each_officers_channel(
    world: DeskWorld, client: httpx.AsyncClient, desk: Desk
) -> None:
    """As from the chat: an officer on a channel without buttons is told to type, one with
    buttons to press, and both notices name the office that returned the report."""
    typed = MemoryChannel("typed")
    typed.has_buttons = False  # type: ignore[attr-defined]  # declared as the outlets declare it
    world.bot.core.hub.register(typed)
    with world.bot.db() as db:
        unit = db.get(Unit, world.unit_ids["XA-001"])
        make_member(db, "9100", unit=unit, channel="typed", name="Cán bộ gõ số")
        db.commit()
    csrf = await log_in(client, world)
    before = len(world.officer.messages)
    done = await client.post(
        f"/reports/{world.report_id}/return",
        data={"csrf": csrf, "reason": "Thiếu số liệu ở câu 3"},
    )
    assert done.status_code == 303
    await desk.wait_deliveries()
    pressing = world.officer.messages[before:][0].text
    typing = typed.sent["9100"][0].text
    for text in (pressing, typing):
        assert "Thiếu số liệu ở câu 3" in text and "Cơ quan trả lại" in text
    assert "Bấm" in pressing
    assert "bấm" not in typing.lower() and "nút" not in typing.lower()


async def test_accept_and_reopen_tell_the_officers(
    world: DeskWorld, client: httpx.AsyncClient, desk: Desk
) -> None:
    csrf = await log_in(client, world)
    await client.post(f"/reports/{world.report_id}/accept", data={"csrf": csrf})
    await desk.wait_deliveries()
    assert "đã được duyệt" in world.officer.messages[-1].text
    await client.post(f"/reports/{world.report_id}/reopen", data={"csrf": csrf})
    await desk.wait_deliveries()
    assert "mở lại" in world.officer.messages[-1].text
    with world.bot.db() as db:
        assert db.get(Report, world.report_id).status == ReportStatus.REOPENED  # type: ignore[union-attr]


async def test_export_is_the_campaign_workbook(world: DeskWorld, client: httpx.AsyncClient) -> None:
    await log_in(client, world)
    response = await client.get(f"/campaigns/{world.campaign_id}/export.xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    cells = {str(c.value) for sheet in book for row in sheet.iter_rows() for c in row}
    assert "Xã Bình Lư" in cells and "Thị trấn Tam Đường" in cells
    with world.bot.db() as db:
        entry = db.exec(select(AuditLog).where(AuditLog.action == "admin.export")).one()
    assert entry.detail["via"] == "qua web"


async def test_units_page_searches_and_imports_all_or_nothing(
    world: DeskWorld, client: httpx.AsyncClient
) -> None:
    csrf = await log_in(client, world)
    found = (await client.get("/units", params={"q": "ban bo"})).text
    assert "Xã Bản Bo" in found and "Xã Bình Lư" not in found
    bad = "ma,ten,loai\nXA-NEW1,Xã Mới Một,xã\nxa new 2,,không-có\n".encode()
    refused = await client.post(
        "/units/import", data={"csrf": csrf}, files={"file": ("don-vi.csv", bad, "text/csv")}
    )
    assert refused.status_code == 422 and "Dòng 3" in refused.text
    with world.bot.db() as db:
        assert db.exec(select(Unit).where(Unit.code == "XA-NEW1")).first() is None
    good = "ma,ten,loai\nXA-NEW1,Xã Mới Một,xã\n".encode()
    done = await client.post(
        "/units/import", data={"csrf": csrf}, files={"file": ("don-vi.csv", good, "text/csv")}
    )
    assert done.status_code == 303
    with world.bot.db() as db:
        assert db.exec(select(Unit).where(Unit.code == "XA-NEW1")).first() is not None
        entries = db.exec(select(AuditLog).where(AuditLog.action == "unit.import")).all()
    assert [(e.outcome, e.detail["via"]) for e in entries] == [
        ("refused", "qua web"),
        ("ok", "qua web"),
    ]


async def test_audit_page_lists_web_actions(world: DeskWorld, client: httpx.AsyncClient) -> None:
    await log_in(client, world)
    page = (await client.get("/audit", params={"action": "web."})).text
    assert "web.login" in page and "web.link" in page and "qua web" in page


# --- file links -----------------------------------------------------------------------------------
async def test_signed_file_link_serves_one_file_until_it_expires(
    world: DeskWorld, stranger: httpx.AsyncClient, bot: TestBot, clock: ManualClock
) -> None:
    url = signed_file_url(
        bot.core.settings,
        "attachment",
        world.attachment_id,
        timedelta(minutes=30),
        organiser_id=DEFAULT_ORGANISER_ID,
        now=clock.now(),
    )
    assert url.startswith(BASE + "/f/")
    path = url.removeprefix(BASE)
    response = await stranger.get(path)
    assert response.status_code == 200 and response.content == tiny_png()
    # The id is inside the signature: another file cannot be reached by editing the link.
    token = path.removeprefix("/f/")
    tampered = token[:-3] + ("xyz" if not token.endswith("xyz") else "abc")
    assert (await stranger.get("/f/" + tampered)).status_code == 403
    clock.advance(timedelta(minutes=31))
    expired = await stranger.get(path)
    assert expired.status_code == 410 and "hết hạn" in expired.text


async def test_signed_export_link(
    world: DeskWorld, stranger: httpx.AsyncClient, bot: TestBot
) -> None:
    url = signed_file_url(
        bot.core.settings, "export", world.campaign_id, organiser_id=1, now=bot.core.clock.now()
    )
    response = await stranger.get(url.removeprefix(BASE))
    assert response.status_code == 200
    openpyxl.load_workbook(io.BytesIO(response.content))


async def test_signed_chart_link_is_the_progress_png(
    world: DeskWorld, stranger: httpx.AsyncClient, bot: TestBot
) -> None:
    from domain.chart import png_size

    url = signed_file_url(
        bot.core.settings, "chart", world.deadline_id, organiser_id=1, now=bot.core.clock.now()
    )
    response = await stranger.get(url.removeprefix(BASE))
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert response.headers["content-disposition"].startswith("inline")
    width, height = png_size(response.content)
    assert width > 0 and height > 0
    missing = signed_file_url(
        bot.core.settings, "chart", 99999, organiser_id=1, now=bot.core.clock.now()
    )
    assert (await stranger.get(missing.removeprefix(BASE))).status_code == 404
    unknown = signed_file_url(
        bot.core.settings, "secrets", 1, organiser_id=1, now=bot.core.clock.now()
    )
    assert (await stranger.get(unknown.removeprefix(BASE))).status_code == 404


async def test_pdf_attachment_is_shown_inline_and_links_are_audited(
    world: DeskWorld, client: httpx.AsyncClient, bot: TestBot, clock: ManualClock
) -> None:
    from bot.storage import check_and_store

    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    stored = check_and_store(pdf, storage_dir=bot.core.settings.storage_dir, accept=("pdf",))
    with bot.db() as db:
        row = Attachment(
            report_id=world.report_id,
            channel="memory",
            file_id="pdf-1",
            file_name="biên bản.pdf",
            mime_type=stored.mime_type,
            size=stored.size,
            stored_path=stored.stored_path,
            created_at=clock.now(),
        )
        db.add(row)
        db.commit()
        pdf_id = row.id
    await log_in(client, world)
    page = (await client.get(f"/reports/{world.report_id}")).text
    assert f'<iframe src="/reports/{world.report_id}/files/{pdf_id}"' in page
    shown = await client.get(f"/reports/{world.report_id}/files/{pdf_id}")
    assert shown.content == pdf and shown.headers["content-type"] == "application/pdf"
    assert shown.headers["content-disposition"].startswith("inline")
    assert "bi%C3%AAn%20b%E1%BA%A3n.pdf" in shown.headers["content-disposition"]
    url = signed_file_url(bot.core.settings, "attachment", pdf_id, organiser_id=1, now=clock.now())  # type: ignore[arg-type]
    assert (await client.get(url.removeprefix(BASE))).status_code == 200
    with bot.db() as db:
        entry = db.exec(select(AuditLog).where(AuditLog.action == "web.file_link")).one()
    assert (entry.target_type, entry.target_id) == ("attachment", str(pdf_id))


def test_web_settings_are_checked_and_named() -> None:
    from bot.settings import SettingsError, load_settings

    with pytest.raises(SettingsError, match="PUBLIC_URL"):
        load_settings(_env_file=None, public_url="bot.example.gov.vn")
    with pytest.raises(SettingsError, match="SESSION_SECRET"):
        load_settings(_env_file=None, session_secret="short")
    settings = load_settings(
        _env_file=None, public_url="https://bot.example.gov.vn/", session_secret="x" * 32
    )
    assert settings.web_base_url == "https://bot.example.gov.vn"
    assert load_settings(_env_file=None, listen_port=9000).web_base_url == "http://127.0.0.1:9000"


async def test_outcome_messages_cannot_be_forged_in_a_link(
    world: DeskWorld, client: httpx.AsyncClient
) -> None:
    await log_in(client, world)
    page = await client.get(
        f"/reports/{world.report_id}", params={"msg": "Hãy gửi mật khẩu cho số 0900000000"}
    )
    assert page.status_code == 200 and "mật khẩu" not in page.text


async def test_published_bytes_are_served_by_link_until_expiry(
    world: DeskWorld, stranger: httpx.AsyncClient, bot: TestBot, clock: ManualClock
) -> None:
    from bot.web.links import FileOut, publish_file, published_dir

    chart = FileOut(tiny_png(), "tiến độ.png", "image/png")
    url = publish_file(bot.core.settings, chart, timedelta(minutes=5), now=clock.now())
    path = url.removeprefix(BASE)
    shown = await stranger.get(path)
    assert shown.status_code == 200 and shown.content == tiny_png()
    assert shown.headers["content-disposition"].startswith("inline")
    sheet = FileOut(b"PK\x03\x04 not really", "so-lieu.xlsx", "text/html")
    download = await stranger.get(
        publish_file(bot.core.settings, sheet, now=clock.now()).removeprefix(BASE)
    )
    # A type the browser would render is never sent as such: published files are downloads.
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["content-disposition"].startswith("attachment")
    stored = list(published_dir(bot.core.settings).glob("??/*"))
    assert len(stored) == 2
    clock.advance(timedelta(minutes=6))
    assert (await stranger.get(path)).status_code == 410


async def test_a_signed_link_opens_nothing_outside_its_organiser_and_unit(
    world: DeskWorld, stranger: httpx.AsyncClient, bot: TestBot, clock: ManualClock
) -> None:
    """A correctly signed link that names a file of another organiser (a link made with a wrong
    id, or one leaked from another office's chat) or of another unit opens nothing."""
    from bot.web.keys import serializer as signer
    from tests.utils.factories import make_organiser

    with bot.db() as db:
        other = make_organiser(db, "Xã Khác", code="XA-KHAC").id
        db.commit()
    assert other is not None

    def link(kind: str, ident: int, organiser: int, unit: int | None = None) -> str:
        url = signed_file_url(
            bot.core.settings, kind, ident, organiser_id=organiser, unit_id=unit, now=clock.now()
        )
        return url.removeprefix(BASE)

    xa_001, xa_002 = world.unit_ids["XA-001"], world.unit_ids["XA-002"]
    assert (
        await stranger.get(link("attachment", world.attachment_id, 1, xa_001))
    ).status_code == 200
    for path in (
        link("attachment", world.attachment_id, other),
        link("attachment", world.attachment_id, 1, xa_002),  # XA-002's link, XA-001's file
        link("export", world.campaign_id, other),
        link("chart", world.deadline_id, other),
    ):
        response = await stranger.get(path)
        assert response.status_code == 404, path
        assert response.content != tiny_png() and "Xã Bình Lư" not in response.text
    # A link signed before links named their organiser is not honoured.
    legacy = signer(bot.core.settings, "file").dumps(
        {"k": "attachment", "i": world.attachment_id, "e": int(clock.now().timestamp()) + 600}
    )
    assert (await stranger.get(f"/f/{legacy}")).status_code == 403
