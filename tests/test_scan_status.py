""" "Thiếu bản ký" (the signed scan missing) is one rule (`domain.scans.signed_scan_among`) read
in bulk: the web desk's matrix, /tiendo, the export's status sheet and the dossier's index say
the same of a scenario with scans answered in the form, sent afterwards, missing and replaced
by a new version; and the matrix costs the same number of queries for a campaign twice the
size (it once cost a query per handed-in report)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import openpyxl
import sqlalchemy as sa
from sqlmodel import Session, select

from bot.catalog import t
from bot.runtime import dossier_texts
from bot.web.app import build_app
from bot.web.desk import COOKIE, Desk
from bot.web.keys import serializer
from domain.dossier import unit_files
from domain.export import ExportTexts, export_campaign
from models.campaigns import Campaign, Deadline
from models.reports import Attachment, Report, ReportStatus
from models.units import Role, Unit
from tests.utils.dossier import FORMS, PDF
from tests.utils.factories import (
    make_campaign,
    make_deadline,
    make_member,
    make_report,
    make_stored_attachment,
    make_unit,
)
from tests.utils.ids import ADMIN_USER_ID
from tests.utils.scenario import Person, TestBot
from tests.utils.web import login_link

BASE = "http://127.0.0.1:8080"
MISSING = ["SC-3", "SC-4"]  # no scan; a scan of version 1 only, handed in again as version 2


def scan(db: Session, storage: Path, report: Report, *, version: int | None, n: int) -> Attachment:
    return make_stored_attachment(
        db,
        report,
        PDF,
        storage_dir=storage,
        accept=("pdf",),
        field_id="ban_ky",
        file_id=f"scan-{report.id}-{n}",
        file_name="ban-ky.pdf",
        meta=None if version is None else {"version": version},
    )


def handed_in(
    db: Session, unit: Unit, deadline: Deadline, *, version: int = 1, status: str = "submitted"
) -> Report:
    report = make_report(db, unit, deadline, status=status, answers={"ket_qua": "Đạt"})
    report.version = version
    db.add(report)
    db.flush()
    return report


def scan_world(db: Session, storage: Path, *, start: int = 1, count: int = 0) -> tuple[int, int]:
    """Eight communes on the achievement report (printed from a template):
    SC-1 answered the scan in the form; SC-2 sent it afterwards for version 1; SC-3 has none;
    SC-4 sent one for version 1, then was returned and handed in version 2 (the old scan no
    longer counts); SC-5 did the same and sent a new one for version 2; SC-6 was accepted with
    its scan; SC-7 was returned (not handed in now); SC-8 has not started. `count` more
    communes hand in with a scan (the query-count test grows the campaign)."""
    campaign = db.exec(select(Campaign)).first() or make_campaign(db)
    deadline = db.exec(select(Deadline)).first() or make_deadline(db, campaign)
    if not count:
        units = [make_unit(db, f"Xã Kiểm Tra {n}", code=f"SC-{n}") for n in range(1, 9)]
        first = handed_in(db, units[0], deadline)
        answered = scan(db, storage, first, version=None, n=1)
        first.answers = {**first.answers, "ban_ky": {"attachment_id": answered.id}}
        db.add(first)
        scan(db, storage, handed_in(db, units[1], deadline), version=1, n=1)
        handed_in(db, units[2], deadline)
        scan(db, storage, handed_in(db, units[3], deadline, version=2), version=1, n=1)
        fifth = handed_in(db, units[4], deadline, version=2)
        scan(db, storage, fifth, version=1, n=1)
        scan(db, storage, fifth, version=2, n=2)
        scan(
            db,
            storage,
            handed_in(db, units[5], deadline, status=ReportStatus.ACCEPTED),
            version=1,
            n=1,
        )
        returned = handed_in(db, units[6], deadline, status=ReportStatus.SUBMITTED)
        returned.status = ReportStatus.RETURNED
        db.add(returned)
    for n in range(start, start + count):
        unit = make_unit(db, f"Xã Thêm {n}", code=f"TH-{n:03d}")
        scan(db, storage, handed_in(db, unit, deadline), version=1, n=1)
    db.commit()
    return campaign.id or 0, deadline.id or 0


async def logged_in(client: httpx.AsyncClient, admin: Person, bot: TestBot) -> None:
    path = (await login_link(admin)).removeprefix(BASE)
    assert (await client.post(path)).status_code == 303
    assert serializer(bot.core.settings, "session").loads(client.cookies[COOKIE])


def client_of(bot: TestBot) -> httpx.AsyncClient:
    app = build_app([], engine=bot.core.engine, desk=Desk(bot.core))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)


async def test_every_screen_says_the_same_of_scans_present_missing_and_replaced(
    bot: TestBot,
) -> None:
    with bot.db() as db:
        make_member(db, ADMIN_USER_ID, role=Role.ADMIN, name="Văn phòng")
        campaign_id, deadline_id = scan_world(db, Path(bot.core.settings.storage_dir))
    admin = bot.person(ADMIN_USER_ID, "Văn phòng")

    async with client_of(bot) as client:
        await logged_in(client, admin, bot)
        page = (
            await client.get(
                f"/campaigns/{campaign_id}",
                params={"deadline": deadline_id, "status": "scan_missing"},
            )
        ).text
    codes = [f"SC-{n}" for n in range(1, 9)]
    assert [c for c in codes if f"{c}</span>" in page] == MISSING
    assert 'data-count="scan_missing">2<' in page

    await admin.says(f"/tiendo {deadline_id}")
    assert "Chờ bản ký, đóng dấu: 2 đơn vị (SC-3, SC-4)" in admin.all_text

    with bot.db() as db:
        campaign = db.get(Campaign, campaign_id)
        assert campaign is not None
        data = export_campaign(
            campaign,
            session=db,
            forms=FORMS,
            texts=ExportTexts.from_catalog(t),
            default_zone=bot.core.settings.tz,
            now=bot.core.clock.now(),
        )
        units = {u.code: u.id for u in db.exec(select(Unit)).all()}
        index = unit_files(
            db,
            campaign=campaign,
            unit_ids=[units[c] for c in codes],
            forms=FORMS,
            office=bot.core.settings.office(),
            texts=dossier_texts(),
            storage_dir=Path(bot.core.settings.storage_dir),
        )
    status = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    scans = {row[2]: row[-1] for row in status.iter_rows(values_only=True) if str(row[2]) in codes}
    assert scans == {
        "SC-1": "Đã có",
        "SC-2": "Đã có",
        "SC-3": "Chờ bản ký",
        "SC-4": "Chờ bản ký",
        "SC-5": "Đã có",
        "SC-6": "Đã có",
        "SC-7": None,
        "SC-8": None,
    }
    # The dossier's index (SC-7's returned report has no version handed in: not submitted).
    missing_scan = dossier_texts().missing_scan
    assert [c for c in codes if index[units[c]].index[0][-1] == missing_scan] == MISSING
    files = [name for c in codes for name, _ in index[units[c]].files if "ban-ky" in name]
    assert len(files) == 4


@contextmanager
def counting(engine: sa.Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


async def test_the_matrix_costs_the_same_queries_for_a_campaign_twice_the_size(
    bot: TestBot,
) -> None:
    with bot.db() as db:
        make_member(db, ADMIN_USER_ID, role=Role.ADMIN, name="Văn phòng")
        campaign_id, _ = scan_world(db, Path(bot.core.settings.storage_dir), start=1, count=10)
    admin = bot.person(ADMIN_USER_ID, "Văn phòng")
    path = f"/campaigns/{campaign_id}"
    async with client_of(bot) as client:
        await logged_in(client, admin, bot)
        await bot.core.wait_background()
        assert (await client.get(path)).status_code == 200  # the login's own writes are done
        with counting(bot.core.engine) as small:
            assert (await client.get(path)).status_code == 200
        with bot.db() as db:
            scan_world(db, Path(bot.core.settings.storage_dir), start=11, count=20)
        with counting(bot.core.engine) as large:
            page = await client.get(path)
    assert page.status_code == 200 and "TH-030</span>" in page.text
    assert len(large) == len(small), (len(small), len(large))
