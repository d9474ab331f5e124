"""The council on the web desk: a council member logs in with /web and sees only the council's
part — the campaigns they sit on, the nominations, each round's state, counts per nominee
(names only for open votes), the bloc rankings — and none of the office's pages. Every council
page is checked at HTTP level for a stranger, an officer, a council member, the organiser's
admin and another organiser's admin."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from sqlmodel import select

from bot import access
from bot.web.app import build_app
from bot.web.desk import COOKIE, Desk
from bot.web.keys import serializer
from domain import scoring
from domain.scope import Scope, audit_entries
from models.council import CouncilItem, CouncilMember
from models.reports import Report
from models.units import Member, Role
from tests.utils.council import CouncilWorld, council_world, open_round, vote
from tests.utils.factories import T0, make_campaign, make_member, make_organiser, make_unit
from tests.utils.scenario import Person, TestBot
from tests.utils.web import login_link

BASE = "http://127.0.0.1:8080"
AN, BINH, XA = "Nguyễn Văn An", "Trần Thị Bình", "Tập thể xã Bình Lư"
OTHER_ADMIN = "901"


@dataclass
class Clients:
    app: object

    def new(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url=BASE)  # type: ignore[arg-type]


@pytest.fixture
def desk(bot: TestBot) -> Desk:
    return Desk(bot.core)


@pytest.fixture
def clients(bot: TestBot, desk: Desk) -> Clients:
    return Clients(build_app([], engine=bot.core.engine, desk=desk))


@pytest.fixture
async def world(bot: TestBot) -> CouncilWorld:
    found = council_world(bot)
    with bot.db() as db:
        # Another commune's admin, and a campaign of theirs.
        other = make_organiser(db, "Xã Khác", code="XA-KHAC")
        make_member(db, OTHER_ADMIN, name="Quản trị xã Khác", role=Role.ADMIN, organiser=other)
        make_campaign(db, number="9/KH-UBND", name="Đợt của xã Khác", organiser=other)
        db.commit()
    return found


async def log_in(client: httpx.AsyncClient, person: Person, bot: TestBot) -> str:
    path = (await login_link(person)).removeprefix(BASE)
    done = await client.post(path)
    assert done.status_code == 303, done.text
    return str(serializer(bot.core.settings, "session").loads(client.cookies[COOKIE])["c"])


async def _closed_round(world: CouncilWorld) -> None:
    """Everyone votes (the round closes itself): four yes on every nominee, one no on An."""
    await open_round(world)
    for index, person in enumerate(world.members):
        await vote(person, AN, "Không đồng ý" if index == 4 else "Đồng ý")
        await vote(person, BINH, "Đồng ý")
        await vote(person, XA, "Đồng ý")


def _row(page: str, name: str) -> str:
    start = page.index(f"<td>{name}</td>")
    return page[start : page.index("</tr>", start)]


async def test_council_member_logs_in_and_sees_counts_only_for_secret_ballots(
    bot: TestBot, world: CouncilWorld, clients: Clients
) -> None:
    await _closed_round(world)
    with bot.db() as db:
        item = db.exec(select(CouncilItem).where(CouncilItem.nominee_name == BINH)).one()
        item.nominee_name = '<script>alert("x")</script> Bình'
        db.add(item)
        db.commit()
    member = world.members[0]
    async with clients.new() as client:
        await log_in(client, member, bot)
        home = await client.get("/")
        assert home.status_code == 200
        assert f"/campaigns/{world.campaign_id}/council" in home.text
        assert "Đợt của xã Khác" not in home.text
        assert "/units" not in home.text and "/audit" not in home.text  # no office menu

        page = (await client.get(f"/campaigns/{world.campaign_id}/council")).text
    assert "đã kiểm phiếu, chờ xác nhận" in page
    an = _row(page, AN)
    assert '<td class="num" data-yes>4</td>' in an and '<td class="num" data-no>1</td>' in an
    assert "bỏ phiếu kín: chỉ có số phiếu" in an
    for name in ("Chủ tịch Hoàng", "Ủy viên Sơn"):
        assert name not in an  # a secret ballot names nobody
    xa = _row(page, XA)
    assert "Chủ tịch Hoàng: Đồng ý" in xa and "Ủy viên Sơn: Đồng ý" in xa  # open vote: names
    # The nominations, with what the council needs to judge them.
    assert "Sáng kiến số hoá hồ sơ" in page and "Công chức văn hoá" in page
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    # Never the officers behind the reports.
    assert "Lò Văn Tâm" not in page and "Tẩn Thị Mai" not in page


async def test_while_a_round_is_open_only_who_finished_is_counted(
    bot: TestBot, world: CouncilWorld, clients: Clients
) -> None:
    await open_round(world)
    first = world.members[0]
    for nominee in (AN, BINH, XA):
        await vote(first, nominee, "Đồng ý")
    async with clients.new() as client:
        await log_in(client, world.members[1], bot)
        page = (await client.get(f"/campaigns/{world.campaign_id}/council")).text
    assert "đang bỏ phiếu" in page
    assert '<strong data-count="finished">1</strong>/5' in page
    assert "data-yes" not in page and "Đồng ý" not in page  # no choice, no count while open


async def test_who_may_open_the_council_pages(
    bot: TestBot, world: CouncilWorld, clients: Clients
) -> None:
    await _closed_round(world)
    with bot.db() as db:
        report_id = db.exec(select(Report.id)).first()
    council_pages = [
        f"/campaigns/{world.campaign_id}/council",
        f"/campaigns/{world.campaign_id}/rankings",
    ]
    office_pages = [
        f"/campaigns/{world.campaign_id}",
        f"/campaigns/{world.campaign_id}/export.xlsx",
        f"/campaigns/{world.campaign_id}/dossier",
        f"/campaigns/{world.campaign_id}/dossier.zip",
        f"/reports/{report_id}",
        "/units",
        "/audit",
        "/plans",
    ]
    office_posts = [
        f"/campaigns/{world.campaign_id}/remind",
        f"/campaigns/{world.campaign_id}/dossier",
        f"/reports/{report_id}/accept",
        "/plans/read",
        "/plans/create",
        "/units/import",
    ]
    # A stranger: nothing.
    async with clients.new() as stranger:
        for path in council_pages + office_pages:
            assert (await stranger.get(path)).status_code == 401, path
    # An officer: no link, and no page.
    await world.officer_a.says("/web")
    assert "/login/" not in world.officer_a.last_reply
    assert "thành viên Hội đồng" in world.officer_a.last_reply  # access.council_only
    # A council member: the council's pages, never the office's (as if they did not exist).
    async with clients.new() as client:
        csrf = await log_in(client, world.members[2], bot)
        for path in council_pages:
            assert (await client.get(path)).status_code == 200, path
        for path in office_pages:
            response = await client.get(path)
            assert response.status_code == 404, path
            assert "Lò Văn Tâm" not in response.text
        for path in office_posts:
            assert (await client.post(path, data={"csrf": csrf})).status_code == 404, path
    # The organiser's admin: both.
    async with clients.new() as client:
        await log_in(client, world.admin, bot)
        for path in council_pages:
            assert (await client.get(path)).status_code == 200, path
    # Another organiser's admin: this campaign's council pages do not exist for them.
    async with clients.new() as client:
        await log_in(client, bot.person(OTHER_ADMIN, "Quản trị xã Khác"), bot)
        for path in council_pages:
            response = await client.get(path)
            assert response.status_code == 404, path
            assert AN not in response.text


async def test_a_seat_for_another_campaign_does_not_open_this_one(
    bot: TestBot, world: CouncilWorld, clients: Clients
) -> None:
    with bot.db() as db:
        other = make_campaign(db, number="10/KH-UBND", name="Đợt khác")
        outsider = make_member(db, "777", name="Ủy viên đợt khác")
        db.add(CouncilMember(member_id=outsider.id, campaign_id=other.id, added_at=T0, active=True))
        db.commit()
        other_id = other.id
    await _closed_round(world)  # the outsider is not in this round's electorate
    async with clients.new() as client:
        await log_in(client, bot.person("777"), bot)
        home = (await client.get("/")).text
        assert f"/campaigns/{other_id}/council" in home
        assert f"/campaigns/{world.campaign_id}/council" not in home
        response = await client.get(f"/campaigns/{world.campaign_id}/council")
        assert response.status_code == 404 and AN not in response.text
        assert (await client.get(f"/campaigns/{other_id}/council")).status_code == 200


async def test_a_removed_seat_ends_the_council_session(
    bot: TestBot, world: CouncilWorld, clients: Clients
) -> None:
    await _closed_round(world)
    async with clients.new() as client:
        await log_in(client, world.members[0], bot)
        assert (await client.get("/")).status_code == 200
        with bot.db() as db:
            member = db.exec(select(Member).where(Member.user_id == "301")).one()
            row = db.exec(select(CouncilMember).where(CouncilMember.member_id == member.id)).one()
            row.active = False
            db.add(row)
            db.commit()
        assert (await client.get(f"/campaigns/{world.campaign_id}/council")).status_code == 401


async def test_rankings_page_is_the_xephang_ranking(
    bot: TestBot, world: CouncilWorld, clients: Clients
) -> None:
    await _closed_round(world)
    with bot.db() as db:
        admin = db.exec(select(Member).where(Member.role == Role.ADMIN)).first()
        campaign = make_campaign(db, number="11/KH-UBND", name="Đợt chấm điểm")
        bloc = "Khối xã, thị trấn"
        units = [make_unit(db, f"Xã <b>{n}</b>", code=f"XA-{n}", bloc=bloc) for n in ("P", "Q")]
        sheet = scoring.attach_table(
            db, campaign=campaign, bloc=bloc, table_code="khoi-xa-thi-tran", actor=admin, now=T0
        )
        for unit, points in zip(
            units,
            (["20", "20", "15", "10", "5", "0", "0"], ["25", "20", "15", "12", "8", "0", "0"]),
            strict=True,
        ):
            card = scoring.card_for(db, sheet=sheet, unit=unit, now=T0)
            for criterion, value in zip(scoring.table_of(sheet).criteria, points, strict=True):
                scoring.set_self_score(
                    db, sheet=sheet, card=card, criterion=criterion.code, points=value, now=T0
                )
            scoring.submit_card(db, sheet=sheet, card=card, by=admin, now=T0 + timedelta(1))
        db.commit()
        campaign_id = campaign.id
    async with clients.new() as client:
        await log_in(client, world.admin, bot)
        page = (await client.get(f"/campaigns/{campaign_id}/rankings")).text
    assert "Khối xã, thị trấn" in page
    assert page.index("XA-Q") < page.index("XA-P")  # 80 points before 70
    assert '<td class="num" data-total>80' in page
    assert "<b>Q</b>" not in page and "&lt;b&gt;Q&lt;/b&gt;" in page  # escaped


def test_the_campaigns_a_seat_sits_on(session) -> None:
    """`domain.council.seat_campaign_ids`: the seat's own campaign, and every campaign with a
    round whose electorate holds the member — not a round opened without them."""
    from domain.council import seat_campaign_ids
    from models.council import CouncilRole, CouncilRound

    voter, secretary = make_member(session, "61"), make_member(session, "62")
    first, second, third = (make_campaign(session, number=f"{n}/KH") for n in (1, 2, 3))
    voting = CouncilMember(member_id=voter.id, added_at=T0)
    minutes = CouncilMember(
        member_id=secretary.id, role=CouncilRole.SECRETARY, campaign_id=third.id, added_at=T0
    )
    session.add_all([voting, minutes])
    for campaign, electorate in ((first, [voter.id]), (second, [])):
        session.add(
            CouncilRound(
                campaign_id=campaign.id,
                opened_at=T0,
                closes_at=T0 + timedelta(days=2),
                rules={},
                electorate=electorate,
            )
        )
    session.flush()
    assert seat_campaign_ids(session, seat=voting) == [first.id]
    assert seat_campaign_ids(session, seat=minutes) == [third.id]


async def test_a_council_members_own_web_session_is_in_their_councils_audit_log(
    bot: TestBot, clients: Clients, world: CouncilWorld
) -> None:
    """/web, the login and the logout of a council member who is no admin belong to the
    organiser whose council they sit on: that office's log shows them, another's does not."""
    member = world.members[0]
    async with clients.new() as client:
        csrf = await log_in(client, member, bot)
        assert (await client.post("/logout", data={"csrf": csrf})).status_code == 200
    with bot.db() as db:
        who = db.exec(select(Member).where(Member.user_id == member.user_id)).one()
        seat_of = db.exec(select(CouncilMember).where(CouncilMember.member_id == who.id)).one()
        office = db.exec(audit_entries(Scope.of(seat_of.organiser_id))).all()
        other = db.exec(
            select(Member).where(Member.user_id == OTHER_ADMIN)
        ).one()  # another commune's admin reads their own organiser's log
        theirs = db.exec(audit_entries(access.web_scope(other, session=db))).all()  # type: ignore[arg-type]
    mine = [(e.action, e.detail.get("via")) for e in office if e.actor_id == who.id]
    assert mine == [("web.logout", "qua web"), ("web.login", "qua web"), ("web.link", None)]
    assert not [e for e in theirs if e.actor_id == who.id]
