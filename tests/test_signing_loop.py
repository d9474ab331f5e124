"""The signed copy in the chat: an officer hands in the achievement report, receives it as a
filled Word document to print, sign and stamp, and sends the scan back; until then the report
waits for its scan (/hanchot, /banky, /tiendo, the export) and reminders nudge the unit."""

from __future__ import annotations

import io
import shutil
from datetime import timedelta

import docx
import pytest
from openpyxl import load_workbook
from sqlmodel import select

from bot.clock import ManualClock
from domain.dossier import signed_scan
from domain.schedule import load_calendar
from handlers.signing import send_scan_reminders, to_pdf
from models.campaigns import ReminderLog
from models.reports import Attachment, Report
from tests.utils.files import PDF
from tests.utils.reports import ReportWorld, fill_achievements_until_scan, report_world
from tests.utils.scenario import TestBot


async def hand_in(bot: TestBot, monkeypatch: pytest.MonkeyPatch) -> ReportWorld:
    # No LibreOffice here: the .docx alone, and no error (CI machines may lack it).
    monkeypatch.setattr("handlers.signing.shutil.which", lambda name: None)
    world = report_world(bot, "bao-cao-thanh-tich")
    officer = world.officer
    await fill_achievements_until_scan(officer)
    await officer.presses("Bỏ qua")  # no scan yet: it comes back after printing
    await officer.presses("Nộp báo cáo")
    await bot.core.wait_background()
    return world


