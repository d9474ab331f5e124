"""Admins run campaigns and deadlines by talking to the bot: /dotmoi, /hanmoi, /dotthidua,
editing, activating and closing — with Vietnamese dates, buttons and the audit trail."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlmodel import select

from bot.clock import ManualClock
from bot.router import make_payload
from models.audit import AuditLog
from models.campaigns import Campaign, CampaignParticipant, CampaignStatus, Deadline
from tests.utils.factories import make_campaign, make_deadline, make_member, make_report, make_unit
from tests.utils.ids import ADMIN_USER_ID
from tests.utils.reminders import local
from tests.utils.scenario import Person, TestBot


def _admin(bot: TestBot) -> Person:
    return bot.person(ADMIN_USER_ID, "Trưởng phòng Nội vụ")


def _campaigns(bot: TestBot) -> list[Campaign]:
    with bot.db() as db:
        return list(db.exec(select(Campaign).order_by(Campaign.id)).all())


def _actions(bot: TestBot) -> list[str]:
    with bot.db() as db:
        return [a.action for a in db.exec(select(AuditLog).order_by(AuditLog.id)).all()]


async def _answer_campaign_questions(admin: Person) -> None:
    await admin.says("/dotmoi")
    assert "Số hiệu văn bản" in admin.last_reply
    await admin.says("353/KH-UBND")
    await admin.says(
        "Đợt thi đua chào mừng Hội nghị điển hình tiên tiến lần thứ V và Đại hội Đảng các cấp"
    )
    await admin.says("UBND huyện Tam Đường")
    await admin.says("25 tháng 4 năm 2019")
    await admin.says("25/4/2019")
    await admin.says("30-09-2019")
    assert "Đơn vị nào tham gia" in admin.last_reply


async def test_dotmoi_creates_a_draft_and_activates_only_after_confirmation(
    bot: TestBot,
) -> None:
    with bot.db() as db:
        make_unit(db, "Xã Bình Lư")
        make_unit(db, "Xã Bản Bo")
        db.commit()
    admin = _admin(bot)
    await _answer_campaign_questions(admin)
    await admin.presses("Tất cả đơn vị")
    summary = admin.last_reply
    assert "Số hiệu: 353/KH-UBND" in summary
    assert "Ngày ban hành: 25/04/2019" in summary
    assert "Thời gian: 25/04/2019 – 30/09/2019" in summary
    assert "tất cả đơn vị (2)" in summary
    await admin.presses("Lưu nháp")
    assert "Đã lưu nháp" in admin.last_reply
    (campaign,) = _campaigns(bot)
    assert (campaign.status, campaign.document_number, campaign.issuing_body) == (
        CampaignStatus.DRAFT,
        "353/KH-UBND",
        "UBND huyện Tam Đường",
    )
    assert (campaign.issued_on, campaign.ends_on) == (date(2019, 4, 25), date(2019, 9, 30))

    await admin.says("/dotthidua")
    assert "353/KH-UBND" in admin.last_reply and "nháp" in admin.last_reply
    await admin.presses("353/KH-UBND")
    await admin.presses("Kích hoạt")
    assert "Kích hoạt đợt thi đua" in admin.last_reply  # asks first
    assert _campaigns(bot)[0].status == CampaignStatus.DRAFT
    await admin.presses("Kích hoạt")
    assert "Đã kích hoạt" in admin.last_reply
    campaign = _campaigns(bot)[0]
    assert campaign.status == CampaignStatus.ACTIVE and campaign.activated_at is not None
    assert _actions(bot)[-2:] == ["campaign.create", "campaign.activate"]


async def test_dotmoi_explains_a_bad_date_and_asks_again(bot: TestBot) -> None:
    admin = _admin(bot)
    await admin.says("/dotmoi")
    await admin.says("353/KH-UBND")
    await admin.says("Đợt thi đua đặc biệt")
    await admin.presses("Bỏ qua")
    await admin.says("31/4/2019")
    texts = [m.text for m in admin.new_messages]
    assert "Tháng đó không có ngày này" in texts[0] and "<code>25/4/2019</code>" in texts[0]
    assert texts[1].startswith("Kế hoạch ban hành ngày nào?")
    await admin.says("/boqua")
    await admin.says("1/5/2019")
    await admin.says("30/4/2019")
    assert "Ngày kết thúc phải từ ngày bắt đầu (01/05/2019)" in admin.new_text
    await admin.says("/quaylai")
    assert "bắt đầu từ ngày nào" in admin.last_reply


async def test_dotmoi_with_chosen_blocs_and_units_saved_active(bot: TestBot) -> None:
    with bot.db() as db:
        make_unit(db, "Xã Bình Lư", bloc="Khối xã, thị trấn")
        make_unit(db, "Phòng Giáo dục", bloc="Khối cơ quan")
        school = make_unit(db, "Trường THCS Bình Lư", bloc="Khối trường học")
        db.commit()
        school_id = school.id
    admin = _admin(bot)
    await _answer_campaign_questions(admin)
    await admin.presses("Chọn khối")
    await admin.presses("Khối cơ quan")
    assert "✅ Khối cơ quan" in admin.buttons
    await admin.presses("Khối xã")
    await admin.presses("Khối xã")  # chosen, then unchosen
    await admin.presses("Xong")
    assert "khối Khối cơ quan" in admin.last_reply
    await admin.presses("Lưu và kích hoạt")
    assert "Đã tạo và kích hoạt" in admin.last_reply
    campaign = _campaigns(bot)[0]
    assert (campaign.status, campaign.participants) == (CampaignStatus.ACTIVE, "selected")
    with bot.db() as db:
        rows = db.exec(select(CampaignParticipant)).all()
    assert [(r.bloc, r.unit_id) for r in rows] == [("Khối cơ quan", None)]

    # Editing the participants: one chosen unit instead.
    await admin.presses_payload(make_payload("dot", "ef", campaign.id, "participants"))
    await admin.presses("Chọn từng đơn vị")
    await admin.presses("Trường THCS")
    await admin.presses("Xong")
    assert "1 đơn vị: Trường THCS Bình Lư" in admin.all_text
    with bot.db() as db:
        rows = db.exec(select(CampaignParticipant)).all()
    assert [(r.bloc, r.unit_id) for r in rows] == [(None, school_id)]
    assert "campaign.participants" in _actions(bot)


async def test_hanmoi_adds_a_deadline_at_17h_with_the_default_reminders(
    bot: TestBot, clock: ManualClock
) -> None:
    with bot.db() as db:
        make_campaign(db, number="353/KH-UBND")
        db.commit()
    admin = _admin(bot)
    await admin.says("/hanmoi")
    await admin.presses("353/KH-UBND")
    await admin.presses("Báo cáo sơ kết")
    await admin.presses("Dùng «Báo cáo sơ kết»")
    await admin.says("16 tháng 3 năm 2026")
    await admin.presses("17:00")
    assert "⭐ Báo cáo thành tích" in admin.buttons  # suggested for this kind
    await admin.presses("Báo cáo thành tích")
    assert "nhắc trước hạn 7, 3, 1 ngày và sáng ngày hạn lúc 08:00" in admin.last_reply
    await admin.presses("Dùng lịch mặc định")
    summary = admin.last_reply
    assert "Hạn: 17:00 thứ Hai, 16/03/2026" in summary
    # The coming reminders, Sunday's moved to Friday and merged with it.
    assert (
        "08:00 thứ Hai, 09/03/2026, 08:00 thứ Sáu, 13/03/2026, 08:00 thứ Hai, 16/03/2026" in summary
    )
    await admin.presses("Lưu")
    assert "Đã thêm hạn nộp Báo cáo sơ kết" in admin.last_reply
    with bot.db() as db:
        deadline = db.exec(select(Deadline)).one()
    assert deadline.due_at == datetime(2026, 3, 16, 10, 0, tzinfo=UTC)
    assert (deadline.kind, deadline.form_code, deadline.reminder_policy) == (
        "preliminary",
        "bao-cao-thanh-tich",
        {},
    )
    assert _actions(bot)[-1] == "deadline.create"


async def test_hanmoi_with_an_own_time_and_reminder_policy(
    bot: TestBot, clock: ManualClock
) -> None:
    with bot.db() as db:
        make_campaign(db)
        db.commit()
    admin = _admin(bot)
    await admin.says("/hanmoi")
    await admin.presses("353/KH-UBND")
    await admin.presses("Hồ sơ đề nghị khen thưởng")
    await admin.says("Hồ sơ khen thưởng tổng kết")
    await admin.says("1/3/2026")  # yesterday
    assert "Ngày này đã qua" in admin.new_text
    await admin.says("20/3")
    await admin.says("16h30")
    await admin.presses("Đề nghị khen thưởng")
    await admin.presses("Thay đổi")
    await admin.says("mười ngày")
    assert "<code>7, 3, 1</code>" in admin.new_messages[0].text
    await admin.says("10, 5")
    await admin.presses("1")
    assert "nhắc trước hạn 10, 5 ngày" in admin.last_reply and "tối đa 1 lần" in admin.last_reply
    await admin.presses("Lưu")
    with bot.db() as db:
        deadline = db.exec(select(Deadline)).one()
    assert deadline.due_at == datetime(2026, 3, 20, 9, 30, tzinfo=UTC)
    assert deadline.reminder_policy == {"before_days": [10, 5], "overdue_max": 1}


async def test_dotthidua_lists_deadlines_with_counts(bot: TestBot, clock: ManualClock) -> None:
    with bot.db() as db:
        units = [make_unit(db) for _ in range(4)]
        campaign = make_campaign(db, number="12/KH-UBND")
        deadline = make_deadline(
            db, campaign, title="Đăng ký thi đua", due_at=local(2026, 3, 6, 17)
        )
        make_report(db, units[0], deadline, submitted_at=local(2026, 3, 3, 9))
        make_report(db, units[1], deadline, submitted_at=local(2026, 3, 7, 9))
        make_campaign(db, number="99/KH-UBND", status=CampaignStatus.CLOSED)
        db.commit()
    admin = _admin(bot)
    await admin.says("/dotthidua")
    text = admin.last_reply
    assert "12/KH-UBND" in text and "đang hoạt động" in text
    assert "Đăng ký thi đua (Báo cáo tổng kết, thành tích)" in text
    assert "đã nộp 2/4 (muộn 1), chưa nộp 2" in text
    assert "99/KH-UBND" in text and "đã đóng" in text


async def test_editing_a_deadline_date_shows_the_moved_reminders(
    bot: TestBot, clock: ManualClock
) -> None:
    with bot.db() as db:
        campaign = make_campaign(db)
        deadline = make_deadline(db, campaign, due_at=local(2026, 3, 16, 17))
        db.commit()
        deadline_id = deadline.id
    admin = _admin(bot)
    await admin.says("/dotthidua")
    await admin.presses("353/KH-UBND")
    await admin.presses("Sửa hạn")
    await admin.presses("Ngày hạn")
    assert "17:00 thứ Hai, 16/03/2026" in admin.last_reply
    await admin.says("18/3/2026")
    assert "hạn 17:00 thứ Tư, 18/03/2026" in admin.last_reply
    assert "08:00 thứ Tư, 11/03/2026" in admin.last_reply  # the new 7-day reminder
    await admin.presses_payload(make_payload("han", "ef", deadline_id, "time"))
    await admin.says("9h")
    await admin.presses_payload(make_payload("han", "ef", deadline_id, "policy"))
    await admin.presses("Không nhắc")
    assert "Không còn lần nhắc tự động" in admin.last_reply
    with bot.db() as db:
        saved = db.get(Deadline, deadline_id)
        assert saved is not None
        edits = db.exec(select(AuditLog).where(AuditLog.action == "deadline.edit")).all()
    assert saved.due_at == local(2026, 3, 18, 9)
    assert saved.reminder_policy == {"enabled": False}
    assert edits[0].detail["after"]["due_at"].startswith("2026-03-18T10:00")


async def test_closing_asks_first_and_then_nothing_can_be_changed(
    bot: TestBot, clock: ManualClock
) -> None:
    with bot.db() as db:
        campaign = make_campaign(db, name="Đợt thi đua 2026")
        db.commit()
        campaign_id = campaign.id
    admin = _admin(bot)
    await admin.presses_payload(make_payload("dot", "view", campaign_id))
    await admin.presses("Đóng đợt")
    assert "Đóng đợt thi đua Đợt thi đua 2026?" in admin.last_reply
    await admin.presses("Không")
    assert _campaigns(bot)[0].status == CampaignStatus.ACTIVE
    await admin.presses_payload(make_payload("dot", "close", campaign_id))
    await admin.presses("Đóng đợt")
    assert "Đã đóng đợt thi đua" in admin.last_reply
    assert _campaigns(bot)[0].status == CampaignStatus.CLOSED
    await admin.presses_payload(make_payload("dot", "addhan", campaign_id))
    assert "đã đóng" in admin.last_reply
    await admin.says("/hanmoi")
    assert "Chưa có đợt thi đua nào đang mở" in admin.last_reply
    assert _actions(bot).count("campaign.close") == 1


async def test_campaign_fields_can_be_edited(bot: TestBot, clock: ManualClock) -> None:
    with bot.db() as db:
        campaign = make_campaign(db)
        db.commit()
        campaign_id = campaign.id
    admin = _admin(bot)
    await admin.presses_payload(make_payload("dot", "edit", campaign_id))
    await admin.presses("Ngày kết thúc")
    await admin.says("1/1/2026")
    assert "Ngày kết thúc phải từ ngày bắt đầu" in admin.new_text
    await admin.says("31 tháng 12 năm 2026")
    assert "Đã cập nhật đợt" in admin.all_text
    assert _campaigns(bot)[0].ends_on == date(2026, 12, 31)


async def test_officers_cannot_run_campaigns(bot: TestBot) -> None:
    with bot.db() as db:
        campaign = make_campaign(db)
        make_member(db, "201", unit=make_unit(db))
        db.commit()
        campaign_id = campaign.id
    officer = bot.person("201")
    for command in ("/dotmoi", "/hanmoi", "/dotthidua"):
        await officer.says(command)
        assert "chỉ dành cho quản trị viên" in officer.last_reply
    await officer.presses_payload(make_payload("dot", "closeok", campaign_id))
    assert _campaigns(bot)[0].status == CampaignStatus.ACTIVE
    await officer.says("/trogiup")
    assert "/hanchot — xem các hạn nộp của đơn vị tôi" in officer.last_reply
    assert "/dotmoi" not in officer.last_reply
    admin = _admin(bot)
    await admin.says("/trogiup")
    assert "/dotmoi — tạo đợt thi đua mới" in admin.last_reply


def test_every_kind_form_and_status_has_a_vietnamese_label() -> None:
    from bot.catalog import has
    from domain.campaigns import DEADLINE_KINDS, KNOWN_FORMS

    keys = [f"campaigns.kind_{k}" for k in DEADLINE_KINDS]
    keys += [f"campaigns.form_{code}" for code in KNOWN_FORMS]
    keys += [f"campaigns.status_{s}" for s in ("draft", "active", "closed")]
    keys += [f"reminders.weekday_{d}" for d in range(7)]
    assert [k for k in keys if not has(k)] == []


async def test_button_labels_show_titles_as_typed(bot: TestBot, clock: ManualClock) -> None:
    with bot.db() as db:
        campaign = make_campaign(db, number="12/KH-UBND")
        make_deadline(db, campaign, title="Báo cáo Q1 & Q2 <bổ sung>")
        db.commit()
        campaign_id = campaign.id
    admin = _admin(bot)
    await admin.presses_payload(make_payload("dot", "view", campaign_id))
    assert "✏️ Sửa hạn: Báo cáo Q1 & Q2 <bổ sung>" in admin.buttons
    assert "Báo cáo Q1 &amp; Q2 &lt;bổ sung&gt;" in admin.messages[-1].text  # the HTML text
