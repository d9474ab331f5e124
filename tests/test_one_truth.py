"""One truth: a report's state has one wording on every screen and in the export, the same
punctuality rule everywhere, one numbering of deadlines, typed review commands that say what
they will do before doing it, and a moved deadline announced to the units."""

from __future__ import annotations

import io
from datetime import timedelta

import openpyxl

from bot.catalog import t
from domain.export import ExportTexts, export_campaign, find_campaign
from domain.scope import DEFAULT_SCOPE
from models.reports import ReportStatus
from tests.utils import admin_forms
from tests.utils.factories import T0, make_campaign, make_deadline
from tests.utils.reminders import HANOI
from tests.utils.reports import fill_registration, report_world
from tests.utils.scenario import TestBot


def _status_cell(bot: TestBot, clock) -> str:
    with bot.db() as db:
        campaign = find_campaign("353/KH-UBND", session=db, scope=DEFAULT_SCOPE)
        data = export_campaign(
            campaign,
            session=db,
            forms=admin_forms.forms(),
            texts=ExportTexts.from_catalog(t),
            default_zone=HANOI,
            now=clock.now(),
        )
    sheet = openpyxl.load_workbook(io.BytesIO(data))["Tình trạng nộp"]
    header = [c.value for c in sheet[2]]
    return sheet.cell(row=3, column=header.index("Trạng thái") + 1).value


async def test_a_reopened_report_reads_the_same_everywhere(bot: TestBot, clock) -> None:
    world = report_world(bot, due_at=T0 + timedelta(days=1))
    officer, admin = world.officer, world.admin
    await fill_registration(officer)
    await officer.presses("Nộp báo cáo")
    clock.advance(days=2)  # past the deadline
    await admin.says(f"/mobaocao XA-001 {world.deadline_id}")
    await admin.presses("Mở lại")
    assert world.report().status == ReportStatus.REOPENED

    await officer.says("/hanchot")
    assert "Trạng thái: đang mở lại để sửa" in officer.last_reply
    await admin.says(f"/xem XA-001 {world.deadline_id}")
    assert "đang mở lại để sửa" in admin.new_text
    await admin.says(f"/tiendo {world.deadline_id}")
    assert "trả lại hoặc mở lại để sửa 1" in admin.new_text
    assert _status_cell(bot, clock) == "Đang mở lại để sửa"

    # Handed in again after the deadline: a correction the admin asked for keeps the unit's
    # first punctuality — on the receipt, in /hanchot, /xem and the export alike.
    await officer.presses("Mở báo cáo")
    await officer.presses("Nộp lại")
    assert "đúng hạn" in officer.new_text and "nộp muộn" not in officer.new_text
    await officer.says("/hanchot")
    assert "Trạng thái: đã nộp đúng hạn" in officer.last_reply
    await admin.says(f"/xem XA-001 {world.deadline_id}")
    assert "đã nộp đúng hạn" in admin.new_text
    assert _status_cell(bot, clock) == "Đã nộp đúng hạn"


async def test_deadlines_are_numbered_the_same_on_every_screen(bot: TestBot) -> None:
    world = report_world(bot)
    with bot.db() as db:
        campaign = make_campaign(db, number="99/KH-UBND", name="Đợt khác")
        other = make_deadline(db, campaign, title="Báo cáo sơ kết")
        db.commit()
        other_id = other.id
    tag = f"#{world.deadline_id} Đăng ký thi đua năm 2026"
    await world.admin.says("/dotthidua")
    assert tag in world.admin.last_reply and f"#{other_id} Báo cáo sơ kết" in world.admin.last_reply
    await world.admin.says("/tiendo")
    assert tag in world.admin.new_text
    await world.officer.says("/hanchot")
    assert tag in world.officer.last_reply


async def test_a_typed_review_command_names_the_report_and_can_be_cancelled(bot: TestBot) -> None:
    world = report_world(bot)
    await fill_registration(world.officer)
    await world.officer.presses("Nộp báo cáo")
    await world.admin.says(f"/duyetbaocao XA-001 #{world.deadline_id}")
    asked = world.admin.last_reply
    assert "Duyệt Đăng ký thi đua năm 2026" in asked and "Xã Bình Lư (XA-001)" in asked
    assert "Hiện: đã nộp đúng hạn" in asked
    await world.admin.says("có")  # typing is not pressing
    assert "bấm nút xác nhận" in world.admin.new_text
    await world.admin.presses("Huỷ")
    assert "Đã huỷ" in world.admin.last_reply
    assert world.report().status == ReportStatus.SUBMITTED
    await world.admin.says(f"/duyetbaocao XA-001 {world.deadline_id}")
    await world.admin.presses("✅ Duyệt")
    assert world.report().status == ReportStatus.ACCEPTED
    assert world.admin.messages[-1].replace  # the confirmation's buttons are gone


async def test_a_moved_deadline_is_announced_to_the_units(bot: TestBot) -> None:
    world = report_world(bot)
    await world.admin.says("/dotthidua")
    await world.admin.presses("353/KH-UBND")
    await world.admin.presses("Sửa hạn")
    await world.admin.presses("Ngày hạn")
    await world.admin.says("20/3/2026")
    assert "Đã báo hạn mới cho 1 cán bộ của 1 đơn vị" in world.admin.last_reply
    told = world.officer.last_reply
    assert "Hạn nộp thay đổi: Đăng ký thi đua năm 2026" in told
    assert "Hạn mới: 08:00 thứ Sáu, 20/03/2026" in told and "16/03/2026" in told
    assert "Mở báo cáo" in world.officer.buttons[0]
