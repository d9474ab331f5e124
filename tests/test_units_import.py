"""Importing the unit registry from CSV/XLSX: all rows or none, each bad row explained."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from bot.cli import main as cli_main
from models.audit import AuditLog
from models.units import Unit
from tests.utils.factories import make_unit
from tests.utils.scenario import TestBot
from tests.utils.units import (
    HEADER,
    admin_of,
    csv_bytes,
    send_import,
    units_snapshot,
    xlsx_bytes,
)

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "don-vi-tam-duong.csv"


@pytest.fixture
def existing(bot: TestBot) -> list[tuple[str, str, str, str | None]]:
    """One unit already registered, so a refused import visibly changes nothing."""
    with bot.db() as db:
        make_unit(db, "Xã Bình Lư", code="XA-BINHLU", bloc="Khối cũ")
        db.commit()
    return units_snapshot(bot)


async def test_sample_file_imports_the_district(bot: TestBot) -> None:
    admin = await send_import(bot, SAMPLE.read_bytes(), "don-vi-tam-duong.csv")
    assert "thêm mới 19, cập nhật 0" in admin.last_reply
    units = {code: (name, kind, bloc) for code, name, kind, bloc in units_snapshot(bot)}
    assert units["XA-BINHLU"] == ("Xã Bình Lư", "xa", "Khối xã, thị trấn")
    assert units["TT-TAMDUONG"][1] == "xa"  # "thị trấn" is an alias of the commune level
    assert units["PB-TCKH"] == ("Phòng Tài chính – Kế hoạch", "coquan", "Khối cơ quan huyện")
    assert sum(1 for c in units if c.startswith(("XA-", "TT-"))) == 14
    # The flow is over: a second file is not taken as another import.
    await admin.sends_file(SAMPLE.read_bytes(), "again.csv", "text/csv")
    assert "chưa hiểu" in admin.last_reply
    with bot.db() as db:
        entry = db.exec(select(AuditLog).where(AuditLog.action == "unit.import")).one()
    assert entry.outcome == "ok" and entry.detail["created"] == 19


async def test_existing_codes_are_updated_not_duplicated(bot: TestBot, existing) -> None:
    content = csv_bytes(HEADER, "xa-binhlu,Xã Bình Lư,xã,Khối xã", "XA-BANBO,Xã Bản Bo,xã,Khối xã")
    admin = await send_import(bot, content, "don-vi.csv")
    assert "thêm mới 1, cập nhật 1, giữ nguyên 0" in admin.last_reply
    assert units_snapshot(bot) == [
        ("XA-BANBO", "Xã Bản Bo", "xa", "Khối xã"),
        ("XA-BINHLU", "Xã Bình Lư", "xa", "Khối xã"),
    ]


async def test_xlsx_with_a_title_row_and_semicolon_csv_are_read(bot: TestBot) -> None:
    content = xlsx_bytes(
        [
            ["DANH SÁCH ĐƠN VỊ THI ĐUA"],
            ["Mã", "Tên đơn vị", "Loại", "Khối thi đua"],
            ["XA-NATAM", "Xã Nà Tăm", "Xã", "Khối xã, thị trấn"],
            ["TRUONG-01", "Trường Tiểu học Bình Lư", "trường học", None],
        ]
    )
    admin = await send_import(bot, content, "danh-sach.xlsx", None)
    assert "thêm mới 2" in admin.last_reply
    await admin.says("/nhapdonvi")
    semicolons = "ma;ten;loai;khoi\nTH-02;Trường Mầm non Nà Tăm;truong;\n".encode()
    await admin.sends_file(semicolons, "excel-vn.csv", "text/csv")
    assert "thêm mới 1" in admin.last_reply
    assert [u[0] for u in units_snapshot(bot)] == ["TH-02", "TRUONG-01", "XA-NATAM"]


async def test_duplicate_code_is_refused_with_both_rows(bot: TestBot, existing) -> None:
    content = csv_bytes(
        HEADER,
        "XA-BANBO,Xã Bản Bo,xã,",
        "XA-HOTHAU,Xã Hồ Thầu,xã,",
        "xa-banbo,Xã Bản Bo (lặp),xã,",
    )
    admin = await send_import(bot, content, "trung.csv")
    assert "Chưa nhập đơn vị nào" in admin.last_reply
    assert "Dòng 4: mã XA-BANBO trùng với dòng 2." in admin.last_reply
    assert units_snapshot(bot) == existing
    with bot.db() as db:
        entry = db.exec(select(AuditLog).where(AuditLog.action == "unit.import")).one()
    assert entry.outcome == "refused"


async def test_missing_column_is_refused(bot: TestBot, existing) -> None:
    content = csv_bytes("ma,ten,khoi", "XA-BANBO,Xã Bản Bo,Khối xã")
    admin = await send_import(bot, content, "thieu-cot.csv")
    assert "Dòng 1: thiếu cột loai." in admin.last_reply
    assert units_snapshot(bot) == existing


async def test_unknown_kind_and_empty_name_are_listed_per_row(bot: TestBot, existing) -> None:
    content = csv_bytes(
        HEADER,
        "XA-BANBO,Xã Bản Bo,xã,",
        "HTX-01,Hợp tác xã chè,nông trường,",
        "XA-HOTHAU,,xã,",
    )
    admin = await send_import(bot, content, "sai-loai.csv")
    text = admin.last_reply
    assert "tệp có 2 lỗi" in text
    assert "Dòng 3: loại đơn vị “nông trường” không có trong danh mục" in text
    assert "Doanh nghiệp" in text  # the accepted kinds are named
    assert "Dòng 4: thiếu tên đơn vị." in text
    assert units_snapshot(bot) == existing
    # Still in the import: the corrected file goes through.
    await admin.sends_file(csv_bytes(HEADER, "HTX-01,Hợp tác xã chè,htx,"), "sua.csv")
    assert "thêm mới 1" in admin.last_reply


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"", "trong.csv"),
        (b"\xef\xbb\xbf\r\n  \r\n", "bom.csv"),
        (csv_bytes(HEADER), "tieu-de.csv"),
    ],
)
async def test_empty_file_is_refused(bot: TestBot, existing, content: bytes, name: str) -> None:
    admin = await send_import(bot, content, name)
    assert "Tệp trống: không có dòng đơn vị nào." in admin.last_reply
    assert units_snapshot(bot) == existing


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "danh-sach.csv"),  # a PDF renamed .csv
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "anh.csv"),
        (b"PK\x03\x04" + b"\x00" * 40, "van-ban.xlsx"),  # a zip that is no workbook
        (b"\x00\x01\x02\x03binary\x00data", "du-lieu.csv"),
    ],
)
async def test_a_file_that_is_not_a_table_is_refused(
    bot: TestBot, existing, content: bytes, name: str
) -> None:
    admin = await send_import(bot, content, name)
    assert "không phải CSV hay Excel (.xlsx)" in admin.last_reply
    assert units_snapshot(bot) == existing


async def test_old_xls_gets_advice(bot: TestBot) -> None:
    content = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100
    admin = await send_import(bot, content, "cu.xls", "application/vnd.ms-excel")
    assert ".xlsx" in admin.last_reply and "đời cũ" in admin.last_reply


async def test_text_instead_of_a_file_is_asked_again(bot: TestBot) -> None:
    admin = admin_of(bot)
    await admin.says("/nhapdonvi")
    await admin.says("XA-BANBO, Xã Bản Bo")
    assert "Hãy gửi tệp CSV" in admin.new_text
    assert "Dòng đầu là tiêu đề" in admin.last_reply


async def test_parent_codes_link_villages_to_their_commune(bot: TestBot) -> None:
    content = csv_bytes(
        "ma,ten,loai,khoi,ma_cap_tren",
        "BAN-NATAM-1,Bản Nà Tăm 1,bản,,XA-NATAM",
        "XA-NATAM,Xã Nà Tăm,xã,,",
        "BAN-LOOP,Bản Vòng,bản,,BAN-LOOP",
        "BAN-X,Bản X,bản,,XA-KHONGCO",
    )
    admin = await send_import(bot, content, "cap-tren.csv")
    assert "Dòng 4: đơn vị không thể là cấp trên của chính nó." in admin.last_reply
    await admin.sends_file(csv_bytes(*content.decode().splitlines()[:3]), "sua.csv")
    assert "thêm mới 2" in admin.last_reply
    with bot.db() as db:
        village = db.exec(select(Unit).where(Unit.code == "BAN-NATAM-1")).one()
        commune = db.exec(select(Unit).where(Unit.code == "XA-NATAM")).one()
    assert village.parent_id == commune.id and village.kind == "thon"


async def test_unknown_parent_is_refused(bot: TestBot, existing) -> None:
    content = csv_bytes("ma,ten,loai,khoi,ma_cap_tren", "BAN-X,Bản X,bản,,XA-KHONGCO")
    admin = await send_import(bot, content, "cap-tren.csv")
    assert "Dòng 2: mã đơn vị cấp trên XA-KHONGCO không có" in admin.last_reply
    assert units_snapshot(bot) == existing


async def test_officer_cannot_import(bot: TestBot, existing) -> None:
    with bot.db() as db:
        from tests.utils.factories import make_member

        unit = db.exec(select(Unit)).one()
        make_member(db, "200", unit=unit)
        db.commit()
    officer = bot.person("200")
    await officer.says("/nhapdonvi")
    assert "chỉ dành cho quản trị viên" in officer.last_reply
    await officer.sends_file(SAMPLE.read_bytes(), "x.csv")
    assert units_snapshot(bot) == existing


def test_cli_import_prints_the_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "cli.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.chdir(tmp_path)  # no .env from the developer's checkout
    assert cli_main(["units", "import", str(SAMPLE)]) == 0
    assert "thêm mới 19" in capsys.readouterr().out
    bad = tmp_path / "trung.csv"
    bad.write_bytes(csv_bytes(HEADER, "A,Xã A,xã,", "A,Xã A,xã,"))
    assert cli_main(["units", "import", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "Chưa nhập đơn vị nào" in out and "Dòng 3: mã A trùng với dòng 2." in out
    assert cli_main(["units", "import", str(SAMPLE)]) == 0
    assert "thêm mới 0, cập nhật 0, giữ nguyên 19" in capsys.readouterr().out
