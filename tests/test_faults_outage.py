"""Faults over HTTP with the real python-telegram-bot stack (TelegramPoller, the Application's
bot and rate limiter) against the fake Bot API server: Telegram going away and coming back, and
Telegram delivering the same update twice; reminders falling due while Telegram is away.
"""

from __future__ import annotations

import asyncio

from sqlmodel import Session, select

from bot.catalog import t
from bot.channels.text import html_to_plain
from bot.clock import ManualClock
from models.campaigns import ReminderLog, ReminderStatus
from models.conversation import ProcessedUpdate
from tests.fakes.telegram_api import FakeTelegram
from tests.utils.factories import make_campaign, make_deadline, make_member, make_unit
from tests.utils.reminders import local, scheduler_for
from tests.utils.waiting import eventually

HELP = html_to_plain(t("core.help_title"))


def answers(api: FakeTelegram, chat: int) -> int:
    return sum(HELP in html_to_plain(text) for text in api.texts(chat))


async def test_an_outage_of_telegram_is_ridden_out_and_nothing_is_dropped(
    telegram_api: FakeTelegram, telegram_bot, engine
) -> None:
    """Telegram unreachable, then failing, then back — compressed from ~30 s to ~2 s.

    Phases: connection refused (the server's socket closed) for 0.8 s, every request answered
    502 for 0.8 s, then polling works but sends still fail with 502 for a while, then all is well.
    The poller's pauses (0.05 s doubling to 0.5 s here, 1 s to 30 s in production) and the
    hub's retries of answers (shortened here the same way) are the same code as in production;
    only the durations are scaled down.
    """
    api = telegram_api
    _, core = telegram_bot
    core.hub.retry_delays = (0.1, 0.2, 0.4, 0.5, 0.5, 0.5, 0.5, 0.5)
    users = [5001, 5002, 5003]
    api.push_text(users[0], "/trogiup")
    await api.wait_for(users[0], count=1)

    await api.stop()  # connection refused
    during = [api.push_text(user, "/trogiup") for user in users]
    await asyncio.sleep(0.8)
    api.failing_status = 502
    await api.start()  # the same port: back, but answering 502 to everything
    await asyncio.sleep(0.8)
    assert not any(answers(api, user) > (1 if user == users[0] else 0) for user in users)
    # Backing off (pauses grown to 0.5 s by now): a few polls in 0.8 s, not a busy loop.
    assert 1 <= api.failed_requests <= 8, api.failed_requests
    api.failing_status = None
    api.failing_sends = 502  # updates come in again, answers cannot go out yet

    def handled() -> set[str]:
        with Session(engine) as db:
            return {u.update_id for u in db.exec(select(ProcessedUpdate)).all()}

    # Handled while answers still fail: each user's answer is refused, then waits its retry.
    await eventually(lambda: {str(u) for u in during} <= handled(), what="updates handled")
    await eventually(
        lambda: all(api.refused_sends[str(user)] >= 1 for user in users),
        what="an answer refused for every user",
    )
    assert [answers(api, user) for user in users] == [1, 0, 0]
    api.failing_sends = None

    for user in users:
        await api.wait_for(user, count=2 if user == users[0] else 1)
    await eventually(lambda: api.unconfirmed == 0, what="every update confirmed")
    await core.flush_marks()  # every answered update marked: nothing more is owed
    assert [answers(api, user) for user in users] == [2, 1, 1]
    # Life goes on.
    api.push_text(users[1], "/trogiup")
    await api.wait_for(users[1], count=2)


async def test_the_same_update_delivered_twice_is_handled_once(
    telegram_api: FakeTelegram, telegram_bot, engine
) -> None:
    api = telegram_api
    _, core = telegram_bot
    # Hold the bot back until both copies are on the server, so they come in one batch.
    api.failing_status = 502
    await eventually(lambda: api.failed_requests >= 1, what="a poll refused")
    update_id = api.push_text(6001, "/trogiup")
    api.push_raw(api.update(update_id))
    api.failing_status = None
    await api.wait_for(6001, count=1)
    # Both copies handled and confirmed (the bot asks for the next offset only after that).
    await eventually(
        lambda: api.handed_out.count(update_id) == 2 and api.unconfirmed == 0,
        what="both copies handed out and confirmed",
    )
    await core.flush_marks()
    assert answers(api, 6001) == 1
    assert len(api.sent["6001"]) == 1
    with Session(engine) as db:
        rows = db.exec(select(ProcessedUpdate)).all()
    assert [r.update_id for r in rows] == [str(update_id)]


async def test_reminders_due_during_an_outage_go_out_once_after_it(
    telegram_api: FakeTelegram, telegram_bot, clock: ManualClock
) -> None:
    """Reminders fall due while the Bot API is unreachable, then answering 502: each tick's
    sends fail for sure (nothing reached Telegram), so they wait with backoff (1, then 2
    minutes, on the ManualClock) and go out, once each, when Telegram is back."""
    api = telegram_api
    _, core = telegram_bot
    chats = [str(5100 + n) for n in range(30)]
    with Session(core.engine) as db:
        campaign = make_campaign(db)
        make_deadline(db, campaign, due_at=local(2026, 3, 12, 17), title="Báo cáo sơ kết")
        for n, chat in enumerate(chats):
            make_member(db, chat, unit=make_unit(db, f"Xã {n}"), channel="telegram")
        db.commit()
    scheduler = scheduler_for(core)
    clock.set(local(2026, 3, 5, 8))  # the 7-days-before reminder falls due

    await api.stop()  # connection refused
    report = await scheduler.tick()
    assert (report.reminders.sent, report.reminders.deferred) == (0, len(chats))
    api.failing_status = 502
    await api.start()
    clock.advance(minutes=1)
    report = await scheduler.tick()
    assert (report.reminders.sent, report.reminders.deferred) == (0, len(chats))
    api.failing_status = None
    clock.advance(minutes=1)
    assert (await scheduler.tick()).reminders.sent == 0  # still waiting out its backoff
    clock.advance(minutes=1)
    report = await scheduler.tick()
    assert (report.reminders.sent, report.reminders.unknown) == (len(chats), 0)
    for chat in chats:
        await api.wait_for(chat)
    assert all(len(api.sent[chat]) == 1 for chat in chats)
    with Session(core.engine) as db:
        rows = db.exec(select(ReminderLog)).all()
    assert sorted(r.status for r in rows) == [ReminderStatus.SENT] * len(chats)
