"""Admin oversight through the bot: /tiendo, /chuanop, /xem, /xuat — admin-only, audited."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest
from sqlmodel import Session, select

from bot.channels.text import html_to_plain
from bot.settings import Settings
from domain.chart import chart_size, png_size
from models.audit import AuditLog
from models.campaigns import Campaign, Deadline
from models.reports import Attachment
from tests.utils import admin_forms
from tests.utils.factories import (
    T0,
    make_campaign,
    make_deadline,
    make_member,
    make_report,
    make_unit,
)
from tests.utils.ids import ADMIN_USER_ID
from tests.utils.scenario import Person, TestBot

DUE = T0 + timedelta(days=7)  # 08:00 09/03/2026 in Hà Nội


@pytest.fixture
def seeded(session: Session, bot: TestBot) -> Deadline:
    """A campaign with one deadline: on time, late, a draft, nothing; two blocs."""
    bot.core.services.forms = admin_forms.forms()
    campaign = make_campaign(session)
    deadline = make_deadline(session, campaign, due_at=DUE, form_code=admin_forms.FORM_CODE)
    binh_lu = make_unit(session, "Xã Bình Lư", code="XA-001", bloc="Khối xã, thị trấn")
    town = make_unit(session, "Thị trấn Tam Đường", code="TT-001", bloc="Khối xã, thị trấn")
    school = make_unit(session, "Phòng Giáo dục và Đào tạo", code="PGD", bloc="Khối cơ quan")
    make_unit(session, "Phòng Y tế", code="PYT", bloc="Khối cơ quan")  # no officer yet
    make_member(session, "201", unit=binh_lu, name="Lò Văn Tâm", phone="0912345678")
    make_member(session, "202", unit=town, name="Đỗ Thị Hà", phone="0977000111")
    make_member(session, "203", unit=school, name="Nguyễn Thị Hoà")
    make_report(
        session,
        binh_lu,
        deadline,
        answers=admin_forms.answers(
            nominations=[
                {"ho_ten": "Lò Văn Tâm", "hinh_thuc_kt": "giay-khen", "ngay_sinh": "1985-04-25"}
            ]
        ),
        submitted_at=T0 + timedelta(days=1),
    )
    make_report(session, school, deadline, submitted_at=DUE + timedelta(hours=2))
    make_report(session, town, deadline, status="draft", answers={"tom_tat": "nháp"})
    session.commit()
    return deadline


def _admin(bot: TestBot) -> Person:
    return bot.person(ADMIN_USER_ID, "Trưởng phòng Nội vụ")


def _actions(bot: TestBot) -> list[str]:
    with bot.db() as db:
        return list(db.exec(select(AuditLog.action).order_by(AuditLog.id)).all())


# --- /tiendo ------------------------------------------------------------------------------
async def test_progress_gives_counts_per_bloc_and_a_chart(bot: TestBot, seeded: Deadline) -> None:
    admin = _admin(bot)
    await admin.says("/tiendo")
    text, photo_message = admin.new_messages
    plain = html_to_plain(text.text)
    assert "#1 Báo cáo thành tích — 353/KH-UBND" in plain
    assert "Hạn 08:00 09/03/2026 (còn 7 ngày)" in plain
    assert "Đã nộp 2/4: đúng hạn 1, trễ hạn 1" in plain
    assert "Chưa nộp 2: bị trả lại 0, đang soạn 1, chưa làm 1" in plain
    assert "• Khối cơ quan: 1/2 đã nộp (trễ hạn 1)" in plain
    assert "• Khối xã, thị trấn: 1/2 đã nộp (trễ hạn 0)" in plain
    photo = photo_message.photo
    assert photo is not None and photo.file_name == "tien-do-1.png"
    assert png_size(photo.content) == chart_size(2)  # one bar per bloc
    assert photo.caption == "#1 Báo cáo thành tích: 2/4 đơn vị đã nộp, hạn 08:00 09/03/2026"
    assert "admin.progress" in _actions(bot)


async def test_progress_of_several_deadlines_charts_the_next_one_and_offers_the_rest(
    bot: TestBot, seeded: Deadline, session: Session
) -> None:
    campaign = session.get(Campaign, seeded.campaign_id)
    assert campaign is not None
    make_deadline(session, campaign, title="Đăng ký thi đua", due_at=T0 - timedelta(days=2))
    session.commit()
    admin = _admin(bot)
    await admin.says("/tiendo")
    summary = admin.new_messages[0].text
    assert "#1 Báo cáo thành tích" in summary and "#2 Đăng ký thi đua" in summary
    assert "đã quá hạn 2 ngày" in summary
    assert admin.new_messages[1].photo.caption.startswith("#1 ")  # the next one due
    await admin.presses("Biểu đồ #2")
    assert admin.new_messages[-1].photo.caption.startswith("#2 Đăng ký thi đua: 0/4")


async def test_progress_of_an_unknown_deadline_is_explained(bot: TestBot, seeded: Deadline) -> None:
    admin = _admin(bot)
    await admin.says("/tiendo 99")
    assert "Không có mốc số «99»" in admin.new_text and "/tiendo 1" in admin.new_text


async def test_progress_without_any_campaign(bot: TestBot) -> None:
    admin = _admin(bot)
    await admin.says("/tiendo")
    assert "không có mốc nào đang mở" in admin.last_reply


# --- /chuanop -----------------------------------------------------------------------------
async def test_missing_units_with_officers_phones_and_remind_button(
    bot: TestBot, seeded: Deadline
) -> None:
    admin = _admin(bot)
    await admin.says("/chuanop")
    [message] = admin.new_messages
    plain = html_to_plain(message.text)
    assert "Chưa nộp #1 Báo cáo thành tích: 2/4 đơn vị" in plain
    assert "1. Phòng Y tế (PYT) — Chưa làm" in plain
    assert "chưa có cán bộ đăng ký với bot" in plain
    assert "2. Thị trấn Tam Đường (TT-001) — Đang soạn" in plain
    assert "Đỗ Thị Hà — 0977000111" in plain
    assert "Xã Bình Lư" not in plain and "Lò Văn Tâm" not in plain
    assert message.button_payloads() == [f"nhac:{seeded.id}"]
    assert _actions(bot)[-1] == "admin.missing"


async def test_a_long_missing_list_is_paginated(
    bot: TestBot, seeded: Deadline, session: Session
) -> None:
    for n in range(30):
        make_unit(session, f"Thôn {n:02d}", code=f"TH-{n:02d}", bloc="Khối thôn")
    session.commit()
    admin = _admin(bot)
    await admin.says("/chuanop 1")
    first = html_to_plain(admin.new_messages[0].text)
    assert "32/34 đơn vị" in first and "Trang 1/3" in first
    assert "15. " in first and "16. " not in first
    await admin.presses("Sau »")
    second = admin.new_messages[0]
    assert second.replace
    assert "16. " in second.text and "Trang 2/3" in html_to_plain(second.text)
    assert {"« Trước", "Sau »", "🔔 Nhắc ngay"} <= set(admin.buttons)


async def test_officers_are_refused_and_never_see_phones(bot: TestBot, seeded: Deadline) -> None:
    officer = bot.person("201", "Lò Văn Tâm")
    await officer.says("/chuanop")
    assert officer.last_reply == "Lệnh này chỉ dành cho quản trị viên."
    assert "0977000111" not in officer.all_text
    await officer.presses_payload(f"adm-cn:{seeded.id}:2")
    assert "0977000111" not in officer.all_text


# --- /xem ---------------------------------------------------------------------------------
async def test_admin_reads_a_report_by_field_label_with_its_files(
    bot: TestBot, session: Session, settings: Settings, clock
) -> None:
    bot.core.services.forms = admin_forms.forms()
    campaign = make_campaign(session)
    deadline = make_deadline(session, campaign, form_code=admin_forms.FORM_CODE)
    unit = make_unit(session, "Xã Bình Lư", code="XA-001")
    report = make_report(session, unit, deadline, submitted_at=T0)
    stored_dir = Path(settings.storage_dir)
    (stored_dir / "2026").mkdir(parents=True)
    (stored_dir / "2026" / "a1b2.pdf").write_bytes(b"%PDF-1.4 bao cao")
    on_disk = Attachment(
        report_id=report.id,
        field_id="tep_bao_cao",
        channel="memory",
        file_id="gone",
        file_name="bao-cao-binh-lu.pdf",
        stored_path="2026/a1b2.pdf",
        created_at=T0,
    )
    by_channel = bot.channel.add_file(b"JPEGDATA", "anh.jpg", "image/jpeg")
    only_on_channel = Attachment(
        report_id=report.id,
        field_id="tep_bao_cao",
        channel="memory",
        file_id=by_channel.file_id,
        file_name="anh-khen-thuong.jpg",
        created_at=T0,
    )
    session.add_all([on_disk, only_on_channel])
    session.flush()
    report.answers = admin_forms.answers(
        file={"attachment_id": on_disk.id, "file_name": "bao-cao-binh-lu.pdf"},
        nominations=[
            {"ho_ten": "Lò Văn Tâm", "hinh_thuc_kt": "giay-khen", "ngay_sinh": "1985-04-25"},
            {"ho_ten": "Tổ phụ nữ", "hinh_thuc_kt": "bang-khen", "ngay_sinh": None},
        ],
    )
    session.commit()
    admin = _admin(bot)
    await admin.says("/xem xa-001")
    text, document = admin.new_messages
    plain = html_to_plain(text.text)
    assert "Xã Bình Lư (XA-001) — #1 Báo cáo thành tích" in plain
    assert "Đã nộp đúng hạn lúc 08:00 02/03/2026, lần nộp thứ 1." in plain
    assert "Số phong trào đã phát động: 3" in plain
    assert "Kinh phí (triệu đồng): 12,5" in plain
    assert "Ngày sơ kết: 10/03/2026" in plain
    assert "Hình thức tổ chức: Hội nghị; Trực tuyến" in plain
    assert "Đạt chỉ tiêu: Có" in plain
    assert "Tệp báo cáo: bao-cao-binh-lu.pdf" in plain
    assert "Đề nghị khen thưởng (2):" in plain
    assert (
        "1. Họ và tên: Lò Văn Tâm; Hình thức khen thưởng: Giấy khen; Ngày sinh: 25/04/1985" in plain
    )
    assert "2. Họ và tên: Tổ phụ nữ; Hình thức khen thưởng: Bằng khen" in plain
    assert document.document is not None
    assert document.document.file_name == "bao-cao-binh-lu.pdf"
    assert document.document.content == b"%PDF-1.4 bao cao"
    assert _actions(bot)[-1] == "admin.view_report"

    # Without a copy on disk the file is fetched from its channel; if that fails, it is said.
    with bot.db() as db:
        report_row = db.get(type(report), report.id)
        answers = dict(report_row.answers)
        answers["tep_bao_cao"] = {"attachment_id": only_on_channel.id, "file_name": "anh.jpg"}
        report_row.answers = answers
        db.commit()
    await admin.says("/xem XA-001 1")
    assert admin.new_messages[-1].document.content == b"JPEGDATA"
    bot.channel.files.clear()
    await admin.says("/xem XA-001 1")
    assert "Không lấy được tệp «anh-khen-thuong.jpg»" in admin.new_text


async def test_view_finds_units_by_name_and_says_what_is_not_submitted(
    bot: TestBot, seeded: Deadline
) -> None:
    admin = _admin(bot)
    await admin.says("/xem tam duong")
    assert "Thị trấn Tam Đường chưa nộp báo cáo nào." in admin.last_reply
    await admin.says("/xem TT-001 1")
    assert "chưa nộp #1 Báo cáo thành tích (Đang soạn)" in admin.last_reply
    await admin.says("/xem phong")  # Phòng Giáo dục, Phòng Y tế
    assert set(admin.buttons) == {"PGD — Phòng Giáo dục và Đào tạo", "PYT — Phòng Y tế"}
    await admin.presses("PGD")
    assert "Phòng Giáo dục và Đào tạo (PGD) — #1" in admin.new_text
    assert "Nộp trễ hạn lúc" in admin.new_text
    await admin.says("/xem không có")
    assert "Không tìm thấy đơn vị «không có»" in admin.new_text


# --- /xuat --------------------------------------------------------------------------------
async def test_export_sends_the_workbook_as_a_document(bot: TestBot, seeded: Deadline) -> None:
    admin = _admin(bot)
    await admin.says("/xuat")
    assert "Đang tạo tệp Excel của đợt 353/KH-UBND" in admin.last_reply
    await bot.core.wait_background()  # built after the update, off the event loop
    [_started, message] = admin.new_messages
    document = message.document
    assert document is not None
    assert document.file_name == "thi-dua-353-KH-UBND-2026-03-02.xlsx"
    assert document.caption == "Số liệu 353/KH-UBND đến 08:00 02/03/2026"
    book = openpyxl.load_workbook(io.BytesIO(document.content))
    assert book.sheetnames == ["Tình trạng nộp", "Báo cáo thành tích", "Đề nghị khen thưởng"]
    assert book["Đề nghị khen thưởng"]["E2"].value == "Lò Văn Tâm"
    assert _actions(bot)[-1] == "admin.export"
    await admin.says("/xuat 999/KH")
    assert "Không tìm thấy đợt thi đua «999/KH»" in admin.new_text


async def test_export_asks_which_campaign_when_several_run(
    bot: TestBot, seeded: Deadline, session: Session
) -> None:
    make_campaign(session, number="12/KH-UBND", name="Thi đua xây dựng nông thôn mới")
    session.commit()
    admin = _admin(bot)
    await admin.says("/xuat")
    assert len(admin.buttons) == 2
    await admin.presses("12/KH-UBND")
    await bot.core.wait_background()
    assert admin.new_messages[-1].document.file_name.startswith("thi-dua-12-KH-UBND")


# --- access and audit ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("command", "action"),
    [
        ("/tiendo", "admin.progress"),
        ("/chuanop", "admin.missing"),
        ("/xem XA-001", "admin.view_report"),
        ("/xuat", "admin.export"),
        ("/thongbao", None),  # audited when sent: see test_admin_broadcast
    ],
)
async def test_every_admin_command_is_admin_only_and_audited(
    bot: TestBot, seeded: Deadline, command: str, action: str | None
) -> None:
    officer = bot.person("201", "Lò Văn Tâm")
    await officer.says(command)
    assert officer.last_reply == "Lệnh này chỉ dành cho quản trị viên."
    with bot.db() as db:
        denied = db.exec(select(AuditLog).where(AuditLog.outcome == "denied")).one()
    assert denied.target_id == command.split()[0] and denied.actor == "memory:201"

    admin = _admin(bot)
    await admin.says(command)
    assert "chỉ dành cho quản trị viên" not in admin.new_text
    if action is not None:
        with bot.db() as db:
            row = db.exec(select(AuditLog).where(AuditLog.action == action)).one()
        assert row.actor == f"memory:{ADMIN_USER_ID}" and row.outcome == "ok"


async def test_admin_help_lists_the_oversight_commands(bot: TestBot, seeded: Deadline) -> None:
    admin = _admin(bot)
    await admin.says("/trogiup")
    for command in ("/tiendo", "/chuanop", "/xem", "/xuat", "/thongbao"):
        assert command in admin.last_reply
    officer = bot.person("201")
    await officer.says("/trogiup")
    assert "/tiendo" not in officer.last_reply
