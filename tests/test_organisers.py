"""One deployment for a province: the province (the default organiser, Sở Nội vụ) runs a campaign
for its communes; commune An Bình and commune Bắc Sơn, each an organiser linked to its unit in
the province's list, run their own campaigns for their villages.

People: the province's admin (ADMIN_IDS); Lò Văn Hải, the officer of An Bình in the province's
campaign and the admin of An Bình's own; Hà Thị Mai, the same for Bắc Sơn; a village officer
in each commune. Nothing of one commune may reach the other's admin, and the province reads
its communes' campaigns only as a roll-up.
"""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

from openpyxl import load_workbook
from sqlmodel import Session, select

from bot.access import Access
from bot.channels.text import html_to_plain
from domain import council
from domain import organisers as offices
from domain.campaigns import participating_units
from domain.rollup import prefill_for
from domain.scope import admin_organiser_ids
from handlers import build_router
from handlers import scoring as scoring_handlers
from models.audit import AuditLog
from models.campaigns import Campaign, Deadline
from models.council import CouncilMember
from models.organisers import DEFAULT_ORGANISER_ID, Organiser
from models.reports import ReportStatus
from models.units import Member, Role, Unit
from tests.utils.factories import (
    T0,
    make_deadline,
    make_member,
    make_report,
    make_unit,
)
from tests.utils.ids import ADMIN_USER_ID
from tests.utils.province import AN_BINH_SECRETS, Province
from tests.utils.reminders import scheduler_for
from tests.utils.scenario import Person, TestBot

_router = build_router()
# Every command an admin runs for their office: admin routes, the council's (an admin passes
# `council_gate`) and bloc scoring's (/chamdiem, /xephang: open to members, more for admins).
_OFFICE = (Access.ADMIN, Access.COUNCIL)
ADMIN_COMMANDS = sorted(
    {n for n, r in _router.commands.items() if r.access in _OFFICE}
    | set(scoring_handlers.router.commands)
)
ADMIN_BUTTONS = sorted(p for p, r in _router.buttons.items() if r.access in _OFFICE)


def test_each_campaign_reaches_its_own_organisers_units(
    province: Province, session: Session
) -> None:
    tinh, own_a = (
        session.exec(select(Campaign).where(Campaign.document_number == n)).one()
        for n in ("12/KH-SNV", "5/KH-UBND")
    )
    assert [u.name for u in participating_units(session, tinh)] == [
        "Trường THPT Tam Đường",
        "Xã An Bình",
        "Xã Bắc Sơn",
    ]
    assert [u.name for u in participating_units(session, own_a)] == [
        "Thôn Nà Hiềng",
        "Thôn Pác Ngòi",
    ]


async def test_the_commune_officer_wears_both_hats_from_one_chat(
    bot: TestBot, province: Province
) -> None:
    hai = bot.person("201", "Lò Văn Hải")
    # As the officer of Xã An Bình in the province's campaign.
    await hai.says("/baocao")
    assert "Báo cáo của xã gửi tỉnh" in hai.new_text
    assert "Báo cáo thôn gửi xã" not in hai.new_text
    # As the admin of An Bình's own campaign.
    await hai.says("/tiendo")
    assert "UBND xã An Bình" in hai.new_text
    assert "Báo cáo thôn gửi xã" in hai.new_text
    assert "Báo cáo của xã gửi tỉnh" not in hai.new_text
    await hai.says("/donvi")
    assert "Nà Hiềng" in hai.new_text and "Xã Bắc Sơn" not in hai.new_text
    await hai.says("/coquan")
    assert "quản trị viên của UBND xã An Bình" in hai.new_text


