"""The Zalo channel without a server: payload translation in both directions, numbered choices,
the reply window, webhook secrets, settings and token redaction."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine

from bot.access import Access
from bot.catalog import t
from bot.channels.choices import DbChoiceStore, MemoryChoiceStore, Offer, record_sent
from bot.channels.text import html_to_plain
from bot.channels.zalo import (
    TEXT_LIMIT,
    ZaloApi,
    ZaloApiError,
    ZaloChannel,
    render,
    to_inbound,
)
from bot.clock import ManualClock
from bot.events import Button, Inbound, Outbound, OutboundFile
from bot.hub import DeliveryError, Hub
from bot.logging_setup import RedactingFilter
from bot.router import Router
from bot.settings import SettingsError, load_settings
from tests.utils.scenario import TestBot

USER = "e4ea2cd5189df1c3a88c"


def update(event: str = "message.text.received", **message: Any) -> dict[str, Any]:
    """An update shaped like the documented sample (ids are strings, date in milliseconds)."""
    body = {
        "chat": {"id": USER, "chat_type": "PRIVATE"},
        "message_id": "16f6366b3f02645a3d15",
        "date": 1766619597466,
        "from": {"id": USER, "display_name": "Nguyen Van A", "is_bot": False},
        **message,
    }
    return {"event_name": event, "message": body}


def channel(store: MemoryChoiceStore | None = None, **options: Any) -> ZaloChannel:
    api = ZaloApi("1459232241454765289:secret-part-of-the-token-xyz", "http://zalo.invalid")
    return ZaloChannel(api, choices=store or MemoryChoiceStore(), **options)


# --- Zalo → Inbound ------------------------------------------------------------------------
def test_text_becomes_an_inbound_with_the_message_id_as_update_id() -> None:
    event = to_inbound(update(text="Xin chào"))
    assert event == Inbound(
        channel="zalo",
        chat_id=USER,
        user_id=USER,
        display_name="Nguyen Van A",
        text="Xin chào",
        update_id="16f6366b3f02645a3d15",
    )


def test_start_with_an_invite_code_is_a_command_with_args() -> None:
    event = to_inbound(update(text="/start  ABC123xyz "))
    assert event is not None and (event.command, event.args) == ("start", "ABC123xyz")


def test_documented_first_name_is_used_when_there_is_no_display_name() -> None:
    payload = update(text="hi")
    payload["message"]["from"] = {"id": USER, "first_name": "Lò Thị Mai"}
    event = to_inbound(payload)
    assert event is not None and event.display_name == "Lò Thị Mai"


def test_wrapped_payload_is_unwrapped() -> None:
    event = to_inbound({"ok": True, "result": update(text="/trogiup")})
    assert event is not None and event.command == "trogiup"


def test_image_becomes_a_photo_attachment_with_its_caption() -> None:
    url = "https://f21-zpc.zdn.vn/jpg/8446421582866817655/1c8fa4c96701e95fb010.jpg"
    event = to_inbound(update("message.image.received", photo_url=url, caption="Hội nghị"))
    assert event is not None and event.attachment is not None
    assert (event.attachment.kind, event.attachment.file_id) == ("photo", url)
    assert event.attachment.mime_type == "image/jpeg" and event.text == "Hội nghị"


def test_image_as_a_photo_object_is_understood_too() -> None:
    url = "https://cdn.example.com/photo.jpg"
    event = to_inbound(update("message.image.received", photo={"url": url}))
    assert event is not None and event.attachment is not None
    assert event.attachment.file_id == url


def test_document_arrives_unsupported_and_gets_the_how_else_to_send_reply() -> None:
    event = to_inbound(update("message.unsupported.received"))
    assert event is not None and event.unsupported == "zalo.file_not_received"
    assert event.attachment is None and event.command is None


@pytest.mark.parametrize(
    "payload",
    [
        update("message.sticker.received", sticker="d063f44dc80821567819"),
        update("message.reaction.received", reaction="like"),
        update("user.follow"),
        {"event_name": "message.unsupported.received"},  # no message at all
        {"ok": True, "result": {}},
        {},
        update(text="   "),
    ],
)
def test_kinds_the_bot_does_not_handle_are_ignored_and_logged(
    payload: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="thidua.zalo")
    assert to_inbound(payload) is None
    assert "zalo update ignored" in caplog.text


def test_group_chats_and_bots_are_ignored() -> None:
    group = update(text="/start")
    group["message"]["chat"] = {"id": "g1", "chat_type": "GROUP"}
    from_bot = update(text="/start")
    from_bot["message"]["from"]["is_bot"] = True
    assert to_inbound(group) is None and to_inbound(from_bot) is None


def test_garbage_in_a_field_does_not_crash() -> None:
    payload = update(text=12345)
    payload["message"]["chat"] = "not an object"
    assert to_inbound(payload) is None


# --- Outbound → Zalo -------------------------------------------------------------------------
def test_html_is_stripped_to_plain_text() -> None:
    text = t("core.welcome", name="<Lò> & Tâm")
    assert render(Outbound(text))[0].startswith("Xin chào <Lò> & Tâm! Tôi là")


def test_buttons_are_listed_as_numbered_choices_across_rows() -> None:
    message = Outbound("Chọn:", [[Button("Có", "y"), Button("Không", "n")], [Button("Huỷ", "c")]])
    assert render(message) == ["Chọn:\n\n" + t("zalo.choose_hint") + "\n1. Có\n2. Không\n3. Huỷ"]


def test_long_text_is_split_under_the_limit_with_the_choices_last() -> None:
    text = "\n".join(f"Đơn vị {i}: " + "đã nộp " * 30 for i in range(40))
    parts = render(Outbound(text, [[Button("Trang sau", "p:2")]]))
    assert len(parts) > 1 and all(0 < len(part) <= TEXT_LIMIT for part in parts)
    assert "\n".join(parts).startswith(text)
    assert parts[-1].endswith("1. Trang sau")


def test_a_file_becomes_a_message_naming_it() -> None:
    message = Outbound("Bảng tổng hợp", document=OutboundFile("tong-hop.xlsx", b"PK"))
    (text,) = render(message)
    assert text == "Bảng tổng hợp\n\n" + html_to_plain(
        t("zalo.file_not_sent", file_name="tong-hop.xlsx")
    )


def test_an_empty_message_sends_nothing() -> None:
    assert render(Outbound("")) == []


# --- numbered choices -------------------------------------------------------------------------
def test_a_number_within_the_offer_is_the_button_it_stands_for() -> None:
    store = MemoryChoiceStore()
    store.save(USER, Offer((Button("Có", "yn:1"), Button("Không", "yn:0")), "u1"))
    zalo = channel(store)
    event = zalo.inbound(update(text=" 2 "))
    assert event is not None and (event.payload, event.text) == ("yn:0", "")
    for typed in ("3", "0", "2 đơn vị", "²", "/2"):
        event = zalo.inbound(update(text=typed))
        assert event is not None and event.payload is None, typed


def test_a_number_with_nothing_offered_is_plain_text() -> None:
    event = channel().inbound(update(text="12"))
    assert event is not None and (event.text, event.payload) == ("12", None)


def _reply_to(update_id: str | None) -> Inbound:
    return Inbound("zalo", USER, USER, update_id=update_id)


def test_the_offer_lasts_until_a_later_update_is_answered_without_buttons() -> None:
    store = MemoryChoiceStore()
    question = Outbound("?", [[Button("Có", "y")]])
    record_sent(store, USER, question, _reply_to("u1"))
    record_sent(store, USER, Outbound("Lưu ý"), _reply_to("u1"))  # same update: a side note
    assert store.load(USER) == Offer((Button("Có", "y"),), "u1")
    record_sent(store, USER, Outbound("Nhắc hạn"), None)  # a reminder in between
    assert store.load(USER) is not None
    record_sent(store, USER, Outbound("Đã lưu"), _reply_to("u2"))
    assert store.load(USER) is None


def test_db_store_keeps_offers_per_chat(engine: Engine, clock: ManualClock) -> None:
    store = DbChoiceStore(engine, clock, "zalo")
    other = DbChoiceStore(engine, clock, "console")
    store.save(USER, Offer((Button("Có", "y"), Button("Không", "n")), "u1"))
    store.save(USER, Offer((Button("Trang sau", "p:2"),), None))
    other.save(USER, Offer((Button("Khác", "x"),), None))
    assert DbChoiceStore(engine, clock, "zalo").load(USER) == Offer(
        (Button("Trang sau", "p:2"),), None
    )
    store.clear(USER)
    assert store.load(USER) is None and other.load(USER) is not None


# --- sending ----------------------------------------------------------------------------------
def _api(handler: Any) -> ZaloApi:
    token = "1459232241454765289:secret-part-of-the-token-xyz"
    return ZaloApi(token, "http://zalo.test", transport=httpx.MockTransport(handler))


async def test_send_posts_json_to_the_method_url_and_returns_the_message_id() -> None:
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, json={"ok": True, "result": {"message_id": "m1"}})

    zalo = ZaloChannel(_api(handler), choices=MemoryChoiceStore())
    assert await zalo.send(USER, Outbound("<b>Chào</b>")) == "m1"
    (request,) = requests
    assert request.url.path == "/bot1459232241454765289:secret-part-of-the-token-xyz/sendMessage"
    assert json.loads(request.content) == {"chat_id": USER, "text": "Chào"}
    await zalo.aclose()


@pytest.mark.parametrize(
    ("status", "body", "permanent", "retry_after", "uncertain"),
    [
        # 403 is Zalo's "Internal server error": passing, never "the user blocked the bot".
        (
            403,
            {"ok": False, "error_code": 403, "description": "Internal server error"},
            False,
            None,
            False,
        ),
        (404, {"ok": False, "error_code": 404, "description": "Not found"}, True, None, False),
        (200, {"ok": False, "error_code": 400, "description": "Bad Request"}, False, None, False),
        (401, {"ok": False, "error_code": 401, "description": "Unauthorized"}, False, None, False),
        (
            408,
            {"ok": False, "error_code": 408, "description": "Request timeout"},
            False,
            None,
            True,
        ),
        (
            429,
            {
                "ok": False,
                "error_code": 429,
                "description": "Too Many",
                "parameters": {"retry_after": 3},
            },
            False,
            3.0,
            False,
        ),
        (502, None, False, None, False),
    ],
)
async def test_send_failures_become_delivery_errors(
    status: int,
    body: dict[str, Any] | None,
    permanent: bool,
    retry_after: float | None,
    uncertain: bool,
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body) if body else httpx.Response(status, text="x")

    zalo = ZaloChannel(_api(handler), choices=MemoryChoiceStore())
    with pytest.raises(DeliveryError) as caught:
        await zalo.send(USER, Outbound("Chào"))
    error = caught.value
    assert (error.permanent, error.retry_after, error.uncertain) == (
        permanent,
        retry_after,
        uncertain,
    )
    await zalo.aclose()


@pytest.mark.parametrize(
    ("failure", "uncertain"),
    [
        (httpx.ConnectError("refused"), False),  # nothing left this machine
        (httpx.ReadTimeout("slow"), True),  # the request left: it may have arrived
        (httpx.RemoteProtocolError("dropped"), True),
    ],
)
async def test_network_failures_tell_not_delivered_from_unknown(
    failure: Exception, uncertain: bool
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise failure

    zalo = ZaloChannel(_api(handler), choices=MemoryChoiceStore())
    with pytest.raises(DeliveryError) as caught:
        await zalo.send(USER, Outbound("Chào"))
    assert (caught.value.permanent, caught.value.uncertain) == (False, uncertain)
    await zalo.aclose()


async def test_errors_never_carry_the_token() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("getMe"):
            raise httpx.ConnectError(f"cannot reach {request.url}")
        return httpx.Response(400, json={"ok": False, "description": f"bad url {request.url}"})

    api = _api(handler)
    for method in ("getMe", "sendMessage"):
        with pytest.raises(ZaloApiError) as caught:
            await api.call(method, {"chat_id": USER, "text": "x"})
        assert "secret-part" not in str(caught.value)
        assert caught.value.__cause__ is None  # httpx's exception (and its URL) is dropped
    await api.aclose()


async def test_getupdates_timeout_is_no_updates_not_an_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"ok": False, "error_code": 408, "description": "timeout"})

    api = _api(handler)
    with pytest.raises(ZaloApiError) as caught:
        await api.get_updates(timeout=1)
    assert caught.value.no_updates
    await api.aclose()


def test_redacting_filter_scrubs_a_zalo_token_of_any_bot_id_length() -> None:
    record = logging.LogRecord(
        "x",
        logging.INFO,
        __file__,
        1,
        "POST /bot%s/getMe",
        ("1459232241454765289:Abc-def_ghij-klmnop-qrs",),
        None,
    )
    RedactingFilter().filter(record)
    assert record.getMessage() == "POST /bot***/getMe"


def test_a_secret_inside_another_does_not_break_the_longer_one() -> None:
    """A webhook secret that happens to be part of the token: replaced first, it would cut the
    token apart and leave the rest of it in the log."""
    token = "1459232241454765289:TEST-zalo-secret-abcdefghijklmnop"
    redacting = RedactingFilter(["abcdef", token])
    assert redacting.redact(f"POST /bot{token}/getMe and abcdef") == "POST /bot***/getMe and ***"


# --- webhook ----------------------------------------------------------------------------------
async def test_webhook_needs_the_secret_header() -> None:
    handled: list[Inbound] = []

    async def handle(event: Inbound) -> None:
        handled.append(event)

    zalo = channel(webhook_secret="mykey-abcxyz")
    body = json.dumps(update(text="/start")).encode()
    assert await zalo.accept_webhook(None, body, handle) == 403
    assert await zalo.accept_webhook("wrong-secret", body, handle) == 403
    assert handled == []
    assert await zalo.accept_webhook("mykey-abcxyz", b"{not json", handle) == 400
    assert await zalo.accept_webhook("mykey-abcxyz", body, handle) == 200
    wrapped = json.dumps({"ok": True, "result": update(text="/trogiup")}).encode()
    assert await zalo.accept_webhook("mykey-abcxyz", wrapped, handle) == 200
    assert [e.command for e in handled] == ["start", "trogiup"]


async def test_webhook_is_refused_when_no_secret_is_configured() -> None:
    async def handle(event: Inbound) -> None:
        raise AssertionError("must not be handled")

    body = json.dumps(update(text="/start")).encode()
    assert await channel().accept_webhook("", body, handle) == 403


# --- reply window, settings ---------------------------------------------------------------
def test_hub_says_who_is_within_the_reply_window(clock: ManualClock) -> None:
    hub = Hub()
    hub.register(channel(reply_window=timedelta(hours=48)))
    now = clock.now()
    assert hub.reply_window("zalo") == timedelta(hours=48)
    assert hub.can_reach("zalo", now - timedelta(hours=47), now)
    assert not hub.can_reach("zalo", now - timedelta(hours=49), now)
    assert not hub.can_reach("zalo", None, now)
    assert hub.can_reach("telegram", None, now)  # no window: always


def test_webhook_secret_must_be_8_to_256_characters() -> None:
    with pytest.raises(SettingsError, match="ZALO_WEBHOOK_SECRET"):
        load_settings(_env_file=None, zalo_webhook_secret="short")
    settings = load_settings(_env_file=None, zalo_webhook_secret="", zalo_base_url=" ")
    assert settings.zalo_webhook_secret is None
    assert settings.zalo_base_url == "https://bot-api.zaloplatforms.com"
    assert settings.zalo_reply_window_hours == 48


# --- the core's answer to what a channel cannot deliver --------------------------------------
async def test_core_answers_unsupported_input_and_asks_the_question_again(
    bot: TestBot,
) -> None:
    router = Router()

    @router.command("hoi", access=Access.PUBLIC)
    async def ask(event: Inbound, ctx: Any) -> None:
        ctx.begin("hoi", "tep")
        ctx.ask("Gửi báo cáo của đơn vị.", [[Button("Bỏ qua", "skip")]])

    @router.flow("hoi", access=Access.PUBLIC)
    async def answer(event: Inbound, ctx: Any) -> None:
        raise AssertionError("a handler must not see unsupported input")

    bot.core.router.include(router)
    officer = bot.person("7")
    await officer.says("/hoi")
    seen = len(officer.messages)
    event = replace(bot.channel.event("7", text=""), unsupported="zalo.file_not_received")
    await bot.core.process(event)
    answers = officer.messages[seen:]
    assert [m.text for m in answers] == [t("zalo.file_not_received"), "Gửi báo cáo của đơn vị."]
    assert answers[1].buttons == [[Button("Bỏ qua", "skip")]]


# --- `thidua-bot run` -------------------------------------------------------------------------
@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> pytest.MonkeyPatch:
    """A clean environment for `thidua-bot`: no .env, a database in tmp, logging untouched."""
    import bot.logging_setup

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(bot.logging_setup, "setup_logging", lambda *a, **k: None)
    for name in ("TELEGRAM_BOT_TOKEN", "ZALO_BOT_TOKEN", "ZALO_BASE_URL", "ADMIN_IDS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/thidua.db")
    return monkeypatch


def test_run_without_any_token_says_what_to_set_in_one_line(
    cli_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    assert main(["run"]) == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error
    assert "TELEGRAM_BOT_TOKEN" in error and "ZALO_BOT_TOKEN" in error


def test_run_with_a_refused_zalo_token_stops_with_one_line(
    cli_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unreachable Zalo is waited for (tests/test_reliability_startup.py); a token Zalo
    refuses is not, waiting cannot mend it."""
    import asyncio

    from bot.cli import main
    from tests.fakes.zalo_api import FakeZalo

    server = FakeZalo()

    async def serve_and_run() -> int:
        await server.start()
        cli_env.setenv("ZALO_BOT_TOKEN", "1459232241454765289:secret-part-of-the-token-xyz")
        cli_env.setenv("ZALO_BASE_URL", server.base_url)
        try:
            return await asyncio.to_thread(main, ["run"])
        finally:
            await server.stop()

    assert asyncio.run(serve_and_run()) == 2
    error = capsys.readouterr().err.strip()
    assert "ZALO_BOT_TOKEN" in error and "\n" not in error
    assert "secret-part" not in error


def test_a_file_with_a_link_is_named_with_its_link() -> None:
    message = Outbound("Bảng tổng hợp", document=OutboundFile("tong-hop.xlsx", b"PK"))
    url = "https://bot.example.gov.vn/f/abc"
    (text,) = render(message, {"tong-hop.xlsx": url})
    assert url in text and "tong-hop.xlsx" in text
    assert html_to_plain(t("zalo.file_not_sent", file_name="tong-hop.xlsx")) not in text
