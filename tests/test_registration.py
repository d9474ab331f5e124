"""Officers joining: invite links (used twice, expired, revoked, unknown), /dangky with approval
and rejection, removal, admin rights, /toi, and what officers may not do."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from bot.clock import ManualClock
from domain import registration
from domain.registration import (
    CODE_ALPHABET,
    InviteProblem,
    InviteRefused,
    normalise_short_code,
)
from models.audit import AuditLog
from models.units import Invite, Member, MemberStatus, Role, Unit
from tests.utils.factories import make_member, make_unit
from tests.utils.scenario import Person, TestBot
from tests.utils.units import admin_of, member, token_in


@pytest.fixture
def binh_lu(bot: TestBot) -> Unit:
    with bot.db() as db:
        unit = make_unit(db, "Xã Bình Lư", code="XA-BINHLU")
        make_unit(db, "Xã Sơn Bình", code="XA-SONBINH")
        make_unit(db, "Phòng Nội vụ", code="PB-NOIVU", kind="coquan")
        db.commit()
    return unit


async def invite_token(admin: Person, command: str = "/moi XA-BINHLU") -> str:
    await admin.says(command)
    return token_in(admin.last_reply)


# --- invites -------------------------------------------------------------------------------
async def test_invite_binds_the_officer_at_once(bot: TestBot, binh_lu: Unit) -> None:
    admin = admin_of(bot)
    token = await invite_token(admin)
    # Without a bot username (console) the reply gives the short code to type…
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}", token)
    with bot.db() as db:  # …while the link token stays ≥ 128 bits of randomness
        assert len(db.exec(select(Invite)).one().token) >= 22
    assert "Dùng được cho 1 người, đến 08:00 ngày 09/03/2026" in admin.last_reply
    assert admin.buttons == ["Thu hồi lời mời"]
    officer = bot.person("200", "Lò Văn Tâm")
    await officer.says(f"/start {token}")
    assert "Chào mừng Lò Văn Tâm! Bạn đã là cán bộ phụ trách thi đua của Xã Bình Lư." in (
        officer.new_text
    )
    bound = member(bot, "200")
    assert bound is not None
    assert (bound.unit_id, bound.status, bound.role) == (binh_lu.id, "approved", "officer")
    assert "Lò Văn Tâm đã mở đường dẫn mời" in admin.last_reply
    await officer.says("/toi")
    assert "Đơn vị: Xã Bình Lư (XA-BINHLU)" in officer.last_reply


async def test_link_uses_the_bot_username_when_known(bot: TestBot, binh_lu: Unit) -> None:
    admin = admin_of(bot)
    await admin.says("/moi XA-BINHLU")
    assert "gõ mã này cho bot" in admin.last_reply and "t.me" not in admin.last_reply
    bot.core.services.bot_username = "thidua_tamduong_bot"
    await admin.says("/moi xa-binhlu")
    token = token_in(admin.last_reply)
    assert f"https://t.me/thidua_tamduong_bot?start={token}" in admin.last_reply
    assert re.search(r"gõ mã mời cho bot: [0-9A-Z]{4}-[0-9A-Z]{4}", admin.last_reply)


async def test_a_short_code_typed_in_lowercase_with_look_alikes_binds_the_officer(
    bot: TestBot, binh_lu: Unit
) -> None:
    code = await invite_token(admin_of(bot))
    # What a phone keyboard gives: lower case, a space instead of the dash, O for 0, l for 1.
    typed = code.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    officer = bot.person("200", "Lò Văn Tâm")
    await officer.says(typed)
    assert "Bạn đã là cán bộ phụ trách thi đua của Xã Bình Lư" in officer.new_text


async def test_a_mistyped_code_is_refused_and_guessing_stops_after_five_tries(
    bot: TestBot, binh_lu: Unit
) -> None:
    code = (await invite_token(admin_of(bot))).replace("-", "")
    # One character off, swapped for one of its own kind (a digit 2–9 for a digit 2–9, 0/1 for
    # 0/1, a letter for a letter): the code keeps its letter and its digit 2–9, so it still
    # looks like a code and is refused as a wrong one, not ignored as a word.
    last = code[-1]
    kind = next(k for k in ("23456789", "01", CODE_ALPHABET[10:]) if last in k)
    wrong = code[:-1] + next(c for c in kind if c != last)
    assert normalise_short_code(wrong) == wrong != code
    guesser = bot.person("300", "Người lạ")
    for _ in range(5):
        await guesser.says(wrong.lower())
        assert "không đúng hoặc không còn tồn tại" in guesser.new_text
    await guesser.says(code)  # even the right code is not looked at now
    assert "nhập sai mã mời nhiều lần" in guesser.new_text
    assert member(bot, "300") is None
    other = bot.person("301", "Lò Văn Tâm")  # the limit is per user: the real officer gets in
    await other.says(code)
    assert "Bạn đã là cán bộ phụ trách thi đua của Xã Bình Lư" in other.new_text


async def test_a_year_range_or_a_word_is_not_taken_for_an_invite_code(bot: TestBot) -> None:
    stranger = bot.person("300", "Người lạ")
    for text in ("2024-2025", "xinchao!", "baocaoxa"):
        await stranger.says(text)
        assert "mã mời" not in stranger.new_text.lower()


async def test_invite_used_twice(bot: TestBot, binh_lu: Unit) -> None:
    token = await invite_token(admin_of(bot))
    first, second = bot.person("200", "Lò Văn Tâm"), bot.person("201", "Tòng Văn Bình")
    await first.says(f"/start {token}")
    await first.says(f"/start {token}")  # the same person again: no harm, nothing used
    assert "đã là cán bộ phụ trách thi đua của Xã Bình Lư rồi" in first.last_reply
    await second.says(f"/start {token}")
    assert "Lời mời này đã được dùng rồi." in second.new_text
    assert "Xin chào Tòng Văn Bình" in second.new_text  # and the normal welcome
    assert member(bot, "201") is None
    with bot.db() as db:
        invite = db.exec(select(Invite)).one()
        refused = db.exec(
            select(AuditLog).where(
                AuditLog.action == "invite.redeem", AuditLog.outcome == "refused"
            )
        ).one()
    assert invite.uses == 1 and refused.detail == {"problem": "used"}


async def test_limited_use_invite_serves_that_many(bot: TestBot, binh_lu: Unit) -> None:
    token = await invite_token(admin_of(bot), "/moi XA-BINHLU 2")
    people = [bot.person(str(200 + i)) for i in range(3)]
    for person in people:
        await person.says(f"/start {token}")
    assert [member(bot, p.user_id) is not None for p in people] == [True, True, False]


async def test_expired_invite(bot: TestBot, binh_lu: Unit, clock: ManualClock) -> None:
    token = await invite_token(admin_of(bot))
    clock.advance(days=7, seconds=1)
    officer = bot.person("200", "Lò Văn Tâm")
    await officer.says(f"/start {token}")
    assert "Lời mời này đã hết hạn." in officer.new_text
    assert "/dangky" in officer.new_text
    assert member(bot, "200") is None


async def test_revoked_invite_by_button_and_by_command(bot: TestBot, binh_lu: Unit) -> None:
    admin = admin_of(bot)
    first = await invite_token(admin)
    await admin.presses("Thu hồi lời mời")
    assert admin.new_messages[-1].replace is True
    assert "Đã thu hồi lời mời cán bộ của Xã Bình Lư" in admin.last_reply
    second = await invite_token(admin)
    await admin.says("/thuhoi XA-BINHLU")
    assert "Đã thu hồi 1 lời mời" in admin.last_reply
    await admin.says("/thuhoi XA-BINHLU")
    assert "không có lời mời nào còn hiệu lực" in admin.last_reply
    officer = bot.person("200")
    for token in (first, second):
        await officer.says(f"/start {token}")
        assert "Lời mời này đã bị thu hồi." in officer.new_text
    assert member(bot, "200") is None
    with bot.db() as db:
        revokes = db.exec(select(AuditLog).where(AuditLog.action == "invite.revoke")).all()
    assert len(revokes) == 2


@pytest.mark.parametrize("token", ["khongcomaynay0123456789", "abc", "x" * 80, "<b>"])
async def test_unknown_invite(bot: TestBot, binh_lu: Unit, token: str) -> None:
    officer = bot.person("200", "Lò Văn Tâm")
    await officer.says(f"/start {token}")
    assert (
        "Lời mời (đường dẫn hoặc mã mời) này không đúng hoặc không còn tồn tại." in officer.new_text
    )
    assert "Xin chào Lò Văn Tâm" in officer.new_text
    assert member(bot, "200") is None


async def test_invite_by_unit_name_offers_a_choice(bot: TestBot, binh_lu: Unit) -> None:
    admin = admin_of(bot)
    await admin.says("/moi bình")
    assert set(admin.buttons) == {"Xã Bình Lư (XA-BINHLU)", "Xã Sơn Bình (XA-SONBINH)"}
    await admin.presses("Sơn Bình")
    assert "Xã Sơn Bình" in admin.last_reply and token_in(admin.last_reply)
    await admin.says("/moi noi vu")  # a single match needs no choice
    assert "Phòng Nội vụ" in admin.last_reply and token_in(admin.last_reply)
    await admin.says("/moi ha noi")
    assert "Không tìm thấy đơn vị “ha noi”" in admin.last_reply
    await admin.says("/moi")
    assert "/moi XA-BINHLU" in admin.last_reply


async def test_officer_moved_by_a_new_invite(bot: TestBot, binh_lu: Unit) -> None:
    admin = admin_of(bot)
    officer = bot.person("200", "Lò Văn Tâm")
    await officer.says(f"/start {await invite_token(admin)}")
    await officer.says(f"/start {await invite_token(admin, '/moi XA-SONBINH')}")
    assert "chuyển sang làm cán bộ phụ trách thi đua của Xã Sơn Bình" in officer.last_reply
    assert "trước đây: Xã Bình Lư" in officer.last_reply


def test_two_people_cannot_both_take_the_last_use(session: Session, clock: ManualClock) -> None:
    unit = make_unit(session, "Xã Bình Lư", code="XA-BINHLU")
    admin = make_member(session, "100", role=Role.ADMIN)
    invite = registration.create_invite(session, unit=unit, by=admin, now=clock.now())
    session.commit()
    # Someone else takes the only use behind this session's back: the session still holds the
    # invite as it read it (uses=0), as a concurrent update would.
    session.execute(Invite.__table__.update().values(uses=1))  # type: ignore[attr-defined]
    assert invite.uses == 0
    with pytest.raises(InviteRefused) as refused:
        registration.redeem_invite(
            session,
            token=invite.token,
            channel="memory",
            user_id="201",
            chat_id="201",
            display_name="B",
            member=None,
            now=clock.now(),
        )
    assert refused.value.problem == InviteProblem.USED
    assert session.exec(select(Member).where(Member.user_id == "201")).first() is None


def test_tokens_are_long_and_distinct() -> None:
    tokens = {registration.new_token() for _ in range(200)}
    assert len(tokens) == 200
    assert all(len(t) >= 32 and t.replace("-", "").replace("_", "").isalnum() for t in tokens)


# --- /dangky -------------------------------------------------------------------------------
async def register(bot: TestBot, user_id: str = "300", name: str = "Lò Thị Mai") -> Person:
    visitor = bot.person(user_id, name)
    await visitor.says("/dangky")
    await visitor.says("binh lu")
    await visitor.presses("Xã Bình Lư")
    await visitor.says("Lò Thị Mai")
    await visitor.says("0912 345 678")
    return visitor


async def test_registration_approved(bot: TestBot, binh_lu: Unit) -> None:
    admin = admin_of(bot)
    await admin.says("/start")  # the admin has talked to the bot, so it can be told
    visitor = await register(bot)
    assert "Đã gửi đăng ký cho Xã Bình Lư" in visitor.last_reply
    pending = member(bot, "300")
    assert pending is not None and pending.status == "pending" and pending.phone == "0912345678"
    card = admin.last_reply
    assert "Đăng ký mới chờ duyệt" in card and "Lò Thị Mai — Xã Bình Lư" in card
    assert "0912345678" in card
    await visitor.says("/toi")
    assert "đang chờ quản trị viên duyệt" in visitor.last_reply
    await admin.presses("Duyệt")
    assert admin.new_messages[-1].replace is True
    assert "Đã duyệt: Lò Thị Mai là cán bộ của Xã Bình Lư." in admin.last_reply
    assert "Đăng ký của bạn đã được duyệt" in visitor.last_reply
    approved = member(bot, "300")
    assert approved is not None and approved.status == "approved"
    await visitor.says("/toi")
    assert "Điện thoại: 0912345678" in visitor.last_reply
    assert "Trạng thái: đã duyệt" in visitor.last_reply
    await admin.presses("Từ chối")  # the same card pressed again: already handled
    assert "đã được xử lý rồi (đã duyệt)" in admin.last_reply
    assert member(bot, "300").status == "approved"  # type: ignore[union-attr]
    with bot.db() as db:
        actions = [a.action for a in db.exec(select(AuditLog).order_by(AuditLog.id)).all()]
    assert "registration.approve" in actions


async def test_registration_rejected(bot: TestBot, binh_lu: Unit) -> None:
    admin = admin_of(bot)
    await admin.says("/start")
    visitor = await register(bot)
    await admin.presses("Từ chối")
    assert "Đã từ chối đăng ký của Lò Thị Mai (Xã Bình Lư)." in admin.last_reply
    assert "chưa được chấp nhận" in visitor.last_reply
    assert member(bot, "300").status == "rejected"  # type: ignore[union-attr]
    await visitor.says("/baocao")
    await visitor.says("/toi")
    assert "chưa đăng ký" in visitor.last_reply
    # A rejected user may try again, e.g. after picking the wrong unit.
    await visitor.says("/dangky")
    assert "tên đơn vị" in visitor.last_reply


async def test_registration_validates_answers(bot: TestBot, binh_lu: Unit) -> None:
    visitor = bot.person("300")
    await visitor.says("/dangky")
    await visitor.says("hà nội")
    assert "Không tìm thấy đơn vị nào khớp “hà nội”" in visitor.new_text
    await visitor.says("xã")
    assert visitor.buttons  # several communes offered as buttons
    await visitor.says("BÌNH LƯ")
    assert visitor.buttons == ["Xã Bình Lư"]
    await visitor.says("/boqua")
    assert "bắt buộc" in visitor.new_text
    await visitor.presses("Xã Bình Lư")
    await visitor.says("0912345678")
    assert "Họ tên chỉ gồm chữ" in visitor.new_text
    await visitor.says("Lò Thị Mai")
    await visitor.says("12345")
    assert "Số điện thoại chưa đúng" in visitor.new_text
    await visitor.says("/boqua")
    assert "Đã gửi đăng ký" in visitor.last_reply
    pending = member(bot, "300")
    assert pending is not None and pending.phone is None and pending.display_name == "Lò Thị Mai"


async def test_pending_list_and_decisions(bot: TestBot, binh_lu: Unit) -> None:
    await register(bot, "300", "Lò Thị Mai")
    await register(bot, "301", "Tòng Văn Bình")
    admin = admin_of(bot)
    await admin.says("/duyet")
    assert "Có 2 đăng ký chờ duyệt" in admin.new_text
    assert len([m for m in admin.new_messages if m.buttons]) == 2
    await admin.presses("Duyệt")  # the latest card
    await admin.says("/duyet")
    assert "Có 1 đăng ký chờ duyệt" in admin.new_text
    await admin.presses("Duyệt")
    await admin.says("/duyet")
    assert "Không có đăng ký nào chờ duyệt." in admin.last_reply


async def test_approved_member_does_not_register_again(bot: TestBot, binh_lu: Unit) -> None:
    admin = admin_of(bot)
    await admin.says("/dangky")
    assert "Bạn đã đăng ký rồi: quản trị viên" in admin.last_reply


async def test_invite_during_registration_wins(bot: TestBot, binh_lu: Unit) -> None:
    token = await invite_token(admin_of(bot))
    visitor = await register(bot)
    await visitor.says(f"/start {token}")
    assert member(bot, "300").status == "approved"  # type: ignore[union-attr]
    admin = admin_of(bot)
    await admin.says("/duyet")
    assert "Không có đăng ký nào chờ duyệt." in admin.last_reply


# --- removal, admin rights, refusals -------------------------------------------------------
@pytest.fixture
def officers(bot: TestBot, binh_lu: Unit) -> None:
    with bot.db() as db:
        son_binh = db.exec(select(Unit).where(Unit.code == "XA-SONBINH")).one()
        make_member(db, "200", unit=binh_lu, name="Lò Văn Tâm", phone="0912345678")
        make_member(db, "201", unit=son_binh, name="Tòng Thị Hoa")
        db.commit()


async def test_admin_removes_an_officer(bot: TestBot, officers: None) -> None:
    admin = admin_of(bot)
    await admin.says("/xoacanbo binh lu")
    assert admin.buttons == ["Lò Văn Tâm — Xã Bình Lư"]
    await admin.presses("Lò Văn Tâm")
    assert "Xoá Lò Văn Tâm khỏi danh sách cán bộ của Xã Bình Lư?" in admin.last_reply
    await admin.presses("Xác nhận")
    assert "Đã xoá Lò Văn Tâm" in admin.last_reply
    officer = bot.person("200")
    assert "Bạn không còn là cán bộ" in officer.last_reply
    assert member(bot, "200").status == MemberStatus.REMOVED  # type: ignore[union-attr]
    await officer.says("/toi")
    assert "chưa đăng ký" in officer.last_reply
    await admin.says("/xoacanbo tam")
    assert "Không có cán bộ nào khớp “tam”" in admin.last_reply
    with bot.db() as db:
        entry = db.exec(select(AuditLog).where(AuditLog.action == "member.remove")).one()
    assert entry.actor == "memory:100"


async def test_removal_can_be_cancelled(bot: TestBot, officers: None) -> None:
    admin = admin_of(bot)
    await admin.says("/xoacanbo")
    assert len(admin.buttons) == 2
    await admin.presses("Tòng Thị Hoa")
    await admin.presses("Huỷ")
    assert "không có gì thay đổi" in admin.last_reply
    assert member(bot, "201").status == "approved"  # type: ignore[union-attr]


async def test_admin_grants_admin_rights(bot: TestBot, officers: None) -> None:
    admin = admin_of(bot)
    await admin.says("/capquyen hoa")
    await admin.presses("Tòng Thị Hoa")
    await admin.presses("Xác nhận")
    assert "Đã cấp quyền quản trị viên cho Tòng Thị Hoa." in admin.last_reply
    new_admin = bot.person("201")
    assert "được cấp quyền quản trị viên" in new_admin.last_reply
    await new_admin.says("/donvi")
    assert "Danh sách đơn vị" in new_admin.last_reply
    await admin.presses("Xác nhận")  # pressed twice: nothing more happens
    assert "không có gì thay đổi" in admin.last_reply
    with bot.db() as db:
        assert (
            len(db.exec(select(AuditLog).where(AuditLog.action == "member.grant_admin")).all()) == 1
        )


async def test_officer_trying_admin_commands_is_refused_and_logged(
    bot: TestBot, officers: None
) -> None:
    officer = bot.person("200")
    for command in ("/duyet", "/xoacanbo", "/capquyen", "/nhapdonvi", "/themdonvi"):
        await officer.says(command)
        assert officer.last_reply == "Lệnh này chỉ dành cho quản trị viên."
    for payload in ("rg-ok:201", "mb-rmok:201", "mb-adok:200", "un-r:1"):
        await officer.presses_payload(payload)  # a forged button
        assert officer.last_reply == "Lệnh này chỉ dành cho quản trị viên."
    assert member(bot, "201").status == "approved"  # type: ignore[union-attr]
    assert member(bot, "200").role == "officer"  # type: ignore[union-attr]
    with bot.db() as db:
        denied = db.exec(select(AuditLog).where(AuditLog.outcome == "denied")).all()
    assert len(denied) == 9 and all(d.actor == "memory:200" for d in denied)


async def test_unregistered_users_reach_only_public_commands(bot: TestBot, binh_lu: Unit) -> None:
    visitor = bot.person("7")
    for command in ("/toi", "/donvi", "/moi XA-BINHLU"):
        await visitor.says(command)
        assert "chưa đăng ký" in visitor.last_reply
    await visitor.says("/dangky")
    assert "tên đơn vị" in visitor.last_reply


async def test_personal_data_stays_with_admins_and_the_officer(
    bot: TestBot, officers: None
) -> None:
    other = bot.person("201")
    await other.says("/toi")
    assert "0912345678" not in other.all_text and "Lò Văn Tâm" not in other.all_text
    officer = bot.person("200")
    await officer.says("/toi")
    assert "Điện thoại: 0912345678" in officer.last_reply


def test_configured_admins_stay_admins(session: Session, clock: ManualClock) -> None:
    """ADMIN_IDS wins over the database: a configured admin removed or demoted comes back."""
    from bot.events import Inbound
    from bot.settings import Settings
    from domain.members import identify

    settings = Settings(_env_file=None, admin_ids=["memory:100"])
    make_member(session, "100", role=Role.OFFICER, status=MemberStatus.REMOVED)
    event = Inbound(channel="memory", chat_id="100", user_id="100")
    found = identify(session, event=event, settings=settings, now=clock.now() + timedelta(1))
    assert found is not None and (found.role, found.status) == ("admin", "approved")


async def test_a_pasted_invite_code_binds_like_start(bot: TestBot, binh_lu: Unit) -> None:
    """Zalo has no deep links: the officer pastes the code on its own."""
    admin = admin_of(bot)
    token = await invite_token(admin)
    officer = bot.person("201", "Vàng Thị Dung")
    await officer.says(token)
    assert "Bạn đã là cán bộ phụ trách thi đua của Xã Bình Lư" in officer.new_text
    stranger = bot.person("202")
    await stranger.says("A" * 32)
    assert "/dangky" in stranger.new_text
    await stranger.says("xin chào bot")
    assert "chưa hiểu" in stranger.last_reply
