"""The web desk's dossier and signed scans: the units × deadlines matrix shows "signed scan
missing" with /tiendo's own rule and filters on it; the dossier ZIP is the one /hoso builds,
made as a background job whose page shows progress, one job per viewer and campaign, the file
only for the viewer who asked."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from bot.runtime import dossier_texts
from bot.web.app import build_app
from bot.web.desk import COOKIE, Desk
from bot.web.jobs import JobKey
from bot.web.keys import serializer
from bot.web.links import FileOut
from domain.dossier import build_dossier
from models.audit import AuditLog
from models.campaigns import Campaign, Deadline
from models.units import Member, Role
from tests.utils.dossier import FORMS, dossier_world, unzip
from tests.utils.factories import make_member, make_organiser
from tests.utils.ids import ADMIN_USER_ID
from tests.utils.scenario import Person, TestBot
from tests.utils.web import login_link

BASE = "http://127.0.0.1:8080"


@pytest.fixture
def desk(bot: TestBot) -> Desk:
    return Desk(bot.core)


@pytest.fixture
async def app(bot: TestBot, desk: Desk) -> AsyncIterator[object]:
    yield build_app([], engine=bot.core.engine, desk=desk)


def client_of(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)  # type: ignore[arg-type]


@pytest.fixture
def ids(bot: TestBot) -> dict[str, int]:
    with bot.db() as db:
        dossier_world(db, Path(bot.core.settings.storage_dir), units=12)
        other = make_organiser(db, "Xã Khác", code="XA-KHAC")
        make_member(db, "901", name="Quản trị xã Khác", role=Role.ADMIN, organiser=other)
        make_member(db, "902", name="Quản trị thứ hai", role=Role.ADMIN)
        db.commit()
        campaign = db.exec(select(Campaign)).one()
        final = db.exec(
            select(Deadline).where(Deadline.title.startswith("Báo cáo thành tích năm"))
        ).one()  # type: ignore[attr-defined]
        return {"campaign": campaign.id, "final": final.id}  # type: ignore[dict-item]


async def log_in(client: httpx.AsyncClient, person: Person, bot: TestBot) -> str:
    path = (await login_link(person)).removeprefix(BASE)
    assert (await client.post(path)).status_code == 303
    return str(serializer(bot.core.settings, "session").loads(client.cookies[COOKIE])["c"])


async def test_matrix_shows_missing_signed_scans_as_the_chat_counts_them(
    bot: TestBot, app: object, ids: dict[str, int]
) -> None:
    admin = bot.person(ADMIN_USER_ID, "Văn phòng")
    await admin.says(f"/tiendo {ids['final']}")
    assert "Chờ bản ký, đóng dấu: 4 đơn vị (XA-009, XA-010, XA-011, XA-012)" in admin.all_text
    async with client_of(app) as client:
        await log_in(client, admin, bot)
        path = f"/campaigns/{ids['campaign']}"
        page = (await client.get(path, params={"deadline": ids["final"]})).text
        # Four on the final report, and commune 1's individual report (printed, not signed).
        assert page.count('class="st st-scan_missing"') == 5
        assert 'data-count="scan_missing">4<' in page
        only = (
            await client.get(path, params={"deadline": ids["final"], "status": "scan_missing"})
        ).text
    rows = [f"XA-{n:03d}" for n in range(1, 13)]
    assert [code for code in rows if f"{code}</span>" in only] == rows[8:]
    assert '<option value="scan_missing" selected>đã nộp, thiếu bản ký</option>' in only


async def test_dossier_is_built_in_the_background_and_downloaded(
    bot: TestBot, app: object, desk: Desk, ids: dict[str, int]
) -> None:
    admin = bot.person(ADMIN_USER_ID, "Văn phòng")
    page = f"/campaigns/{ids['campaign']}/dossier"
    async with client_of(app) as client:
        csrf = await log_in(client, admin, bot)
        assert "Bắt đầu lập" in (await client.get(page)).text
        started = await client.post(page, data={"csrf": csrf})
        assert started.status_code == 303 and started.headers["location"] == page
        await desk.jobs.wait()
        done = (await client.get(page)).text
        assert 'id="job-download"' in done and 'http-equiv="refresh"' not in done
        response = await client.get(f"{page}.zip")
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment")
    with bot.db() as db:
        campaign = db.get(Campaign, ids["campaign"])
        expected = build_dossier(
            db,
            campaign=campaign,  # type: ignore[arg-type]
            forms=FORMS,
            office=bot.core.settings.office(),
            texts=dossier_texts(),
            storage_dir=Path(bot.core.settings.storage_dir),
            today=bot.core.clock.now().date(),
            zone=bot.core.settings.tz,
        )
        entries = db.exec(select(AuditLog).where(AuditLog.action.startswith("dossier."))).all()  # type: ignore[attr-defined]
    assert sorted(unzip(response.content)) == sorted(unzip(expected))
    assert [(e.action, e.detail["via"]) for e in entries] == [
        ("dossier.build", "qua web"),
        ("dossier.download", "qua web"),
    ]


async def test_progress_page_refreshes_and_one_job_runs_per_viewer_and_campaign(
    bot: TestBot, app: object, desk: Desk, ids: dict[str, int]
) -> None:
    admin = bot.person(ADMIN_USER_ID, "Văn phòng")
    page = f"/campaigns/{ids['campaign']}/dossier"
    release = asyncio.Event()
    builds = 0

    async def slow(job):  # type: ignore[no-untyped-def]
        nonlocal builds
        builds += 1
        await release.wait()
        return FileOut(b"PK-test", "ho-so.zip", "application/zip")

    async with client_of(app) as client:
        csrf = await log_in(client, admin, bot)
        with bot.db() as db:
            member = db.exec(select(Member).where(Member.user_id == ADMIN_USER_ID)).one()
        key = JobKey(member.id or 0, ids["campaign"], "dossier")
        job = desk.jobs.start(key, slow, now=bot.core.clock.now())
        assert job is not None
        job.done, job.total = 2, 12  # as the domain's progress callback sets them
        running = (await client.get(page)).text
        assert '<meta http-equiv="refresh"' in running
        assert "Đang lập: 2/12 đơn vị" in running and 'id="job-start"' not in running
        # Asking again while it runs: the same job, not a second build.
        again = await client.post(page, data={"csrf": csrf})
        assert again.status_code == 303 and desk.jobs.running() == 1
        assert (await client.get(f"{page}.zip")).headers["location"] == page  # not ready yet
        release.set()
        await desk.jobs.wait()
        assert builds == 1
        assert (await client.get(f"{page}.zip")).content == b"PK-test"


async def test_too_many_jobs_at_once_are_refused_politely(
    bot: TestBot, app: object, desk: Desk, ids: dict[str, int]
) -> None:
    release = asyncio.Event()

    async def blocked(job):  # type: ignore[no-untyped-def]
        await release.wait()
        return FileOut(b"x", "x.zip", "application/zip")

    for other in (990, 991):
        assert desk.jobs.start(JobKey(other, 1, "dossier"), blocked, now=bot.core.clock.now())
    page = f"/campaigns/{ids['campaign']}/dossier"
    async with client_of(app) as client:
        csrf = await log_in(client, bot.person(ADMIN_USER_ID, "Văn phòng"), bot)
        refused = await client.post(page, data={"csrf": csrf})
        assert "đang lập 2 tệp khác" in (await client.get(refused.headers["location"])).text
    release.set()
    await desk.jobs.wait()


async def test_a_dossier_belongs_to_its_viewer_and_organiser(
    bot: TestBot, app: object, desk: Desk, ids: dict[str, int]
) -> None:
    page = f"/campaigns/{ids['campaign']}/dossier"
    async with client_of(app) as owner:
        csrf = await log_in(owner, bot.person(ADMIN_USER_ID, "Văn phòng"), bot)
        await owner.post(page, data={"csrf": csrf})
        await desk.jobs.wait()
        assert (await owner.get(f"{page}.zip")).status_code == 200
    # The same organiser's other admin: their own page, no download of someone else's job.
    async with client_of(app) as colleague:
        csrf = await log_in(colleague, bot.person("902", "Quản trị thứ hai"), bot)
        assert "Chưa lập tệp này" in (await colleague.get(page)).text
        assert (await colleague.get(f"{page}.zip")).status_code == 303
    # Another organiser's admin: the campaign does not exist for them.
    async with client_of(app) as other:
        csrf = await log_in(other, bot.person("901", "Quản trị xã Khác"), bot)
        for path in (page, f"{page}.zip"):
            assert (await other.get(path)).status_code == 404, path
        assert (await other.post(page, data={"csrf": csrf})).status_code == 404
    # A stranger; a post without the CSRF token.
    async with client_of(app) as stranger:
        for path in (page, f"{page}.zip"):
            assert (await stranger.get(path)).status_code == 401, path
    async with client_of(app) as owner:
        await log_in(owner, bot.person(ADMIN_USER_ID, "Văn phòng"), bot)
        assert (await owner.post(page, data={})).status_code == 403


async def test_the_workbook_can_be_built_in_the_background_too(
    bot: TestBot, app: object, desk: Desk, ids: dict[str, int]
) -> None:
    import io

    import openpyxl

    page = f"/campaigns/{ids['campaign']}/excel"
    async with client_of(app) as client:
        csrf = await log_in(client, bot.person(ADMIN_USER_ID, "Văn phòng"), bot)
        dashboard = (await client.get(f"/campaigns/{ids['campaign']}")).text
        assert f'href="{page}"' in dashboard
        assert (await client.post(page, data={"csrf": csrf})).status_code == 303
        await desk.jobs.wait()
        assert 'id="job-download"' in (await client.get(page)).text
        response = await client.get(f"{page}.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    cells = {str(c.value) for sheet in book for row in sheet.iter_rows() for c in row}
    assert "Xã Bình Lư 12" in cells
    with bot.db() as db:
        entries = db.exec(select(AuditLog).where(AuditLog.target_type == "campaign")).all()
    assert [(e.action, e.detail["via"]) for e in entries] == [
        ("admin.export", "qua web"),
        ("xlsx.download", "qua web"),
    ]
