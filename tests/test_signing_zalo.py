"""The signed copy on Zalo, a channel that cannot send files: after handing in, the officer is
told clearly that the Word file cannot come through Zalo and how else to get it, keeps the
"Gửi bản ký" choice, and sends the signed pages back as a photo."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from domain.dossier import signed_scan
from models.reports import Report
from tests.fakes.zalo_api import FakeZalo
from tests.utils.files import JPG
from tests.utils.http import choosing, saying, seed_officer, until

OFFICER = "7fef9afa66b88fe6d6b1"


async def test_zalo_officer_is_told_and_returns_the_scan_as_a_photo(
    zalo_api: FakeZalo, zalo_bot, engine, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("handlers.signing.shutil.which", lambda name: None)
    _, core = zalo_bot
    core.flood.limit = 10_000
    seed_officer(engine, OFFICER, channel="zalo", admin="Văn phòng")
    api = zalo_api

    say, choose = saying(api, OFFICER), choosing(api, OFFICER)

    await until(api, OFFICER, "Câu 1/12", say("/baocao"))
    await until(api, OFFICER, "Câu 2/12", say("Thu ngân sách đạt 105% kế hoạch; giảm hộ nghèo"))
    await until(api, OFFICER, "Câu 3/12", say("12"))
    await until(api, OFFICER, "Câu 4/12", say("11"))
    await until(api, OFFICER, "Câu 5/12", choose("Hoàn thành tốt nhiệm vụ"))
    await until(api, OFFICER, "Mô hình", choose("Bỏ qua"))
    await until(api, OFFICER, "Câu 7/12", choose("Bỏ qua"))
    await until(api, OFFICER, "Câu 8/12", say("Giải ngân vốn còn chậm"))
    await until(api, OFFICER, "Câu 9/12", say("Xã miền núi, 12 thôn, 8.450 nhân khẩu"))
    await until(api, OFFICER, "III. Khen thưởng", choose("Bỏ qua"))
    await until(api, OFFICER, "Câu 11/12", choose("Bỏ qua"))
    await until(api, OFFICER, "Câu 12/12", say("20/6/2026"))
    await until(api, OFFICER, "Xem lại", choose("Bỏ qua"))
    told = await until(api, OFFICER, "chưa gửi được qua Zalo", choose("Nộp báo cáo"))
    assert "bao-cao-thanh-tich-xa-binh-lu.docx" in told.text
    assert "Cơ quan tổ chức thi đua" in told.text  # ORGANISER_NAME, not a hard-coded office
    instructions = await api.wait_for_text(OFFICER, "in, ký, đóng dấu")
    assert "📎 Gửi bản ký" in [label for _, label in instructions.choices]
    await until(api, OFFICER, "Gửi bản quét", choose("📎 Gửi bản ký"))
    await until(
        api, OFFICER, "Đã nhận bản ký", lambda: api.push_image(OFFICER, JPG, caption="trang 1")
    )
    with Session(engine) as db:
        report = db.exec(select(Report)).one()
        scan = signed_scan(db, report)
        assert scan is not None and scan.channel == "zalo" and scan.meta["version"] == 1
