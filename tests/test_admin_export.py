"""The campaign workbook, opened with openpyxl and read cell by cell; and the export CLI."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlmodel import Session

from bot.catalog import t
from bot.cli import main
from bot.db import create_db_engine, upgrade
from domain.export import ExportTexts, export_campaign, find_campaign, sheet_title
from domain.scope import DEFAULT_SCOPE
from models.reports import Attachment, ReportStatus, ReportVersion
from tests.utils import admin_forms
from tests.utils.factories import (
    T0,
    make_campaign,
    make_deadline,
    make_member,
    make_report,
    make_unit,
)

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
DUE = T0 + timedelta(days=7)  # 2026-03-09 08:00 in Hà Nội


def _seed(session: Session) -> None:
    campaign = make_campaign(session)
    registration = make_deadline(
        session,
        campaign,
        title="Đăng ký thi đua",
        form_code="dang-ky",  # no form loaded: columns follow the answers
        due_at=T0 + timedelta(days=3),
    )
    achievements = make_deadline(
        session, campaign, title="Báo cáo thành tích", form_code=admin_forms.FORM_CODE, due_at=DUE
    )
    binh_lu = make_unit(session, "Xã Bình Lư", code="XA-001", bloc="Khối xã, thị trấn")
    town = make_unit(session, "Thị trấn Tam Đường", code="TT-001", bloc="Khối xã, thị trấn")
    school = make_unit(session, "Phòng Giáo dục và Đào tạo", code="PGD", bloc="Khối cơ quan")
    tam = make_member(session, "201", unit=binh_lu, name="Lò Văn Tâm", phone="0912345678")
    make_member(session, "202", unit=binh_lu, name="Đỗ Thị Hà")
    hoa = make_member(session, "203", unit=school, name="Nguyễn Thị Hoà", phone="0987654321")
    make_report(
        session,
        binh_lu,
        registration,
        answers={"chi_tieu": "Hoàn thành xuất sắc nhiệm vụ", "so_nguoi": 25},
        submitted_at=T0 + timedelta(days=1),
        by=tam,
    )
    make_report(
        session,
        binh_lu,
        achievements,
        answers=admin_forms.answers(
            file={"attachment_id": 7, "file_name": "bao-cao-binh-lu.pdf"},
            nominations=[
                {"ho_ten": "Lò Văn Tâm", "hinh_thuc_kt": "giay-khen", "ngay_sinh": "1985-04-25"}
            ],
        ),
        submitted_at=T0 + timedelta(days=2),
        by=tam,
    )
    make_report(
        session,
        school,
        achievements,
        answers=admin_forms.answers(
            campaigns=5,
            money="1250.75",
            summary='=HYPERLINK("http://x")',  # typed by a user: must stay text
            kinds=["Thi đua chuyên đề"],
            reached=False,
            nominations=[
                {
                    "ho_ten": "Nguyễn Thị Hoà",
                    "hinh_thuc_kt": "bang-khen",
                    "ngay_sinh": "1990-01-02",
                },
                {"ho_ten": "Tập thể tổ Toán", "hinh_thuc_kt": "giay-khen", "ngay_sinh": None},
            ],
        ),
        submitted_at=DUE + timedelta(days=1, hours=3),  # late
        by=hoa,
    )
    # A draft is not handed in: its answers must not reach the workbook.
    make_report(
        session,
        town,
        achievements,
        status=ReportStatus.DRAFT,
        answers={"tom_tat": "bản nháp chưa gửi"},
    )
    session.commit()


def _workbook(session: Session) -> openpyxl.Workbook:
    campaign = find_campaign("353/kh-ubnd", scope=DEFAULT_SCOPE, session=session)
    assert campaign is not None
    data = export_campaign(
        campaign,
        session=session,
        forms=admin_forms.forms(),
        texts=ExportTexts.from_catalog(t),
        default_zone=HANOI,
    )
    return openpyxl.load_workbook(io.BytesIO(data))


def _rows(sheet) -> list[list[object]]:
    """The header row and the rows under it (row 1 is the sheet's title)."""
    return [list(row) for row in sheet.iter_rows(min_row=2, values_only=True)]


def test_sheets_are_named_and_ordered(session: Session) -> None:
    _seed(session)
    book = _workbook(session)
    assert book.sheetnames == [
        "Tình trạng nộp",
        "Đăng ký thi đua",
        "Báo cáo thành tích",
        "Đề nghị khen thưởng",
    ]
    for sheet in book.worksheets:
        assert sheet.freeze_panes is not None and sheet.freeze_panes.endswith("3")


def test_status_sheet_lists_every_unit_of_every_deadline(session: Session) -> None:
    _seed(session)
    sheet = _workbook(session)["Tình trạng nộp"]
    rows = _rows(sheet)
    assert rows[0] == [
        "Hạn nộp",
        "Ngày giờ hạn",
        "Mã đơn vị",
        "Đơn vị",
        "Khối thi đua",
        "Cán bộ phụ trách",
        "Điện thoại",
        "Trạng thái",
        "Nộp lúc",
        "Đúng hạn",
        "Mã biên nhận",
        "Duyệt",
        "Bản ký",
    ]
    assert sheet.freeze_panes == "E3"
    assert len(rows) == 1 + 2 * 3
    # Units by code within each deadline, deadlines by due date.
    assert [r[2] for r in rows[1:]] == ["PGD", "TT-001", "XA-001"] * 2
    binh_lu = rows[6]
    assert binh_lu == [
        "Báo cáo thành tích",
        datetime(2026, 3, 9, 8, 0),
        "XA-001",
        "Xã Bình Lư",
        "Khối xã, thị trấn",
        "Đỗ Thị Hà; Lò Văn Tâm",
        "0912345678",
        "Đã nộp đúng hạn",
        datetime(2026, 3, 4, 8, 0),  # 01:00 UTC shown in Hà Nội time
        "Có",
        binh_lu[10],
        "Chờ duyệt",
        "Chờ bản ký",  # printed from the Word template, no signed scan sent back yet
    ]
    assert re.fullmatch(r"BC-\d{5}-1", binh_lu[10])
    school = rows[4]
    assert school[3] == "Phòng Giáo dục và Đào tạo"
    assert school[7:10] == ["Đã nộp muộn", datetime(2026, 3, 10, 11, 0), "Không"]
    assert school[12] == "Chờ bản ký"
    town = rows[5]
    assert town[5:] == [None, None, "Đang soạn", None, None, None, None, None]
    submitted_cell = sheet.cell(row=8, column=9)
    assert submitted_cell.is_date and submitted_cell.number_format == "dd/mm/yyyy hh:mm"


def test_deadline_sheet_has_a_column_per_field_with_real_values(session: Session) -> None:
    _seed(session)
    sheet = _workbook(session)["Báo cáo thành tích"]
    rows = _rows(sheet)
    assert rows[0] == [
        "Mã đơn vị",
        "Đơn vị",
        "Khối thi đua",
        "Trạng thái",
        "Nộp lúc",
        "Đúng hạn",
        "Mã biên nhận",
        "Duyệt",
        "Số phong trào đã phát động",
        "Kinh phí (triệu đồng)",
        "Ngày sơ kết",
        "Tóm tắt thành tích",
        "Hình thức tổ chức",
        "Đạt chỉ tiêu",
        "Tệp báo cáo",
        "Đề nghị khen thưởng",
    ]
    assert sheet.freeze_panes == "C3"
    school, town, binh_lu = [row[:6] + row[8:] for row in rows[1:]]  # receipt, approval aside
    assert binh_lu == [
        "XA-001",
        "Xã Bình Lư",
        "Khối xã, thị trấn",
        "Đã nộp đúng hạn",
        datetime(2026, 3, 4, 8, 0),
        "Có",
        3,
        12.5,
        datetime(2026, 3, 10),
        "Tổ chức tốt phong trào “Dân vận khéo”",
        "Hội nghị; Trực tuyến",
        "Có",
        "bao-cao-binh-lu.pdf",
        "1 mục",
    ]
    assert school[3:6] == ["Đã nộp muộn", datetime(2026, 3, 10, 11, 0), "Không"]
    assert school[6:9] == [5, 1250.75, datetime(2026, 3, 10)]
    assert school[11:] == ["Không", None, "2 mục"]
    assert town[3] == "Đang soạn" and town[6:] == [None] * 8
    date_cell = sheet.cell(row=5, column=11)
    assert date_cell.is_date and date_cell.number_format == "dd/mm/yyyy"
    formula_like = sheet.cell(row=3, column=12)
    assert formula_like.value == '=HYPERLINK("http://x")' and formula_like.data_type == "s"
    assert sheet.column_dimensions["B"].width >= len("Phòng Giáo dục và Đào tạo")


def test_nominations_are_flattened_with_their_unit(session: Session) -> None:
    _seed(session)
    sheet = _workbook(session)["Đề nghị khen thưởng"]
    assert _rows(sheet) == [
        ["Mã đơn vị", "Đơn vị", "Khối thi đua", "STT", "Họ và tên", "Hình thức khen thưởng",
         "Ngày sinh"],
        ["PGD", "Phòng Giáo dục và Đào tạo", "Khối cơ quan", 1, "Nguyễn Thị Hoà", "Bằng khen",
         datetime(1990, 1, 2)],
        ["PGD", "Phòng Giáo dục và Đào tạo", "Khối cơ quan", 2, "Tập thể tổ Toán", "Giấy khen",
         None],
        ["XA-001", "Xã Bình Lư", "Khối xã, thị trấn", 1, "Lò Văn Tâm", "Giấy khen",
         datetime(1985, 4, 25)],
    ]  # fmt: skip
    assert sheet.cell(row=3, column=7).is_date


def test_without_a_form_columns_follow_the_answers(session: Session) -> None:
    _seed(session)
    rows = _rows(_workbook(session)["Đăng ký thi đua"])
    assert rows[0][8:] == ["chi_tieu", "so_nguoi"]
    assert rows[3][8:] == ["Hoàn thành xuất sắc nhiệm vụ", 25]


def test_a_returned_report_exports_what_was_handed_in(session: Session) -> None:
    campaign = make_campaign(session)
    deadline = make_deadline(session, campaign, form_code=admin_forms.FORM_CODE)
    unit = make_unit(session, "Xã Hồ Thầu", code="XA-009")
    report = make_report(
        session, unit, deadline, answers=admin_forms.answers(campaigns=9), submitted_at=T0
    )
    session.add(
        ReportVersion(
            report_id=report.id,
            version=1,
            answers=admin_forms.answers(campaigns=9),
            submitted_at=T0,
        )
    )
    report.status = ReportStatus.RETURNED
    report.answers = admin_forms.answers(campaigns=1)  # being corrected, not handed in
    session.commit()
    rows = _rows(_workbook(session)["Báo cáo thành tích"])
    assert rows[1][3] == "Bị trả lại để sửa" and rows[1][8] == 9


def test_sheet_titles_are_valid_and_unique() -> None:
    used: set[str] = set()
    long = "Báo cáo tổng kết phong trào thi đua yêu nước giai đoạn 2021-2025"
    first = sheet_title(long, used)
    second = sheet_title(long, used)
    assert len(first) <= 31 and len(second) <= 31
    assert first != second and second.endswith("(2)")
    assert sheet_title("Hồ sơ [đợt 1]: KT/KL?", used) == "Hồ sơ -đợt 1-- KT-KL-"
    assert sheet_title("bao cao", used) == "bao cao"
    assert sheet_title("BAO CAO", used) == "BAO CAO (2)"  # Excel compares names ignoring case


def test_export_command_line_writes_the_workbook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'thidua.db'}"
    engine = create_db_engine(url)
    upgrade(engine)
    with Session(engine) as session:
        _seed(session)
    engine.dispose()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("STORAGE_DIR", str(tmp_path / "files"))
    out = tmp_path / "report.xlsx"

    assert main(["export", "--campaign", "353/KH-UBND", "--out", str(out)]) == 0

    book = openpyxl.load_workbook(out)
    assert book.sheetnames[0] == "Tình trạng nộp"
    assert book["Tình trạng nộp"]["D3"].value == "Phòng Giáo dục và Đào tạo"
    assert "report.xlsx" in capsys.readouterr().out
    assert main(["export", "--campaign", "999/KH", "--out", str(out)]) == 2
    assert "999/KH" in capsys.readouterr().err


