"""Each organiser prints its own council documents: the province (the default organiser, named by
the deployment's settings) and commune An Bình each confirm a council round, and each biên bản
and tờ trình carries its own office — name, letterhead, signing place and the addressee of the
tờ trình — opened back with python-docx. An organiser's own Word templates (a folder named after
its code) replace the default ones for it alone, and are checked like them."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import docx
import pytest
from sqlmodel import Session, col, select

from domain import council
from domain import dossier as docs
from domain.documents import DEFAULT_TEMPLATES_DIR, Office, TemplateError, validate_templates
from handlers.dossier import dossier_texts
from models.audit import AuditLog
from models.campaigns import Campaign, DeadlineKind
from models.council import CouncilRole
from models.organisers import DEFAULT_ORGANISER_ID, Organiser
from models.reports import Nomination, ReportStatus
from models.units import Member, Role, Unit
from tests.utils.dossier import document_text
from tests.utils.factories import (
    T0,
    make_campaign,
    make_deadline,
    make_member,
    make_organiser,
    make_report,
    make_unit,
)
from tests.utils.scenario import TestBot

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
DEPLOYMENT = Office(
    name="Sở Nội vụ tỉnh Lai Châu",
    parent="Ủy ban nhân dân tỉnh Lai Châu",
    place="Lai Châu",
    recipient="Chủ tịch Ủy ban nhân dân tỉnh Lai Châu",
)
OWN_MARK = "Mẫu tờ trình riêng của xã An Bình"


def _confirmed(
    session: Session, campaign: Campaign, unit: Unit, nominee: str, voters: list[Member]
) -> None:
    """A nomination of `unit` in `campaign`, voted on by `voters` seated at the campaign's
    organiser, and the round confirmed."""
    deadline = make_deadline(
        session,
        campaign,
        kind=DeadlineKind.NOMINATION,
        title="Hồ sơ đề nghị",
        form_code="de-nghi-khen-thuong",
    )
    report = make_report(session, unit, deadline, status=ReportStatus.ACCEPTED)
    session.add(
        Nomination(report_id=report.id, position=0, full_name=nominee, award="Lao động tiên tiến")
    )
    session.add(
        Nomination(
            report_id=report.id,
            position=1,
            full_name=nominee + " (2)",
            award="Chiến sĩ thi đua cơ sở",
            summary="Sáng kiến",
        )
    )
    roles = [CouncilRole.CHAIR, CouncilRole.MEMBER, CouncilRole.MEMBER]
    for voter, role in zip(voters, roles, strict=True):
        council.add_seat(
            session,
            member=voter,
            role=role,
            organiser_id=campaign.organiser_id,
            actor=voter,
            now=T0,
        )
    round_ = council.open_round(
        session, campaign=campaign, closes_at=T0 + timedelta(days=1), actor=voters[0], now=T0
    )
    assert sorted(round_.electorate) == sorted(v.id for v in voters)
    for item in council.items_of(session, round_.id or 0):
        for voter in voters:
            council.cast_vote(session, round_=round_, item=item, member=voter, choice="yes", now=T0)
    council.close_round(session, round_=round_, now=T0 + timedelta(hours=1), how="all_voted")
    council.confirm_round(session, round_=round_, actor=voters[0], now=T0 + timedelta(hours=2))


def _two_organisers(session: Session) -> tuple[Campaign, Campaign]:
    top = session.get(Organiser, DEFAULT_ORGANISER_ID)
    assert top is not None
    top.level = "tinh"  # its name stays the migration's: the deployment's settings name it
    xa = make_unit(session, "Xã An Bình", code="XA-ANBINH")
    an_binh = make_organiser(
        session, "UBND xã An Bình", code="CQ-ANBINH", parent=top, unit=xa, signing_place="An Bình"
    )
    an_binh.place = "xã An Bình"
    village = make_unit(session, "Thôn Nà Hiềng", code="T01", kind="thon", organiser=an_binh)
    make_member(session, "100", role=Role.ADMIN)
    province_voters = [make_member(session, str(400 + n), name=f"Tỉnh {n}") for n in range(3)]
    commune_voters = [make_member(session, str(500 + n), name=f"Xã {n}") for n in range(3)]
    tinh = make_campaign(session, number="12/KH-SNV", name="Đợt thi đua của tỉnh")
    own = make_campaign(session, number="5/KH-UBND", name="Đợt thi đua xã", organiser=an_binh)
    _confirmed(session, tinh, xa, "Nguyễn Văn Tỉnh", province_voters)
    _confirmed(session, own, village, "Hoàng Văn Thôn", commune_voters)
    session.commit()
    return tinh, own


def _documents(
    session: Session, campaign: Campaign, templates_dir: Path | None = None
) -> dict[str, tuple[str, list[list[list[str]]]]]:
    files = docs.council_files(
        session,
        campaign=campaign,
        office=DEPLOYMENT,
        texts=dossier_texts(),
        today=date(2026, 12, 20),
        zone=ZONE,
        templates_dir=templates_dir,
    )
    found = {}
    for name, content in files:
        paragraphs, tables = document_text(content)
        cells = "\n".join(c for table in tables for row in table for c in row)
        found[name] = ("\n".join(paragraphs) + "\n" + cells, tables)
    return found


async def test_each_organiser_prints_its_own_office_on_the_minutes_and_submission(
    bot: TestBot, session: Session
) -> None:
    tinh, own = _two_organisers(session)
    # Each council's work is in its own organiser's audit log (/nhatky).
    entries = session.exec(
        select(AuditLog).where(col(AuditLog.action).startswith("council."))
    ).all()
    by_organiser = {(e.action, e.organiser_id) for e in entries}
    for action in ("council.round_open", "council.vote", "council.round_close"):
        assert {(action, DEFAULT_ORGANISER_ID), (action, own.organiser_id)} <= by_organiser
    assert all(e.organiser_id is not None for e in entries)
    province, commune = _documents(session, tinh), _documents(session, own)
    assert (
        sorted(province) == sorted(commune) == ["01-to-trinh.docx", "03-bien-ban-hop-hoi-dong.docx"]
    )

    minutes, _ = commune["03-bien-ban-hop-hoi-dong.docx"]
    assert "UBND xã An Bình" in minutes and "An Bình, ngày" in minutes
    assert "Sở Nội vụ" not in minutes and "Lai Châu" not in minutes
    assert "Xã 0" in minutes and "Tỉnh 0" not in minutes  # its own council only
    assert "Hoàng Văn Thôn" in minutes and "Nguyễn Văn Tỉnh" not in minutes
    submission, _ = commune["01-to-trinh.docx"]
    assert "Chủ tịch Ủy ban nhân dân xã An Bình" in submission
    assert "UBND xã An Bình" in submission and "Sở Nội vụ" not in submission

    # The default organiser, never named in the chat: the deployment's settings, as before.
    minutes, _ = province["03-bien-ban-hop-hoi-dong.docx"]
    assert "Sở Nội vụ tỉnh Lai Châu" in minutes and "Lai Châu, ngày" in minutes
    assert "ỦY BAN NHÂN DÂN TỈNH LAI CHÂU" in minutes
    assert "Nguyễn Văn Tỉnh" in minutes and "Hoàng Văn Thôn" not in minutes
    assert "UBND xã An Bình" not in minutes
    submission, _ = province["01-to-trinh.docx"]
    assert "Chủ tịch Ủy ban nhân dân tỉnh Lai Châu" in submission


def _templates_with_own(tmp_path: Path, code: str, mark: str) -> Path:
    """A copy of the shipped templates, and `code`'s own tờ trình carrying `mark`."""
    folder = tmp_path / "templates"
    shutil.copytree(DEFAULT_TEMPLATES_DIR, folder, ignore=shutil.ignore_patterns("*.py"))
    (folder / code).mkdir()
    document = docx.Document(str(folder / "to-trinh.docx"))
    document.add_paragraph(mark)
    document.save(str(folder / code / "to-trinh.docx"))
    return folder


