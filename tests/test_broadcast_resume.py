"""A broadcast cut off by a crash goes on after the restart: officers not reached yet get it
once, nobody gets it twice, and the one whose send was under way at the crash (outcome unknown)
is not sent to again but named in the admin's summary. A finished broadcast is left alone, and
two processes starting together resume a broadcast once.

The crash is the outlet raising an exception no code catches (the process dying) after a
number of officers got the message; the restart is a new core over the same database, as in
tests/test_reliability_restart.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlmodel import Session, col, select

from bot import broadcasts as sending
from bot.broadcasts import resume_broadcasts, watch_broadcasts
from bot.channels.memory import MemoryChannel
from bot.channels.text import html_to_plain
from bot.events import Inbound, Outbound
from bot.runtime import build_core
from models.broadcasts import Broadcast, BroadcastRecipient, BroadcastStatus, RecipientStatus
from models.units import Member
from tests.utils.factories import make_member, make_unit
from tests.utils.ids import ADMIN_USER_ID
from tests.utils.scenario import Person, TestBot
from tests.utils.waiting import eventually


class Crash(BaseException):
    """The process dying: not an error the hub, the broadcast or the core would catch."""


def officers(session: Session, count: int) -> list[str]:
    units = [make_unit(session, f"Xã {n}", code=f"XA-{n:02d}") for n in range(3)]
    ids = [str(300 + i) for i in range(count)]
    for i, user_id in enumerate(ids):
        make_member(session, user_id, unit=units[i % 3], name=f"Cán bộ {i}")
    session.commit()
    return ids


def die_after(channel: MemoryChannel, sends: int) -> Callable[[], None]:
    """After `sends` messages to officers the process dies: every later send raises Crash.
    Returns the function that brings the channel back (the restarted process)."""
    original = channel.send
    count = 0
    dead = False

    async def send(chat_id: str, message: Outbound, reply_to: Inbound | None = None):
        nonlocal count, dead
        if dead:
            raise Crash
        if chat_id != ADMIN_USER_ID:
            if count == sends:
                dead = True
                raise Crash
            count += 1
        return await original(chat_id, message, reply_to)

    channel.send = send  # type: ignore[method-assign]
    return lambda: delattr(channel, "send")


def restart(bot: TestBot, settings, engine, clock) -> TestBot:
    clock.advance(minutes=1)
    core = build_core(settings, engine=engine, clock=clock, migrate=False)
    core.hub.register(bot.channel)
    return TestBot(core, bot.channel)


async def broadcast(admin: Person, count: int) -> None:
    await admin.says("/thongbao")
    await admin.presses("Tất cả cán bộ")
    await admin.says("Họp giao ban thi đua lúc 14h thứ Sáu.")
    await admin.presses(f"Gửi cho {count} người")
    await admin.bot.core.wait_background()


async def crash_mid_broadcast(bot: TestBot, count: int, sends: int) -> Person:
    admin = bot.person(ADMIN_USER_ID, "Trưởng phòng Nội vụ")
    revive = die_after(bot.channel, sends)
    try:
        await broadcast(admin, count)
        # The other senders of the dead process meet the crash too before the channel is back.
        while others := asyncio.all_tasks() - {asyncio.current_task()}:
            await asyncio.gather(*others, return_exceptions=True)
    finally:
        revive()
    return admin


def received(bot: TestBot, user_id: str) -> int:
    return sum("Họp giao ban thi đua" in m.text for m in bot.channel.sent[user_id])


def statuses(bot: TestBot) -> dict[str, str]:
    """Each officer's delivery status in the broadcast log, by user id."""
    with bot.db() as db:
        rows = db.exec(
            select(Member.user_id, BroadcastRecipient.status).join(
                BroadcastRecipient, col(BroadcastRecipient.member_id) == Member.id
            )
        ).all()
    return dict(rows)


async def test_a_broadcast_cut_off_by_a_crash_goes_on_after_the_restart_once(
    bot: TestBot, session: Session, settings, engine, clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sending, "CONCURRENCY", 1)  # one send under way at a time
    ids = officers(session, 10)
    admin = await crash_mid_broadcast(bot, 10, sends=4)
    before = statuses(bot)
    assert sorted(before.values()).count(RecipientStatus.SENT) == 4
    [under_way] = [u for u, s in before.items() if s == RecipientStatus.SENDING]
    assert sum(received(bot, u) for u in ids) == 4
    assert "Gửi xong" not in admin.all_text  # the summary never went out

    restarted = restart(bot, settings, engine, clock)
    admin.bot = restarted
    assert await resume_broadcasts(restarted.core) == 1
    for user_id in ids:
        assert received(bot, user_id) == (0 if user_id == under_way else 1), user_id
    text = admin.all_text
    assert "Bot vừa khởi động lại khi đang gửi thông báo “Họp giao ban thi đua" in text
    assert "Đang gửi tiếp cho 5 người còn lại (trong tổng số 10)" in text
    assert "Chưa rõ 1 người đã nhận hay chưa: bot không gửi lại" in text
    summary = html_to_plain(admin.messages[-1].text)
    assert "Gửi xong thông báo: 9/10 người đã nhận." in summary
    assert "Chưa rõ 1 người đã nhận hay chưa" in summary
    with restarted.db() as db:
        name = db.exec(select(Member.display_name).where(Member.user_id == under_way)).one()
        [row] = db.exec(select(Broadcast)).all()
    assert f"• {name} (" in summary
    assert row.status == BroadcastStatus.DONE and row.resumed == 1
    assert statuses(restarted)[under_way] == RecipientStatus.SENDING  # still unknown

    # Another start finds nothing to do and sends nothing.
    count = sum(len(m) for m in bot.channel.sent.values())
    again = restart(restarted, settings, engine, clock)
    assert await resume_broadcasts(again.core) == 0
    assert sum(len(m) for m in bot.channel.sent.values()) == count


