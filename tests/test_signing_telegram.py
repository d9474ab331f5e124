"""The signed-copy loop end to end over HTTP: the real python-telegram-bot Application against
the fake Bot API. Submit → the filled .docx arrives as a document → the scan goes back as a
document → the report is complete."""

from __future__ import annotations

import io

import docx
import pytest
from sqlmodel import Session, select

from domain.dossier import signed_scan
from models.reports import Report
from tests.fakes.telegram_api import FakeTelegram
from tests.utils.files import PDF
from tests.utils.http import pressing, saying, seed_officer, until

OFFICER = 4343


async def test_submit_receive_the_docx_send_the_scan_over_http(
    telegram_api: FakeTelegram, telegram_bot, engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("handlers.signing.shutil.which", lambda name: None)
    _, core = telegram_bot
    core.flood.limit = 10_000
    seed_officer(engine, OFFICER, channel="telegram", admin="Văn phòng")
    api = telegram_api

    say, press = saying(api, OFFICER), pressing(api, OFFICER)

    await until(api, OFFICER, "Câu 1/12", say("/baocao"))
    await until(api, OFFICER, "Câu 2/12", say("Thu ngân sách đạt 105% kế hoạch; giảm hộ nghèo"))
    await until(api, OFFICER, "Câu 3/12", say("12"))
    await until(api, OFFICER, "Câu 4/12", say("11"))
    await until(api, OFFICER, "Câu 5/12", press("Hoàn thành tốt nhiệm vụ"))
    await until(api, OFFICER, "Mô hình", press("Bỏ qua"))
    await until(api, OFFICER, "Câu 7/12", press("Bỏ qua"))
    await until(api, OFFICER, "Câu 8/12", say("Giải ngân vốn còn chậm"))
    await until(api, OFFICER, "Câu 9/12", say("Xã miền núi, 12 thôn, 8.450 nhân khẩu"))
    await until(api, OFFICER, "III. Khen thưởng", press("Bỏ qua"))
    await until(api, OFFICER, "Câu 11/12", press("Bỏ qua"))
    await until(api, OFFICER, "Câu 12/12", say("20/6/2026"))
    await until(api, OFFICER, "Xem lại", press("Bỏ qua"))
    await until(api, OFFICER, "in, ký, đóng dấu", press("Nộp báo cáo"))
    sent = [m for m in api.sent[str(OFFICER)] if m.content is not None]
    assert len(sent) == 1
    document = docx.Document(io.BytesIO(sent[0].content))
    assert "XÃ BÌNH LƯ" in document.tables[0].rows[0].cells[0].text
    await until(api, OFFICER, "Gửi bản quét", press("📎 Gửi bản ký"))
    await until(
        api,
        OFFICER,
        "Đã nhận bản ký",
        lambda: api.push_document(OFFICER, PDF, "ban-ky.pdf", "application/pdf"),
    )
    with Session(engine) as db:
        report = db.exec(select(Report)).one()
        scan = signed_scan(db, report)
        assert scan is not None and scan.channel == "telegram" and scan.meta["version"] == 1
