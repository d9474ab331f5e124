"""Broadcasts: choosing the audience, confirming, sending once to each officer with one
progress message edited as it goes, failures reported with reasons, blocked users marked —
through the in-memory channel, and to 300 officers through the fake Bot API (and 90 at the real 30 msg/s)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from bot.broadcasts import ProgressMessage, send_broadcast
from bot.channels.memory import MemoryChannel
from bot.channels.text import html_to_plain
from bot.delivery import DeliveryService
from bot.events import Address, Inbound, Outbound
from bot.hub import DeliveryError, Hub
from domain.broadcast import Audience, AudienceKind, Recipient, select_recipients
from domain.scope import DEFAULT_SCOPE
from models.audit import AuditLog
from models.campaigns import Deadline
from models.conversation import ConversationState
from models.units import Member, MemberStatus, Unit
from tests.fakes.telegram_api import FakeTelegram
from tests.utils.factories import (
    T0,
    make_campaign,
    make_deadline,
    make_member,
    make_report,
    make_unit,
)
from tests.utils.ids import ADMIN_USER_ID
from tests.utils.scenario import Person, TestBot

XA = "Khối xã, thị trấn"
CQ = "Khối cơ quan"


@pytest.fixture
def town(session: Session) -> Deadline:
    """Three units in two blocs, four officers (one pending), one unit has handed in."""
    campaign = make_campaign(session)
    deadline = make_deadline(session, campaign, due_at=T0 + timedelta(days=7))
    binh_lu = make_unit(session, "Xã Bình Lư", code="XA-001", bloc=XA)
    son_binh = make_unit(session, "Xã Sơn Bình", code="XA-002", bloc=XA)
    school = make_unit(session, "Phòng Giáo dục", code="PGD", bloc=CQ)
    make_member(session, "201", unit=binh_lu, name="Lò Văn Tâm")
    make_member(session, "202", unit=binh_lu, name="Đỗ Thị Hà")
    make_member(session, "203", unit=son_binh, name="Tẩn Láo Lở")
    make_member(session, "204", unit=school, name="Nguyễn Thị Hoà")
    make_member(session, "205", unit=school, name="Chờ duyệt", status=MemberStatus.PENDING)
    make_report(session, school, deadline, submitted_at=T0)
    session.commit()
    return deadline


def _admin(bot: TestBot) -> Person:
    return bot.person(ADMIN_USER_ID, "Trưởng phòng Nội vụ")


def _received(bot: TestBot, user_id: str) -> list[str]:
    return [html_to_plain(m.text) for m in bot.channel.sent[user_id]]


# --- audience -----------------------------------------------------------------------------
def test_audiences_select_approved_officers_once(session: Session, town: Deadline) -> None:
    def names(audience: Audience) -> list[str]:
        return sorted(
            r.name
            for r in select_recipients(audience, scope=DEFAULT_SCOPE, session=session).recipients
        )

    everyone = ["Lò Văn Tâm", "Nguyễn Thị Hoà", "Tẩn Láo Lở", "Đỗ Thị Hà"]
    assert names(Audience(AudienceKind.ALL)) == everyone
    assert names(Audience(AudienceKind.BLOC, bloc=CQ)) == ["Nguyễn Thị Hoà"]
    assert names(Audience(AudienceKind.MISSING, deadline_id=town.id)) == [
        "Lò Văn Tâm",
        "Tẩn Láo Lở",
        "Đỗ Thị Hà",
    ]
    selection = select_recipients(Audience(AudienceKind.ALL), scope=DEFAULT_SCOPE, session=session)
    assert selection.units == 3 and selection.skipped_unreachable == 0


def test_a_blocked_officer_is_skipped_until_they_write_again(
    session: Session, town: Deadline
) -> None:
    member = session.exec(select(Member).where(Member.user_id == "203")).one()
    member.unreachable_at = T0
    session.flush()
    selection = select_recipients(Audience(AudienceKind.ALL), scope=DEFAULT_SCOPE, session=session)
    assert "Tẩn Láo Lở" not in [r.name for r in selection.recipients]
    assert selection.skipped_unreachable == 1
    member.last_seen_at = T0 + timedelta(hours=1)
    session.flush()
    selection = select_recipients(Audience(AudienceKind.ALL), scope=DEFAULT_SCOPE, session=session)
    assert "Tẩn Láo Lở" in [r.name for r in selection.recipients]


# --- the whole flow in memory -------------------------------------------------------------
async def test_broadcast_to_all_officers_with_progress_and_failures(
    bot: TestBot, town: Deadline
) -> None:
    bot.channel.unreachable.add("203")  # blocked the bot
    admin = _admin(bot)
    await admin.says("/thongbao")
    assert admin.last_reply == "Gửi thông báo cho ai?"
    await admin.presses("Tất cả cán bộ")
    assert "Gõ nội dung thông báo" in admin.last_reply
    await admin.says("Họp giao ban thi đua lúc 14h thứ Sáu tại hội trường UBND <huyện>.")
    confirmation = admin.last_reply
    assert "sẽ gửi tới 4 người (cán bộ của 3 đơn vị — tất cả đơn vị)" in confirmation
    assert "<huyện>" in confirmation  # shown escaped, read back as typed
    await admin.presses("Gửi cho 4 người")
    assert "Đang gửi thông báo tới 4 người" in admin.new_text
    assert admin.new_messages[0].replace  # the confirmation's buttons are gone
    await bot.core.wait_background()

    for officer in ("201", "202", "204"):
        [text] = _received(bot, officer)
        assert text.startswith("📢 Thông báo") and "UBND <huyện>" in text
    assert _received(bot, "203") == [] and _received(bot, "205") == []
    progress, summary = admin.messages[-2:]
    assert html_to_plain(progress.text) == "Đang gửi thông báo: đã gửi 4/4"
    assert progress.edit_message_id is not None
    assert bot.channel.edits[progress.edit_message_id] >= 1
    plain = html_to_plain(summary.text)
    assert "Gửi xong thông báo: 3/4 người đã nhận." in plain
    assert "Không gửi được cho 1 người:" in plain
    assert "• Tẩn Láo Lở (Xã Sơn Bình): đã chặn bot" in plain
    with bot.db() as db:
        blocked = db.exec(select(Member).where(Member.user_id == "203")).one()
        assert blocked.unreachable_at == T0
        rows = db.exec(select(AuditLog).where(AuditLog.action.startswith("admin.broadcast"))).all()
    request, result = rows
    assert request.action == "admin.broadcast" and request.detail["recipients"] == 4
    assert result.action == "admin.broadcast.result"
    assert (result.detail["sent"], result.detail["failed"], result.detail["blocked"]) == (3, 1, 1)


async def test_broadcast_to_one_bloc(bot: TestBot, town: Deadline) -> None:
    admin = _admin(bot)
    await admin.says("/thongbao")
    await admin.presses("Theo khối")
    assert set(admin.buttons) == {CQ, XA}
    await admin.presses(CQ)
    await admin.says("Nộp hồ sơ khen thưởng trước ngày 15.")
    assert "1 người" in admin.last_reply and CQ in admin.last_reply
    await admin.presses("Gửi cho 1 người")
    await bot.core.wait_background()
    assert len(_received(bot, "204")) == 1
    assert _received(bot, "201") == []


async def test_quaylai_goes_back_a_step_and_nothing_is_skipped(
    bot: TestBot, town: Deadline
) -> None:
    """Declared steps (bot/steps.py): /quaylai from the message goes back to the audience, from
    the confirmation back to the message; /boqua skips nothing and asks the same again."""
    admin = _admin(bot)
    await admin.says("/thongbao")
    await admin.presses("Tất cả cán bộ")
    assert "Gõ nội dung thông báo" in admin.last_reply
    await admin.says("/quaylai")
    assert admin.last_reply == "Gửi thông báo cho ai?"
    await admin.says("/boqua")
    assert "không bỏ qua được" in admin.new_text
    assert admin.last_reply == "Gửi thông báo cho ai?"
    await admin.says("Tất cả")  # typed where buttons are asked for
    assert "Hãy chọn bằng các nút bên dưới." in admin.new_text
    await admin.presses("Theo khối")
    await admin.presses(CQ)
    await admin.says("Nộp hồ sơ khen thưởng trước ngày 15.")
    assert "1 người" in admin.last_reply and CQ in admin.last_reply
    await admin.says("/quaylai")
    assert "Gõ nội dung thông báo" in admin.last_reply
    await admin.says("Nộp hồ sơ khen thưởng trước ngày 20.")
    assert "ngày 20" in admin.last_reply and CQ in admin.last_reply  # the bloc was kept
    await admin.presses("Gửi cho 1 người")
    await bot.core.wait_background()
    [received] = _received(bot, "204")
    assert "ngày 20" in received and "ngày 15" not in received


def _stored_confirmation(bot: TestBot, data: dict[str, object]) -> None:
    """The admin's chat left at /thongbao's confirmation with `data`, as a database holds it."""
    with bot.db() as db:
        db.add(
            ConversationState(
                channel=bot.channel.name,
                chat_id=ADMIN_USER_ID,
                flow="broadcast",
                step="confirm",
                data=data,
                version=1,
                updated_at=T0,
            )
        )
        db.commit()


async def test_a_broadcast_confirmation_stored_before_the_upgrade_still_sends(
    bot: TestBot, town: Deadline
) -> None:
    """The keys the hand-written flow stored (`audience`, `blocs`, `text`) are the draft's
    fields: a confirmation left open across the upgrade is sent as it was."""
    _stored_confirmation(
        bot,
        {
            "audience": {"kind": "bloc", "bloc": CQ, "deadline_id": None},
            "blocs": [CQ, XA],
            "text": "Nộp hồ sơ khen thưởng trước ngày 15.",
        },
    )
    admin = _admin(bot)
    await admin.presses_payload("adm-tb:send")
    assert "Đang gửi thông báo tới 1 người" in admin.new_text
    await bot.core.wait_background()
    [received] = _received(bot, "204")
    assert "ngày 15" in received


async def test_a_confirmation_without_an_audience_sends_to_nobody(
    bot: TestBot, town: Deadline
) -> None:
    """A stored confirmation that names no audience (damaged, or from elsewhere) is never read
    as "everyone": the admin is asked for the audience again and nothing goes out."""
    _stored_confirmation(bot, {"text": "Nộp hồ sơ khen thưởng trước ngày 15."})
    admin = _admin(bot)
    await admin.presses_payload("adm-tb:send")
    assert admin.last_reply == "Gửi thông báo cho ai?"
    await bot.core.wait_background()
    assert all(_received(bot, officer) == [] for officer in ("201", "202", "203", "204"))


async def test_broadcast_to_units_missing_a_deadline(bot: TestBot, town: Deadline) -> None:
    admin = _admin(bot)
    await admin.says("/thongbao")
    await admin.presses("chưa nộp")
    await admin.presses("#1 Báo cáo thành tích")
    await admin.says("Các đơn vị chưa nộp báo cáo, đề nghị nộp ngay.")
    assert "chưa nộp #1 Báo cáo thành tích" in admin.last_reply
    await admin.presses("Gửi cho 3 người")
    await bot.core.wait_background()
    assert [len(_received(bot, u)) for u in ("201", "202", "203", "204")] == [1, 1, 1, 0]


async def test_buttons_are_asked_for_and_a_second_press_sends_nothing_more(
    bot: TestBot, town: Deadline
) -> None:
    admin = _admin(bot)
    await admin.says("/thongbao")
    await admin.says("gửi cho tất cả")
    assert "Hãy chọn bằng các nút" in admin.new_text
    assert admin.last_reply == "Gửi thông báo cho ai?"  # asked again
    await admin.presses("Tất cả cán bộ")
    await admin.says("   ")
    assert "Nội dung còn trống" in admin.new_text
    await admin.says("x" * 3501)
    assert "tối đa 3500" in admin.new_text
    await admin.says("Lịch họp tuần sau.")
    await admin.presses("Gửi cho 4 người")
    await admin.presses("Gửi cho 4 người")  # a double tap
    assert "Nút này đã cũ" in admin.last_reply
    await bot.core.wait_background()
    assert len(_received(bot, "201")) == 1


async def test_cancel_sends_nothing(bot: TestBot, town: Deadline) -> None:
    admin = _admin(bot)
    await admin.says("/thongbao")
    await admin.presses("Tất cả cán bộ")
    await admin.says("Nội dung")
    await admin.presses("Huỷ")
    await bot.core.wait_background()
    assert "Đã dừng" in admin.last_reply
    assert _received(bot, "201") == []


async def test_zalo_users_silent_past_the_reply_window_are_named_not_sent_to(
    bot: TestBot, town: Deadline, session: Session
) -> None:
    zalo = MemoryChannel("zalo")
    zalo.reply_window = timedelta(hours=48)  # type: ignore[attr-defined]
    bot.core.hub.register(zalo)
    unit = session.exec(select(Unit).where(Unit.code == "XA-002")).one()
    recent = make_member(session, "z1", unit=unit, channel="zalo", name="Vàng A Chứ")
    recent.last_seen_at = T0 - timedelta(hours=3)
    make_member(session, "z2", unit=unit, channel="zalo", name="Lý Thị Sai")  # never wrote
    session.commit()
    admin = _admin(bot)
    await admin.says("/thongbao")
    await admin.presses("Tất cả cán bộ")
    await admin.says("Nộp báo cáo trước thứ Sáu.")
    assert "sẽ gửi tới 5 người" in admin.last_reply
    assert "Chưa gửi được cho 1 người dùng Zalo" in admin.last_reply
    await admin.presses("Gửi cho 5 người")
    await bot.core.wait_background()
    assert len(zalo.sent["z1"]) == 1 and zalo.sent["z2"] == []
    summary = admin.last_reply
    assert "5/5 người đã nhận" in summary
    assert "Chưa gửi cho 1 người vì lâu chưa nhắn bot trên Zalo" in summary
    assert "• Lý Thị Sai (Xã Sơn Bình)" in summary


# --- sending rules ------------------------------------------------------------------------
class _FlakyOutlet:
    """Rate-limited once for chat 1; an uncertain network failure for chat 2 (a timeout after
    the request left: the platform may have it); chat 4 unreachable (HTTP 502) twice."""

    name = "flaky"

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.limited = False
        self.down = 2

    async def send(self, chat_id: str, message: Outbound, reply_to: Inbound | None = None):
        if chat_id == "1" and not self.limited:
            self.limited = True
            raise DeliveryError("RetryAfter: flood", retry_after=3.0)
        if chat_id == "2":
            raise DeliveryError("TimedOut: no answer", uncertain=True)
        if chat_id == "4" and self.down:
            self.down -= 1
            raise DeliveryError("NetworkError: Bad Gateway")
        self.sent.append(chat_id)
        return f"m{chat_id}"

    async def download(self, attachment):  # pragma: no cover - not used
        raise NotImplementedError


async def test_only_a_send_that_certainly_failed_is_retried_so_nobody_gets_it_twice() -> None:
    """A rate limit and an unreachable platform (502) are retried with backoff; a timeout after
    the request left is an unknown outcome — not retried, and not counted as failed."""
    hub = Hub()
    outlet = _FlakyOutlet()
    hub.register(outlet)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    recipients = [Recipient(i, "flaky", str(i), f"Cán bộ {i}", i, "Xã") for i in (1, 2, 3)]
    seen: list[tuple[int, int]] = []

    async def progress(done: int, total: int) -> None:
        seen.append((done, total))

    delivery = DeliveryService(hub, retry_delays=(1.0, 2.0, 4.0), sleep=sleep)
    result = await send_broadcast(
        delivery, recipients, Outbound("x"), progress=progress, concurrency=2
    )
    assert sorted(outlet.sent) == ["1", "3"] and slept == [3.0]
    assert result.sent == 2 and result.failures == []
    assert [r.chat_id for r in result.unknown] == ["2"]
    assert sorted(seen) == [(1, 3), (2, 3), (3, 3)]

    slept.clear()
    result = await send_broadcast(
        delivery, [Recipient(4, "flaky", "4", "Cán bộ 4", 4, "Xã")], Outbound("x")
    )
    assert result.sent == 1 and outlet.sent.count("4") == 1 and slept == [1.0, 2.0]


async def test_progress_message_is_edited_at_most_every_interval() -> None:
    hub, channel = Hub(), MemoryChannel()
    hub.register(channel)
    now = [0.0]
    progress = ProgressMessage(
        hub,
        Address("memory", "1"),
        lambda done, total: f"đã gửi {done}/{total}",
        min_interval=2.0,
        monotonic=lambda: now[0],
    )
    await progress.start(10)
    await progress.update(1, 10)  # too soon
    now[0] = 2.5
    await progress.update(2, 10)
    now[0] = 3.0
    await progress.update(3, 10)  # too soon again
    await progress.finish(10, 10)
    assert [m.text for m in channel.sent["1"]] == ["đã gửi 10/10"]
    assert progress.edits == 2


# --- Hundreds of officers over HTTP ----------------------------------------------------------
async def _broadcast_to_officers(
    telegram_api: FakeTelegram, core, session: Session, count: int = 300
) -> None:
    units = [make_unit(session, f"Thôn {n:02d}", code=f"TH-{n:02d}") for n in range(30)]
    officers = [str(500_000 + i) for i in range(count)]
    for i, user_id in enumerate(officers):
        make_member(session, user_id, unit=units[i % 30], channel="telegram", name=f"Cán bộ {i}")
    session.commit()
    admin = int(ADMIN_USER_ID)

    telegram_api.push_text(admin, "/thongbao", name="Trưởng phòng")
    await telegram_api.wait_for_text(admin, "Gửi thông báo cho ai?")
    telegram_api.press(admin, "Tất cả cán bộ")
    await telegram_api.wait_for_text(admin, "Gõ nội dung")
    telegram_api.push_text(admin, "Họp tổng kết phong trào thi đua lúc 8h sáng thứ Hai.")
    await telegram_api.wait_for_text(admin, "sẽ gửi tới")
    telegram_api.press(admin, f"Gửi cho {count} người")
    await telegram_api.wait_for_text(admin, "Gửi xong thông báo", timeout=60)
    await core.wait_background()

    for user_id in officers:
        [message] = telegram_api.sent[user_id]  # delivered, and only once
        assert "Họp tổng kết phong trào thi đua" in message.text
    assert telegram_api.total_sent() - len(telegram_api.sent[ADMIN_USER_ID]) == count
    progress = next(m for m in telegram_api.sent[ADMIN_USER_ID] if "Đang gửi thông báo:" in m.text)
    assert progress.edits >= 1 and progress.text.endswith(f"đã gửi {count}/{count}")
    summary = telegram_api.sent[ADMIN_USER_ID][-1].text
    assert f"{count}/{count} người đã nhận" in summary and "Không gửi được" not in summary


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_broadcast_to_300_officers_through_the_bot_api(
    telegram_api: FakeTelegram, telegram_bot, session: Session
) -> None:
    telegram_api.rate_limit = 3000
    _, core = telegram_bot
    await _broadcast_to_officers(telegram_api, core, session)
    assert telegram_api.throttled == 0


@pytest.mark.slow  # ~3 s: Telegram's real pace, 30 messages a second
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.bot_rate(29)  # the production default of TELEGRAM_MAX_MESSAGES_PER_SECOND
async def test_a_broadcast_keeps_telegrams_pace(
    telegram_api: FakeTelegram, telegram_bot, session: Session
) -> None:
    """The bot's own limiter at the real ceiling: 90 officers take three one-second windows of the
    fake's 30 msg/s, and none of them is refused with a 429. (300 officers, ten windows, proved
    nothing more and cost ten seconds of every run.)"""
    telegram_api.rate_limit = 30
    _, core = telegram_bot
    await _broadcast_to_officers(telegram_api, core, session, count=90)
    assert telegram_api.throttled == 0