async def test_the_province_reads_its_communes_campaigns_as_a_roll_up(
    bot: TestBot, province: Province
) -> None:
    admin = bot.person(ADMIN_USER_ID)
    await admin.says("/tonghop")
    text = admin.new_text
    assert "UBND xã An Bình" in text and "UBND xã Bắc Sơn" in text
    assert "Báo cáo thôn gửi xã" in text and "đã nộp 1/2" in text
    assert "Báo cáo bản gửi xã" in text and "đã nộp 0/1" in text
    # Read-only: the province is not An Bình's admin.
    await admin.says("/donvi")
    assert "Nà Hiềng" not in admin.new_text and "Xã An Bình" in admin.new_text
    await admin.presses_payload(f"rpok:{province.ids['a_report']}")
    assert "Kết quả riêng An Bình" not in admin.new_text
    with bot.db() as db:
        member = db.exec(select(Member).where(Member.user_id == ADMIN_USER_ID)).one()
        assert admin_organiser_ids(member, session=db) == [DEFAULT_ORGANISER_ID]


def _leaked(person: Person, since: int, typed: str = "") -> list[str]:
    """An Bình's words in what `person` received since `since` (what they typed themselves
    and the bot repeats back is no leak)."""
    seen = "\n".join(html_to_plain(m.text) for m in person.messages[since:])
    seen += "\n".join(b.label for m in person.messages[since:] for row in m.buttons for b in row)
    return [s for s in AN_BINH_SECRETS if s in seen and s not in typed]


async def test_every_admin_command_as_the_other_communes_admin_leaks_nothing(
    bot: TestBot, province: Province
) -> None:
    mai = bot.person("202", "Hà Thị Mai")
    arguments = [
        "",
        "T01",
        "T02",
        "5/KH-UBND",
        "Nà Hiềng",
        "Hoàng",
        str(province.ids["a_campaign"]),
    ]
    arguments += [str(v) for v in province.ids.values()]
    arguments = list(dict.fromkeys(arguments))  # ids of different tables share numbers
    for command in ADMIN_COMMANDS:
        for argument in arguments:
            mark = len(mai.messages)
            await mai.says(f"/{command} {argument}".strip())
            # Press whatever the answer offers, one level deep: buttons lead further in.
            offered = [b.label for m in mai.messages[mark:] for row in m.buttons for b in row]
            for label in offered[:6]:
                await mai.presses(label)
            leaked = _leaked(mai, mark, typed=argument)
            assert not leaked, (command, argument, leaked, mai.new_text)
            await mai.says("/huy")


async def test_forged_ids_of_another_commune_are_refused_and_audited(
    bot: TestBot, province: Province
) -> None:
    mai = bot.person("202", "Hà Thị Mai")
    values = sorted({v for v in province.ids.values()})
    with bot.db() as db:
        before = len(db.exec(select(AuditLog).where(AuditLog.outcome == "denied")).all())
        a_report_before = db.get(Deadline, province.ids["a_deadline"])
    for prefix in ADMIN_BUTTONS:
        # Buttons that open a list ("new" rounds, "new" score sheets) list only one's own.
        for payload in (f"{prefix}:new", f"{prefix}:1:new", f"{prefix}:list"):
            mark = len(mai.messages)
            await mai.presses_payload(payload)
            offered = [b.label for m in mai.messages[mark:] for row in m.buttons for b in row]
            for label in offered[:6]:
                await mai.presses(label)
            assert not _leaked(mai, mark), (payload, _leaked(mai, mark))
            await mai.says("/huy")
        for value in values:
            for payload in (f"{prefix}:{value}", f"{prefix}:{value}:1", f"{prefix}:1:{value}"):
                mark = len(mai.messages)
                await mai.presses_payload(payload)
                assert not _leaked(mai, mark), (payload, _leaked(mai, mark))
                await mai.says("/huy")
    # The ones that name An Bình's unit, invite, member or report were written down.
    for payload in (f"un-i:{province.ids['a_unit']}", f"rg-ok:{province.ids['a_officer']}"):
        await mai.presses_payload(payload)
        assert "không thuộc cơ quan bạn đang quản trị" in mai.last_reply
    with bot.db() as db:
        denied = db.exec(select(AuditLog).where(AuditLog.outcome == "denied")).all()
        assert len(denied) > before
        assert all(d.actor == "memory:202" for d in denied[before:])
        assert {d.target_type for d in denied[before:]} >= {"unit", "member"}
        assert db.get(Deadline, province.ids["a_deadline"]) == a_report_before


