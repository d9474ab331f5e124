"""The core through the in-memory channel: greeting, help, routing, errors, state, access."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.access import Access
from bot.errors import InputError
from bot.router import Router
from bot.runtime import build_core
from domain import audit
from models.audit import AuditLog
from models.conversation import ConversationState, ProcessedUpdate
from models.units import Member, Role
from tests.utils.ids import ADMIN_USER_ID
from tests.utils.scenario import TestBot


async def test_start_greets_in_vietnamese(bot: TestBot) -> None:
    visitor = bot.person("7", "Lò Thị Mai")
    await visitor.says("/start")
    assert "Xin chào Lò Thị Mai" in visitor.new_text
    assert "/dangky" in visitor.new_text


async def test_help_lists_only_what_the_user_may_use(bot: TestBot) -> None:
    visitor = bot.person("7")
    await visitor.says("/trogiup")
    assert "/trogiup — xem trợ giúp" in visitor.last_reply
    assert "Lệnh quản trị" not in visitor.last_reply


async def test_configured_admin_is_recognised_on_first_contact(bot: TestBot) -> None:
    admin = bot.person(ADMIN_USER_ID, "Trưởng phòng")
    await admin.says("/start")
    assert "quản trị viên" in admin.last_reply
    with bot.db() as db:
        member = db.exec(select(Member).where(Member.user_id == ADMIN_USER_ID)).one()
    assert member.role == Role.ADMIN


async def test_unknown_command_and_free_text_get_a_hint(bot: TestBot) -> None:
    visitor = bot.person("7")
    await visitor.says("/khongco")
    assert "/khongco" in visitor.last_reply and "/trogiup" in visitor.last_reply
    await visitor.says("chào bot")
    assert "chưa hiểu" in visitor.last_reply


async def test_same_update_is_handled_once(bot: TestBot) -> None:
    visitor = bot.person("7")
    event = bot.channel.event("7", text="/start")
    await bot.core.process(event)
    await bot.core.process(event)
    assert len(visitor.messages) == 2  # welcome + how to register, once
    with bot.db() as db:
        assert db.exec(select(ProcessedUpdate)).one().update_id == event.update_id


def _test_router() -> Router:
    """A tiny two-question flow used to test the core's machinery."""
    router = Router()

    @router.command("hoi", access=Access.PUBLIC)
    async def ask(event, ctx) -> None:
        ctx.begin("hoi", "tuoi")
        ctx.ask("Bạn bao nhiêu tuổi?")

    @router.flow("hoi", access=Access.PUBLIC)
    async def answer(event, ctx) -> None:
        if ctx.step == "tuoi":
            if not event.text.isdigit():
                ctx.data["hong"] = True  # must be rolled back with the bad answer
                audit.record(ctx.session, now=ctx.now(), action="test.half_done")  # and this
                raise InputError("core.not_understood", example="35")
            ctx.data["tuoi"] = int(event.text)
            ctx.goto("ten")
            ctx.ask("Tên bạn là gì?")
        else:
            ctx.reply(f"{event.text}, {ctx.data['tuoi']} tuổi")
            ctx.end()

    @router.command("no", access=Access.PUBLIC)
    async def boom(event, ctx) -> None:
        raise RuntimeError("handler bug")

    @router.command("quantri", access=Access.ADMIN)
    async def admin_only(event, ctx) -> None:
        ctx.reply("ok")

    return router


@pytest.fixture
def flow_bot(bot: TestBot) -> TestBot:
    bot.core.router.include(_test_router())
    return bot


async def test_bad_input_is_explained_and_the_question_asked_again(flow_bot: TestBot) -> None:
    user = flow_bot.person("7")
    await user.says("/hoi")
    await user.says("ba mươi")
    texts = [m.text for m in user.new_messages]
    assert "<code>35</code>" in texts[0]
    assert texts[1] == "Bạn bao nhiêu tuổi?"
    with flow_bot.db() as db:
        state = db.exec(select(ConversationState)).one()
        written = db.exec(select(AuditLog).where(AuditLog.action == "test.half_done")).all()
        handled = db.exec(select(ProcessedUpdate)).all()
    assert state.step == "tuoi" and "hong" not in state.data
    assert written == []  # what the handler wrote before refusing the answer is undone
    assert len(handled) == 2  # but the update is recorded: a re-delivery is not handled again
    await user.says("35")
    assert user.last_reply == "Tên bạn là gì?"