def test_the_workbook_carries_receipts_approval_files_and_prints_one_page_wide(
    session: Session,
) -> None:
    campaign = make_campaign(session)
    deadline = make_deadline(session, campaign, form_code=admin_forms.FORM_CODE, due_at=DUE)
    unit = make_unit(session, "Xã Bình Lư", code="XA-001")
    report = make_report(session, unit, deadline, status=ReportStatus.ACCEPTED, submitted_at=T0)
    attachment = Attachment(
        report_id=report.id,
        field_id="tep_bao_cao",
        channel="memory",
        file_id="f1",
        file_name="bao-cao-binh-lu.pdf",
        stored_path="3f/3fa9c2.pdf",
        created_at=T0,
    )
    session.add(attachment)
    session.flush()
    long_summary = "Tổ chức tốt phong trào “Dân vận khéo” ở cả 12 thôn, bản. " * 6
    report.answers = admin_forms.answers(
        summary=long_summary,
        file={"attachment_id": attachment.id, "file_name": "bao-cao-binh-lu.pdf"},
    )
    session.commit()
    data = export_campaign(
        campaign,
        session=session,
        forms=admin_forms.forms(),
        texts=ExportTexts.from_catalog(t),
        default_zone=HANOI,
        now=T0,
    )
    book = openpyxl.load_workbook(io.BytesIO(data))
    for sheet in book.worksheets:
        assert (
            sheet["A1"].value
            == "353/KH-UBND — Đợt thi đua chào mừng Đại hội (xuất lúc 08:00 02/03/2026)"
        )
        assert sheet.page_setup.orientation == "landscape"
        assert sheet.sheet_properties.pageSetUpPr.fitToPage is True
        assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0)
        assert sheet.print_title_rows == "$1:$2"
        assert "353/KH-UBND" in sheet.oddFooter.left.text
        assert sheet.oddFooter.right.text == "Trang &P/&N"
    status = book["Tình trạng nộp"]
    header = [c.value for c in status[2]]
    row = dict(zip(header, [c.value for c in status[3]], strict=True))
    assert row["Mã biên nhận"] == f"BC-{report.id:05d}-1" and row["Duyệt"] == "Đã duyệt"
    sheet = book["Báo cáo thành tích"]
    header = [c.value for c in sheet[2]]
    cells = dict(zip(header, sheet[3], strict=True))
    assert cells["Tệp báo cáo"].value.startswith("bao-cao-binh-lu.pdf — lưu tại 3f/3fa9c2.pdf")
    assert cells["Tóm tắt thành tích"].alignment.wrap_text is True