async def test_an_admin_of_two_organisers_is_asked_which_one(
    bot: TestBot, province: Province, session: Session
) -> None:
    both = session.get(Organiser, province.bac_son.id)
    hai = session.get(Member, province.ids["a_admin"])
    assert both is not None and hai is not None
    offices.grant_admin(hai, both, by=None, now=T0, session=session)
    session.commit()
    chat = bot.person("201", "Lò Văn Hải")
    await chat.says("/binhxet")  # a council command asks too (Hải has no seat)
    assert "nhiều cơ quan" in chat.last_reply
    await chat.says("/donvi")
    assert "nhiều cơ quan" in chat.last_reply
    assert {"UBND xã An Bình", "UBND xã Bắc Sơn"} <= set(chat.buttons)
    await chat.presses("UBND xã Bắc Sơn")
    assert "UBND xã Bắc Sơn" in chat.last_reply
    await chat.says("/donvi")
    assert "Bản Khau Vai" in chat.new_text and "Nà Hiềng" not in chat.new_text
    await chat.says("/coquan")
    await chat.presses("Làm việc cho UBND xã An Bình")
    await chat.says("/donvi")
    assert "Nà Hiềng" in chat.new_text and "Bản Khau Vai" not in chat.new_text
    await chat.says("/binhxet")
    assert "Đợt thi đua xã An Bình" in chat.new_text  # An Bình's round, as its admin
    assert "Nguyễn Đề Cử" not in chat.new_text  # no ballot: Hải has no seat


async def test_the_province_imports_communes_all_or_nothing_and_names_their_admins(
    bot: TestBot, session: Session
) -> None:
    bot.core.flood.limit = 10_000
    make_unit(session, "Xã Bình Lư", code="XA-BINHLU")
    make_unit(session, "Xã Sơn Bình", code="XA-SONBINH")
    make_member(session, ADMIN_USER_ID, role=Role.ADMIN)
    make_member(
        session,
        "203",
        unit=session.exec(select(Unit).where(Unit.code == "XA-SONBINH")).one(),
        name="Vàng A Lử",
    )
    session.commit()
    admin = bot.person(ADMIN_USER_ID)
    await admin.says("/coquan sua Sở Nội vụ tỉnh Lai Châu; tỉnh; tỉnh Lai Châu; Lai Châu")
    assert "Đã lưu: Sở Nội vụ tỉnh Lai Châu (cấp tỉnh), nơi ký: Lai Châu" in admin.last_reply
    await admin.says("/coquan nhap")
    bad = (
        "ma,ten,cap,dia_danh,noi_ky,ma_don_vi\n"
        "CQ-BINHLU,UBND xã Bình Lư,xã,xã Bình Lư,Bình Lư,XA-BINHLU\n"
        "CQ-SONBINH,UBND xã Sơn Bình,huyện,xã Sơn Bình,Sơn Bình,XA-KHONGCO\n"
    )
    await admin.sends_file(bad.encode(), "coquan.csv", "text/csv")
    assert "Dòng 3" in admin.new_text and "huyện" in admin.new_text
    with bot.db() as db:
        assert db.exec(select(Organiser)).all() == [db.get(Organiser, 1)]
    good = bad.replace("huyện", "xã").replace("XA-KHONGCO", "XA-SONBINH")
    await admin.sends_file(good.encode(), "coquan.csv", "text/csv")
    assert "thêm mới 2" in admin.new_text
    await admin.says("/coquan quantri CQ-SONBINH Lử")
    await admin.presses("Vàng A Lử")
    assert "Đã cấp quyền quản trị viên của UBND xã Sơn Bình" in admin.new_text
    commune_admin = bot.person("203", "Vàng A Lử")
    assert "UBND xã Sơn Bình" in commune_admin.all_text
    await admin.says("/coquan boquyen CQ-SONBINH")
    await admin.presses("Vàng A Lử")
    await commune_admin.says("/donvi")
    assert (
        "chỉ quản trị viên" in commune_admin.last_reply.lower()
        or "quản trị" in commune_admin.last_reply
    )
    with bot.db() as db:
        lu = db.exec(select(Member).where(Member.user_id == "203")).one()
        assert lu.role == Role.OFFICER and admin_organiser_ids(lu, session=db) == []
    await admin.says("/coquan quantri CQ-SONBINH Lử")
    await admin.presses("Vàng A Lử")
    await commune_admin.says("/themdonvi")
    await commune_admin.says("T01")
    await commune_admin.says("Thôn Sơn Hải")
    await commune_admin.presses("Thôn")
    await commune_admin.says("/boqua")
    await commune_admin.presses("Xác nhận")
    with bot.db() as db:
        son_binh = offices.find_by_code("CQ-SONBINH", session=db)
        unit = db.exec(select(Unit).where(Unit.name == "Thôn Sơn Hải")).one()
        assert son_binh is not None and unit.organiser_id == son_binh.id
        assert son_binh.unit_id == db.exec(select(Unit.id).where(Unit.code == "XA-SONBINH")).one()
        assert son_binh.signing_place == "Sơn Bình"
    # One more by command; a wrong level is refused with an example.
    await admin.says("/coquan them CQ-TP; UBND phường Tân Phong, Lai Châu; huyện")
    assert "Cấp «huyện» không rõ" in admin.new_text and "/coquan them" in admin.new_text
    await admin.says("/coquan them CQ-TP; UBND phường Tân Phong, Lai Châu; phường")
    assert "Đã thêm cơ quan UBND phường Tân Phong, Lai Châu" in admin.new_text
    await admin.says("/coquan")
    assert "UBND xã Sơn Bình" in admin.new_text and "UBND phường Tân Phong" in admin.new_text