async def test_the_officer_receives_the_filled_docx_to_sign(
    bot: TestBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = await hand_in(bot, monkeypatch)
    officer = world.officer
    documents = [m.document for m in officer.messages if m.document is not None]
    assert [d.file_name for d in documents] == ["bao-cao-thanh-tich-xa-binh-lu.docx"]
    document = docx.Document(io.BytesIO(documents[0].content))
    heading = document.tables[0].rows[0].cells
    assert "XÃ BÌNH LƯ" in heading[0].text and "CỘNG HÒA XÃ HỘI" in heading[1].text
    assert "Bình Lư, ngày 20 tháng 6 năm 2026" in heading[1].text
    text = "\n".join(p.text for p in document.paragraphs)
    assert "Kết quả so với chỉ tiêu: Thu ngân sách đạt 105% kế hoạch" in text
    assert "1. Đặc điểm, tình hình: Xã miền núi, 12 thôn, 8.450 nhân khẩu" in text
    assert "in, ký, đóng dấu rồi gửi lại bản quét" in officer.last_reply
    assert officer.buttons == ["📎 Gửi bản ký"]
    await officer.says("/hanchot")
    assert "chờ bản ký" in officer.last_reply


async def test_the_scan_sent_back_completes_the_report(
    bot: TestBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = await hand_in(bot, monkeypatch)
    officer, admin = world.officer, world.admin
    await admin.says("/tiendo")
    assert "Chờ bản ký, đóng dấu: 1 đơn vị (XA-001)" in admin.all_text
    await officer.presses("📎 Gửi bản ký")
    assert "Gửi bản quét «Báo cáo thành tích đợt 1» (lần nộp 1)" in officer.last_reply
    await officer.says("đây")
    assert "Cần gửi một tệp PDF" in officer.new_text
    await officer.sends_file(PDF, "ban-ky.pdf", "application/pdf")
    assert (
        "Đã nhận bản ký «Báo cáo thành tích đợt 1» của Xã Bình Lư (lần nộp 1)" in officer.last_reply
    )
    with bot.db() as db:
        report = db.exec(select(Report)).one()
        scan = signed_scan(db, report)
        assert scan is not None and scan.file_name == "ban-ky.pdf"
        assert scan.field_id == "ban_ky" and scan.meta["version"] == 1
    await officer.says("/hanchot")
    assert "chờ bản ký" not in officer.last_reply
    await officer.says("/banky")
    assert "không còn báo cáo nào chờ bản ký" in officer.last_reply
    await admin.says("/xuat")
    await admin.bot.core.wait_background()  # the workbook is built after the update
    book = load_workbook(io.BytesIO(admin.messages[-1].document.content))
    # Row 1 is the sheet's title; the header and the rows follow.
    status = [[c.value for c in row] for row in book["Tình trạng nộp"].iter_rows(min_row=2)]
    assert status[0][-1] == "Bản ký" and status[1][-1] == "Đã có"


async def test_a_missing_scan_is_reminded_once_per_step(
    bot: TestBot, monkeypatch: pytest.MonkeyPatch, clock: ManualClock
) -> None:
    world = await hand_in(bot, monkeypatch)
    officer = world.officer
    calendar = load_calendar()
    seen = len(officer.messages)
    assert await send_scan_reminders(bot.core, calendar=calendar) == 0  # not a day yet
    clock.advance(timedelta(days=1))  # Tuesday 08:00 in Hà Nội
    assert await send_scan_reminders(bot.core, calendar=calendar) == 1
    assert await send_scan_reminders(bot.core, calendar=calendar) == 0  # claimed: once
    reminder = officer.messages[seen]
    assert "chưa có bản ký, đóng dấu" in reminder.text and "Xã Bình Lư" in reminder.text
    assert reminder.button_payloads()[0].startswith("sc:")
    with bot.db() as db:
        log = db.exec(select(ReminderLog)).one()
        assert log.slot == "scan-1d@v1" and log.status == "sent"
    # The button under the reminder takes the scan; then nothing more is reminded.
    await officer.presses("📎 Gửi bản ký")
    await officer.sends_file(PDF, "ban-ky.pdf", "application/pdf")
    clock.advance(timedelta(days=2))
    assert await send_scan_reminders(bot.core, calendar=calendar) == 0


async def test_a_channel_without_files_is_told_clearly(bot: TestBot, monkeypatch) -> None:
    # The Zalo channel turns a document into this sentence (tests/test_reports_zalo.py covers
    # the channel); here: the text names the office from the settings, not a hard-coded one.
    from bot.catalog import t

    assert "Cơ quan tổ chức thi đua" in t("zalo.file_not_sent", file_name="bao-cao.docx")


async def test_someone_else_cannot_send_a_scan_for_the_report(
    bot: TestBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = await hand_in(bot, monkeypatch)
    with bot.db() as db:
        report = db.exec(select(Report)).one()
    from tests.utils.factories import make_member, make_unit

    with bot.db() as db:
        other = make_unit(db, "Xã Khác", code="XA-099")
        make_member(db, "300", unit=other)
        db.commit()
    stranger = bot.person("300")
    await stranger.presses_payload(f"sc:{report.id}:1")
    assert "Nút này đã cũ" in stranger.last_reply
    with bot.db() as db:
        assert db.exec(select(Attachment)).all() == []
    assert world.officer.buttons == ["📎 Gửi bản ký"]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed")
def test_libreoffice_turns_the_docx_into_a_pdf() -> None:
    from domain.documents import render

    content = render(
        "to-trinh.docx",
        {
            "parent_body": "",
            "issuing_unit": "UBND xã Bình Lư",
            "issuing_short": "UBND",
            "place": "Bình Lư",
            "day": "02",
            "month": "7",
            "year": "2026",
            "campaign": "Phong trào thi đua năm 2026",
            "campaign_number": "353/KH-UBND",
            "recipient": "Chủ tịch UBND tỉnh",
            "basis": [],
            "units_reported": 1,
            "units_total": 1,
            "counts": [],
            "total_collectives": 0,
            "total_individuals": 0,
            "signer_title": "Chủ tịch",
            "signer_name": "",
        },
    )
    result = to_pdf("to-trinh.docx", content)
    assert result is not None and result[0] == "to-trinh.pdf" and result[1].startswith(b"%PDF")
