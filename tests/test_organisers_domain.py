"""Organisers without a chat: importing them (CSV and Excel, all or nothing), adding one whose
name has a comma, and a commune's deadline kept before the province's it answers."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from openpyxl import Workbook
from sqlmodel import Session, select

from domain import organisers as offices
from domain.campaigns import CampaignStateError, add_deadline, edit_deadline
from models.organisers import DEFAULT_ORGANISER_ID, Organiser
from tests.utils.factories import T0, make_campaign, make_deadline, make_organiser, make_unit


def _top(session: Session) -> Organiser:
    return offices.default_organiser(session=session)


def _xlsx(rows: list[list[str]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_excel_import_creates_communes_linked_to_the_provinces_units(session: Session) -> None:
    make_unit(session, "Xã Bình Lư", code="XA-BINHLU")
    content = _xlsx(
        [
            ["Mã", "Tên", "Cấp", "Địa danh", "Nơi ký", "Mã đơn vị"],
            ["cq-binhlu", "UBND xã Bình Lư", "Xã", "xã Bình Lư", "Bình Lư", "xa-binhlu"],
            ["CQ-PHUONG", "UBND phường Tân Phong", "phường", "", "", ""],
        ]
    )
    result = offices.import_organisers(
        content, parent=_top(session), by=None, now=T0, session=session
    )
    assert result.ok and result.created == ["CQ-BINHLU", "CQ-PHUONG"]
    binh_lu = offices.find_by_code("CQ-BINHLU", session=session)
    assert (
        binh_lu is not None and binh_lu.level == "xa" and binh_lu.parent_id == DEFAULT_ORGANISER_ID
    )
    assert binh_lu.unit_id is not None and binh_lu.signing_place == "Bình Lư"
    # Imported again with a new name: updated by code, not duplicated.
    renamed = _xlsx([["ma", "ten", "cap"], ["CQ-PHUONG", "UBND phường Tân Phong mới", "phường"]])
    result = offices.import_organisers(
        renamed, parent=_top(session), by=None, now=T0, session=session
    )
    assert result.updated == ["CQ-PHUONG"]
    phuong = offices.find_by_code("CQ-PHUONG", session=session)
    assert phuong is not None and phuong.name == "UBND phường Tân Phong mới"
    assert len(session.exec(select(Organiser)).all()) == 3


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("CQ-A;UBND xã A;huyện;;;", "unknown_level"),
        ("CQ-A;;xã;;;", "empty_name"),
        ("Cơ quan A!;UBND xã A;xã;;;", "bad_code"),
        ("CQ-A;UBND xã A;xã;;;XA-KHONGCO", "unknown_unit"),
    ],
)
def test_one_wrong_row_and_nothing_is_written(session: Session, line: str, reason: str) -> None:
    content = f"ma;ten;cap;dia_danh;noi_ky;ma_don_vi\nCQ-B;UBND xã B;xã;;;\n{line}\n".encode()
    result = offices.import_organisers(
        content, parent=_top(session), by=None, now=T0, session=session
    )
    assert [(e.row, e.reason) for e in result.errors] == [(3, reason)]
    assert session.exec(select(Organiser)).all() == [_top(session)]


def test_a_unit_is_the_organiser_of_one_commune_only(session: Session) -> None:
    unit = make_unit(session, "Xã Bình Lư", code="XA-BINHLU")
    make_organiser(session, "UBND xã Bình Lư", code="CQ-BINHLU", unit=unit)
    content = b"ma,ten,cap,ma_don_vi\nCQ-KHAC,UBND xa khac,xa,XA-BINHLU\n"
    result = offices.import_organisers(
        content, parent=_top(session), by=None, now=T0, session=session
    )
    assert [e.reason for e in result.errors] == ["unit_linked"]


def test_a_name_with_a_comma_is_added_whole(session: Session) -> None:
    added = offices.add_organiser(
        code="CQ-TP",
        name="UBND phường Tân Phong, tỉnh Lai Châu",
        level="phường",
        parent=_top(session),
        by=None,
        now=T0,
        session=session,
    )
    assert added.name == "UBND phường Tân Phong, tỉnh Lai Châu" and added.level == "xa"


def test_a_communes_deadline_stays_before_the_provinces(session: Session) -> None:
    commune = make_organiser(session, "UBND xã Bình Lư")
    province_deadline = make_deadline(
        session, make_campaign(session), due_at=T0 + timedelta(days=10)
    )
    own = make_campaign(session, number="5/KH-UBND", organiser=commune)
    mine = add_deadline(
        session,
        own,
        kind="final",
        title="Báo cáo thôn gửi xã",
        due_at=T0 + timedelta(days=7),
        form_code="bao-cao-thanh-tich",
        parent_deadline_id=province_deadline.id,
        actor=None,
        now=T0,
    )
    with pytest.raises(CampaignStateError, match="after_parent"):
        edit_deadline(
            session, mine, changes={"due_at": T0 + timedelta(days=11)}, actor=None, now=T0
        )
    edit_deadline(session, mine, changes={"due_at": T0 + timedelta(days=10)}, actor=None, now=T0)
    assert mine.due_at == province_deadline.due_at
