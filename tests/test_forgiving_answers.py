"""Forgiving typed answers: what is unambiguous is accepted, what is not is asked about, and a
typed number is never mistaken for a button where numbers are answers."""

from __future__ import annotations

from datetime import date

import pytest

from bot.channels.choices import Offer
from bot.events import Button, Outbound
from domain.dates import relative_day, strip_unit_word
from tests.utils.factories import make_campaign, make_unit
from tests.utils.ids import ADMIN_USER_ID
from tests.utils.reports import report_world
from tests.utils.scenario import TestBot


@pytest.mark.parametrize(
    ("typed", "number"),
    [("25 người", "25"), ("1.250,5 triệu", "1.250,5"), ("12 chỉ tiêu", "12"), ("25", "25")],
)
def test_a_unit_word_after_a_number_is_dropped(typed: str, number: str) -> None:
    assert strip_unit_word(typed) == number


def test_today_and_tomorrow() -> None:
    today = date(2026, 3, 2)
    assert relative_day("hôm nay", today) == today
    assert relative_day("Ngay mai", today) == date(2026, 3, 3)
    assert relative_day("15/3", today) is None


async def test_near_misses_in_a_report_are_accepted(bot: TestBot) -> None:
    world = report_world(bot, "bao-cao-thanh-tich")
    officer = world.officer
    await officer.says("/baocao")
    await officer.says("Thu ngân sách đạt 105% kế hoạch; giảm 2,3% hộ nghèo")
    await officer.says("12 chỉ tiêu")
    await officer.says("11 chỉ tiêu")
    await officer.says("hoan thanh")  # three choices start so: asked, not guessed
    assert "Có nhiều lựa chọn bắt đầu như vậy" in officer.new_text
    await officer.says("hoan thanh tot")
    await officer.says("1.250,5 triệu")
    await officer.presses("Thêm mục")
    await officer.says("Mô hình chè VietGAP thôn Nà Khum")
    await officer.says("15 hộ tham gia, năng suất tăng 20%")
    await officer.says("xong")
    await officer.says("Giải ngân vốn còn chậm")
    await officer.says("Xã vùng cao biên giới, 12 thôn, 1.250 hộ, đồng bào Dao và Hmông")
    await officer.says("/boqua")
    await officer.says("xong")  # no past awards to list
    await officer.says("hôm nay")
    answers = world.report().answers
    assert answers["tong_chi_tieu"] == 12 and answers["chi_tieu_dat"] == 11
    assert answers["xep_loai"] == "Hoàn thành tốt nhiệm vụ"
    assert answers["kinh_phi"] == "1250.5"
    assert len(answers["mo_hinh"]) == 1
    assert answers["ngay_bao_cao"] == "2026-03-02"


async def test_commands_typed_without_the_slash_and_skip_outside_a_form(bot: TestBot) -> None:
    world = report_world(bot)
    await world.officer.says("baocao")
    assert "Câu 1/7" in world.officer.last_reply
    await world.officer.says("/huy")
    await world.officer.says("/boqua")
    assert "Hiện không có câu hỏi nào đang chờ" in world.officer.last_reply
    await world.officer.says("/quaylai")
    assert "Hiện không có câu hỏi nào đang chờ" in world.officer.last_reply
    assert "chưa hiểu" not in world.officer.all_text.lower()


async def test_a_typed_number_is_the_overdue_count_not_a_button(bot: TestBot) -> None:
    with bot.db() as db:
        make_campaign(db)
        make_unit(db, "Xã Bình Lư")
        db.commit()
    admin = bot.person(ADMIN_USER_ID, "Trưởng phòng Nội vụ")
    await admin.says("/hanmoi")
    await admin.presses("353/KH-UBND")
    await admin.presses("Báo cáo sơ kết")
    await admin.presses("Dùng «Báo cáo sơ kết»")
    await admin.says("16/3/2026")
    await admin.presses("17:00")
    await admin.presses("Báo cáo thành tích")
    await admin.presses("Thay đổi")
    await admin.says("7, 3, 1")
    question = admin.messages[-1]
    assert question.accepts_text  # Zalo and the console show the buttons as #1…#5
    await admin.says("3")  # three times, not the third button ("2")
    assert "tối đa 3 lần" in admin.last_reply


async def test_a_bloc_named_by_a_bare_number_is_refused(bot: TestBot) -> None:
    with bot.db() as db:
        make_unit(db, "Xã Bình Lư", bloc="Khối xã, thị trấn")
        db.commit()
    admin = bot.person(ADMIN_USER_ID, "Trưởng phòng Nội vụ")
    await admin.says("/themdonvi")
    await admin.says("XA-BANBO")
    await admin.says("Xã Bản Bo")
    await admin.presses("Xã, phường")
    await admin.says("2")
    assert "Tên khối phải có chữ" in admin.new_text


def test_numbers_on_buttons_are_prefixed_where_numbers_are_answers() -> None:
    offer = Offer((Button("0", "od:0"), Button("3", "od:3")), prefixed=True)
    assert offer.resolve("2") is None and offer.resolve("#2").payload == "od:3"
    plain = Offer((Button("Có", "y"), Button("Không", "n")))
    assert plain.resolve("2").payload == "n" and plain.resolve("#2").payload == "n"
    assert Outbound("x", accepts_text=True).accepts_text
