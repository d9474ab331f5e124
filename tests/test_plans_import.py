"""/nhapkehoach: an admin sends a plan document, checks the proposal, edits it and accepts;
only then are a draft campaign and its deadlines created. Also the refusals (wrong files,
officers, stale buttons) and `thidua-bot plan parse`."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
from sqlmodel import select

from bot.cli import main
from bot.runtime import build_core
from domain.plan_parser import PlanProposal, ProposedDeadline, parse_plan
from domain.plans import PlanNotReady, create_campaign_from_plan, due_at
from domain.scope import DEFAULT_SCOPE
from models.audit import AuditLog
from models.campaigns import Campaign, CampaignStatus, Deadline, DeadlineKind
from models.conversation import ConversationState
from tests.utils.factories import make_member, make_unit
from tests.utils.ids import ADMIN_USER_ID
from tests.utils.plan_files import DATA, make_docx, make_pdf, plan_text
from tests.utils.scenario import Person, TestBot

COMMUNE = "ke-hoach-xa-27-KH-UBND-2026.txt"
PROVINCE = "ke-hoach-tinh-45-KH-UBND-2026.txt"


async def send_plan(admin: Person, name: str = COMMUNE, fmt: str = "txt") -> None:
    text = plan_text(name)
    content = {"txt": text.encode(), "docx": make_docx(text), "pdf": make_pdf(text)}[fmt]
    await admin.says("/nhapkehoach")
    assert "Gửi tệp kế hoạch" in admin.last_reply
    await admin.sends_file(content, f"ke-hoach.{fmt}")


def campaigns(bot: TestBot) -> list[Campaign]:
    with bot.db() as db:
        return list(db.exec(select(Campaign)).all())


def deadlines(bot: TestBot) -> list[Deadline]:
    with bot.db() as db:
        return list(db.exec(select(Deadline).order_by(Deadline.due_at)).all())


# --- the whole conversation --------------------------------------------------------------------


async def test_admin_imports_a_plan_edits_it_and_gets_a_draft_campaign(bot: TestBot) -> None:
    admin = bot.person(ADMIN_USER_ID, "Trưởng phòng Nội vụ")
    await send_plan(admin)
    [proposal] = admin.new_messages
    text = admin.last_reply
    assert "Số: 27/KH-UBND" in text
    assert "Cơ quan ban hành: UBND xã Bình Lư" in text
    assert "Ban hành: Bình Lư, 03/03/2026" in text
    assert "Thời gian đợt thi đua: 03/03/2026 – 15/12/2026" in text
    assert "Kế hoạch số 45/KH-UBND ngày 15/01/2026 của UBND tỉnh Lai Châu" in text
    assert "2. Đăng ký thi đua: 16:30 ngày 20/03/2026" in text
    assert "⚠️ trước ngày ban hành kế hoạch" in text  # mốc 1: 25/02, before 03/03
    assert '"Gia đình văn hóa"' in proposal.text  # quotes escaped only where HTML needs it
    assert {"✅ Tạo đợt thi đua", "Sửa ngày ban hành", "Bỏ mốc 1", "Bỏ mốc 5", "Huỷ"} <= set(
        admin.buttons
    )
    assert all(len(p.encode()) <= 64 for p in proposal.button_payloads())
    assert campaigns(bot) == []  # nothing is created before accepting

    await admin.presses("Bỏ mốc 1")
    assert "trước ngày ban hành" not in admin.last_reply
    assert "Bỏ mốc 1" not in admin.buttons and "Bỏ mốc 2" in admin.buttons
    assert admin.new_messages[0].replace  # the proposal is updated in place

    await admin.presses("Sửa ngày ban hành")
    assert "Gõ ngày ban hành. Hiện tại: 03/03/2026" in admin.last_reply
    await admin.says("31/4/2026")
    assert "không có trong lịch" in admin.new_text and "25/4/2026" in admin.new_text
    assert "Gõ ngày ban hành" in admin.last_reply  # asked again
    await admin.says("02/3/2026")
    assert "Ban hành: Bình Lư, 02/03/2026" in admin.last_reply

    await admin.presses("Tạo đợt thi đua")
    assert "nháp" in admin.last_reply and "kích hoạt" in admin.last_reply

    [campaign] = campaigns(bot)
    assert campaign.status == CampaignStatus.DRAFT
    assert campaign.document_number == "27/KH-UBND"
    assert campaign.issuing_body == "UBND xã Bình Lư"
    assert campaign.issued_on == date(2026, 3, 2)
    assert (campaign.starts_on, campaign.ends_on) == (date(2026, 3, 3), date(2026, 12, 15))
    assert campaign.name.startswith("Phát động phong trào thi đua")
    assert campaign.description == ("Kế hoạch số 45/KH-UBND ngày 15/01/2026 của UBND tỉnh Lai Châu")
    assert [(d.kind, d.form_code, d.due_at) for d in deadlines(bot)] == [
        (DeadlineKind.REGISTRATION, "dang-ky-thi-dua", datetime(2026, 3, 20, 9, 30, tzinfo=UTC)),
        (DeadlineKind.PRELIMINARY, "bao-cao-thanh-tich", datetime(2026, 6, 15, 10, tzinfo=UTC)),
        (DeadlineKind.FINAL, "bao-cao-thanh-tich", datetime(2026, 12, 5, 10, tzinfo=UTC)),
        (DeadlineKind.NOMINATION, "de-nghi-khen-thuong", datetime(2026, 12, 10, 10, tzinfo=UTC)),
    ]
    with bot.db() as db:
        entry = db.exec(select(AuditLog).where(AuditLog.action == "campaign.import_plan")).one()
        state = db.exec(select(ConversationState)).one()
    assert entry.target_id == str(campaign.id)
    assert entry.detail == {
        "document_number": "27/KH-UBND",
        "deadlines": 4,
        "dropped_deadlines": 1,
        "edited_deadlines": 0,
        "recurring_deadlines": 0,
        "tentative_deadlines": 0,
    }
    assert state.flow is None


@pytest.mark.parametrize("fmt", ["docx", "pdf"])
async def test_word_and_pdf_plans_are_read_the_same(bot: TestBot, fmt: str) -> None:
    admin = bot.person(ADMIN_USER_ID)
    await send_plan(admin, PROVINCE, fmt)
    assert "Số: 45/KH-UBND" in admin.last_reply
    assert "Cơ quan ban hành: UBND tỉnh Lai Châu" in admin.last_reply
    assert "4. Hồ sơ đề nghị khen thưởng: 17:00 ngày 10/12/2026" in admin.last_reply
    await admin.presses("Tạo đợt thi đua")
    await admin.presses("Vẫn tạo")  # registration (28/02) has passed on 02/03
    assert len(deadlines(bot)) == 4


async def test_flagged_deadlines_need_a_second_yes(bot: TestBot) -> None:
    admin = bot.person(ADMIN_USER_ID)
    await send_plan(admin)
    await admin.presses("Tạo đợt thi đua")
    assert "Còn 1 mốc có cảnh báo" in admin.last_reply
    assert campaigns(bot) == []
    await admin.presses("Quay lại")
    assert "Bỏ mốc 1" in admin.buttons
    await admin.presses("Tạo đợt thi đua")
    await admin.presses("Vẫn tạo")
    assert "nháp" in admin.last_reply
    assert len(deadlines(bot)) == 5


async def test_the_proposal_survives_a_restart(
    bot: TestBot, settings, engine, clock, channel
) -> None:
    admin = bot.person(ADMIN_USER_ID)
    await send_plan(admin)
    await admin.presses("Bỏ mốc 1")
    restarted = build_core(settings, engine=engine, clock=clock, migrate=False)
    restarted.hub.register(channel)
    admin.bot = TestBot(restarted, channel)
    await admin.presses("Tạo đợt thi đua")
    assert "nháp" in admin.last_reply
    assert len(deadlines(bot)) == 4


async def test_cancel_creates_nothing_and_old_buttons_go_stale(bot: TestBot) -> None:
    admin = bot.person(ADMIN_USER_ID)
    await send_plan(admin)
    await admin.presses("Huỷ")
    assert "Đã huỷ" in admin.last_reply
    await admin.presses("Tạo đợt thi đua")
    assert "Nút này đã cũ" in admin.last_reply
    assert campaigns(bot) == []


async def test_buttons_of_an_older_proposal_do_not_touch_a_newer_one(bot: TestBot) -> None:
    admin = bot.person(ADMIN_USER_ID)
    await send_plan(admin)
    old_drop = admin.find_button("Bỏ mốc 2").payload
    await send_plan(admin, PROVINCE)
    await admin.presses_payload(old_drop)
    assert "Nút này đã cũ" in admin.last_reply
    await admin.presses_payload("kh:rm:forged:2")
    assert "Nút này đã cũ" in admin.last_reply
    await admin.presses("Tạo đợt thi đua")
    await admin.presses("Vẫn tạo")
    assert len(deadlines(bot)) == 4  # the provincial plan, untouched


async def test_editing_fields_validates_what_is_typed(bot: TestBot) -> None:
    admin = bot.person(ADMIN_USER_ID)
    await send_plan(admin)
    await admin.presses("Sửa số")
    await admin.says("hai mươi bảy")
    assert "353/KH-UBND" in admin.new_text  # the example
    await admin.says("28 / kh-ubnd")
    assert "Số: 28/KH-UBND" in admin.last_reply
    await admin.presses("Sửa ngày kết thúc")
    await admin.says("01/01/2026")
    assert "phải sau ngày bắt đầu (03/03/2026)" in admin.new_text
    await admin.presses("Quay lại")
    await admin.presses("Sửa tên")
    await admin.says("Thi đua <b>2026</b>")
    assert "Tên: Thi đua <b>2026</b>" in admin.last_reply  # shown as typed, not as markup
    await admin.presses("Sửa cơ quan")
    await admin.says("UBND xã Bình Lư, tỉnh Lai Châu")
    assert "Cơ quan ban hành: UBND xã Bình Lư, tỉnh Lai Châu" in admin.last_reply
    await admin.says("gõ chữ thay vì bấm nút")
    assert "Hãy chọn bằng các nút" in admin.new_text
    assert "Đề xuất đợt thi đua" in admin.last_reply


async def test_admin_edits_proposed_deadlines_and_the_campaign_gets_the_edits(
    bot: TestBot,
) -> None:
    admin = bot.person(ADMIN_USER_ID)
    await send_plan(admin)
    assert {"✏️ Sửa mốc 1", "✏️ Sửa mốc 5"} <= set(admin.buttons)

    await admin.presses("Sửa mốc 1")
    assert "Loại: Mốc khác" in admin.last_reply
    assert "Hạn: 17:00 ngày 25/02/2026" in admin.last_reply
    await admin.presses("Sửa ngày")
    assert "Gõ ngày mới cho mốc 1. Hiện tại: 25/02/2026" in admin.last_reply
    await admin.says("31/4/2026")
    assert "không có trong lịch" in admin.new_text and "25/4/2026" in admin.new_text
    assert "Gõ ngày mới cho mốc 1" in admin.last_reply  # the same question
    await admin.says("ngày 15 tháng 3 năm 2026")
    assert "Hạn: 17:00 ngày 15/03/2026" in admin.last_reply

    await admin.presses("Sửa loại")
    assert "Hiện tại: Mốc khác" in admin.last_reply
    kinds = {"Đăng ký thi đua", "Báo cáo sơ kết", "Báo cáo tổng kết", "Mốc khác"}
    assert kinds <= set(admin.buttons)
    assert all(len(p.encode()) <= 64 for p in admin.new_messages[-1].button_payloads())
    await admin.presses("Báo cáo sơ kết")
    assert admin.new_messages[0].replace  # the kind question turns back into the menu
    assert "Loại: Báo cáo sơ kết" in admin.last_reply

    await admin.presses("Sửa tên mốc")
    await admin.says("x")
    assert "từ 2 đến 300 ký tự" in admin.new_text and "Báo cáo sơ kết 6 tháng" in admin.new_text
    assert "Gõ tên mới cho mốc 1" in admin.last_reply
    await admin.says("Sơ kết bình xét Gia đình văn hóa")
    assert "Tên: Sơ kết bình xét Gia đình văn hóa" in admin.last_reply

    await admin.presses("Quay lại đề xuất")
    text = admin.last_reply
    assert "1. Báo cáo sơ kết: 17:00 ngày 15/03/2026" in text
    assert "Sơ kết bình xét Gia đình văn hóa" in text
    assert "trước ngày ban hành" not in text

    # A year-less date takes the deadline's year; "Quay lại" and /huy keep what was saved.
    await admin.presses("Sửa mốc 4")
    await admin.presses("Sửa ngày")
    await admin.says("20/11")
    await admin.presses("Sửa loại")
    await admin.presses("Quay lại")
    assert "Sửa mốc 4" in admin.last_reply and "Loại: Báo cáo tổng kết" in admin.last_reply
    await admin.presses("Sửa tên mốc")
    await admin.says("/huy")
    assert "Đã thôi sửa" in admin.new_text
    text = admin.last_reply
    assert "4. Báo cáo tổng kết: 17:00 ngày 20/11/2026" in text
    assert "1. Báo cáo sơ kết: 17:00 ngày 15/03/2026" in text  # the earlier edit is kept

    await admin.presses("Tạo đợt thi đua")
    assert "nháp" in admin.last_reply  # no warning left: mốc 1 is after the issue date now
    [campaign] = campaigns(bot)
    rows = [(d.kind, d.title, d.form_code, d.due_at) for d in deadlines(bot)]
    assert rows == [
        (
            DeadlineKind.PRELIMINARY,
            "Sơ kết bình xét Gia đình văn hóa",
            "bao-cao-thanh-tich",
            datetime(2026, 3, 15, 10, tzinfo=UTC),
        ),
        (
            DeadlineKind.REGISTRATION,
            "Đăng ký thi đua",
            "dang-ky-thi-dua",
            datetime(2026, 3, 20, 9, 30, tzinfo=UTC),
        ),
        (
            DeadlineKind.PRELIMINARY,
            "Báo cáo sơ kết",
            "bao-cao-thanh-tich",
            datetime(2026, 6, 15, 10, tzinfo=UTC),
        ),
        (
            DeadlineKind.FINAL,
            "Báo cáo tổng kết, thành tích",
            "bao-cao-thanh-tich",
            datetime(2026, 11, 20, 10, tzinfo=UTC),
        ),
        (
            DeadlineKind.NOMINATION,
            "Hồ sơ đề nghị khen thưởng",
            "de-nghi-khen-thuong",
            datetime(2026, 12, 10, 10, tzinfo=UTC),
        ),
    ]
    assert {d.campaign_id for d in deadlines(bot)} == {campaign.id}
    with bot.db() as db:
        entry = db.exec(select(AuditLog).where(AuditLog.action == "campaign.import_plan")).one()
    assert (entry.detail["edited_deadlines"], entry.detail["dropped_deadlines"]) == (2, 0)


async def test_a_standard_title_follows_the_kind_and_a_renamed_one_is_shown(
    bot: TestBot,
) -> None:
    admin = bot.person(ADMIN_USER_ID)
    await send_plan(admin)
    await admin.presses("Sửa mốc 3")
    await admin.presses("Sửa loại")
    await admin.presses("Báo cáo tổng kết")
    assert "Tên: Báo cáo tổng kết, thành tích" in admin.last_reply
    await admin.presses("Sửa tên mốc")
    await admin.says("Tổng kết năm học")
    await admin.presses("Sửa loại")
    await admin.presses("Hồ sơ đề nghị khen thưởng")
    assert "Tên: Tổng kết năm học" in admin.last_reply  # typed by the admin: kept
    await admin.presses("Quay lại đề xuất")
    assert "3. Hồ sơ đề nghị khen thưởng: 17:00 ngày 15/06/2026\n    Tổng kết năm học" in (
        admin.last_reply
    )


async def test_a_deadline_edit_survives_a_restart(
    bot: TestBot, settings, engine, clock, channel
) -> None:
    admin = bot.person(ADMIN_USER_ID)
    await send_plan(admin)
    await admin.presses("Bỏ mốc 1")
    await admin.presses("Sửa mốc 2")
    await admin.presses("Sửa ngày")
    restarted = build_core(settings, engine=engine, clock=clock, migrate=False)
    restarted.hub.register(channel)
    admin.bot = TestBot(restarted, channel)
    await admin.says("25/3/2026")
    assert "Hạn: 16:30 ngày 25/03/2026" in admin.last_reply  # the plan's time is kept
    await admin.presses("Quay lại đề xuất")
    assert "Bỏ mốc 1" not in admin.buttons  # the drop before the restart is kept too
    await admin.presses("Tạo đợt thi đua")
    rows = deadlines(bot)
    assert (rows[0].due_at, len(rows)) == (datetime(2026, 3, 25, 9, 30, tzinfo=UTC), 4)


async def test_edit_buttons_of_a_dropped_deadline_or_an_old_proposal_are_refused(
    bot: TestBot,
) -> None:
    admin = bot.person(ADMIN_USER_ID)
    await send_plan(admin)
    edit_one = admin.find_button("Sửa mốc 1").payload
    await admin.presses("Bỏ mốc 1")
    await admin.presses_payload(edit_one)
    assert "Mốc 1 không còn trong đề xuất" in admin.new_text
    assert "Đề xuất đợt thi đua" in admin.last_reply
    await admin.presses("Sửa mốc 2")
    await admin.presses("Sửa loại")
    set_kind = admin.find_button("Mốc khác").payload
    await admin.presses("Quay lại")
    await send_plan(admin, PROVINCE)
    await admin.presses_payload(set_kind)
    assert "Nút này đã cũ" in admin.last_reply
    await admin.presses("Sửa mốc 1")
    await admin.presses("Sửa loại")
    await admin.says("Báo cáo sơ kết")  # typed instead of pressed
    assert "Hãy chọn bằng các nút" in admin.new_text
    assert "Chọn loại cho mốc 1" in admin.last_reply


async def test_huy_leaves_an_edit_and_outside_one_cancels_the_import(bot: TestBot) -> None:
    admin = bot.person(ADMIN_USER_ID)
    await send_plan(admin)
    await admin.presses("Sửa số")
    await admin.says("/huy")
    assert "Đã thôi sửa" in admin.new_text and "Số: 27/KH-UBND" in admin.last_reply
    await admin.says("/huy")
    assert "Đã huỷ, không tạo đợt thi đua nào" in admin.last_reply
    await admin.presses("Sửa mốc 1")
    assert "Nút này đã cũ" in admin.last_reply
    assert campaigns(bot) == []


async def test_a_plan_without_a_number_asks_for_one_before_creating(bot: TestBot) -> None:
    admin = bot.person(ADMIN_USER_ID)
    text = "\n".join(line for line in plan_text(COMMUNE).split("\n") if "Số:" not in line)
    await admin.says("/nhapkehoach")
    await admin.sends_file(text.encode(), "ke-hoach.txt")
    assert "Số: chưa rõ" in admin.last_reply
    await admin.presses("Tạo đợt thi đua")
    assert "Chưa có số kế hoạch" in admin.new_text
    await admin.presses("Sửa số")
    await admin.says("27/KH-UBND")
    await admin.presses("Tạo đợt thi đua")
    await admin.presses("Vẫn tạo")
    assert [c.document_number for c in campaigns(bot)] == ["27/KH-UBND"]


async def test_the_same_plan_is_not_imported_twice(bot: TestBot) -> None:
    admin = bot.person(ADMIN_USER_ID)
    await send_plan(admin, PROVINCE)
    await admin.presses("Tạo đợt thi đua")
    await admin.presses("Vẫn tạo")
    await send_plan(admin, PROVINCE)
    await admin.presses("Tạo đợt thi đua")
    assert "đã được nhập thành đợt thi đua" in admin.new_text
    assert len(campaigns(bot)) == 1


# --- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "name", "expected"),
    [
        (b"", "ke-hoach.txt", "Tệp trống"),
        (bytes(range(256)) * 40, "ke-hoach.docx", "bị hỏng hoặc không phải tệp Word"),
        (b"a" * (50 * 1024 * 1024), "ke-hoach.txt", "tối đa 20 MB"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "ke-hoach.doc", "lưu thành .docx"),
    ],
)
async def test_bad_files_are_refused_and_the_bot_asks_again(
    bot: TestBot, content: bytes, name: str, expected: str
) -> None:
    admin = bot.person(ADMIN_USER_ID)
    await admin.says("/nhapkehoach")
    await admin.sends_file(content, name)
    assert expected in admin.new_text
    assert "Gửi tệp kế hoạch" in admin.last_reply  # the same question, nothing lost
    await admin.sends_file(plan_text(PROVINCE).encode(), "ke-hoach.txt")
    assert "Số: 45/KH-UBND" in admin.last_reply


async def test_text_without_anything_useful_suggests_dotmoi(bot: TestBot) -> None:
    admin = bot.person(ADMIN_USER_ID)
    await admin.says("/nhapkehoach")
    await admin.sends_file("Kính gửi các đơn vị, xin cảm ơn.".encode(), "thu.txt")
    assert "/dotmoi" in admin.new_text
    await admin.says("đây là chữ, không phải tệp")
    assert "tệp đính kèm" in admin.new_text


async def test_officers_cannot_import_plans(bot: TestBot) -> None:
    with bot.db() as db:
        make_member(db, "300", unit=make_unit(db))
        db.commit()
    officer = bot.person("300")
    await officer.says("/nhapkehoach")
    assert "chỉ dành cho quản trị viên" in officer.last_reply
    await officer.presses_payload("kh:ok:00000000")
    assert "chỉ dành cho quản trị viên" in officer.last_reply


async def test_help_shows_the_command_to_admins(bot: TestBot) -> None:
    admin = bot.person(ADMIN_USER_ID)
    await admin.says("/trogiup")
    assert "/nhapkehoach — tạo đợt thi đua từ tệp kế hoạch" in admin.last_reply


def test_a_long_proposal_still_fits_one_telegram_message() -> None:
    from handlers.plans import render_proposal

    sentence = "Các đơn vị gửi báo cáo tổng kết về Sở Nội vụ " + "rất dài " * 60
    lines = [f"{sentence} trước ngày {day}/5/2026." for day in range(1, 29)]
    proposal = parse_plan("Lai Châu, ngày 02 tháng 01 năm 2026\n" + "\n".join(lines))
    assert len(proposal.deadlines) == 20  # the first twenty, in date order
    text = render_proposal(proposal, today=date(2026, 1, 2))
    assert len(text) <= 4096
    assert "20. <b>Báo cáo tổng kết</b>: 17:00 ngày 20/05/2026" in text
    assert "Còn 8 mốc nữa" in text


# --- the domain function -----------------------------------------------------------------------


def test_due_instants_are_17_00_local_stored_in_utc() -> None:
    deadline = ProposedDeadline(1, "final", "Báo cáo", date(2026, 5, 15), "…")
    assert due_at(deadline, "Asia/Ho_Chi_Minh") == datetime(2026, 5, 15, 10, 0, tzinfo=UTC)
    deadline.due_time = time(8, 0)
    assert due_at(deadline, "Asia/Ho_Chi_Minh") == datetime(2026, 5, 15, 1, 0, tzinfo=UTC)


def test_a_campaign_needs_a_name_and_sensible_dates(session) -> None:
    now = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    proposal = PlanProposal(document_number="1/KH-UBND")
    with pytest.raises(PlanNotReady) as caught:
        create_campaign_from_plan(
            session, proposal=proposal, scope=DEFAULT_SCOPE, actor=None, now=now, timezone="UTC"
        )
    assert caught.value.reason == "missing_name"
    proposal = parse_plan(plan_text(PROVINCE))
    proposal.starts_on, proposal.ends_on = date(2026, 5, 1), date(2026, 4, 1)
    with pytest.raises(PlanNotReady) as caught:
        create_campaign_from_plan(
            session, proposal=proposal, scope=DEFAULT_SCOPE, actor=None, now=now, timezone="UTC"
        )
    assert caught.value.reason == "end_before_start"
    assert session.exec(select(Campaign)).all() == []


# --- the command line --------------------------------------------------------------------------


@pytest.fixture
def quiet_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    """main() sets up logging for a real run; keep pytest's own logging as it is."""
    monkeypatch.setattr("bot.logging_setup.setup_logging", lambda *a, **k: None)


