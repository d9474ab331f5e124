"""A council member votes over Zalo, end to end over HTTP: the nominee list and the vote
buttons arrive as numbered choices, a typed number votes, and the vote counts at closing."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from domain import council
from models.campaigns import Campaign
from models.council import CouncilItem, CouncilRound
from models.units import Role
from tests.fakes.zalo_api import FakeZalo
from tests.utils.council import seat
from tests.utils.factories import (
    make_campaign,
    make_deadline,
    make_member,
    make_report,
    make_unit,
)
from tests.utils.http import choosing, saying, until
from tests.utils.ids import ADMIN_USER_ID

VOTER = "5a0c9d1e2f3a4b5c6d7e"


async def test_a_council_member_votes_over_zalo_with_numbered_choices(
    zalo_api: FakeZalo, zalo_bot, engine, clock
) -> None:
    from models.campaigns import DeadlineKind
    from models.reports import Nomination, ReportStatus

    _, core = zalo_bot
    core.flood.limit = 10_000
    with Session(engine, expire_on_commit=False) as db:
        admin = make_member(db, ADMIN_USER_ID, role=Role.ADMIN, channel="zalo", name="Nội vụ")
        voter = make_member(db, VOTER, channel="zalo", name="Ủy viên Hà")
        seat(db, voter.id)
        unit = make_unit(db, "Xã Bản Bo", code="XA-BB")
        campaign = make_campaign(db)
        deadline = make_deadline(db, campaign, kind=DeadlineKind.NOMINATION)
        report = make_report(db, unit, deadline, status=ReportStatus.ACCEPTED)
        db.add(
            Nomination(
                report_id=report.id, full_name="Nguyễn Văn An", award="Chiến sĩ thi đua cơ sở"
            )
        )
        db.flush()
        council.open_round(
            db,
            campaign=db.get(Campaign, campaign.id),
            closes_at=clock.now() + timedelta(days=2),
            actor=admin,
            now=clock.now(),
        )
        db.commit()
    api = zalo_api

    say, choose = saying(api, VOTER), choosing(api, VOTER)

    ballot = await until(api, VOTER, "Phiếu bình xét", say("/binhxet"))
    assert any("Nguyễn Văn An" in label for _, label in ballot.choices)
    card = await until(api, VOTER, "Đề nghị: Chiến sĩ thi đua cơ sở", choose("Nguyễn Văn An"))
    assert [label for _, label in card.choices][:2] == ["✅ Đồng ý", "❌ Không đồng ý"]
    await until(api, VOTER, "Đã ghi phiếu «Đồng ý»", choose("Đồng ý"))
    # The only voter voted on everything: the round closed and counted the vote.
    with Session(engine) as db:
        round_ = db.exec(select(CouncilRound)).one()
        item = db.exec(select(CouncilItem)).one()
        assert round_.closed_how == "all_voted" and (item.yes, item.passed) == (1, True)