async def test_a_province_campaign_cascades_to_a_commune_with_earlier_deadlines(
    bot: TestBot, province: Province
) -> None:
    admin = bot.person(ADMIN_USER_ID)
    await admin.says("/yeucauxa 12/KH-SNV")
    hai = bot.person("201", "Lò Văn Hải")
    assert "Đợt thi đua của tỉnh 2026" in hai.all_text  # told by the province's request
    await hai.says("/dotcaptren")
    await hai.presses("Đợt thi đua của tỉnh 2026")
    with bot.db() as db:
        tinh = db.exec(select(Campaign).where(Campaign.document_number == "12/KH-SNV")).one()
    # A deadline after the province's is refused, and the question stays.
    late = (T0 + timedelta(days=25)).strftime("%d/%m/%Y")
    await hai.says(f"/nhandot {tinh.id} {late}")
    assert "phải trước hoặc đúng hạn của cấp trên" in hai.new_text
    await hai.presses("Nhận đợt")
    with bot.db() as db:
        mine = db.exec(select(Campaign).where(Campaign.parent_campaign_id == tinh.id)).one()
        assert mine.organiser_id == province.an_binh.id
        (deadline,) = db.exec(select(Deadline).where(Deadline.campaign_id == mine.id)).all()
        parent = db.get(Deadline, province.ids["tinh_deadline"])
        assert deadline.due_at == parent.due_at - offices.CASCADE_LEAD
        assert deadline.parent_deadline_id == parent.id
        assert [u.name for u in participating_units(db, mine)] == [
            "Thôn Nà Hiềng",
            "Thôn Pác Ngòi",
        ]
    # An Bình's is not offered twice; Bắc Sơn accepts it on its own, with the proposed dates.
    await hai.says("/dotcaptren")
    assert "chưa đề nghị" in hai.last_reply
    await admin.says("/tonghop")
    assert "1/2 cơ quan đã tổ chức đợt tương ứng; chưa nhận: UBND xã Bắc Sơn" in admin.new_text
    mai = bot.person("202", "Hà Thị Mai")
    await mai.says("/dotcaptren")
    await mai.presses("Đợt thi đua của tỉnh 2026")
    await mai.presses("Nhận đợt")
    with bot.db() as db:
        assert (
            len(db.exec(select(Campaign).where(Campaign.parent_campaign_id == tinh.id)).all()) == 2
        )