def test_cli_prints_what_the_plan_says(
    quiet_cli: None, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "ke-hoach.docx"
    path.write_bytes(make_docx(plan_text("ke-hoach-353-KH-UBND-2019.txt")))
    assert main(["plan", "parse", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Số: 353/KH-UBND" in out
    assert "Ban hành: Tam Đường, 25/04/2019" in out
    assert "Kế hoạch số 524/KH-UBND ngày 08/04/2019 của UBND tỉnh Lai Châu" in out
    assert "<b>" not in out


def test_cli_lists_deadlines_and_refuses_bad_files(
    quiet_cli: None, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["plan", "parse", str(DATA / PROVINCE)]) == 0
    assert "1. Đăng ký thi đua: 17:00 ngày 28/02/2026" in capsys.readouterr().out
    scanned = tmp_path / "scan.pdf"
    scanned.write_bytes(b"%PDF-1.4\n%%EOF\n")
    assert main(["plan", "parse", str(scanned)]) == 1
    assert "PDF" in capsys.readouterr().err
    assert main(["plan", "parse", str(tmp_path / "khong-co.txt")]) == 1
    assert "Không đọc được tệp" in capsys.readouterr().err


# --- yearly, tentative and relative deadlines; hostile files (issues 22 and 16) -----------------

YEARLY_PLAN = """UBND TỈNH LAI CHÂU
SỞ NỘI VỤ
Số: 77/HD-SNV
Lai Châu, ngày 04 tháng 5 năm 2026
HƯỚNG DẪN
Thời hạn trình khen thưởng năm 2026
1. Hồ sơ đề nghị khen thưởng theo năm học gửi về Sở Nội vụ trước ngày 10/8 hằng năm.
2. Dự kiến tổ chức hội nghị sơ kết trong quý III/2026.
3. Hồ sơ khen thưởng chuyên đề gửi trước ngày trao thưởng ít nhất 07 ngày.
"""


async def test_yearly_and_tentative_deadlines_are_marked_and_a_note_gets_a_date(
    bot: TestBot,
) -> None:
    admin = bot.person(ADMIN_USER_ID)
    await admin.says("/nhapkehoach")
    await admin.sends_file(YEARLY_PLAN.encode(), "huong-dan.txt")
    text = admin.last_reply
    assert "Số: 77/HD-SNV" in text and "Tên: Thời hạn trình khen thưởng năm 2026" in text
    assert "🔁 lặp lại hằng năm" in text
    assert "30/09/2026" in text and "⏳ dự kiến" in text
    assert "Ghi chú" in text and "trao thưởng ít nhất 07 ngày" in text
    assert "📅 Đặt ngày ghi chú 1" in admin.buttons

    await admin.presses("Đặt ngày ghi chú 1")
    assert "Gõ ngày hạn cụ thể" in admin.last_reply
    await admin.says("30/2/2026")
    assert "không có trong lịch" in admin.new_text  # asked again, nothing changed
    await admin.says("20/11/2026")
    assert "Ghi chú 1 đã thành mốc 3" in admin.new_text
    assert "3. Mốc khác: 17:00 ngày 20/11/2026" in admin.last_reply
    assert "📅 Đặt ngày ghi chú 1" not in admin.buttons

    # The admin may take a mark off: here the quarter's "dự kiến", then keep it after all.
    await admin.presses("Sửa mốc 2")
    assert "⏳ Dự kiến" in admin.last_reply
    await admin.presses("Không phải dự kiến")
    assert "⏳ Dự kiến" not in admin.last_reply
    assert "Không phải dự kiến" not in admin.buttons
    await admin.presses("Quay lại đề xuất")
    assert "⏳ dự kiến" not in admin.last_reply

    await admin.presses("Tạo đợt thi đua")
    titles = [d.title for d in deadlines(bot)]
    assert any(t.endswith("(lặp lại hằng năm)") and "năm học" in t for t in titles)
    assert not any(t.endswith("(dự kiến)") for t in titles)
    assert any("trao thưởng ít nhất 07 ngày" in t for t in titles)
    with bot.db() as db:
        entry = db.exec(select(AuditLog).where(AuditLog.action == "campaign.import_plan")).one()
    assert entry.detail["recurring_deadlines"] == 1
    assert entry.detail["tentative_deadlines"] == 0
    assert entry.detail["edited_deadlines"] == 1
    assert entry.detail["dropped_deadlines"] == 0


async def test_a_zip_bomb_docx_gets_a_clear_refusal_and_the_question_again(bot: TestBot) -> None:
    import io
    import zipfile

    buffer = io.BytesIO(make_docx(plan_text(COMMUNE)))
    with (
        zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open("customXml/item9.xml", "w", force_zip64=True) as stream,
    ):
        for _ in range(200):
            stream.write(b"\0" * (1024 * 1024))
    admin = bot.person(ADMIN_USER_ID)
    await admin.says("/nhapkehoach")
    await admin.sends_file(buffer.getvalue(), "ke-hoach.docx")
    assert "độc hại" in admin.new_text
    await admin.sends_file(make_docx(plan_text(COMMUNE)), "ke-hoach.docx")
    assert "Số: 27/KH-UBND" in admin.last_reply  # the same flow goes on


def test_cli_output_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "huong-dan.txt"
    path.write_text(YEARLY_PLAN * 600, encoding="utf-8")  # past a pipe buffer
    command = (
        f"{sys.executable} -m bot.cli plan parse {path} --text | head -1; exit ${{PIPESTATUS[0]}}"
    )
    done = subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.stdout.strip() == "UBND TỈNH LAI CHÂU"
    assert "BrokenPipeError" not in done.stderr and "Traceback" not in done.stderr
    assert done.returncode == 0
