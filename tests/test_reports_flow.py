"""Reports through the in-memory channel, as officers and admins live them: filling in a form
question by question, bad answers, skipping and going back, pausing and resuming (also after a
restart), files, groups, review and edits, submitting on time or late, amending, two officers
on one report, and the admin's return, accept and reopen."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.channels.memory import MemoryChannel
from bot.runtime import build_core
from domain.campaigns import UnitStatus, unit_status
from models.campaigns import Deadline
from models.reports import Attachment, Nomination, Report, ReportStatus, ReportVersion
from models.units import Member
from tests.utils.factories import T0, make_deadline, make_unit
from tests.utils.files import DOCX, PDF
from tests.utils.reports import fill_achievements_until_scan, fill_registration, report_world
from tests.utils.scenario import TestBot


def restarted(bot: TestBot, settings, engine, clock, channel: MemoryChannel) -> TestBot:
    """A new process over the same database: nothing is kept in memory between the two."""
    core = build_core(settings, engine=engine, clock=clock, migrate=False)
    core.hub.register(channel)
    core.flood.limit = 10_000
    return TestBot(core, channel)


# --- filling in -------------------------------------------------------------------------------
async def test_an_officer_fills_in_and_submits_the_registration(bot: TestBot) -> None:
    world = report_world(bot)
    officer = world.officer
    await officer.says("/baocao")
    assert "Đăng ký thi đua" in officer.new_text and "bản nháp được lưu" in officer.new_text
    assert "Câu 1/7" in officer.last_reply
    assert "Tập thể lao động xuất sắc" in officer.buttons
    await officer.presses("Tập thể lao động tiên tiến")
    await officer.says("25")
    await officer.says("30")
    assert "không được lớn hơn 25" in officer.new_text and "Câu 3/7" in officer.last_reply
    await officer.says("3")
    # Multi-choice: toggles redraw the same message, "Xong" stores the selection.
    await officer.presses("chung tay vì người nghèo")
    assert officer.messages[-1].replace
    assert "✅ Cả nước chung tay" in " ".join(officer.buttons)
    await officer.presses("nông thôn mới")
    await officer.presses("chung tay vì người nghèo")  # changed their mind
    await officer.presses("Xong")
    await officer.says("Giảm 2% hộ nghèo;\n100% thôn có nhà văn hóa")
    await officer.presses("Có")
    await officer.says("/boqua")
    review = officer.last_reply
    assert "Xem lại: Đăng ký thi đua" in review
    assert "3. Số cá nhân đăng ký Chiến sĩ thi đua cơ sở: 3" in review
    assert "4. Phong trào hưởng ứng: Cả nước chung sức xây dựng nông thôn mới" in review
    assert "7. Ngày ký bản đăng ký: —" in review
    await officer.presses("Nộp báo cáo")
    assert "Mã biên nhận: BC-00001-1" in officer.new_text and "đúng hạn" in officer.new_text
    report = world.report()
    assert report.status == ReportStatus.SUBMITTED and report.on_time
    assert report.answers == {
        "danh_hieu_tap_the": "tap-the-lao-dong-tien-tien",
        "so_lao_dong_tien_tien": 25,
        "so_chien_si_thi_dua_co_so": 3,
        "phong_trao": ["Cả nước chung sức xây dựng nông thôn mới"],
        "chi_tieu": "Giảm 2% hộ nghèo;\n100% thôn có nhà văn hóa",
        "giao_uoc": True,
        "ngay_dang_ky": None,
    }
    with bot.db() as db:
        submitter = db.get(Member, report.submitted_by_id)
        assert submitter is not None and submitter.user_id == "200"
    # The admin is told, with the answers and buttons to accept or return.
    assert "Xã Bình Lư nộp Đăng ký thi đua" in world.admin.last_reply
    assert "2. Số cá nhân đăng ký Lao động tiên tiến: 25" in world.admin.last_reply
    assert f"Đơn vị XA-001, hạn nộp #{world.deadline_id}" in world.admin.last_reply
    assert world.admin.buttons == ["✅ Duyệt", "↩️ Trả lại"]


async def test_a_bad_answer_is_explained_and_the_same_question_asked_again(bot: TestBot) -> None:
    world = report_world(bot)
    officer = world.officer
    await officer.says("/baocao")
    await officer.presses("Tập thể lao động tiên tiến")
    await officer.says("hai mươi lăm")
    error, question = officer.new_messages
    assert "Cần một số nguyên" in error.text and "<code>25</code>" in error.text
    assert "Câu 2/7" in question.text
    assert world.report().answers == {"danh_hieu_tap_the": "tap-the-lao-dong-tien-tien"}
    await officer.says("25")
    assert "Câu 3/7" in officer.last_reply


async def test_skip_only_optional_questions_and_go_back_one_step(bot: TestBot) -> None:
    world = report_world(bot)
    officer = world.officer
    await officer.says("/baocao")
    await officer.says("/boqua")
    assert "bắt buộc" in officer.new_text and "Câu 1/7" in officer.last_reply
    await officer.says("/quaylai")
    assert "câu đầu tiên" in officer.new_text
    await officer.presses("Tập thể lao động xuất sắc")
    await officer.says("12")
    await officer.says("/quaylai")
    assert "Câu 2/7" in officer.last_reply and "Đang có: 12" in officer.last_reply
    await officer.presses("Giữ nguyên")
    assert "Câu 3/7" in officer.last_reply
    await officer.says("/quaylai")
    await officer.says("/quaylai")
    assert "Câu 1/7" in officer.last_reply
    await officer.presses("Tập thể lao động tiên tiến")
    # Back on track: the next unanswered question, nothing typed before lost.
    assert "Câu 3/7" in officer.last_reply
    assert world.report().answers["so_lao_dong_tien_tien"] == 12


async def test_text_is_escaped_in_every_message(bot: TestBot) -> None:
    world = report_world(bot)
    officer = world.officer
    await fill_registration(officer)
    await officer.presses("✏️ 5")
    await officer.says("<b>Giảm</b> hộ nghèo & tăng thu")
    html = officer.messages[-1].text
    assert "&lt;b&gt;Giảm&lt;/b&gt; hộ nghèo &amp; tăng thu" in html


# --- drafts: pause, resume, restart -------------------------------------------------------------
async def test_a_draft_survives_a_pause_and_a_restart(
    bot: TestBot, settings, engine, clock, channel
) -> None:
    world = report_world(bot)
    officer = world.officer
    await officer.says("/baocao")
    await officer.presses("Tập thể lao động tiên tiến")
    await officer.says("/huy")
    assert "Bản nháp được lưu" in officer.last_reply
    officer.bot = restarted(bot, settings, engine, clock, channel)
    clock.advance(days=3)
    await officer.says("/baocao")
    assert "Tiếp tục bản nháp" in officer.new_text
    assert "Danh hiệu tập thể đăng ký: Tập thể lao động tiên tiến" in officer.new_text
    assert "Câu 2/7" in officer.last_reply
    await officer.says("25")
    # A restart mid-question: the next answer continues where the chat was.
    officer.bot = restarted(bot, settings, engine, clock, channel)
    await officer.says("4")
    assert "Câu 4/7" in officer.last_reply
    assert world.report().answers["so_chien_si_thi_dua_co_so"] == 4


async def test_with_several_open_deadlines_the_officer_picks_one(bot: TestBot) -> None:
    world = report_world(bot)
    with bot.db() as db:
        deadline = db.get(Deadline, world.deadline_id)
        assert deadline is not None
        other = make_deadline(
            db,
            db.get_one_campaign(deadline.campaign_id) if False else _campaign(db, deadline),
            title="Báo cáo thành tích 6 tháng",
            form_code="bao-cao-thanh-tich",
            due_at=T0 + timedelta(days=30),
        )
        db.commit()
        other_id = other.id
    officer = world.officer
    await officer.says("/baocao")
    assert "2 báo cáo" in officer.last_reply
    assert any("Báo cáo thành tích 6 tháng" in b and "chưa làm" in b for b in officer.buttons)
    await officer.presses("Báo cáo thành tích 6 tháng")
    assert "Báo cáo thành tích" in officer.new_text and "Câu 1/12" in officer.last_reply
    with bot.db() as db:
        assert db.exec(select(Report).where(Report.deadline_id == other_id)).one()


def _campaign(db, deadline: Deadline):
    from models.campaigns import Campaign

    return db.get(Campaign, deadline.campaign_id)


async def test_a_stale_button_does_not_answer_the_current_question(bot: TestBot) -> None:
    world = report_world(bot)
    officer = world.officer
    await officer.says("/baocao")
    old_choice = officer.find_button("Cờ thi đua của Chính phủ")
    await officer.presses("Tập thể lao động tiên tiến")
    await officer.presses_payload(old_choice.payload)
    assert "câu hỏi cũ" in officer.new_text and "Câu 2/7" in officer.last_reply
    assert world.report().answers == {"danh_hieu_tap_the": "tap-the-lao-dong-tien-tien"}


# --- review and edits ---------------------------------------------------------------------------
async def test_any_answer_can_be_edited_from_the_review(bot: TestBot) -> None:
    world = report_world(bot)
    officer = world.officer
    await fill_registration(officer)
    await officer.presses("✏️ 1")
    assert "Đang có: Tập thể lao động tiên tiến" in officer.last_reply
    await officer.presses("Tập thể lao động xuất sắc")
    assert "Xem lại" in officer.last_reply
    assert "1. Danh hiệu tập thể đăng ký: Tập thể lao động xuất sắc" in officer.last_reply
    await officer.presses("✏️ 2")
    await officer.says("2")  # fewer than the 3 Chiến sĩ thi đua already entered: still allowed
    assert "2. Số cá nhân đăng ký Lao động tiên tiến: 2" in officer.last_reply


# --- groups and nominations ---------------------------------------------------------------------
async def nominate(officer, name: str, kind: str, award: str) -> None:
    await officer.presses(kind)
    await officer.says(name)
    if kind == "Cá nhân":
        await officer.says("Phó Chủ tịch UBND xã")
    else:
        await officer.presses("Bỏ qua")
    await officer.says("UBND xã Bình Lư")
    await officer.presses(award)
    await officer.says("Hoàn thành xuất sắc nhiệm vụ, có sáng kiến số hoá hồ sơ")


async def test_nominations_are_a_list_with_add_another_and_done(bot: TestBot) -> None:
    world = report_world(bot, "de-nghi-khen-thuong")
    officer = world.officer
    await officer.says("/baocao")
    assert "Danh sách đề nghị – mục 1, câu 1/7" in officer.last_reply
    await nominate(officer, "Lò Thị Mai", "Cá nhân", "Giấy khen")
    await officer.sends_file(PDF, "thanh-tich-mai.pdf", "application/pdf")
    assert "đã có 1 mục" in officer.last_reply and "Lò Thị Mai" in officer.last_reply
    await officer.presses("Thêm mục khác")
    await nominate(officer, "Thôn Nà Khum", "Tập thể", "Tập thể lao động tiên tiến")
    await officer.says("/boqua")
    await officer.presses("Xong")
    assert "Ghi chú" in officer.last_reply
    await officer.says("/boqua")
    assert "1. Đối tượng: Cá nhân; Họ tên / tên tập thể: Lò Thị Mai" in officer.last_reply
    # From the review, the list has its own menu: delete the second entry, then submit.
    await officer.presses("✏️ 1")
    assert "2 mục" in officer.last_reply
    await officer.presses("Xoá mục 2")
    assert "1 mục" in officer.last_reply
    await officer.presses("Thêm mục")
    await nominate(officer, "Vàng Văn Sử", "Cá nhân", "Chiến sĩ thi đua cơ sở")
    await officer.says("/boqua")
    assert "2 mục" in officer.last_reply
    await officer.presses("Xong")
    await officer.presses("Nộp báo cáo")
    assert "Mã biên nhận" in officer.new_text
    with bot.db() as db:
        rows = db.exec(select(Nomination).order_by(Nomination.position)).all()
    assert [(r.full_name, r.award, r.nominee_type) for r in rows] == [
        ("Lò Thị Mai", "Giấy khen", "individual"),
        ("Vàng Văn Sử", "Chiến sĩ thi đua cơ sở", "individual"),
    ]
    assert rows[0].job_title == "Phó Chủ tịch UBND xã" and rows[0].unit_name == "UBND xã Bình Lư"


async def test_a_required_list_cannot_be_closed_empty(bot: TestBot) -> None:
    world = report_world(bot, "de-nghi-khen-thuong")
    officer = world.officer
    await officer.says("/baocao")
    await officer.says("/quaylai")
    assert "câu đầu tiên" in officer.new_text
    await nominate(officer, "Lò Thị Mai", "Cá nhân", "Giấy khen")
    await officer.says("/boqua")
    await officer.presses("Xong")
    await officer.says("/boqua")
    await officer.presses("✏️ 1")
    await officer.presses("Xoá mục 1")
    await officer.presses("Xong")
    assert "Còn thiếu: Danh sách đề nghị" in officer.last_reply
    await officer.presses("Nộp báo cáo")
    assert "Chưa nộp được" in officer.new_text and "cần ít nhất 1 mục" in officer.new_text
    assert world.report().status == ReportStatus.DRAFT


# --- files --------------------------------------------------------------------------------------
async def test_the_signed_scan_is_checked_stored_and_recorded(bot: TestBot, settings) -> None:
    world = report_world(bot, "bao-cao-thanh-tich")
    officer = world.officer
    await fill_achievements_until_scan(officer)
    assert "Bản báo cáo có chữ ký" in officer.last_reply and "PDF, JPG, PNG" in officer.last_reply
    await officer.says("đây là bản quét")
    assert "cần gửi một tệp" in officer.new_text
    await officer.sends_file(DOCX, "bao-cao.docx")
    assert "Không nhận loại tệp này" in officer.new_text and "PDF, JPG, PNG" in officer.new_text
    await officer.sends_file(b"MZ\x90\x00fake", "bao-cao.pdf", "application/pdf")
    assert "Không nhận loại tệp này" in officer.new_text
    await officer.sends_file(PDF, "../../bao-cao đã ký.pdf", "application/pdf")
    review = officer.last_reply
    assert "5. Kinh phí huy động (triệu đồng): 1.250,5" in review
    assert "Mô hình chè VietGAP thôn Nà Khum" in review
    assert "12. Bản báo cáo có chữ ký: _.._bao-cao đã ký.pdf" in review
    await officer.presses("Nộp báo cáo")
    with bot.db() as db:
        attachment = db.exec(select(Attachment)).one()
    report = world.report()
    assert report.answers["ban_ky"] == {
        "attachment_id": attachment.id,
        "file_name": "_.._bao-cao đã ký.pdf",
    }
    assert report.answers["kinh_phi"] == "1250.5"
    assert attachment.report_id == report.id and attachment.field_id == "ban_ky"
    assert attachment.mime_type == "application/pdf" and attachment.size == len(PDF)
    stored = settings.storage_dir / attachment.stored_path
    assert stored.read_bytes() == PDF and attachment.sha256 in stored.name


async def test_a_file_over_20_mb_is_refused_before_download(bot: TestBot) -> None:
    world = report_world(bot, "bao-cao-thanh-tich")
    officer = world.officer
    await fill_achievements_until_scan(officer)
    attachment = bot.channel.add_file(PDF, "to.pdf", "application/pdf")
    big = type(attachment)(file_id=attachment.file_id, file_name="to.pdf", size=21 * 1024 * 1024)
    await officer._send(bot.channel.event(officer.user_id, attachment=big))
    assert "tối đa 20 MB" in officer.new_text and "Bản báo cáo có chữ ký" in officer.last_reply


# --- submitting, amending, late -----------------------------------------------------------------
async def test_amending_before_the_deadline_keeps_the_old_version(bot: TestBot) -> None:
    world = report_world(bot)
    officer = world.officer
    await fill_registration(officer)
    await officer.presses("Nộp báo cáo")
    await officer.says("/baocao")
    assert "Đã nộp phiên bản 1" in officer.last_reply
    await officer.presses("✏️ 2")
    await officer.says("27")
    assert "Có thay đổi chưa nộp lại" in officer.last_reply
    await officer.presses("Nộp lại")
    assert "BC-00001-2" in officer.new_text and "Phiên bản trước vẫn được lưu" in officer.new_text
    with bot.db() as db:
        versions = db.exec(select(ReportVersion).order_by(ReportVersion.version)).all()
    assert [v.answers["so_lao_dong_tien_tien"] for v in versions] == [25, 27]
    assert "phiên bản 2" in world.admin.last_reply


async def test_a_late_report_is_still_taken_and_marked_late(bot: TestBot, clock) -> None:
    world = report_world(bot, due_at=T0 + timedelta(days=1))
    officer = world.officer
    await fill_registration(officer)
    clock.advance(days=2)
    await officer.presses("Nộp báo cáo")
    assert "nộp muộn (hạn 08:00 03/03/2026)" in officer.new_text
    assert "nộp muộn" in world.admin.last_reply
    report = world.report()
    with bot.db() as db:
        deadline = db.get(Deadline, world.deadline_id)
    assert report.on_time is False and unit_status(report, deadline, clock.now()) == UnitStatus.LATE


async def test_after_the_deadline_changes_need_an_admin_to_reopen(bot: TestBot, clock) -> None:
    world = report_world(bot, due_at=T0 + timedelta(days=1))
    officer = world.officer
    await fill_registration(officer)
    await officer.presses("Nộp báo cáo")
    clock.advance(days=2)
    await officer.says("/baocao")
    assert "Đã quá hạn nộp" in officer.last_reply and "mở lại" in officer.last_reply
    assert not officer.messages[-1].buttons
    await world.admin.says(f"/mobaocao XA-001 {world.deadline_id}")
    # Typed by hand: the bot names the unit and the report and asks first.
    asked = world.admin.last_reply
    assert "Mở lại Đăng ký thi đua" in asked and "Xã Bình Lư (XA-001)" in asked
    assert world.report().status == ReportStatus.SUBMITTED
    await world.admin.presses("Mở lại")
    assert "Đã mở lại" in world.admin.last_reply
    assert "đã được mở lại" in officer.last_reply
    await officer.presses("Mở báo cáo")
    assert "mở lại để sửa" in officer.last_reply
    await officer.presses("✏️ 3")
    await officer.says("2")
    await officer.presses("Nộp lại")
    report = world.report()
    # A correction the admin allowed does not make the unit late.
    assert (report.version, report.status, report.on_time) == (2, ReportStatus.SUBMITTED, True)


# --- two officers, one report -------------------------------------------------------------------
async def test_two_officers_share_one_report_and_see_each_others_answers(bot: TestBot) -> None:
    world = report_world(bot, officers=("200", "201"))
    tam, mai = world.officer, bot.person("201", "Cán bộ 201")
    await tam.says("/baocao")
    await tam.presses("Tập thể lao động tiên tiến")
    await mai.says("/baocao")
    assert "Tiếp tục bản nháp chung" in mai.new_text
    assert "Tập thể lao động tiên tiến" in mai.new_text and "Câu 2/7" in mai.last_reply
    await mai.says("30")
    # Tâm still sees question 2; her later answer to the same field wins.
    await tam.says("25")
    assert "Câu 3/7" in tam.last_reply
    await mai.says("3")
    assert world.report().answers == {
        "danh_hieu_tap_the": "tap-the-lao-dong-tien-tien",
        "so_lao_dong_tien_tien": 25,
        "so_chien_si_thi_dua_co_so": 3,
    }
    with bot.db() as db:
        assert len(db.exec(select(Report)).all()) == 1
    # Tâm answers question 3 too; she goes on from there, Mai's answer replaced by hers.
    await tam.says("4")
    assert "Câu 4/7" in tam.last_reply
    await mai.says("/huy")
    await mai.says("/baocao")
    assert "Số cá nhân đăng ký Chiến sĩ thi đua cơ sở: 4" in mai.new_text
    await tam.presses("Xong")
    await tam.says("Giảm 2% hộ nghèo; 100% thôn có nhà văn hóa")
    await tam.presses("Có")
    await tam.says("/boqua")
    await tam.presses("Nộp báo cáo")
    assert "Cán bộ 200 đã nộp" in mai.last_reply


async def test_an_officer_moved_to_another_unit_cannot_go_on(bot: TestBot) -> None:
    world = report_world(bot)
    officer = world.officer
    await officer.says("/baocao")
    with bot.db() as db:
        other = make_unit(db, "Xã Khác", code="XA-002")
        member = db.exec(select(Member).where(Member.user_id == "200")).one()
        member.unit_id = other.id
        db.commit()
    await officer.presses("Tập thể lao động tiên tiến")
    assert "không có quyền" in officer.last_reply
    assert world.report().answers == {}


# --- the admin: return, accept -----------------------------------------------------------------
async def test_return_for_correction_and_resubmit(bot: TestBot) -> None:
    world = report_world(bot, officers=("200", "201"))
    officer, admin = world.officer, world.admin
    await fill_registration(officer)
    await officer.presses("Nộp báo cáo")
    await admin.presses("Trả lại")
    assert "Nhập lý do" in admin.last_reply
    await admin.says("ok")
    assert "quá ngắn" in admin.new_text and "Nhập lý do" in admin.last_reply
    await admin.says("Số Chiến sĩ thi đua cơ sở chưa khớp danh sách")
    assert "Đã trả lại" in admin.last_reply
    colleague = bot.person("201")
    for person in (officer, colleague):
        assert "bị trả lại" in person.last_reply and "chưa khớp danh sách" in person.last_reply
        assert person.buttons == ["✏️ Mở báo cáo"]
    report = world.report()
    with bot.db() as db:
        deadline = db.get(Deadline, world.deadline_id)
    assert unit_status(report, deadline, T0) == UnitStatus.RETURNED
    await officer.presses("Mở báo cáo")
    assert "Lý do: Số Chiến sĩ thi đua cơ sở chưa khớp danh sách" in officer.last_reply
    await officer.presses("✏️ 3")
    await officer.says("2")
    await officer.presses("Nộp lại")
    report = world.report()
    assert report.status == ReportStatus.SUBMITTED and report.return_reason is None
    assert report.version == 2


async def test_return_by_command_and_accept(bot: TestBot) -> None:
    world = report_world(bot)
    officer, admin = world.officer, world.admin
    await admin.says("/travebaocao")
    assert "Cần mã đơn vị" in admin.last_reply and "/travebaocao XA-001 3" in admin.last_reply
    await admin.says(f"/travebaocao XA-009 {world.deadline_id} lý do")
    assert "Không có đơn vị mã «XA-009»" in admin.last_reply
    await admin.says(f"/duyetbaocao xa-001 {world.deadline_id}")
    assert "chưa có báo cáo" in admin.last_reply
    await fill_registration(officer)
    await officer.presses("Nộp báo cáo")
    old_accept = admin.find_button("Duyệt")
    await admin.says(f"/travebaocao XA-001 {world.deadline_id} Thiếu chữ ký thủ trưởng")
    assert "Trả lại Đăng ký thi đua" in admin.last_reply
    await admin.presses("Trả lại")
    assert "Đã trả lại" in admin.last_reply and "Thiếu chữ ký thủ trưởng" in officer.last_reply
    await admin.presses_payload(old_accept.payload)
    assert "không làm được việc này" in admin.last_reply
    await officer.presses("Mở báo cáo")
    await officer.presses("Nộp lại")
    await admin.presses_payload(old_accept.payload)
    assert "phiên bản mới hơn (2)" in admin.last_reply
    await admin.presses("Duyệt")
    assert "Đã duyệt" in admin.last_reply and "BC-00001-2" in admin.last_reply
    assert "đã được duyệt" in officer.last_reply
    assert world.report().status == ReportStatus.ACCEPTED
    await officer.says("/baocao")
    assert "đã được duyệt nên không sửa được" in officer.last_reply


async def test_officers_cannot_use_admin_commands(bot: TestBot) -> None:
    world = report_world(bot)
    await world.officer.says(f"/mobaocao XA-001 {world.deadline_id}")
    assert "chỉ dành cho quản trị viên" in world.officer.last_reply
    await world.officer.presses_payload("rpok:1:1")
    assert "chỉ dành cho quản trị viên" in world.officer.last_reply


async def test_help_lists_report_commands(bot: TestBot) -> None:
    world = report_world(bot)
    await world.officer.says("/trogiup")
    assert "/baocao" in world.officer.last_reply and "/travebaocao" not in world.officer.last_reply
    await world.admin.says("/trogiup")
    for command in ("/travebaocao", "/duyetbaocao", "/mobaocao"):
        assert command in world.admin.last_reply


async def test_an_entry_deleted_by_a_colleague_is_not_written_to(bot: TestBot) -> None:
    world = report_world(bot, "de-nghi-khen-thuong", officers=("200", "201"))
    tam, mai = world.officer, bot.person("201", "Cán bộ 201")
    await tam.says("/baocao")
    await nominate(tam, "Lò Thị Mai", "Cá nhân", "Giấy khen")
    await tam.says("/boqua")
    await tam.presses("Thêm mục khác")
    await tam.presses("Tập thể")
    assert "mục 2, câu 2/7" in tam.last_reply
    await mai.says("/baocao")
    await mai.says("/huy")
    with bot.db() as db:  # Mai's device deletes entry 2 from the review menu meanwhile
        report = db.get(Report, world.report().id)
        assert report is not None
        report.answers = {"de_nghi": report.answers["de_nghi"][:1]}
        report.revision += 1
        db.commit()
    await tam.says("Thôn Nà Khum")
    assert "không còn nữa" in tam.new_text and "Ghi chú" in tam.last_reply
    assert len(world.report().answers["de_nghi"]) == 1
