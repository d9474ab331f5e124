"""The campaign workbook printed as an office prints it: opened in LibreOffice and printed to PDF
(`soffice --headless --convert-to pdf`), the status sheet of a 20-unit campaign comes out in
landscape, every column on each page (one page wide), the title and header rows on top of every
page, and a footer with the campaign and the page numbers. Read back with pypdf."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader
from sqlmodel import Session

from bot.catalog import t
from domain.export import ExportTexts, export_campaign
from models.reports import ReportStatus
from tests.utils import admin_forms
from tests.utils.factories import (
    T0,
    make_campaign,
    make_deadline,
    make_member,
    make_report,
    make_unit,
)

pytestmark = pytest.mark.slow  # LibreOffice starts in about ten seconds

SOFFICE = shutil.which("soffice")
TITLE = "353/KH-UBND — Đợt thi đua chào mừng Đại hội (xuất lúc 08:00 02/03/2026)"


def _campaign_of_20_units(session: Session) -> bytes:
    campaign = make_campaign(session)
    for quarter in (1, 2, 3, 4):
        make_deadline(
            session,
            campaign,
            title=f"Báo cáo sơ kết quý {quarter}",
            form_code="so-ket",  # no form: columns follow the answers
            due_at=T0 + timedelta(days=30 * quarter),
        )
    achievements = make_deadline(
        session, campaign, form_code=admin_forms.FORM_CODE, due_at=T0 + timedelta(days=7)
    )
    for number in range(1, 21):
        unit = make_unit(
            session,
            f"Ủy ban nhân dân xã Bình Lư số {number}, huyện Tam Đường, tỉnh Lai Châu",
            code=f"XA-{number:03d}",
            bloc="Khối xã, thị trấn",
        )
        officer = make_member(
            session, str(300 + number), unit=unit, name=f"Lò Văn Tâm {number}", phone="0912345678"
        )
        if number % 2:
            make_report(
                session,
                unit,
                achievements,
                answers=admin_forms.answers(),
                submitted_at=T0 + timedelta(days=2),
                by=officer,
                status=ReportStatus.ACCEPTED,
            )
    session.commit()
    return export_campaign(
        campaign,
        session=session,
        forms=admin_forms.forms(),
        texts=ExportTexts.from_catalog(t),
        default_zone=ZoneInfo("Asia/Ho_Chi_Minh"),
        now=T0,
    )


def _print_to_pdf(workbook: Path) -> Path:
    assert SOFFICE is not None
    profile = workbook.parent / "lo-profile"  # its own profile: other soffice runs do not clash
    subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(workbook.parent),
            str(workbook),
        ],
        check=True,
        capture_output=True,
        timeout=240,
    )
    pdf = workbook.with_suffix(".pdf")
    assert pdf.exists(), "LibreOffice wrote no PDF"
    return pdf


@pytest.mark.skipif(SOFFICE is None, reason="soffice (LibreOffice) not on PATH: print not checked")
# Once, on SQLite: the page set-up is the workbook writer's, whatever database filled it (the
# export's contents are tested on both databases elsewhere).
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_status_sheet_prints_landscape_one_page_wide_with_headers_and_footer(
    session: Session, tmp_path: Path
) -> None:
    workbook = tmp_path / "thi-dua.xlsx"
    workbook.write_bytes(_campaign_of_20_units(session))
    reader = PdfReader(str(_print_to_pdf(workbook)))
    texts = [page.extract_text() for page in reader.pages]
    first_column, last_column = t("admin.export.deadline"), t("admin.export.signed_scan")
    due_column = t("admin.export.due")  # a column only the status sheet has
    status_pages = [n for n, text in enumerate(texts) if due_column in text]
    # 100 rows (5 deadlines × 20 units) over more than one page, and not split by columns.
    assert len(status_pages) >= 2
    assert status_pages == list(range(len(status_pages)))
    total = len(reader.pages)
    for n in status_pages:
        page, text = reader.pages[n], texts[n]
        assert float(page.mediabox.width) > float(page.mediabox.height), f"page {n + 1} portrait"
        assert TITLE in text, f"page {n + 1}: no title row"
        header = next(line for line in text.splitlines() if first_column in line)
        assert due_column in header and last_column in header, f"page {n + 1}: columns cut"
        assert f"Trang {n + 1}/{total}" in text, f"page {n + 1}: no page number in the footer"
        assert re.search(r"353/KH-UBND — Đợt thi đua chào mừng Đại hội\s*Trang", text)
    # Every unit of every deadline is printed, none lost between pages.
    rows = "\n".join(texts[n] for n in status_pages)
    assert all(rows.count(f"XA-{number:03d}") == 5 for number in range(1, 21))