async def test_each_admin_gets_the_digest_of_their_own_organiser(
    bot: TestBot, province: Province, session: Session, clock
) -> None:
    tinh = session.exec(select(Campaign).where(Campaign.document_number == "12/KH-SNV")).one()
    make_deadline(session, tinh, title="Đăng ký thi đua của xã", due_at=T0 + timedelta(days=5))
    session.commit()
    scheduler = scheduler_for(bot.core)
    clock.advance(minutes=5)
    assert (await scheduler.tick()).digests == 3
    province_admin, hai, mai = (bot.person(u) for u in (ADMIN_USER_ID, "201", "202"))
    assert "Đăng ký thi đua của xã" in province_admin.last_reply
    assert "Báo cáo thôn gửi xã" not in province_admin.last_reply
    assert "UBND xã An Bình" in hai.last_reply and "Báo cáo thôn gửi xã" in hai.last_reply
    assert "Báo cáo bản gửi xã" not in hai.last_reply
    assert "Đăng ký thi đua của xã" not in hai.last_reply
    assert "Báo cáo bản gửi xã" in mai.last_reply and "Nà Hiềng" not in mai.last_reply
    clock.advance(minutes=30)
    assert (await scheduler.tick()).digests == 0  # once a day per admin and organiser


async def test_each_organiser_reads_only_its_own_audit_log(
    bot: TestBot, province: Province
) -> None:
    hai, mai = bot.person("201", "Lò Văn Hải"), bot.person("202", "Hà Thị Mai")
    await hai.says("/moi T02")
    await mai.says("/moi T01")
    with bot.db() as db:
        invites = db.exec(select(AuditLog).where(AuditLog.action == "invite.create")).all()
        assert sorted(e.organiser_id for e in invites) == sorted(
            [province.an_binh.id, province.bac_son.id]
        )
    await hai.says("/nhatky")
    assert "invite.create" in hai.last_reply
    assert "Hà Thị Mai" not in hai.last_reply and "Lò Văn Hải" in hai.last_reply
    await mai.says("/nhatky")
    assert "Lò Văn Hải" not in mai.last_reply and "Hà Thị Mai" in mai.last_reply


async def test_a_registration_for_a_village_goes_to_its_communes_admin_only(
    bot: TestBot, province: Province
) -> None:
    visitor = bot.person("400", "Lường Văn Nam")
    await visitor.says("/dangky")
    await visitor.says("thon")
    # Units of every organiser match; each shows whose it is.
    assert "Thôn Nà Hiềng — UBND xã An Bình" in visitor.buttons
    await visitor.presses("Thôn Nà Hiềng")
    await visitor.says("Lường Văn Nam")
    await visitor.says("0912 345 678")
    hai, mai = bot.person("201", "Lò Văn Hải"), bot.person("202", "Hà Thị Mai")
    province_admin = bot.person(ADMIN_USER_ID)
    assert "Lường Văn Nam" in hai.all_text
    assert "Lường Văn Nam" not in mai.all_text + province_admin.all_text
    await mai.says("/duyet")
    assert "Lường Văn Nam" not in mai.new_text
    await province_admin.says("/duyet")
    assert "Lường Văn Nam" not in province_admin.new_text
    await hai.says("/duyet")
    await hai.presses("Duyệt")
    assert "Lường Văn Nam" in hai.new_text
    await visitor.says("/baocao")
    assert "Báo cáo thôn gửi xã" in visitor.new_text


