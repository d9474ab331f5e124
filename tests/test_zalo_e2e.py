"""End to end over HTTP: the Zalo channel long-polling the fake Zalo Bot API, wired to the core.

A small test-only router (a yes/no question, a long answer, a file, a photo request) stands in
for capabilities built elsewhere, as in tests/test_core.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import time

import pytest
from pydantic import SecretStr
from sqlalchemy.engine import Engine

from bot.access import Access
from bot.catalog import t
from bot.channels.text import html_to_plain
from bot.channels.zalo import TEXT_LIMIT, ZaloChannel, build_zalo_channel
from bot.clock import ManualClock
from bot.core import BotCore
from bot.errors import InputError
from bot.events import Button, OutboundFile
from bot.logging_setup import RedactingFilter
from bot.router import Router
from bot.runtime import build_core
from bot.serve import serve
from bot.settings import Settings
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.zalo_api import FakeZalo
from tests.utils.ids import ADMIN_USER_ID

OFFICER = "6ede9afa66b88fe6d6a9"
LONG_LINES = [f"Dòng {i}: đơn vị đã nộp báo cáo thi đua <đúng hạn> & đủ hồ sơ." for i in range(120)]


def _test_router() -> Router:
    router = Router()

    @router.command("chon", access=Access.PUBLIC)
    async def ask(event, ctx) -> None:
        ctx.begin("chon", "dongy")
        ctx.ask("Bạn có đồng ý không?", [[Button("Có", "yn:1"), Button("Không", "yn:0")]])

    @router.flow("chon", access=Access.PUBLIC)
    async def typed(event, ctx) -> None:
        raise InputError("core.not_understood", example="1")

    @router.button("yn", access=Access.PUBLIC)
    async def answered(event, ctx) -> None:
        ctx.reply("Bạn chọn: " + ("Có" if event.payload == "yn:1" else "Không"))
        ctx.end()

    @router.command("dai", access=Access.PUBLIC)
    async def long_answer(event, ctx) -> None:
        from bot.catalog import t as fill

        lines = [fill("core.help_line", command="x", description=line) for line in LONG_LINES]
        ctx.reply("<b>Tổng hợp</b>\n" + "\n".join(lines), [[Button("Trang sau", "pg:2")]])

    @router.command("tep", access=Access.PUBLIC)
    async def send_file(event, ctx) -> None:
        ctx.reply("Báo cáo tổng hợp", document=OutboundFile("bao-cao.xlsx", b"PK\x03\x04"))

    @router.command("anh", access=Access.PUBLIC)
    async def ask_photo(event, ctx) -> None:
        ctx.begin("anh", "cho")
        ctx.ask("Gửi ảnh minh chứng.")

    @router.flow("anh", access=Access.PUBLIC)
    async def got_photo(event, ctx) -> None:
        if event.attachment is None:
            raise InputError("core.not_understood")
        content = await ctx.download(event.attachment)
        ctx.reply(f"Đã nhận ảnh {len(content)} byte, chú thích: {event.text}")
        ctx.end()

    return router


@pytest.fixture
def zalo(zalo_bot: tuple[ZaloChannel, BotCore]) -> tuple[ZaloChannel, BotCore]:
    channel, core = zalo_bot
    core.router.include(_test_router())
    return channel, core


async def test_start_is_answered_in_plain_text(zalo_api: FakeZalo, zalo) -> None:
    zalo_api.push_text(OFFICER, "/start", name="Lò Văn <Tâm>")
    messages = await zalo_api.wait_for(OFFICER, count=2)
    assert messages[0].text.startswith("Xin chào Lò Văn <Tâm>!")  # no markup, name unescaped
    assert "<b>" not in messages[0].text and "&lt;" not in messages[0].text
    assert "/dangky" in messages[1].text


async def test_help_lists_the_commands(zalo_api: FakeZalo, zalo) -> None:
    zalo_api.push_text(OFFICER, "/trogiup")
    message = await zalo_api.wait_for_text(OFFICER, "Các lệnh bạn dùng được")
    assert "/trogiup — xem trợ giúp" in message.text


async def test_admin_named_in_admin_ids_is_recognised(zalo_api: FakeZalo, zalo) -> None:
    zalo_api.push_text(ADMIN_USER_ID, "/start", name="Trưởng phòng")
    message = await zalo_api.wait_for_text(ADMIN_USER_ID, "quản trị viên")
    assert "Trưởng phòng" in message.text


async def test_buttons_become_numbered_choices_answered_by_number(zalo_api: FakeZalo, zalo) -> None:
    zalo_api.push_text(OFFICER, "/chon")
    question = await zalo_api.wait_for_text(OFFICER, "Bạn có đồng ý không?")
    assert question.text == "\n".join(
        ["Bạn có đồng ý không?", "", t("zalo.choose_hint"), "1. Có", "2. Không"]
    )
    zalo_api.choose(OFFICER, "Không")
    await zalo_api.wait_for_text(OFFICER, "Bạn chọn: Không")


async def test_a_number_typed_after_the_question_was_answered_is_not_a_stale_choice(
    zalo_api: FakeZalo, zalo
) -> None:
    zalo_api.push_text(OFFICER, "/chon")
    await zalo_api.wait_for_text(OFFICER, "Bạn có đồng ý không?")
    zalo_api.choose(OFFICER, "Có")
    await zalo_api.wait_for_text(OFFICER, "Bạn chọn: Có")
    seen = len(zalo_api.sent[OFFICER])
    zalo_api.push_text(OFFICER, "1")
    await zalo_api.wait_for_text(OFFICER, "chưa hiểu", after=seen)
    assert not any("Bạn chọn" in text for text in zalo_api.texts(OFFICER)[seen:])


async def test_bad_input_repeats_the_question_with_its_numbered_choices(
    zalo_api: FakeZalo, zalo
) -> None:
    zalo_api.push_text(OFFICER, "/chon")
    await zalo_api.wait_for_text(OFFICER, "Bạn có đồng ý không?")
    zalo_api.push_text(OFFICER, "7")  # not one of the choices: typed text, refused by the flow
    messages = await zalo_api.wait_for(OFFICER, count=3)
    assert "chưa hiểu" in messages[1].text
    assert messages[2].choices == [("1", "Có"), ("2", "Không")]
    zalo_api.choose(OFFICER, "Có")
    await zalo_api.wait_for_text(OFFICER, "Bạn chọn: Có")


async def test_numbering_survives_a_restart(
    zalo_api: FakeZalo,
    zalo,
    zalo_settings: Settings,
    engine: Engine,
    clock: ManualClock,
) -> None:
    channel, _ = zalo
    zalo_api.push_text(OFFICER, "/chon")
    await zalo_api.wait_for_text(OFFICER, "Bạn có đồng ý không?")
    await _until(lambda: channel.choices.load(OFFICER) is not None)  # saved once Zalo said ok
    # A new process: a fresh core and channel over the same database. (The answer is fed to
    # it directly: the first process is still polling the fake server.)
    core = build_core(zalo_settings, engine=engine, clock=clock, migrate=False)
    core.router.include(_test_router())
    restarted = build_zalo_channel(zalo_settings, core)
    message = zalo_api.message(OFFICER, "Cán bộ Xã", text="2")
    event = restarted.inbound({"event_name": "message.text.received", "message": message})
    assert event is not None and event.payload == "yn:0"
    await core.process(event)
    await zalo_api.wait_for_text(OFFICER, "Bạn chọn: Không")
    await restarted.aclose()


async def test_a_long_reply_is_split_under_the_limit(zalo_api: FakeZalo, zalo) -> None:
    zalo_api.push_text(OFFICER, "/dai")
    await zalo_api.wait_for_text(OFFICER, "1. Trang sau")
    parts = zalo_api.texts(OFFICER)
    assert len(parts) >= 3 and all(len(part) <= TEXT_LIMIT for part in parts)
    assert parts[0].startswith("Tổng hợp\n/x — Dòng 0: đơn vị đã nộp báo cáo thi đua <đúng hạn> &")
    joined = "\n".join(parts)
    assert all(line in joined for line in LONG_LINES)
    assert parts[-1].endswith("\n1. Trang sau") and "Trang sau" not in parts[0]


async def test_a_document_from_the_user_is_explained_and_the_question_asked_again(
    zalo_api: FakeZalo, zalo
) -> None:
    zalo_api.push_text(OFFICER, "/chon")
    await zalo_api.wait_for_text(OFFICER, "Bạn có đồng ý không?")
    zalo_api.push_unsupported(OFFICER)
    messages = await zalo_api.wait_for(OFFICER, count=3)
    assert messages[1].text == html_to_plain(t("zalo.file_not_received"))
    assert "chụp ảnh" in messages[1].text and "Telegram" in messages[1].text
    assert messages[2].text.startswith("Bạn có đồng ý không?")
    zalo_api.choose(OFFICER, "Có")  # the question still works
    await zalo_api.wait_for_text(OFFICER, "Bạn chọn: Có")


async def test_a_photo_from_the_user_reaches_the_handler_and_downloads(
    zalo_api: FakeZalo, zalo
) -> None:
    zalo_api.push_text(OFFICER, "/anh")
    await zalo_api.wait_for_text(OFFICER, "Gửi ảnh minh chứng.")
    zalo_api.push_image(OFFICER, b"\xff\xd8\xff" + b"x" * 997, caption="Hội nghị")
    await zalo_api.wait_for_text(OFFICER, "Đã nhận ảnh 1000 byte, chú thích: Hội nghị")


async def test_a_file_the_bot_sends_becomes_a_message_saying_how_to_get_it(
    zalo_api: FakeZalo, zalo
) -> None:
    zalo_api.push_text(OFFICER, "/tep")
    message = await zalo_api.wait_for_text(OFFICER, "bao-cao.xlsx")
    assert message.text.startswith("Báo cáo tổng hợp\n\nTệp bao-cao.xlsx chưa gửi được qua Zalo")
    assert zalo_api.calls.count("sendPhoto") == 0


async def test_unknown_event_kinds_are_skipped_and_polling_goes_on(
    zalo_api: FakeZalo, zalo, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="thidua.zalo")
    zalo_api.push_update({"event_name": "user.follow", "user": {"id": OFFICER}})
    zalo_api.push_event("message.reaction.received", OFFICER, "X", reaction="like")
    zalo_api.push_event("message.sticker.received", OFFICER, "X", sticker="abc")
    zalo_api.push_text(OFFICER, "/trogiup")
    await zalo_api.wait_for_text(OFFICER, "Các lệnh bạn dùng được")
    assert len(zalo_api.sent[OFFICER]) == 1
    assert "unknown event='message.reaction.received'" in caplog.text
    assert "event=message.sticker.received (kind not handled)" in caplog.text


async def _until(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.01)


async def test_polling_backs_off_during_an_outage_and_never_logs_the_token(
    zalo_api: FakeZalo, zalo, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # everything, httpx's request lines (with the URL) too
    output = io.StringIO()
    handler = logging.StreamHandler(output)
    handler.addFilter(RedactingFilter([zalo_api.token]))  # what setup_logging installs
    logging.getLogger().addHandler(handler)
    try:
        zalo_api.failing_status = 502
        await _until(lambda: caplog.text.count("retry in") >= 3)
        zalo_api.failing_status = None
        zalo_api.push_text(OFFICER, "/start")
        await zalo_api.wait_for_text(OFFICER, "Xin chào")
    finally:
        logging.getLogger().removeHandler(handler)
    secret = zalo_api.token.split(":")[1]
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("thidua")]
    assert any("getUpdates failed (502)" in line for line in ours)
    assert not any(secret in line for line in ours)  # our own lines never carry it
    assert "/bot***/getUpdates" in output.getvalue()  # httpx's lines are scrubbed
    assert secret not in output.getvalue()


async def test_run_serves_telegram_and_zalo_in_one_loop(
    zalo_api: FakeZalo,
    telegram_api: FakeTelegram,
    zalo_settings: Settings,
    engine: Engine,
    clock: ManualClock,
) -> None:
    settings = zalo_settings.model_copy(
        update={
            "telegram_bot_token": SecretStr(telegram_api.token),
            "telegram_base_url": telegram_api.base_url,
        }
    )
    core = build_core(settings, engine=engine, clock=clock, migrate=False)
    stop = asyncio.Event()
    running = asyncio.create_task(
        serve(settings, core, stop=stop, options={"zalo": {"poll_timeout": 1}})
    )
    try:
        telegram_api.push_text(4242, "/start", name="Telegram")
        zalo_api.push_text(OFFICER, "/start", name="Zalo")
        await telegram_api.wait_for_text(4242, "Xin chào <b>Telegram</b>")
        await zalo_api.wait_for_text(OFFICER, "Xin chào Zalo")
        assert set(core.hub.channels) == {"telegram", "zalo"}
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(running, 15)
    assert running.done() and running.exception() is None


async def test_a_zalo_server_error_is_retried_and_never_taken_for_a_blocked_user(
    zalo_api: FakeZalo, zalo
) -> None:
    # Zalo's error table reads 403 as "Internal server error": the answer must still arrive.
    _channel, core = zalo
    core.hub.retry_delays = (0.01, 0.01, 0.01)
    zalo_api.send_errors = [403, 403]
    zalo_api.push_text(OFFICER, "/chon")
    await zalo_api.wait_for_text(OFFICER, "Bạn có đồng ý không?")
    assert zalo_api.send_errors == []  # both failures were met, then the third try went through


async def test_a_protected_account_is_told_what_zalo_withheld_and_what_to_do(
    zalo_api: FakeZalo, zalo
) -> None:
    zalo_api.push_unsupported(OFFICER)
    message = await zalo_api.wait_for_text(OFFICER, "không chuyển nội dung")
    assert "được bảo vệ đặc biệt" in message.text  # the documented meaning, not "a file came"
    assert "gõ câu trả lời bằng chữ" in message.text


async def test_prompts_on_zalo_say_type_the_number_not_press(zalo_api: FakeZalo, zalo) -> None:
    # The same wizard step says "bấm" on Telegram; Zalo has no buttons, so it says "gõ số".
    admin = ADMIN_USER_ID
    for text in ("/themdonvi", "XA-MOI", "Xã Mới"):
        zalo_api.push_text(admin, text, name="Trưởng phòng")
        await zalo_api.wait_for(admin, count=len(zalo_api.texts(admin)) + 1)
    zalo_api.push_text(admin, "không biết", name="Trưởng phòng")
    message = await zalo_api.wait_for_text(admin, "chưa nhận ra loại đơn vị")
    assert "gõ số của một lựa chọn" in message.text
    assert "bấm" not in message.text.lower()


async def test_an_admin_on_zalo_asked_for_a_unit_file_is_sent_to_the_web_desk(
    zalo_api: FakeZalo, zalo
) -> None:
    # Zalo withholds documents from bots: the question names the web desk's import instead.
    zalo_api.push_text(ADMIN_USER_ID, "/nhapdonvi", name="Trưởng phòng")
    message = await zalo_api.wait_for_text(ADMIN_USER_ID, "Zalo không chuyển tệp cho bot")
    assert "/web" in message.text and "Nhập danh sách đơn vị" in message.text
