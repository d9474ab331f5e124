"""Nothing accepted or cut silently: unit files with shifted columns, unit kinds written as
officials write them, future signing dates, deadlines on days off, long answers."""

from __future__ import annotations

import pytest

from domain.units import parse_unit_rows, resolve_kind
from tests.utils.factories import make_campaign, make_unit
from tests.utils.ids import ADMIN_USER_ID
from tests.utils.reports import report_world
from tests.utils.scenario import TestBot
from tests.utils.units import HEADER, csv_bytes, send_import, units_snapshot


async def test_a_row_with_an_unquoted_comma_is_refused_not_cut(bot: TestBot) -> None:
    content = csv_bytes(
        HEADER,
        'XA-BANBO,Xã Bản Bo,xã,"Khối xã, thị trấn"',
        "XA-BINHLU,Xã Bình Lư,xã,Khối xã, thị trấn",
    )
    admin = await send_import(bot, content, "don-vi.csv")
    assert "Dòng 3" in admin.last_reply and "ngoặc kép" in admin.last_reply
    assert units_snapshot(bot) == []  # all rows or none


@pytest.mark.parametrize(
    ("written", "kind"),
    [
        ("xã/thị trấn", "xa"),
        ("Xã / Thị trấn", "xa"),
        ("cơ quan/phòng ban", "coquan"),
        ("UBND xã", "xa"),
        ("xa", "xa"),
        ("thi tran", "xa"),
        ("co quan", "coquan"),
        ("phong ban", "coquan"),
        ("truong hoc", "truong"),
    ],
)
def test_unit_kinds_as_officials_write_them(written: str, kind: str) -> None:
    assert resolve_kind(written) == kind


@pytest.mark.parametrize("written", ["xã/trường", "hội", "UBND"])
def test_ambiguous_or_unknown_kinds_stay_unknown(written: str) -> None:
    assert resolve_kind(written) is None


def test_kinds_in_a_file_are_matched_before_refusing() -> None:
    rows, errors = parse_unit_rows(
        csv_bytes(HEADER, "XA-A,Xã A,xã/thị trấn,", "PB-B,Phòng B,cơ quan/phòng ban,")
    )
    assert errors == [] and [r.kind for r in rows] == ["xa", "coquan"]


async def test_a_signing_date_in_the_future_is_refused(bot: TestBot) -> None:
    admin = bot.person(ADMIN_USER_ID, "Trưởng phòng Nội vụ")
    await admin.says("/dotmoi")
    await admin.says("353/KH-UBND")
    await admin.says("Đợt thi đua đặc biệt")
    await admin.says("UBND huyện Tam Đường")
    await admin.says("25/4/2091")  # today is 02/03/2026
    assert "Ngày ban hành không thể ở tương lai" in admin.new_text
    assert "Kế hoạch ban hành ngày nào?" in admin.last_reply  # asked again
    await admin.says("25/4/2019")
    assert "bắt đầu từ ngày nào" in admin.last_reply


async def test_a_deadline_on_a_sunday_is_warned_and_reminded_on_friday(bot: TestBot) -> None:
    with bot.db() as db:
        make_campaign(db)
        make_unit(db, "Xã Bình Lư")
        db.commit()
    admin = bot.person(ADMIN_USER_ID, "Trưởng phòng Nội vụ")
    await admin.says("/hanmoi")
    await admin.presses("353/KH-UBND")
    await admin.presses("Báo cáo sơ kết")
    await admin.presses("Dùng «Báo cáo sơ kết»")
    await admin.says("15/3/2026")  # a Sunday
    assert "rơi vào Chủ nhật" in admin.new_text and "13/03/2026" in admin.new_text
    await admin.presses("17:00")
    await admin.presses("Báo cáo thành tích")
    await admin.presses("Dùng lịch mặc định")
    summary = admin.last_reply
    # 7 days before (Sunday 8/3 → Friday 6/3), 3 days before (Thursday 12/3), 1 day before
    # (Saturday 14/3 → Friday 13/3) and the due day (Sunday → Friday 13/3) merge on Friday.
    assert "08:00 thứ Sáu, 13/03/2026" in summary
    assert "15/03/2026" not in summary.split("Hạn:")[1].split("\n", 1)[1]


async def test_an_answer_over_4000_characters_is_refused_whole_and_given_back(
    bot: TestBot,
) -> None:
    world = report_world(bot)
    officer = world.officer
    await officer.says("/baocao")
    await officer.presses("Tập thể lao động tiên tiến")
    await officer.says("25")
    await officer.says("3")
    await officer.presses("nông thôn mới")
    await officer.presses("Xong")
    long_answer = "Giảm 2% hộ nghèo. " * 240 + "KẾT THÚC"  # 4,328 characters
    await officer.says(long_answer)
    said = officer.new_text
    assert f"dài {len(long_answer)} ký tự" in said and "chưa được lưu" in said
    assert "KẾT THÚC" in said  # the officer gets the whole text back to shorten
    assert "Câu 5/7" in officer.last_reply  # and the same question again
    assert world.report().answers.get("chi_tieu") is None
