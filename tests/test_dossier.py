"""The campaign dossier: each template filled from a scripted campaign and read back with
python-docx, the ZIP /hoso and `thidua-bot dossier` produce for 16 units with some missing,
and its index of what is missing."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

from openpyxl import load_workbook
from sqlmodel import Session, select

from bot import cli
from bot.settings import Settings
from domain.dossier import build_dossier
from domain.export import find_campaign
from domain.scope import DEFAULT_SCOPE
from handlers.dossier import dossier_texts
from models.reports import Report
from tests.utils.dossier import FORMS, document_text, dossier_world, unzip
from tests.utils.ids import ADMIN_USER_ID
from tests.utils.scenario import TestBot

ROOT = "ho-so-353-kh-ubnd"
NATIONAL = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"


def build(session: Session, settings: Settings, *, today: date = date(2026, 7, 2)) -> dict:
    campaign = find_campaign("353/KH-UBND", scope=DEFAULT_SCOPE, session=session)
    assert campaign is not None
    data = build_dossier(
        session,
        campaign=campaign,
        forms=FORMS,
        office=settings.office(),
        texts=dossier_texts(),
        storage_dir=settings.storage_dir,
        today=today,
        zone=settings.tz,
    )
    return unzip(data)


def test_the_collective_report_follows_the_decree_template(
    session: Session, settings: Settings
) -> None:
    dossier_world(session, settings.storage_dir)
    files = build(session, settings)
    paragraphs, tables = document_text(
        files[f"{ROOT}/don-vi/xa-001-xa-binh-lu-1/bao-cao-thanh-tich-xa-binh-lu-1.docx"]
    )
    heading = tables[0][0]
    assert "XÃ BÌNH LƯ 1" in heading[0]
    assert NATIONAL in heading[1] and "Độc lập - Tự do - Hạnh phúc" in heading[1]
    # The place comes from the unit's name; the date from the answer, in the decree's style.
    assert "Bình Lư 1, ngày 20 tháng 6 năm 2026" in heading[1]
    # The decree in force since 01/7/2025 is Nghị định 152/2025/NĐ-CP (98/2023's Mẫu số 02 before).
    assert paragraphs[0] == "Mẫu số 04 - Phụ lục Nghị định số 152/2025/NĐ-CP"
    text = "\n".join(paragraphs)
    assert "Đề nghị tặng Tập thể lao động tiên tiến" in text
    part_one, part_two, part_three = (
        text.index("I. SƠ LƯỢC ĐẶC ĐIỂM, TÌNH HÌNH"),
        text.index("II. THÀNH TÍCH ĐẠT ĐƯỢC"),
        text.index("III. CÁC HÌNH THỨC KHEN THƯỞNG"),
    )
    assert part_one < text.index("Xã miền núi số 1, 12 thôn") < part_two
    assert part_one < text.index("Quản lý nhà nước trên địa bàn xã") < part_two
    assert part_two < text.index("Kết quả so với chỉ tiêu: Thu ngân sách đạt 101%") < part_three
    assert "Kinh phí huy động (triệu đồng): 1.250,5" in text
    assert "- Mô hình chè VietGAP số 1: 15 hộ tham gia" in text
    # Part III: what the officer typed and the imported history, by year, bordered table.
    awards_table = next(t for t in tables if t[0][0] == "Năm")
    assert awards_table[1:] == [
        ["2024", "Cờ thi đua của UBND tỉnh", "88/QĐ-UBND", "Chủ tịch UBND tỉnh Lai Châu"],
        ["2025", "Tập thể lao động tiên tiến", "125/QĐ-UBND ngày 15/01/2026", "Chủ tịch UBND tỉnh"],
    ]
    assert "THỦ TRƯỞNG ĐƠN VỊ" in tables[-1][0][1]


def test_the_individual_report_has_its_person_and_parts(
    session: Session, settings: Settings
) -> None:
    dossier_world(session, settings.storage_dir)
    files = build(session, settings)
    paragraphs, tables = document_text(
        files[f"{ROOT}/don-vi/xa-001-xa-binh-lu-1/bao-cao-ca-nhan-1-lo-thi-mai-1.docx"]
    )
    text = "\n".join(paragraphs)
    assert NATIONAL in tables[0][0][1]
    assert paragraphs[0] == "Mẫu số 05 - Phụ lục Nghị định số 152/2025/NĐ-CP"
    assert "Đề nghị tặng Chiến sĩ thi đua cơ sở" in text
    assert "- Họ tên: Lò Thị Mai 1" in text and "- Năm sinh: 1985" in text
    assert "Công chức Văn hóa - Xã hội, Xã Bình Lư 1" in text
    assert text.index("I. SƠ LƯỢC LÝ LỊCH") < text.index("Tham mưu công tác văn hóa")
    assert text.index("II. THÀNH TÍCH") < text.index("12/12 thôn giữ danh hiệu")
    awards_table = next(t for t in tables if t[0][0] == "Năm")
    assert ["", "2024: Lao động tiên tiến, QĐ 12/QĐ-UBND", "", ""] in awards_table


def test_the_list_and_the_submission_carry_every_nomination(
    session: Session, settings: Settings
) -> None:
    settings.organiser_name = "UBND xã Tam Đường"
    settings.signing_place = "Tam Đường"
    settings.dossier_recipient = "Chủ tịch UBND tỉnh Lai Châu"
    dossier_world(session, settings.storage_dir)
    files = build(session, settings)
    paragraphs, tables = document_text(files[f"{ROOT}/02-danh-sach-de-nghi.docx"])
    assert "Tam Đường, ngày 02 tháng 7 năm 2026" in tables[0][0][1]
    assert "UBND XÃ TAM ĐƯỜNG" in tables[0][0][0]
    rows = next(t for t in tables if t[0][0] == "TT")[1:]
    # Collectives' title first (order of the reference data), then individuals; by unit.
    assert [(r[0], r[1], r[4]) for r in rows] == [
        ("1", "Lò Thị Mai 1", "Lao động tiên tiến"),
        ("2", "Lò Thị Mai 2", "Lao động tiên tiến"),
        ("3", "Lò Thị Mai 3", "Lao động tiên tiến"),
        ("4", "Xã Bình Lư 1", "Tập thể lao động tiên tiến"),
        ("5", "Xã Bình Lư 2", "Tập thể lao động tiên tiến"),
        ("6", "Xã Bình Lư 3", "Tập thể lao động tiên tiến"),
    ]
    assert "Tổng cộng: 3 tập thể, 3 cá nhân." in paragraphs
    sheet = load_workbook(io.BytesIO(files[f"{ROOT}/02-danh-sach-de-nghi.xlsx"])).active
    assert [c.value for c in sheet[1]][:2] == ["TT", "Tập thể / cá nhân"]
    assert sheet.max_row == 7 and sheet["B5"].value == "Xã Bình Lư 1"
    paragraphs, tables = document_text(files[f"{ROOT}/01-to-trinh-du-thao.docx"])
    text = "\n".join(paragraphs)
    assert "Kính gửi: Chủ tịch UBND tỉnh Lai Châu." in text
    assert "Căn cứ Luật Thi đua, khen thưởng số 06/2022/QH15" in text
    assert "Căn cứ Kế hoạch số 353/KH-UBND về Phong trào thi đua năm 2026;" in text
    assert "báo cáo thành tích của 12/16 đơn vị" in text
    assert "khen thưởng cho 3 tập thể và 3 cá nhân" in text
    counts = next(t for t in tables if t[0][0] == "TT")[1:]
    assert ["1", "Lao động tiên tiến", "0", "3"] in counts
    assert ["2", "Tập thể lao động tiên tiến", "3", "0"] in counts
    assert "Số: …/TTr-UBND" in tables[0][0][0]


def test_an_old_report_without_parts_one_and_three_still_prints(
    session: Session, settings: Settings
) -> None:
    dossier_world(session, settings.storage_dir)
    report = session.exec(select(Report).where(Report.unit_id == 2)).first()
    assert report is not None
    old = {
        k: v for k, v in report.answers.items() if k not in ("dac_diem", "chuc_nang", "khen_thuong")
    }
    report.answers = old
    session.add(report)
    session.commit()
    files = build(session, settings)
    paragraphs, _tables = document_text(
        files[f"{ROOT}/don-vi/xa-002-xa-binh-lu-2/bao-cao-thanh-tich-xa-binh-lu-2.docx"]
    )
    assert "1. Đặc điểm, tình hình: …" in paragraphs
    assert "Chưa có hình thức khen thưởng nào được ghi nhận." in paragraphs


async def test_hoso_sends_a_zip_of_16_units_with_the_index_of_what_is_missing(
    bot: TestBot, settings: Settings
) -> None:
    with bot.db() as db:
        world = dossier_world(db, settings.storage_dir)
    admin = bot.person(ADMIN_USER_ID, "Văn phòng")
    await admin.says("/hoso 353/KH-UBND")
    await bot.core.wait_background()
    progress = [m.text for m in admin.messages if "Đang lập hồ sơ" in m.text]
    assert progress and "16/16" in progress[-1]
    sent = admin.messages[-1].document
    assert sent is not None and sent.file_name == f"{ROOT}.zip"
    # Units 13–16 handed in nothing; 9–12 and commune 1's individual report lack a scan.
    assert "chưa nộp báo cáo nào: 4; báo cáo thiếu bản ký: 5" in sent.caption
    files = unzip(sent.content)
    for n, unit in enumerate(world.units, 1):
        folder = f"{ROOT}/don-vi/{unit.code.lower()}-xa-binh-lu-{n}"
        has_report = f"{folder}/bao-cao-thanh-tich-xa-binh-lu-{n}.docx" in files
        assert has_report is (unit.code in world.reported), unit.code
        scans = [name for name in files if name.startswith(f"{folder}/ban-ky-")]
        assert bool(scans) is (unit.code in world.scanned), unit.code
    index = load_workbook(io.BytesIO(files[f"{ROOT}/00-muc-luc.xlsx"]))["Mục lục"]
    rows = [[c.value for c in row] for row in index.iter_rows(min_row=2)]
    final = {r[0]: r for r in rows if r[2] == "Báo cáo thành tích năm 2026"}
    assert len(final) == 16
    assert final["XA-001"][3:] == [
        "Đã nộp",
        "bao-cao-thanh-tich-xa-binh-lu-1.docx",
        "ban-ky-bao-cao-thanh-tich-nam-2026.pdf",
        "Đủ",
    ]
    assert final["XA-010"][3] == "Đã nộp" and final["XA-010"][6] == "Bản ký, đóng dấu"
    assert final["XA-014"][3] == "Chưa nộp" and final["XA-014"][6] == "Báo cáo"


def test_the_cli_writes_the_same_dossier(
    tmp_path: Path, monkeypatch, capsys, session: Session, settings: Settings
) -> None:
    if session.get_bind().dialect.name != "sqlite":
        return  # the CLI opens DATABASE_URL itself; one database kind is enough here
    url = str(session.get_bind().url)
    dossier_world(session, settings.storage_dir)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("STORAGE_DIR", str(settings.storage_dir))
    out = tmp_path / "hoso.zip"
    assert cli.main(["dossier", "--campaign", "353/KH-UBND", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "16/16 đơn vị" in captured.err and "Đã ghi" in captured.out
    # The size as an office reads it ("16,4 KB"), not "16,801 byte".
    assert re.search(r"\(hồ sơ 353/KH-UBND, \d+(,\d)? (KB|MB)\)", captured.out), captured.out
    files = unzip(out.read_bytes())
    assert f"{ROOT}/00-muc-luc.xlsx" in files and f"{ROOT}/01-to-trinh-du-thao.docx" in files
