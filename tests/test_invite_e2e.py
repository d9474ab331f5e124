"""End to end over HTTP: an admin creates an invite on Telegram, the officer opens the deep link
(`/start <token>`) and is bound to the unit."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models.units import Member
from tests.fakes.telegram_api import BOT_USER, FakeTelegram
from tests.utils.factories import make_unit
from tests.utils.ids import ADMIN_USER_ID
from tests.utils.units import token_in


async def test_admin_invites_and_officer_is_bound(
    telegram_api: FakeTelegram, telegram_bot, engine: Engine
) -> None:
    with Session(engine) as session:
        unit = make_unit(session, "Xã Bình Lư", code="XA-BINHLU")
        unit_id = unit.id
        session.commit()

    telegram_api.push_text(int(ADMIN_USER_ID), "/moi XA-BINHLU", name="Trưởng phòng")
    invite = await telegram_api.wait_for_text(ADMIN_USER_ID, "Lời mời cán bộ")
    link_prefix = f"https://t.me/{BOT_USER['username']}?start="
    assert link_prefix in invite.text
    token = token_in(invite.text)
    assert invite.buttons == [("Thu hồi lời mời", "un-r:1")]

    # Opening https://t.me/<bot>?start=<token> makes the Telegram app send "/start <token>".
    telegram_api.push_text(4242, f"/start {token}", name="Lò Văn Tâm")
    greeting = await telegram_api.wait_for_text(4242, "Chào mừng")
    assert "cán bộ phụ trách thi đua của <b>Xã Bình Lư</b>" in greeting.text
    await telegram_api.wait_for_text(ADMIN_USER_ID, "đã mở đường dẫn mời")

    with Session(engine) as session:
        officer = session.exec(select(Member).where(Member.user_id == "4242")).one()
    assert (officer.channel, officer.unit_id, officer.status) == ("telegram", unit_id, "approved")

    # The link is single-use: someone else opening it is told so and welcomed as usual.
    telegram_api.push_text(5151, f"/start {token}", name="Người lạ")
    await telegram_api.wait_for_text(5151, "đã được dùng rồi")
    await telegram_api.wait_for_text(5151, "Xin chào")