async def test_an_organisers_own_templates_replace_the_defaults_for_it_alone(
    bot: TestBot, session: Session, tmp_path: Path
) -> None:
    tinh, own = _two_organisers(session)
    folder = _templates_with_own(tmp_path, "CQ-ANBINH", OWN_MARK)
    validate_templates(folder)
    commune = _documents(session, own, folder)
    province = _documents(session, tinh, folder)
    assert OWN_MARK in commune["01-to-trinh.docx"][0]
    assert "Chủ tịch Ủy ban nhân dân xã An Bình" in commune["01-to-trinh.docx"][0]
    # The biên bản it did not replace comes from the default folder.
    assert "UBND xã An Bình" in commune["03-bien-ban-hop-hoi-dong.docx"][0]
    assert OWN_MARK not in province["01-to-trinh.docx"][0]


def test_an_organisers_broken_template_stops_start_up_naming_it(tmp_path: Path) -> None:
    folder = _templates_with_own(tmp_path, "CQ-ANBINH", "{{ khong_khai_bao }}")
    with pytest.raises(TemplateError) as raised:
        validate_templates(folder)
    assert "CQ-ANBINH" in str(raised.value) and raised.value.name == "khong_khai_bao"
    (folder / "CQ-ANBINH" / "to-trinh.docx").rename(folder / "CQ-ANBINH" / "lạ.docx")
    with pytest.raises(TemplateError, match="chưa khai báo"):
        validate_templates(folder)
