"""One deployment for a province, as a fixture (`province`): the province (the default
organiser, Sở Nội vụ) runs a campaign for its communes; commune An Bình and commune Bắc Sơn,
each an organiser linked to its unit, run their own campaigns for their villages. Used by
tests/test_organisers.py and, on the web desk, tests/test_web_scope.py (registered in
tests/conftest.py); `AN_BINH_SECRETS` are words only An Bình's data contains."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlmodel import Session

from domain import council, scoring
from domain import organisers as offices
from models.council import CouncilItem, CouncilRole, CouncilRound
from models.organisers import DEFAULT_ORGANISER_ID, Organiser
from models.units import Role
from tests.utils.factories import (
    T0,
    make_campaign,
    make_deadline,
    make_member,
    make_organiser,
    make_report,
    make_unit,
)
from tests.utils.ids import ADMIN_USER_ID
from tests.utils.scenario import TestBot

# Words only An Bình's data contains: none may reach Bắc Sơn's admin.
AN_BINH_SECRETS = (
    "Nà Hiềng",
    "Pác Ngòi",
    "Đợt thi đua xã An Bình",
    "Hoàng Văn Thôn",
    "0987000111",
    "Kết quả riêng An Bình",
    "Lò Văn Hải",  # An Bình's admin: Bắc Sơn's /thuhoiquyen must not list him
    "Đèo Văn Ủy",  # a member of An Bình's council
    "Nguyễn Đề Cử",  # a nominee before An Bình's council
)


@dataclass
class Province:
    province: Organiser
    an_binh: Organiser
    bac_son: Organiser
    ids: dict[str, int]


@pytest.fixture
def province(bot: TestBot, session: Session) -> Province:
    bot.core.flood.limit = 10_000
    top = session.get(Organiser, DEFAULT_ORGANISER_ID)
    assert top is not None
    top.name, top.level, top.signing_place = "Sở Nội vụ tỉnh Lai Châu", "tinh", "Lai Châu"
    # The province's units: two communes and a school.
    xa_a = make_unit(session, "Xã An Bình", code="XA-ANBINH")
    xa_b = make_unit(session, "Xã Bắc Sơn", code="XA-BACSON")
    make_unit(session, "Trường THPT Tam Đường", code="THPT-TD", kind="truong")
    an_binh = make_organiser(session, "UBND xã An Bình", code="CQ-ANBINH", parent=top, unit=xa_a)
    bac_son = make_organiser(session, "UBND xã Bắc Sơn", code="CQ-BACSON", parent=top, unit=xa_b)
    # Villages: the same code in both communes (codes are per organiser).
    a1 = make_unit(session, "Thôn Nà Hiềng", code="T01", kind="thon", organiser=an_binh)
    make_unit(session, "Thôn Pác Ngòi", code="T02", kind="thon", organiser=an_binh)
    b1 = make_unit(session, "Bản Khau Vai", code="T01", kind="thon", organiser=bac_son)
    make_member(session, ADMIN_USER_ID, role=Role.ADMIN)
    hai = make_member(session, "201", unit=xa_a, name="Lò Văn Hải")
    mai = make_member(session, "202", unit=xa_b, name="Hà Thị Mai")
    for person, office in ((hai, an_binh), (mai, bac_son)):
        offices.grant_admin(person, office, by=None, now=T0, session=session)
    village_a = make_member(session, "301", unit=a1, name="Hoàng Văn Thôn", phone="0987000111")
    make_member(session, "302", unit=b1, name="Giàng Seo Bản")
    # A province campaign and a campaign of each commune, running at once.
    tinh = make_campaign(session, number="12/KH-SNV", name="Đợt thi đua của tỉnh 2026")
    tinh_deadline = make_deadline(
        session, tinh, title="Báo cáo của xã gửi tỉnh", due_at=T0 + timedelta(days=20)
    )
    own_a = make_campaign(
        session, number="5/KH-UBND", name="Đợt thi đua xã An Bình", organiser=an_binh
    )
    a_deadline = make_deadline(
        session, own_a, title="Báo cáo thôn gửi xã", due_at=T0 + timedelta(days=10)
    )
    own_b = make_campaign(
        session, number="7/KH-UBND", name="Đợt thi đua xã Bắc Sơn", organiser=bac_son
    )
    make_deadline(session, own_b, title="Báo cáo bản gửi xã", due_at=T0 + timedelta(days=10))
    a_report = make_report(
        session, a1, a_deadline, answers={"ket_qua": "Kết quả riêng An Bình"}, by=village_a
    )
    # An Bình's council: a seat, a round under way, a scoring sheet with a village's card.
    uy = make_member(session, "303", name="Đèo Văn Ủy")
    a_seat = council.add_seat(
        session, member=uy, role=CouncilRole.CHAIR, organiser_id=an_binh.id, actor=hai, now=T0
    )
    council.add_seat(
        session, member=mai, role=CouncilRole.MEMBER, organiser_id=bac_son.id, actor=mai, now=T0
    )
    a_round = CouncilRound(
        campaign_id=own_a.id,
        organiser_id=an_binh.id,
        opened_at=T0,
        closes_at=T0 + timedelta(days=30),
        rules={"chien-si-thi-dua-co-so": {"award": "chien-si-thi-dua-co-so", "voted": True}},
        electorate=[uy.id],
        ballot_secret="ab" * 32,
    )
    session.add(a_round)
    session.flush()
    a_item = CouncilItem(
        round_id=a_round.id,
        position=1,
        unit_id=a1.id,
        nominee_name="Nguyễn Đề Cử",
        award="chien-si-thi-dua-co-so",
        passed=True,
    )
    session.add(a_item)
    sheet = scoring.attach_table(
        session,
        campaign=own_a,
        bloc=a1.bloc or "",
        table_code=sorted(scoring.load_tables())[0],
        actor=hai,
        now=T0,
    )
    a_card = scoring.card_for(session, sheet=sheet, unit=a1, now=T0)
    session.flush()
    session.commit()
    return Province(
        top,
        an_binh,
        bac_son,
        {
            "a_unit": a1.id,
            "a_campaign": own_a.id,
            "a_deadline": a_deadline.id,
            "a_report": a_report.id,
            "a_officer": village_a.id,
            "a_admin": hai.id,
            "tinh_deadline": tinh_deadline.id,
            "a_seat": a_seat.id,
            "a_round": a_round.id,
            "a_item": a_item.id,
            "a_sheet": sheet.id,
            "a_card": a_card.id,
        },
    )
