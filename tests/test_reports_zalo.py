"""A whole achievement report over Zalo, end to end over HTTP: numbered choices typed as
numbers (and "#n" where the question also takes typed answers), the signed page sent as a
photo, the receipt to the officer and the notice to the admin on Zalo."""

from __future__ import annotations

from sqlmodel import Session, select

from models.reports import Attachment, Report, ReportStatus
from tests.fakes.zalo_api import FakeZalo
from tests.utils.files import JPG
from tests.utils.http import choosing, saying, seed_officer, until
from tests.utils.ids import ADMIN_USER_ID

OFFICER = "6ede9afa66b88fe6d6a9"


async def test_an_achievement_report_over_zalo(
    zalo_api: FakeZalo, zalo_bot, engine, settings
) -> None:
    _, core = zalo_bot
    core.flood.limit = 10_000
    seed_officer(engine, OFFICER, channel="zalo", admin="Phòng Nội vụ")
    api = zalo_api

    say, choose = saying(api, OFFICER), choosing(api, OFFICER)

    await until(api, OFFICER, "Câu 1/12", say("/baocao"))
    await until(api, OFFICER, "Câu 2/12", say("Thu ngân sách đạt 105% kế hoạch; giảm hộ nghèo"))
    await until(api, OFFICER, "Câu 3/12", say("12"))
    question = await until(
        api, OFFICER, "Câu 4/12", say("1")
    )  # a typed 1 is an answer, not choice 1
    assert "Hoàn thành tốt nhiệm vụ" in [label for _, label in question.choices]
    amount = await until(api, OFFICER, "Câu 5/12", choose("Hoàn thành tốt nhiệm vụ"))
    assert [marker for marker, _ in amount.choices] == ["#1"]  # typed answers welcome here
    await until(api, OFFICER, "Cần một số", say("nhiều lắm"))
    await until(api, OFFICER, "Mô hình", say("1"))  # the amount 1, not the skip button
    await until(api, OFFICER, "Câu 7/12", choose("Bỏ qua"))
    await until(api, OFFICER, "Câu 8/12", say("Giải ngân vốn còn chậm"))
    await until(api, OFFICER, "Câu 9/12", say("Xã miền núi, 12 thôn, 8.450 nhân khẩu"))
    await until(api, OFFICER, "III. Khen thưởng", choose("Bỏ qua"))
    await until(api, OFFICER, "Câu 11/12", choose("Bỏ qua"))
    await until(api, OFFICER, "Câu 12/12", say("20/6/2026"))
    review = await until(
        api, OFFICER, "Xem lại", lambda: api.push_image(OFFICER, JPG, caption="trang ký")
    )
    assert "Bản báo cáo có chữ ký" in review.text and "<b>" not in review.text
    receipt = await until(api, OFFICER, "Mã biên nhận", choose("Nộp báo cáo"))
    assert "BC-00001-1" in receipt.text
    notice = await api.wait_for_text(ADMIN_USER_ID, "Xã Bình Lư nộp")
    assert [label for _, label in notice.choices][:2] == ["✅ Duyệt", "↩️ Trả lại"]
    with Session(engine) as db:
        report = db.exec(select(Report)).one()
        attachment = db.exec(select(Attachment)).one()
    assert report.status == ReportStatus.SUBMITTED
    assert (report.answers["chi_tieu_dat"], report.answers["kinh_phi"]) == (1, "1")
    assert (
        attachment.channel == "zalo"
        and (settings.storage_dir / attachment.stored_path).read_bytes() == JPG
    )
    accepted = await until(
        api, OFFICER, "đã được duyệt", lambda: api.choose(ADMIN_USER_ID, "Duyệt")
    )
    assert "BC-00001-1" in accepted.text
