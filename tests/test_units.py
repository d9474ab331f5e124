"""The unit registry: kinds as data, diacritics-insensitive search, /themdonvi and /donvi."""

from __future__ import annotations

import unicodedata

from sqlmodel import Session, select

from domain.scope import DEFAULT_SCOPE
from domain.units import resolve_kind, search_units, unit_kinds
from models.audit import AuditLog
from models.units import Unit
from tests.utils.factories import make_member, make_unit
from tests.utils.scenario import TestBot
from tests.utils.units import admin_of, units_snapshot


def test_kinds_come_from_refdata_with_aliases() -> None:
    assert [k.code for k in unit_kinds()] == [
        "xa",
        "thon",
        "coquan",
        "truong",
        "doanhnghiep",
        "khac",
    ]
    assert resolve_kind("Thị trấn") == "xa"
    assert resolve_kind("PHUONG") == "xa"
    assert resolve_kind("tổ dân phố") == "thon"
    assert resolve_kind("Phòng ban") == "coquan"
    assert resolve_kind("truong hoc") == "truong"
    assert resolve_kind("doanhnghiep") == "doanhnghiep"
    assert resolve_kind("nông trường") is None
    assert resolve_kind("") is None


def test_search_ignores_diacritics_and_unicode_form(session: Session) -> None:
    binh_lu = make_unit(session, "Xã Bình Lư", code="XA-BINHLU")
    make_unit(session, "Xã Sơn Bình", code="XA-SONBINH")
    make_unit(session, "Phòng Nội vụ", code="PB-NOIVU", kind="coquan")
    assert search_units(session, "binh lu", scope=DEFAULT_SCOPE) == [binh_lu]
    assert search_units(session, "BÌNH LƯ", scope=DEFAULT_SCOPE) == [binh_lu]
    decomposed = unicodedata.normalize("NFD", "Bình Lư")
    assert decomposed != "Bình Lư"
    assert search_units(session, decomposed, scope=DEFAULT_SCOPE) == [binh_lu]
    assert {u.code for u in search_units(session, "bình", scope=DEFAULT_SCOPE)} == {
        "XA-BINHLU",
        "XA-SONBINH",
    }
    assert [u.code for u in search_units(session, "xa-binhlu", scope=DEFAULT_SCOPE)] == [
        "XA-BINHLU"
    ]
    assert [u.code for u in search_units(session, "noi vu", scope=DEFAULT_SCOPE)] == ["PB-NOIVU"]
    assert search_units(session, "100%_", scope=DEFAULT_SCOPE) == []


async def test_admin_adds_a_unit_step_by_step(bot: TestBot) -> None:
    with bot.db() as db:
        make_unit(db, "Xã Bản Bo", code="XA-BANBO", bloc="Khối xã, thị trấn")
        db.commit()
    admin = admin_of(bot)
    await admin.says("/themdonvi")
    await admin.says("xa binh lu")  # normalised to a code
    assert "tên đơn vị" in admin.last_reply
    await admin.says("Xã   Bình Lư ")
    await admin.presses("Xã, phường, thị trấn")
    assert "Khối xã, thị trấn" in admin.buttons
    await admin.presses("Khối xã, thị trấn")
    assert "Mã: XA-BINH-LU" in admin.last_reply and "Tên: Xã Bình Lư" in admin.last_reply
    await admin.presses("Xác nhận")
    assert "Đã thêm Xã Bình Lư" in admin.last_reply and "/moi XA-BINH-LU" in admin.last_reply
    assert ("XA-BINH-LU", "Xã Bình Lư", "xa", "Khối xã, thị trấn") in units_snapshot(bot)
    with bot.db() as db:
        entry = db.exec(select(AuditLog).where(AuditLog.action == "unit.create")).one()
    assert entry.actor == "memory:100"


async def test_add_unit_validates_each_answer(bot: TestBot) -> None:
    with bot.db() as db:
        make_unit(db, "Xã Bản Bo", code="XA-BANBO")
        db.commit()
    admin = admin_of(bot)
    await admin.says("/themdonvi")
    await admin.says("xa-banbo")
    assert "Mã XA-BANBO đã dùng cho Xã Bản Bo" in admin.new_text
    assert "mã đơn vị" in admin.last_reply  # asked again
    await admin.says("x" * 40)
    assert "tối đa 32 ký tự" in admin.new_text
    await admin.says("TRUONG-TH-BINHLU")
    await admin.says("/boqua")
    assert "bắt buộc" in admin.new_text
    await admin.says("Trường Tiểu học Bình Lư")
    await admin.says("nông trường")
    assert "chưa nhận ra loại" in admin.new_text
    await admin.says("trường học")  # typing a kind works as well as pressing
    await admin.says("/boqua")  # no bloc
    assert "Khối: không thuộc khối nào" in admin.last_reply
    await admin.says("/quaylai")
    assert "khối thi đua" in admin.last_reply
    await admin.says("Khối trường học")
    await admin.presses("Huỷ")
    assert "chưa thêm đơn vị nào" in admin.last_reply
    assert [u[0] for u in units_snapshot(bot)] == ["XA-BANBO"]