async def test_thuhoiquyen_lists_and_revokes_the_admins_of_ones_own_organiser_only(
    bot: TestBot, province: Province
) -> None:
    with bot.db() as db:
        giang = db.exec(select(Member).where(Member.user_id == "302")).one()
        bac_son = db.get(Organiser, province.bac_son.id)
        assert bac_son is not None
        offices.grant_admin(giang, bac_son, by=None, now=T0, session=db)
        db.commit()
        giang_id, hai_id = giang.id, province.ids["a_admin"]
    mai = bot.person("202", "Hà Thị Mai")
    await mai.says("/thuhoiquyen")
    listed = mai.new_text
    assert "Hà Thị Mai" in listed and "Giàng Seo Bản" in listed
    assert "Lò Văn Hải" not in listed and "(2)" in listed
    # A forged button naming An Bình's admin: refused, audited, nothing changes.
    await mai.presses_payload(f"ad-rvok:{hai_id}")
    assert "không còn là quản trị viên" in mai.last_reply
    with bot.db() as db:
        hai = db.get(Member, hai_id)
        assert admin_organiser_ids(hai, session=db) == [province.an_binh.id]
        denied = db.exec(
            select(AuditLog).where(
                AuditLog.action == "access.out_of_scope", AuditLog.target_id == str(hai_id)
            )
        ).all()
        assert [d.actor for d in denied] == ["memory:202"]
    # Giàng's rights in Bắc Sơn end: the organiser_member row goes, he is the village's
    # officer again.
    await mai.presses("Giàng Seo Bản")
    assert "trở lại là cán bộ của Bản Khau Vai" in mai.last_reply
    await mai.presses_payload(f"ad-rvok:{giang_id}")
    assert "Đã thu hồi quyền quản trị viên của Giàng Seo Bản" in mai.last_reply
    with bot.db() as db:
        giang = db.get(Member, giang_id)
        assert giang is not None and giang.role == Role.OFFICER and giang.unit_id is not None
        assert admin_organiser_ids(giang, session=db) == []
        entry = db.exec(select(AuditLog).where(AuditLog.action == "member.revoke_admin")).one()
        assert entry.organiser_id == province.bac_son.id
    # Hải is An Bình's only admin: he cannot take his own rights there.
    hai_chat = bot.person("201", "Lò Văn Hải")
    await hai_chat.presses_payload(f"ad-rvok:{hai_id}")
    assert "quản trị viên cuối cùng của cơ quan này" in hai_chat.last_reply
    with bot.db() as db:
        assert admin_organiser_ids(db.get(Member, hai_id), session=db) == [province.an_binh.id]


async def test_an_admin_dropped_from_admin_ids_loses_the_default_organiser_only(
    bot: TestBot, province: Province
) -> None:
    from bot.settings import Settings
    from domain.members import sync_configured_admins
    from models.units import AdminSource

    top = bot.person(ADMIN_USER_ID)
    await top.says("/toi")  # ADMIN_IDS: the default organiser's admin
    with bot.db() as db:
        admin = db.exec(select(Member).where(Member.user_id == ADMIN_USER_ID)).one()
        admin.admin_source = AdminSource.CONFIG
        an_binh = db.get(Organiser, province.an_binh.id)
        assert an_binh is not None
        offices.grant_admin(admin, an_binh, by=None, now=T0, session=db)
        db.commit()
        assert admin_organiser_ids(admin, session=db) == [DEFAULT_ORGANISER_ID, an_binh.id]
        dropped = sync_configured_admins(
            db, settings=Settings(_env_file=None, admin_ids=[]), now=T0
        )
        db.commit()
        assert [m.id for m in dropped] == [admin.id]
        # An Bình's rights were granted in the chat: they stay; the province's are gone.
        assert admin_organiser_ids(admin, session=db) == [an_binh.id]
        assert admin.role == Role.ADMIN and admin.admin_source == AdminSource.CHAT
        # A configured admin with nothing else loses the role too.
        offices.revoke_admin(admin, an_binh, by=None, now=T0, session=db)
        db.commit()
        assert admin.role == Role.OFFICER and admin_organiser_ids(admin, session=db) == []


