"""A whole achievement report end to end over HTTP: the real python-telegram-bot Application
against the fake Bot API, buttons as callback queries, the signed scan sent as a document and
fetched back through getFile, the receipt to the officer and the notice to the admin."""

from __future__ import annotations

from sqlmodel import Session, select

from models.reports import Attachment, Report, ReportStatus
from tests.fakes.telegram_api import FakeTelegram
from tests.utils.files import PDF
from tests.utils.http import pressing, saying, seed_officer, until
from tests.utils.ids import ADMIN_USER_ID

OFFICER = 4242


async def test_an_achievement_report_with_a_scanned_document_over_http(
    telegram_api: FakeTelegram, telegram_bot, engine, settings
) -> None:
    _, core = telegram_bot
    core.flood.limit = 10_000
    seed_officer(engine, OFFICER, channel="telegram", admin="Phòng Nội vụ")
    api = telegram_api

    say, press = saying(api, OFFICER), pressing(api, OFFICER)

    await until(api, OFFICER, "Câu 1/12", say("/baocao"))
    await until(api, OFFICER, "Câu 2/12", say("Thu ngân sách đạt 105% kế hoạch; giảm hộ nghèo"))
    await until(api, OFFICER, "Câu 3/12", say("12"))
    question = await until(api, OFFICER, "Câu 4/12", say("11"))
    assert "Hoàn thành tốt nhiệm vụ" in [label for label, _ in question.buttons]
    await until(api, OFFICER, "Câu 5/12", press("Hoàn thành tốt nhiệm vụ"))
    await until(api, OFFICER, "Cần một số", say("nhiều lắm"))
    await until(api, OFFICER, "Mô hình", say("1.250,5"))
    await until(api, OFFICER, "Câu 7/12", press("Bỏ qua"))
    await until(api, OFFICER, "Câu 8/12", say("Giải ngân vốn còn chậm"))
    await until(api, OFFICER, "Câu 9/12", say("Xã miền núi, 12 thôn, 8.450 nhân khẩu"))
    await until(api, OFFICER, "III. Khen thưởng", press("Bỏ qua"))
    await until(api, OFFICER, "Câu 11/12", press("Bỏ qua"))
    await until(api, OFFICER, "Câu 12/12", say("20/6/2026"))
    review = await until(
        api,
        OFFICER,
        "Xem lại",
        lambda: api.push_document(OFFICER, PDF, "bao-cao-da-ky.pdf", "application/pdf"),
    )
    assert "getFile" in api.calls
    assert "12. <b>Bản báo cáo có chữ ký</b>: bao-cao-da-ky.pdf" in review.text
    receipt = await until(api, OFFICER, "Mã biên nhận", press("Nộp báo cáo"))
    assert "BC-00001-1" in receipt.text and "đúng hạn" in receipt.text
    notice = await api.wait_for_text(ADMIN_USER_ID, "Xã Bình Lư</b> nộp")
    assert [label for label, _ in notice.buttons] == ["✅ Duyệt", "↩️ Trả lại"]
    with Session(engine) as db:
        report = db.exec(select(Report)).one()
        attachment = db.exec(select(Attachment)).one()
    assert report.status == ReportStatus.SUBMITTED
    assert report.answers["ban_ky"]["attachment_id"] == attachment.id
    assert attachment.channel == "telegram" and attachment.file_unique_id is not None
    assert (settings.storage_dir / attachment.stored_path).read_bytes() == PDF
    # The admin accepts with the button under the notice.
    accepted = await until(
        api, OFFICER, "đã được duyệt", lambda: api.press(int(ADMIN_USER_ID), "Duyệt")
    )
    assert "BC-00001-1" in accepted.text