async def test_a_stale_confirmation_adds_nothing(bot: TestBot) -> None:
    admin = admin_of(bot)
    await admin.says("/themdonvi")
    await admin.says("XA-A")
    await admin.says("Xã A")
    await admin.presses("Khác")
    await admin.says("/boqua")
    await admin.says("/huy")
    await admin.presses("Xác nhận")
    assert "Nút này đã cũ" in admin.last_reply
    assert units_snapshot(bot) == []


async def test_units_list_pages_and_replaces_the_message(bot: TestBot) -> None:
    with bot.db() as db:
        for n in range(1, 20):
            make_unit(db, f"Bản Số {n}", code=f"BAN-{n:02d}", kind="thon", bloc=None)
        unit = db.exec(select(Unit).where(Unit.code == "BAN-01")).one()
        make_member(db, "201", unit=unit, name="Lò Văn Tâm")
        make_member(db, "202", unit=unit, name="Tòng Thị Hoa", status="pending")
        db.commit()
    admin = admin_of(bot)
    await admin.says("/donvi")
    first = admin.last_reply
    assert "Danh sách đơn vị (19)" in first and "Trang 1/3" in first
    assert "BAN-01 · Bản Số 1 — Thôn, bản, tổ dân phố" in first
    assert "Cán bộ: Lò Văn Tâm; Tòng Thị Hoa (chờ duyệt)" in first
    assert "Chưa có cán bộ — /moi BAN-02" in first
    assert admin.buttons == ["Sau »"]
    await admin.presses("Sau »")
    assert admin.new_messages[-1].replace is True
    assert "Trang 2/3" in admin.last_reply and "BAN-09" in admin.last_reply
    assert admin.buttons == ["« Trước", "Sau »"]
    await admin.presses("Sau »")
    assert "Trang 3/3" in admin.last_reply and admin.buttons == ["« Trước"]


async def test_units_search_is_diacritics_insensitive(bot: TestBot) -> None:
    with bot.db() as db:
        make_unit(db, "Xã Bình Lư", code="XA-BINHLU")
        make_unit(db, "Xã Sơn Bình", code="XA-SONBINH")
        db.commit()
    admin = admin_of(bot)
    await admin.says("/donvi binh lu")
    assert "Đơn vị khớp “binh lu” (1)" in admin.last_reply
    assert "Xã Bình Lư" in admin.last_reply and "Sơn Bình" not in admin.last_reply
    await admin.says("/donvi " + unicodedata.normalize("NFD", "Sơn Bình"))
    assert "XA-SONBINH" in admin.last_reply
    await admin.says("/donvi hà nội")
    assert "Không tìm thấy đơn vị nào khớp “hà nội”" in admin.last_reply


async def test_search_results_page_with_their_query(bot: TestBot) -> None:
    with bot.db() as db:
        for n in range(1, 12):
            make_unit(db, f"Trường Tiểu học số {n}", code=f"TH-{n:02d}", kind="truong")
        make_unit(db, "Xã Bản Bo", code="XA-BANBO")
        db.commit()
    admin = admin_of(bot)
    await admin.says("/donvi tiểu học")
    assert "(11)" in admin.last_reply and "Trang 1/2" in admin.last_reply
    await admin.presses("Sau »")
    assert "Trang 2/2" in admin.last_reply and "TH-11" in admin.last_reply
    assert "XA-BANBO" not in admin.last_reply


async def test_officer_is_refused_registry_commands_and_it_is_logged(bot: TestBot) -> None:
    with bot.db() as db:
        unit = make_unit(db, "Xã Bình Lư", code="XA-BINHLU")
        make_member(db, "200", unit=unit)
        db.commit()
    officer = bot.person("200")
    for command in ("/donvi", "/themdonvi", "/moi XA-BINHLU", "/thuhoi XA-BINHLU"):
        await officer.says(command)
        assert officer.last_reply == "Lệnh này chỉ dành cho quản trị viên."
    await officer.presses_payload("un-p:2:")
    assert officer.last_reply == "Lệnh này chỉ dành cho quản trị viên."
    with bot.db() as db:
        denied = db.exec(select(AuditLog).where(AuditLog.outcome == "denied")).all()
    assert [d.target_id for d in denied] == [
        "/donvi",
        "/themdonvi",
        "/moi",
        "/thuhoi",
        "button:un-p",
    ]


async def test_help_lists_registry_commands_for_admins_only(bot: TestBot) -> None:
    with bot.db() as db:
        unit = make_unit(db, "Xã Bình Lư", code="XA-BINHLU")
        make_member(db, "200", unit=unit)
        db.commit()
    admin, officer, visitor = admin_of(bot), bot.person("200"), bot.person("7")
    await admin.says("/trogiup")
    for command in ("/themdonvi", "/nhapdonvi", "/donvi", "/moi", "/duyet", "/xoacanbo"):
        assert command in admin.last_reply
    assert "/capquyen" in admin.last_reply
    await officer.says("/trogiup")
    assert "/toi" in officer.last_reply and "/donvi" not in officer.last_reply
    await visitor.says("/trogiup")
    assert "/dangky" in visitor.last_reply and "/toi" not in visitor.last_reply