async def test_the_communes_accepted_village_reports_add_up_for_its_report_upward(
    bot: TestBot, province: Province
) -> None:
    """An Bình runs the province's campaign for its villages (/nhandot); the villages report,
    Hải accepts them, and /tonghop adds up their figures for An Bình's own report to the
    province — only accepted reports count — with a workbook to attach; the report filler can
    start from the same sums (`prefill_for`). Bắc Sơn's admin sees none of it."""
    admin, hai = bot.person(ADMIN_USER_ID), bot.person("201", "Lò Văn Hải")
    await admin.says("/yeucauxa 12/KH-SNV")
    await hai.says("/dotcaptren")
    await hai.presses("Đợt thi đua của tỉnh 2026")
    await hai.presses("Nhận đợt")
    with bot.db() as db:
        parent = db.get(Deadline, province.ids["tinh_deadline"])
        mine = db.exec(
            select(Campaign).where(Campaign.parent_campaign_id == parent.campaign_id)
        ).one()
        (deadline,) = db.exec(select(Deadline).where(Deadline.campaign_id == mine.id)).all()
        na_hieng, pac_ngoi = (
            db.exec(select(Unit).where(Unit.name == n)).one()
            for n in ("Thôn Nà Hiềng", "Thôn Pác Ngòi")
        )
        make_report(
            db,
            na_hieng,
            deadline,
            status=ReportStatus.ACCEPTED,
            answers={"tong_chi_tieu": 12, "chi_tieu_dat": 11, "kinh_phi": "1250.5"},
        )
        waiting = make_report(
            db, pac_ngoi, deadline, answers={"tong_chi_tieu": 10, "chi_tieu_dat": 9}
        )
        db.commit()
        waiting_id = waiting.id
    await hai.says("/tonghop")
    text = hai.new_text
    assert "Báo cáo của xã gửi tỉnh" in text and "đã duyệt 1/2 đơn vị" in text
    assert (
        "Tổng số chỉ tiêu được giao: 12" in text
        and "Kinh phí huy động (triệu đồng): 1.250,5" in text
    )
    # Accepting the second village's report adds it in.
    await hai.presses_payload(f"rpok:{waiting_id}")
    await hai.says("/tonghop")
    text = hai.new_text
    assert "đã duyệt 2/2 đơn vị" in text
    assert "Tổng số chỉ tiêu được giao: 22" in text and "Số chỉ tiêu đạt và vượt: 20" in text
    await hai.presses("Bảng tổng hợp (Excel)")
    document = hai.messages[-1].document
    assert document is not None and document.file_name.endswith(".xlsx")
    rows = list(load_workbook(io.BytesIO(document.content)).active.iter_rows(values_only=True))
    assert rows[1][:4] == ("Mã", "Đơn vị", "Tổng số chỉ tiêu được giao", "Số chỉ tiêu đạt và vượt")
    assert rows[2][:4] == ("T01", "Thôn Nà Hiềng", 12, 11)
    assert rows[3][:4] == ("T02", "Thôn Pác Ngòi", 10, 9)
    assert rows[-1][1:4] == ("Cộng", 22, 20)
    with bot.db() as db:
        parent = db.get(Deadline, province.ids["tinh_deadline"])
        xa = db.exec(select(Unit).where(Unit.code == "XA-ANBINH")).one()
        sums = prefill_for(db, parent_deadline=parent, unit=xa, forms=bot.core.services.forms)
        assert sums == {"tong_chi_tieu": 22, "chi_tieu_dat": 20, "kinh_phi": Decimal("1250.5")}
        bac_son_unit = db.exec(select(Unit).where(Unit.code == "XA-BACSON")).one()
        assert prefill_for(db, parent_deadline=parent, unit=bac_son_unit, forms={}) == {}
    mai = bot.person("202", "Hà Thị Mai")
    await mai.says("/tonghop")
    assert "Nà Hiềng" not in mai.new_text and "22" not in mai.new_text
    await mai.presses_payload(f"og-sum:{deadline.id}")
    assert mai.messages[-1].document is None
    assert "không thuộc cơ quan bạn đang quản trị" in mai.last_reply