async def test_a_finished_broadcast_is_not_resumed(
    bot: TestBot, session: Session, settings, engine, clock
) -> None:
    ids = officers(session, 5)
    admin = bot.person(ADMIN_USER_ID, "Trưởng phòng Nội vụ")
    await broadcast(admin, 5)
    assert "Gửi xong thông báo: 5/5 người đã nhận." in admin.last_reply
    count = sum(len(m) for m in bot.channel.sent.values())

    restarted = restart(bot, settings, engine, clock)
    assert await resume_broadcasts(restarted.core) == 0
    assert sum(len(m) for m in bot.channel.sent.values()) == count
    assert all(received(bot, u) == 1 for u in ids)


async def test_two_processes_starting_together_resume_a_broadcast_once(
    bot: TestBot, session: Session, settings, engine, clock
) -> None:
    ids = officers(session, 30)
    admin = await crash_mid_broadcast(bot, 30, sends=10)  # eight senders under way
    unknown = {u for u, s in statuses(bot).items() if s == RecipientStatus.SENDING}
    assert 1 <= len(unknown) <= sending.CONCURRENCY
    notices = admin.all_text.count("Bot vừa khởi động lại")

    first = restart(bot, settings, engine, clock)
    second = TestBot(build_core(settings, engine=engine, clock=clock, migrate=False), bot.channel)
    second.core.hub.register(bot.channel)
    resumed = await asyncio.gather(resume_broadcasts(first.core), resume_broadcasts(second.core))
    assert sorted(resumed) == [0, 1]
    for user_id in ids:
        assert received(bot, user_id) == (0 if user_id in unknown else 1), user_id
    assert admin.all_text.count("Bot vừa khởi động lại") == notices + 1
    assert admin.all_text.count("Gửi xong thông báo") == 1
    summary = html_to_plain(admin.messages[-1].text)
    assert f"{30 - len(unknown)}/30 người đã nhận" in summary
    assert f"Chưa rõ {len(unknown)} người đã nhận hay chưa" in summary


async def test_a_broadcast_whose_sender_still_writes_is_left_alone_until_it_falls_silent(
    bot: TestBot, session: Session, settings, engine, clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`watch_broadcasts`, as `run` starts it: at start-up it leaves a broadcast whose sender
    wrote after this process started (alive in another process of a fleet); later checks take
    over one whose sender has been silent for `stale`, and it is finished once."""
    monkeypatch.setattr(sending, "CONCURRENCY", 1)
    ids = officers(session, 6)
    admin = await crash_mid_broadcast(bot, 6, sends=2)
    [under_way] = [u for u, s in statuses(bot).items() if s == RecipientStatus.SENDING]
    restarted = restart(bot, settings, engine, clock)
    admin.bot = restarted

    def sender_writes() -> None:  # what a live sender's Ledger does with every send
        with restarted.db() as db:
            row = db.exec(select(Broadcast)).one()
            row.heartbeat_at = clock.now()
            db.add(row)
            db.commit()

    stopping = asyncio.Event()
    checks: list[int] = []
    watching = asyncio.create_task(
        watch_broadcasts(
            restarted.core,
            stopping,
            startup_wait=0.2,
            every=0.02,
            stale=timedelta(minutes=2),
            on_check=checks.append,
        )
    )
    await asyncio.sleep(0)  # one turn of the loop: the watcher notes "this process started"
    clock.advance(seconds=1)
    sender_writes()  # during the start-up wait: the sender is alive
    await eventually(lambda: len(checks) >= 3, what="the start-up check and two later ones")
    assert checks == [0] * len(checks)
    assert sum(received(bot, u) for u in ids) == 2
    assert "Bot vừa khởi động lại" not in admin.all_text

    clock.advance(minutes=3)  # the sender fell silent
    await eventually(lambda: "Gửi xong thông báo" in admin.all_text, what="the summary")
    stopping.set()
    await watching
    for user_id in ids:
        assert received(bot, user_id) == (0 if user_id == under_way else 1), user_id
    assert "Gửi xong thông báo: 5/6 người đã nhận." in admin.all_text
    assert admin.all_text.count("Bot vừa khởi động lại") == 1
