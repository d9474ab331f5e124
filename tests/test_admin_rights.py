"""Admin rights can be taken back: /thuhoiquyen lists the admins and revokes a chat-granted one
(with confirmation and an audit line; never the last admin, so not the last one themself), and
ADMIN_IDS means "admins from configuration" both ways: removed from it and restarted, a user is
no longer admin — unless an admin granted the rights in the chat."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.runtime import build_core
from models.audit import AuditLog
from models.units import AdminSource, Member, MemberStatus, Role, Unit
from tests.utils.factories import make_member, make_unit
from tests.utils.scenario import TestBot
from tests.utils.units import admin_of


@pytest.fixture
def world(bot: TestBot) -> None:
    with bot.db() as db:
        binh_lu = make_unit(db, "Xã Bình Lư", code="XA-BINHLU")
        make_member(db, "200", unit=binh_lu, name="Lò Văn Tâm")
        make_member(db, "201", unit=binh_lu, name="Tòng Thị Hoa")
        db.commit()


def member(bot: TestBot, user_id: str) -> Member:
    with bot.db() as db:
        return db.exec(select(Member).where(Member.user_id == user_id)).one()


async def grant(bot: TestBot, name: str) -> None:
    admin = admin_of(bot)
    await admin.says(f"/capquyen {name}")
    await admin.presses(name)
    await admin.presses("Xác nhận")


async def test_a_granted_admin_is_listed_and_revoked_with_confirmation_and_audit(
    bot: TestBot, world: None
) -> None:
    admin = admin_of(bot)
    await admin.says("/start")
    await grant(bot, "Tòng Thị Hoa")
    assert member(bot, "201").admin_source == AdminSource.CHAT

    await admin.says("/thuhoiquyen")
    listing = "\n".join(m.text for m in admin.new_messages)
    assert "Quản trị viên (2)" in listing
    assert "Tòng Thị Hoa — Xã Bình Lư (được cấp trong bot)" in listing
    assert "Trưởng phòng Nội vụ — không thuộc đơn vị (theo ADMIN_IDS trong cấu hình)" in listing
    # Only the one granted in the chat can be revoked here.
    assert admin.buttons == ["Tòng Thị Hoa"]
    await admin.presses("Tòng Thị Hoa")
    assert "Thu hồi quyền quản trị viên của Tòng Thị Hoa?" in admin.last_reply
    assert "trở lại là cán bộ của Xã Bình Lư" in admin.last_reply
    assert member(bot, "201").role == Role.ADMIN  # nothing before the confirmation
    await admin.presses("Xác nhận")
    assert "Đã thu hồi quyền quản trị viên của Tòng Thị Hoa." in admin.last_reply
    hoa = bot.person("201")
    assert "Quyền quản trị viên của bạn đã được thu hồi" in hoa.last_reply
    revoked = member(bot, "201")
    assert (revoked.role, revoked.status, revoked.admin_source) == ("officer", "approved", None)
    await hoa.says("/donvi")
    assert "Danh sách đơn vị" not in hoa.last_reply  # admin commands refused now
    await admin.presses("Xác nhận")  # pressed twice: nothing more
    assert "không còn là quản trị viên" in admin.last_reply
    with bot.db() as db:
        entries = db.exec(select(AuditLog).where(AuditLog.action == "member.revoke_admin")).all()
    assert len(entries) == 1 and entries[0].actor == "memory:100"


async def test_the_last_admin_cannot_remove_themself(bot: TestBot, world: None) -> None:
    with bot.db() as db:
        unit = db.exec(select(Unit)).first()
        only = make_member(db, "300", unit=unit, name="Hà Văn Minh", role=Role.ADMIN)
        only.admin_source = AdminSource.CHAT
        db.add(only)
        db.commit()
        only_id = only.id
    # The settings' ADMIN_IDS names "memory:100", who never wrote: Minh is the only admin.
    minh = bot.person("300", "Hà Văn Minh")
    await minh.says("/thuhoiquyen")
    assert "Quản trị viên (1)" in minh.last_reply
    assert minh.buttons == []
    await minh.presses_payload(f"ad-rvok:{only_id}")  # forged: refused all the same
    assert "là quản trị viên cuối cùng" in minh.last_reply
    assert member(bot, "300").role == Role.ADMIN


async def test_an_admin_from_admin_ids_is_not_revoked_in_the_chat(
    bot: TestBot, world: None
) -> None:
    admin = admin_of(bot)
    await admin.says("/start")
    await grant(bot, "Tòng Thị Hoa")
    hoa = bot.person("201")
    await hoa.presses_payload(f"ad-rvok:{member(bot, '100').id}")
    assert "theo ADMIN_IDS trong cấu hình" in hoa.last_reply and "tệp .env" in hoa.last_reply
    assert member(bot, "100").role == Role.ADMIN


async def test_removed_from_admin_ids_and_restarted_is_no_longer_admin(
    bot: TestBot, world: None, settings, engine, clock
) -> None:
    # Lò Văn Tâm is named in ADMIN_IDS: admin on his first message.
    named = settings.model_copy(update={"admin_ids": ["memory:100", "memory:200"]})
    core = build_core(named, engine=engine, clock=clock, migrate=False)
    core.hub.register(bot.channel)
    tam = TestBot(core, bot.channel).person("200", "Lò Văn Tâm")
    await tam.says("/donvi")
    assert "Danh sách đơn vị" in tam.last_reply
    assert member(bot, "200").admin_source == AdminSource.CONFIG
    # Hoa was granted the rights in the chat: ADMIN_IDS does not take them back.
    await grant(TestBot(core, bot.channel), "Tòng Thị Hoa")

    # ADMIN_IDS edited (Tâm removed), the bot restarted.
    restarted = build_core(settings, engine=engine, clock=clock, migrate=True)
    restarted.hub.register(bot.channel)
    tam_again = member(bot, "200")
    assert (tam_again.role, tam_again.status) == (Role.OFFICER, MemberStatus.APPROVED)
    assert member(bot, "201").role == Role.ADMIN
    tam.bot = TestBot(restarted, bot.channel)
    await tam.says("/donvi")
    assert "Danh sách đơn vị" not in tam.last_reply
    with bot.db() as db:
        assert db.exec(select(AuditLog).where(AuditLog.action == "admin.config_removed")).all()


async def test_dropped_from_admin_ids_without_a_restart_on_the_next_message(
    bot: TestBot, world: None, settings, engine, clock
) -> None:
    named = settings.model_copy(update={"admin_ids": ["memory:100", "memory:200"]})
    core = build_core(named, engine=engine, clock=clock, migrate=False)
    core.hub.register(bot.channel)
    await TestBot(core, bot.channel).person("200", "Lò Văn Tâm").says("/start")
    assert member(bot, "200").role == Role.ADMIN
    # Another process of the fleet already runs with the new ADMIN_IDS.
    tam = bot.person("200", "Lò Văn Tâm")
    await tam.says("/donvi")
    assert "Danh sách đơn vị" not in tam.last_reply
    assert member(bot, "200").role == Role.OFFICER