async def test_a_village_scores_only_on_its_own_communes_sheets(
    bot: TestBot, province: Province
) -> None:
    """Bản Khau Vai (Bắc Sơn) is in the same bloc as An Bình's villages, but An Bình's scoring
    sheet is not its commune's: not offered, and a forged button is refused and audited."""
    officer = bot.person("302", "Giàng Seo Bản")
    await officer.says("/chamdiem")
    assert "Đợt thi đua xã An Bình" not in officer.new_text + " ".join(officer.buttons)
    await officer.presses_payload(f"ss:{province.ids['a_sheet']}")
    assert "không có quyền" in officer.last_reply
    with bot.db() as db:
        denied = db.exec(select(AuditLog).where(AuditLog.outcome == "denied")).all()
        assert [d.actor for d in denied] == ["memory:302"]
    own = bot.person("301", "Hoàng Văn Thôn")  # An Bình's village: its sheet is offered
    await own.says("/chamdiem")
    assert any("Đợt thi đua xã An Bình" in label for label in own.buttons)


async def test_a_communes_council_seats_its_own_people_for_all_or_one_campaign(
    bot: TestBot, province: Province
) -> None:
    hai = bot.person("201", "Lò Văn Hải")
    await hai.says("/hoidong")
    assert "Đèo Văn Ủy" in hai.new_text and "Hà Thị Mai" not in hai.new_text
    await hai.presses("Thêm thành viên")
    await hai.says("Giàng")  # Bắc Sơn's village officer: not An Bình's to seat
    assert "Giàng Seo Bản" not in " ".join(hai.buttons)
    await hai.says("Hoàng")
    await hai.presses("Hoàng Văn Thôn")
    await hai.presses("Ủy viên")
    assert "Chỉ đợt Đợt thi đua xã An Bình" in hai.buttons
    assert not any("Bắc Sơn" in b or "tỉnh" in b for b in hai.buttons)
    await hai.presses("Chỉ đợt Đợt thi đua xã An Bình")
    assert "Đã thêm Hoàng Văn Thôn" in hai.last_reply
    await hai.says("/hoidong")
    assert "Hoàng Văn Thôn — Ủy viên (chỉ đợt Đợt thi đua xã An Bình)" in hai.new_text
    with bot.db() as db:
        giang = db.exec(select(Member).where(Member.user_id == "302")).one()
        thon = db.exec(select(Member).where(Member.user_id == "301")).one()
        tinh = db.exec(
            select(Campaign).where(
                Campaign.document_number == "12/KH-SNV",
                Campaign.organiser_id == DEFAULT_ORGANISER_ID,
            )
        ).one()
        seat = council.seats(db, organiser_id=province.an_binh.id)[-1][0]
        assert (seat.member_id, seat.campaign_id) == (thon.id, province.ids["a_campaign"])
        before = len(db.exec(select(CouncilMember)).all())
    # Forged: a person of another commune, a campaign of another organiser.
    await hai.presses_payload(f"hd:addok:{giang.id}:uy-vien")
    await hai.presses_payload(f"hd:addok:{thon.id}:thu-ky:{tinh.id}")
    with bot.db() as db:
        assert len(db.exec(select(CouncilMember)).all()) == before
        denied = db.exec(select(AuditLog).where(AuditLog.action == "access.out_of_scope")).all()
        assert {(d.target_type, d.target_id) for d in denied} >= {
            ("member", str(giang.id)),
            ("campaign", str(tinh.id)),
        }
