"""Two small core additions: editing a message sent earlier (`Outbound.edit_message_id`) on
every channel, and background jobs a handler defers until after its update committed."""

from __future__ import annotations

import io

import pytest
from sqlmodel import Session, select

from bot.access import Access
from bot.channels.console import ConsoleChannel
from bot.channels.memory import MemoryChannel
from bot.channels.telegram import TelegramOutlet
from bot.errors import InputError
from bot.events import Address, Button, Delivery, Outbound
from bot.hub import DeliveryError
from bot.router import Router
from domain import audit
from models.audit import AuditLog
from tests.fakes.telegram_api import FakeTelegram
from tests.utils.scenario import TestBot


# --- editing ------------------------------------------------------------------------------
async def test_memory_channel_edits_in_place_and_counts_edits() -> None:
    channel = MemoryChannel()
    first = await channel.send("5", Outbound("đã gửi 0/3"))
    await channel.send("5", Outbound("tin khác"))
    again = await channel.send("5", Outbound("đã gửi 3/3", edit_message_id=first))
    assert again == first
    assert [m.text for m in channel.sent["5"]] == ["đã gửi 3/3", "tin khác"]
    assert channel.edits[first] == 1
    with pytest.raises(DeliveryError):
        await channel.send("6", Outbound("x", edit_message_id=first))  # another chat's message


async def test_hub_send_returns_the_id_an_edit_needs(bot: TestBot) -> None:
    address = Address("memory", "9")
    sent = await bot.core.hub.send(Delivery(address, Outbound("đang gửi")))
    assert sent.message_id is not None
    edited = await bot.core.hub.send(
        Delivery(address, Outbound("xong", edit_message_id=sent.message_id))
    )
    assert edited.error is None and bot.channel.sent["9"][0].text == "xong"


async def test_console_prints_an_edit_again_marked_as_an_update(tmp_path) -> None:
    out = io.StringIO()
    console = ConsoleChannel(user_id="1", display_name="A", spool_dir=tmp_path, out=out)
    message_id = await console.send("1", Outbound("đã gửi 1/2"))
    await console.send("1", Outbound("đã gửi 2/2", edit_message_id=message_id))
    assert out.getvalue().splitlines()[-1] == "bot> (cập nhật) đã gửi 2/2"
    # To another terminal through the spool, the mark survives.
    await console.send("2", Outbound("đã gửi 2/2", edit_message_id="7"))
    other_out = io.StringIO()
    other = ConsoleChannel(user_id="2", display_name="B", spool_dir=tmp_path, out=other_out)
    other.drain_spool()
    assert "(cập nhật) đã gửi 2/2" in other_out.getvalue()


async def test_telegram_outlet_edits_with_edit_message_text(
    telegram_api: FakeTelegram, telegram_bot
) -> None:
    application, _ = telegram_bot
    outlet = TelegramOutlet(application.bot)
    message_id = await outlet.send("77", Outbound("Đang gửi: đã gửi 0/2"))
    assert message_id is not None
    edited = await outlet.send(
        "77",
        Outbound("Đang gửi: đã gửi 2/2", [[Button("Xem", "x:1")]], edit_message_id=message_id),
    )
    assert edited == message_id
    [message] = telegram_api.sent["77"]
    assert message.text == "Đang gửi: đã gửi 2/2" and message.edits == 1
    assert message.buttons == [("Xem", "x:1")]
    with pytest.raises(DeliveryError):
        await outlet.send("77", Outbound("x", edit_message_id="424242"))


# --- deferred jobs ------------------------------------------------------------------------
def _router(seen: list[str]) -> Router:
    router = Router()

    @router.command("lau", access=Access.PUBLIC)
    async def long_work(event, ctx) -> None:
        audit.record(ctx.session, now=ctx.now(), action="test.before_job")
        engine = ctx.session.get_bind()
        channel = ctx.services.hub.outlet("memory")

        async def job() -> None:
            # Runs after the commit (the row is visible to a new session) and after the
            # update's answers were delivered.
            with Session(engine) as session:
                rows = session.exec(select(AuditLog.action)).all()
            seen.append(f"committed={'test.before_job' in rows}")
            seen.append(f"replied={len(channel.sent[event.chat_id])}")

        ctx.defer(job)
        ctx.reply("Đã nhận, đang làm.")

    @router.command("hong", access=Access.PUBLIC)
    async def bad_input(event, ctx) -> None:
        ctx.defer(_never(seen))
        raise InputError("core.not_understood")

    @router.command("loi", access=Access.PUBLIC)
    async def failing_job(event, ctx) -> None:
        async def job() -> None:
            raise RuntimeError("job bug")

        ctx.defer(job)
        ctx.reply("ok")

    return router


def _never(seen: list[str]):
    async def job() -> None:
        seen.append("ran")

    return job


async def test_a_deferred_job_runs_after_commit_and_delivery(bot: TestBot) -> None:
    seen: list[str] = []
    bot.core.router.include(_router(seen))
    user = bot.person("7")
    await user.says("/lau")
    await bot.core.wait_background()
    assert seen == ["committed=True", "replied=1"]


async def test_a_deferred_job_is_dropped_with_bad_input(bot: TestBot) -> None:
    seen: list[str] = []
    bot.core.router.include(_router(seen))
    await bot.person("7").says("/hong")
    await bot.core.wait_background()
    assert seen == []


async def test_a_failing_job_is_logged_and_the_bot_goes_on(
    bot: TestBot, caplog: pytest.LogCaptureFixture
) -> None:
    bot.core.router.include(_router([]))
    user = bot.person("7")
    await user.says("/loi")
    await bot.core.wait_background()
    assert "job bug" in caplog.text
    await user.says("/trogiup")
    assert "Các lệnh" in user.last_reply