async def test_conversation_survives_a_restart(
    flow_bot: TestBot, settings, engine, clock, channel
) -> None:
    user = flow_bot.person("7")
    await user.says("/hoi")
    await user.says("35")
    # A new process: a fresh core over the same database.
    restarted = build_core(settings, engine=engine, clock=clock, migrate=False)
    restarted.router.include(_test_router())
    restarted.hub.register(channel)
    user.bot = TestBot(restarted, channel)
    await user.says("Hoa")
    assert user.last_reply == "Hoa, 35 tuổi"


async def test_handler_error_is_apologised_for_and_the_bot_keeps_running(
    flow_bot: TestBot, caplog: pytest.LogCaptureFixture
) -> None:
    user = flow_bot.person("7")
    await user.says("/no")
    assert "Xin lỗi" in user.last_reply
    assert "handler bug" in caplog.text
    await user.says("/trogiup")
    assert "Các lệnh" in user.last_reply


async def test_officer_is_refused_admin_command_and_it_is_logged(flow_bot: TestBot) -> None:
    user = flow_bot.person("7")
    await user.says("/quantri")
    assert "chưa đăng ký" in user.last_reply
    with flow_bot.db() as db:
        denied = db.exec(select(AuditLog).where(AuditLog.outcome == "denied")).one()
    assert denied.target_id == "/quantri" and denied.actor == "memory:7"
    admin = flow_bot.person(ADMIN_USER_ID)
    await admin.says("/quantri")
    assert admin.last_reply == "ok"


async def test_flood_is_slowed_down_with_one_message(bot: TestBot) -> None:
    bot.core.flood.limit = 5
    spammer, other = bot.person("7"), bot.person("8")
    for _ in range(20):
        await spammer.says("/trogiup")
    texts = [m.text for m in spammer.messages]
    assert len(texts) == 6 and "nhanh quá" in texts[-1]
    await other.says("/trogiup")
    assert "Các lệnh" in other.last_reply


async def test_an_answer_survives_a_short_outage_of_the_platform(bot: TestBot) -> None:
    waits: list[float] = []

    async def no_wait(seconds: float) -> None:
        waits.append(seconds)

    bot.core.hub.sleep = no_wait
    bot.channel.outage_sends = 3
    visitor = bot.person("7")
    await visitor.says("/trogiup")
    assert "Các lệnh" in visitor.last_reply and len(visitor.messages) == 1
    assert waits == [1, 2, 4]


async def test_a_user_who_blocked_the_bot_is_not_retried(bot: TestBot) -> None:
    async def must_not_wait(seconds: float) -> None:
        raise AssertionError("a permanent failure was retried")

    bot.core.hub.sleep = must_not_wait
    bot.channel.unreachable.add("7")
    await bot.person("7").says("/trogiup")
    assert bot.channel.sent["7"] == []


async def test_a_member_who_blocked_the_bot_is_reachable_again_once_they_write(
    bot: TestBot, session, clock
) -> None:
    from tests.utils.factories import make_member, make_unit

    member = make_member(session, "7", unit=make_unit(session))
    member.unreachable_at = clock.now()
    session.commit()
    await bot.person("7").says("/trogiup")
    with bot.db() as db:
        assert db.get(Member, member.id).unreachable_at is None


async def test_start_tells_members_who_they_are(bot: TestBot, session) -> None:
    from tests.utils.factories import make_member, make_unit

    make_member(session, "7", unit=make_unit(session, "Xã Bình Lư <&>"), name="Lò Văn Tâm")
    session.commit()
    officer, admin = bot.person("7"), bot.person(ADMIN_USER_ID, "Trưởng phòng")
    await officer.says("/start")
    assert "Bạn đang là cán bộ phụ trách thi đua của Xã Bình Lư <&>." in officer.last_reply
    assert "&lt;&amp;&gt;" in officer.messages[-1].text
    await admin.says("/start")
    assert "Bạn đang là quản trị viên." in admin.last_reply
