"""A scripted campaign for the dossier tests: units with achievement reports (some with a signed
scan, some without, some never handed in), individual reports, nominations and award history,
committed so the bot and the CLI see them. Documents are read back with python-docx."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docx
from sqlmodel import Session

from domain.awards import record_award
from domain.forms import DEFAULT_FORMS_DIR, load_forms
from domain.reports import rebuild_nominations
from models.campaigns import DeadlineKind
from models.reports import ReportVersion
from models.units import Role, Unit
from tests.utils.factories import (
    T0,
    make_campaign,
    make_deadline,
    make_member,
    make_report,
    make_stored_attachment,
    make_unit,
)
from tests.utils.ids import ADMIN_USER_ID

FORMS = load_forms(DEFAULT_FORMS_DIR)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def achievement_answers(n: int) -> dict[str, Any]:
    return {
        "ket_qua": f"Thu ngân sách đạt {100 + n}% kế hoạch; giảm 2,3% hộ nghèo",
        "tong_chi_tieu": 12,
        "chi_tieu_dat": 11,
        "xep_loai": "Hoàn thành tốt nhiệm vụ",
        "kinh_phi": "1250.5",
        "mo_hinh": [{"ten": f"Mô hình chè VietGAP số {n}", "mo_ta": "15 hộ tham gia"}],
        "han_che": "Giải ngân vốn còn chậm",
        "dac_diem": f"Xã miền núi số {n}, 12 thôn, 8.450 nhân khẩu",
        "chuc_nang": "Quản lý nhà nước trên địa bàn xã",
        "khen_thuong": [
            {
                "nam": 2025,
                "hinh_thuc": "Tập thể lao động tiên tiến",
                "so_quyet_dinh": "125/QĐ-UBND ngày 15/01/2026",
                "co_quan": "Chủ tịch UBND tỉnh",
            }
        ],
        "ngay_bao_cao": "2026-06-20",
        "ban_ky": None,
    }


@dataclass
class DossierWorld:
    campaign_number: str
    units: list[Unit] = field(default_factory=list)
    reported: list[str] = field(default_factory=list)
    scanned: list[str] = field(default_factory=list)


def dossier_world(session: Session, storage_dir: Path, *, units: int = 16) -> DossierWorld:
    """16 communes; 1–12 hand in their achievement report, 1–8 with a signed scan; 1–3
    nominate people; commune 1 has an award history and an individual report."""
    campaign = make_campaign(session, number="353/KH-UBND", name="Phong trào thi đua năm 2026")
    final = make_deadline(session, campaign, title="Báo cáo thành tích năm 2026")
    nominations = make_deadline(
        session,
        campaign,
        kind=DeadlineKind.NOMINATION,
        title="Hồ sơ đề nghị khen thưởng",
        form_code="de-nghi-khen-thuong",
    )
    people = make_deadline(
        session,
        campaign,
        title="Báo cáo thành tích cá nhân",
        form_code="bao-cao-thanh-tich-ca-nhan",
    )
    make_member(session, ADMIN_USER_ID, role=Role.ADMIN, name="Văn phòng")
    world = DossierWorld(campaign_number=campaign.document_number)
    for n in range(1, units + 1):
        unit = make_unit(session, f"Xã Bình Lư {n}", code=f"XA-{n:03d}")
        world.units.append(unit)
        if n > 12:
            continue
        report = make_report(session, unit, final, answers=achievement_answers(n))
        session.add(
            ReportVersion(
                report_id=report.id,
                version=1,
                answers=report.answers,
                submitted_at=T0,
                on_time=True,
            )
        )
        world.reported.append(unit.code)
        if n <= 8:
            make_stored_attachment(
                session,
                report,
                PDF,
                storage_dir=storage_dir,
                accept=("pdf",),
                field_id="ban_ky",
                file_id=f"f{n}",
                file_name="bao-cao-da-ky.pdf",
                meta={"version": 1},
            )
            world.scanned.append(unit.code)
        if n <= 3:
            entries = [
                {
                    "doi_tuong": "collective",
                    "ho_ten": unit.name,
                    "chuc_vu": None,
                    "don_vi": unit.name,
                    "hinh_thuc": "tap-the-lao-dong-tien-tien",
                    "thanh_tich": "Hoàn thành xuất sắc nhiệm vụ năm 2026",
                },
                {
                    "doi_tuong": "individual",
                    "ho_ten": f"Lò Thị Mai {n}",
                    "chuc_vu": "Công chức Văn hóa - Xã hội",
                    "don_vi": unit.name,
                    "hinh_thuc": "lao-dong-tien-tien",
                    "thanh_tich": "Hoàn thành tốt nhiệm vụ năm 2026",
                },
            ]
            nomination = make_report(session, unit, nominations, answers={"de_nghi": entries})
            rebuild_nominations(session, report=nomination, form=FORMS["de-nghi-khen-thuong"])
    first = world.units[0]
    record_award(
        session,
        unit_id=first.id or 0,
        year=2024,
        award="Cờ thi đua của UBND tỉnh",
        decision_number="88/QĐ-UBND",
        issuer="Chủ tịch UBND tỉnh Lai Châu",
        source="import",
        now=T0,
    )
    make_report(
        session,
        first,
        people,
        answers={
            "ca_nhan": [
                {
                    "ho_ten": "Lò Thị Mai 1",
                    "nam_sinh": 1985,
                    "chuc_vu": "Công chức Văn hóa - Xã hội",
                    "de_nghi": "chien-si-thi-dua-co-so",
                    "qua_trinh": "2008–2015: cán bộ văn hóa xã; 2015 đến nay: công chức",
                    "nhiem_vu": "Tham mưu công tác văn hóa, thông tin của xã",
                    "thanh_tich": "12/12 thôn giữ danh hiệu Thôn văn hóa",
                    "sang_kien": "Số hóa hồ sơ một cửa",
                    "khen_thuong": "2024: Lao động tiên tiến, QĐ 12/QĐ-UBND",
                }
            ],
            "ngay_bao_cao": "2026-06-20",
            "ban_ky": None,
        },
    )
    session.commit()
    return world


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def document_text(content: bytes) -> tuple[list[str], list[list[list[str]]]]:
    """Paragraph texts and table cells of a .docx."""
    document = docx.Document(io.BytesIO(content))
    paragraphs = [p.text for p in document.paragraphs]
    tables = [[[c.text for c in row.cells] for row in table.rows] for table in document.tables]
    return paragraphs, tables
