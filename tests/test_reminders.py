"""Scheduled reminders end to end through the core, the scheduler tick and the in-memory
channel, with a ManualClock: exactly which reminders go when over two weeks (with a restart and
a deadline edited midway), never twice, never silently lost, always current."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, timedelta

import pytest
from sqlmodel import Session, select

from bot.channels.memory import MemoryChannel
from bot.clock import ManualClock
from bot.db import create_db_engine
from bot.delivery import ChatPacer
from bot.hub import DeliveryError
from bot.router import make_payload
from bot.runtime import build_core
from bot.scheduler import ReminderScheduler
from domain.ledger import MAX_ATTEMPTS, claim, plan_due
from domain.schedule import load_calendar
from models.audit import AuditLog
from models.campaigns import Campaign, Deadline, ReminderLog, ReminderStatus
from models.reports import ReportStatus
from models.units import Member, MemberStatus, Role, Unit
from tests.utils.factories import make_campaign, make_deadline, make_member, make_report, make_unit
from tests.utils.ids import ADMIN_USER_ID
from tests.utils.reminders import (
    LOST,
    Inbox,
    ScriptedChannel,
    add_deadline,
    local,
    reminder_world,
    scheduler_for,
)
from tests.utils.scenario import TestBot
from tests.utils.waiting import eventually


@pytest.fixture
def channel() -> ScriptedChannel:
    """The in-memory channel, able to fail on cue (overrides conftest's)."""
    return ScriptedChannel()


def _logs(bot: TestBot, **where: object) -> list[ReminderLog]:
    with bot.db() as db:
        query = select(ReminderLog).order_by(ReminderLog.id)
        for key, value in where.items():
            query = query.where(getattr(ReminderLog, key) == value)
        return list(db.exec(query).all())


async def _run(bot: TestBot, scheduler, clock: ManualClock, inbox: Inbox, until, step=None):
    step = step or timedelta(hours=1)
    while clock.now() < until.astimezone(UTC):
        clock.advance(step)
        await scheduler.tick()
        inbox.collect()


# --- two weeks -----------------------------------------------------------------------------------
async def test_two_weeks_of_reminders_with_a_restart_and_an_edited_deadline(
    bot: TestBot, clock: ManualClock, settings, engine, channel: ScriptedChannel
) -> None:
    ids = reminder_world(bot)
    with bot.db() as db:
        campaign = db.get(Campaign, ids["campaign"])
        # D2 due Thursday 5/3 17:00; D1 due Monday 16/3 17:00 (moved to Wednesday 18/3 later).
        d2 = make_deadline(
            db,
            campaign,
            title="Đăng ký thi đua",
            due_at=local(2026, 3, 5, 17),
            form_code="dang-ky-thi-dua",  # no signed copy: only deadline reminders here
        )
        d1 = make_deadline(db, campaign, title="Báo cáo sơ kết", due_at=local(2026, 3, 16, 17))
        db.commit()
        d1_id, d2_id = d1.id, d2.id
    titles = {"Báo cáo sơ kết": "D1", "Đăng ký thi đua": "D2"}
    scheduler = scheduler_for(bot.core)
    inbox = Inbox(channel, clock)
    await scheduler.tick()  # Monday 2/3 08:00: D2's 3-day reminder
    inbox.collect()

    # Wednesday 4/3 09:00 unit B hands in D2 (after that morning's reminder).
    await _run(bot, scheduler, clock, inbox, local(2026, 3, 4, 9))
    with bot.db() as db:
        deadline = db.get(Deadline, d2_id)
        assert deadline is not None
        make_report(db, _unit(db, ids["B"]), deadline, submitted_at=local(2026, 3, 4, 9))
        db.commit()

    # The bot stops on Friday 6/3 at noon and comes back on Tuesday 10/3 at 10:00: a new core
    # and scheduler over the same database.
    await _run(bot, scheduler, clock, inbox, local(2026, 3, 6, 12))
    clock.set(local(2026, 3, 10, 10))
    core = build_core(settings, engine=engine, clock=clock, migrate=False)
    core.hub.register(channel)
    scheduler = scheduler_for(core)
    await scheduler.tick()  # start-up: what fell due while down, once
    inbox.collect()

    # Wednesday 11/3 12:30 the admin moves D1 to Wednesday 18/3 17:00; Thursday 12/3 an officer
    # of unit A is removed.
    await _run(bot, scheduler, clock, inbox, local(2026, 3, 11, 12))
    clock.set(local(2026, 3, 11, 12, 30))
    admin = bot.person(ADMIN_USER_ID, "Trưởng phòng")
    await admin.presses_payload(make_payload("han", "ef", d1_id, "date"))
    await admin.says("18/3/2026")
    assert "18/03/2026" in admin.last_reply
    clock.set(local(2026, 3, 11, 13))
    await scheduler.tick()
    inbox.collect()
    await _run(bot, scheduler, clock, inbox, local(2026, 3, 12, 12))
    with bot.db() as db:
        removed = db.get(Member, ids["202"])
        assert removed is not None
        removed.status = MemberStatus.REMOVED
        db.add(removed)
        db.commit()
    await _run(bot, scheduler, clock, inbox, local(2026, 3, 16, 23))

    unit_a = [
        "Mon 02/03 08:00 D2",  # 3 days before
        "Wed 04/03 08:00 D2",  # 1 day before
        "Thu 05/03 08:00 D2",  # due day
        "Tue 10/03 10:00 D2",  # catch-up: the overdue reminder of Monday 9/3 (Saturday's merged in)
        "Tue 10/03 10:00 D1",  # catch-up: D1's 7-day reminder of Monday 9/3
        "Wed 11/03 08:00 D2",  # last overdue reminder
        "Wed 11/03 13:00 D1",  # the new date, announced when the admin saved it (seen at 13:00)
        "Wed 11/03 13:00 D1",  # moved to 18/3: its 7-day reminder (11/3 08:00) goes at once
        "Fri 13/03 08:00 D1",  # 3 days before 18/3 (Sunday 15 → Friday 13)
    ]
    assert inbox.summary("201", titles) == unit_a
    assert inbox.summary("204", titles) == unit_a
    assert inbox.summary("202", titles) == unit_a[:-1]  # removed on Thursday
    assert inbox.summary("203", titles) == [  # unit B handed D2 in on Wednesday 09:00
        "Mon 02/03 08:00 D2",
        "Wed 04/03 08:00 D2",
        "Tue 10/03 10:00 D1",
        "Wed 11/03 13:00 D1",  # the new date announced
        "Wed 11/03 13:00 D1",
        "Fri 13/03 08:00 D1",
    ]
    # Never during quiet hours, always with the button that starts that deadline's report.
    for chat in ("201", "202", "203", "204"):
        for item in inbox.log[chat]:
            assert 7 <= int(item.at.split()[2][:2]) < 21
            deadline_id = d1_id if "Báo cáo sơ kết" in item.text else d2_id
            assert item.payloads == [f"rp:{deadline_id}"]
    slots = [r.slot for r in _logs(bot, member_id=ids["201"], status=ReminderStatus.SENT)]
    assert slots == [
        "before-3d@20260305",
        "before-1d@20260305",
        "due@20260305",
        "overdue-2@20260305",
        "before-7d@20260316",
        "overdue-3@20260305",
        "before-7d@20260318",
        "before-3d@20260318",
    ]
    assert all(r.message_id for r in _logs(bot, status=ReminderStatus.SENT))


# --- helpers for the focused scenarios -----------------------------------------------------------
def _unit(db: Session, unit_id: int) -> Unit:
    unit = db.get(Unit, unit_id)
    assert unit is not None
    return unit


def _submit(bot: TestBot, unit_id: int, deadline_id: int, at) -> None:
    with bot.db() as db:
        deadline = db.get(Deadline, deadline_id)
        assert deadline is not None
        make_report(db, _unit(db, unit_id), deadline, submitted_at=at)
        db.commit()


def _texts(channel: ScriptedChannel, chat: str) -> list[str]:
    return [m.text for m in channel.sent[chat]]


# --- always current ------------------------------------------------------------------------------
async def test_a_unit_that_submits_at_0959_gets_no_1000_reminder(
    bot: TestBot, clock: ManualClock, engine, channel: ScriptedChannel
) -> None:
    ids = reminder_world(bot)
    deadline_id = add_deadline(bot, ids, local(2026, 3, 12, 17), policy={"send_at": "10:00"})
    scheduler = scheduler_for(bot.core)
    clock.set(local(2026, 3, 5, 9, 59))
    _submit(bot, ids["A"], deadline_id, clock.now())
    clock.set(local(2026, 3, 5, 10, 0))  # the 7-day reminder is due now
    report = await scheduler.tick()
    assert report.reminders.sent == 2
    assert not channel.sent["201"] and not channel.sent["202"]
    assert len(channel.sent["203"]) == len(channel.sent["204"]) == 1

    # Checked again at the claim itself: a report handed in between planning and claiming wins.
    clock.set(local(2026, 3, 9, 10, 0))  # the 3-day reminder
    with Session(engine) as session:
        planned = plan_due(session, now=clock.now(), calendar=load_calendar(), channels=["memory"])
    assert {c.member_id for c in planned} == {ids["203"], ids["204"]}
    _submit(bot, ids["C"], deadline_id, clock.now())
    with Session(engine) as session:
        result = claim(session, planned, now=clock.now(), channels=["memory"])
        session.commit()
    assert [c.member_id for c in result.claimed] == [ids["203"]]


async def test_closing_a_campaign_stops_its_reminders(
    bot: TestBot, clock: ManualClock, channel: ScriptedChannel
) -> None:
    ids = reminder_world(bot)
    add_deadline(bot, ids, local(2026, 3, 12, 17))
    scheduler = scheduler_for(bot.core)
    channel.script["203"].append(DeliveryError("NetworkError: Bad Gateway"))
    clock.set(local(2026, 3, 5, 8))
    report = await scheduler.tick()
    assert (report.reminders.sent, report.reminders.deferred) == (3, 1)

    admin = bot.person(ADMIN_USER_ID, "Trưởng phòng")
    await admin.presses_payload(make_payload("dot", "close", ids["campaign"]))
    assert "Đóng đợt thi đua" in admin.last_reply  # asks first
    await admin.presses("Đóng đợt")
    assert "thôi nhắc" in admin.last_reply
    clock.advance(minutes=5)  # the failed send's retry is due, and later the next reminders
    await scheduler.tick()
    clock.set(local(2026, 3, 9, 8))
    await scheduler.tick()
    assert [len(channel.sent[c]) for c in ("201", "202", "203", "204")] == [1, 1, 0, 1]
    (waiting,) = _logs(bot, member_id=ids["203"])
    assert (waiting.status, waiting.error) == (
        ReminderStatus.SKIPPED,
        "campaign not active; last error: NetworkError: Bad Gateway",
    )
    with bot.db() as db:
        assert db.exec(select(AuditLog).where(AuditLog.action == "campaign.close")).one()


async def test_a_removed_or_pending_officer_gets_nothing(
    bot: TestBot, clock: ManualClock, channel: ScriptedChannel
) -> None:
    ids = reminder_world(bot)
    with bot.db() as db:
        for member_id, status in (
            (ids["202"], MemberStatus.REMOVED),
            (ids["203"], MemberStatus.PENDING),
        ):
            member = db.get(Member, member_id)
            assert member is not None
            member.status = status
            db.add(member)
        db.commit()
    add_deadline(bot, ids, local(2026, 3, 12, 17))
    clock.set(local(2026, 3, 5, 8))
    await scheduler_for(bot.core).tick()
    assert [len(channel.sent[c]) for c in ("201", "202", "203", "204")] == [1, 0, 0, 1]


# --- never twice ---------------------------------------------------------------------------------
async def test_ticks_again_and_a_restart_send_nothing_twice(
    bot: TestBot, clock: ManualClock, settings, engine, channel: ScriptedChannel
) -> None:
    ids = reminder_world(bot)
    add_deadline(bot, ids, local(2026, 3, 12, 17))
    clock.set(local(2026, 3, 5, 8))
    scheduler = scheduler_for(bot.core)
    await scheduler.tick()
    await scheduler.tick()
    restarted = build_core(settings, engine=engine, clock=clock, migrate=False)
    restarted.hub.register(channel)
    clock.advance(minutes=1)
    report = await scheduler_for(restarted).tick()
    assert report.reminders.total == 0
    assert [len(channel.sent[c]) for c in ("201", "202", "203", "204")] == [1, 1, 1, 1]


async def test_two_planners_racing_claim_each_reminder_once(
    bot: TestBot, clock: ManualClock, engine
) -> None:
    ids = reminder_world(bot)
    add_deadline(bot, ids, local(2026, 3, 12, 17))
    clock.set(local(2026, 3, 5, 8))
    calendar = load_calendar()
    with Session(engine) as first, Session(engine) as second:
        plan_one = plan_due(first, now=clock.now(), calendar=calendar, channels=["memory"])
        plan_two = plan_due(second, now=clock.now(), calendar=calendar, channels=["memory"])
    assert plan_one == plan_two and len(plan_one) == 4
    with Session(engine) as session:
        won = claim(session, plan_one, now=clock.now(), channels=["memory"])
        session.commit()
    with Session(engine) as session:
        lost = claim(session, plan_two, now=clock.now(), channels=["memory"])
        session.commit()
    assert len(won.claimed) == 4 and lost.claimed == []


async def test_two_bot_processes_ticking_at_once_send_each_reminder_once(
    bot: TestBot, clock: ManualClock, settings, database_url, monkeypatch
) -> None:
    with bot.db() as db:
        campaign = make_campaign(db)
        make_deadline(db, campaign, due_at=local(2026, 3, 12, 17))
        for n in range(30):
            make_member(db, f"3{n:02d}", unit=make_unit(db))
        db.commit()
    clock.set(local(2026, 3, 5, 8))
    # Both processes plan the same 30 reminders before either claims any, then claim five at a
    # time, interleaved, each through its own engine (its own connections).
    both_planned = threading.Barrier(2)
    planned: list[int] = []

    def plan_then_wait(*args, **kwargs):
        result = plan_due(*args, **kwargs)
        planned.append(len(result))
        both_planned.wait(timeout=30)
        return result

    monkeypatch.setattr("bot.scheduler.plan_due", plan_then_wait)
    url, schema = database_url
    channels = [ScriptedChannel(), ScriptedChannel()]
    engines = [create_db_engine(url, schema=schema) for _ in channels]
    schedulers = []
    for engine, channel in zip(engines, channels, strict=True):
        core = build_core(settings, engine=engine, clock=clock, migrate=False)
        core.hub.register(channel)
        scheduler = scheduler_for(core)
        scheduler.claim_chunk = 5
        schedulers.append(scheduler)
    reports = []

    def process(scheduler) -> None:
        reports.append(asyncio.run(scheduler.tick()).reminders)

    threads = [threading.Thread(target=process, args=(s,)) for s in schedulers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for engine in engines:
        engine.dispose()
    assert planned == [30, 30]
    per_chat = {
        chat: sum(len(c.sent[chat]) for c in channels) for chat in (f"3{n:02d}" for n in range(30))
    }
    assert set(per_chat.values()) == {1}
    assert sum(r.sent for r in reports) == 30
    assert len(_logs(bot, status=ReminderStatus.SENT)) == 30


# --- never silently lost -------------------------------------------------------------------------
async def test_reminders_missed_while_down_are_sent_once_at_start_up(
    bot: TestBot, clock: ManualClock, settings, engine, channel: ScriptedChannel
) -> None:
    ids = reminder_world(bot)
    add_deadline(bot, ids, local(2026, 3, 12, 17))
    # Down from before Thursday's 7-day reminder until Friday 11:00: it goes at start-up, once.
    clock.set(local(2026, 3, 6, 11))
    core = build_core(settings, engine=engine, clock=clock, migrate=False)
    core.hub.register(channel)
    report = await scheduler_for(core).tick()
    assert report.reminders.sent == 4
    assert "Thời gian còn lại: <b>6 ngày 6 giờ</b>" in channel.sent["201"][0].text
    clock.advance(minutes=1)
    restarted = build_core(settings, engine=engine, clock=clock, migrate=False)
    restarted.hub.register(channel)
    assert (await scheduler_for(restarted).tick()).reminders.total == 0
    assert len(channel.sent["201"]) == 1


async def test_nothing_is_caught_up_for_a_deadline_long_past(
    bot: TestBot, clock: ManualClock, channel: ScriptedChannel
) -> None:
    ids = reminder_world(bot)
    add_deadline(bot, ids, local(2026, 3, 3, 17))  # last overdue reminder: Monday 9/3 08:00
    clock.set(local(2026, 3, 20, 9))  # the bot was down for two weeks
    report = await scheduler_for(bot.core).tick()
    assert report.reminders.total == 0 and not channel.sent["201"]


async def test_a_failed_send_is_retried_with_backoff_until_it_goes(
    bot: TestBot, clock: ManualClock, channel: ScriptedChannel
) -> None:
    ids = reminder_world(bot)
    add_deadline(bot, ids, local(2026, 3, 12, 17))
    channel.script["201"] += [
        DeliveryError("NetworkError: httpx.ConnectError: connection refused"),
        DeliveryError("RetryAfter: Flood control exceeded", retry_after=300),
        DeliveryError("NetworkError: Bad Gateway"),
    ]
    scheduler = scheduler_for(bot.core)
    clock.set(local(2026, 3, 5, 8))
    first = await scheduler.tick()
    assert (first.reminders.sent, first.reminders.deferred) == (3, 1)
    (row,) = _logs(bot, member_id=ids["201"])
    assert row.status == ReminderStatus.RETRY and row.next_attempt_at == clock.now() + timedelta(
        minutes=1
    )

    clock.advance(seconds=30)
    assert (await scheduler.tick()).reminders.total == 0  # not yet
    clock.advance(seconds=30)
    assert (await scheduler.tick()).reminders.deferred == 1  # 429: wait what Telegram asks
    (row,) = _logs(bot, member_id=ids["201"])
    assert row.next_attempt_at == clock.now() + timedelta(seconds=300)
    clock.advance(seconds=300)
    assert (await scheduler.tick()).reminders.deferred == 1  # 5xx: backoff 4 minutes now
    (row,) = _logs(bot, member_id=ids["201"])
    assert row.next_attempt_at == clock.now() + timedelta(minutes=4)
    clock.advance(minutes=4)
    assert (await scheduler.tick()).reminders.sent == 1
    (row,) = _logs(bot, member_id=ids["201"])
    assert (row.status, row.attempts, row.error) == (ReminderStatus.SENT, 4, None)
    assert channel.attempts["201"] == 4 and len(channel.sent["201"]) == 1


async def test_a_send_that_keeps_failing_is_given_up_with_its_reason(
    bot: TestBot, clock: ManualClock, channel: ScriptedChannel
) -> None:
    ids = reminder_world(bot)
    add_deadline(bot, ids, local(2026, 3, 12, 17))
    channel.script["201"] += [DeliveryError("NetworkError: Bad Gateway")] * (MAX_ATTEMPTS + 2)
    scheduler = scheduler_for(bot.core)
    clock.set(local(2026, 3, 5, 8))
    for _ in range(MAX_ATTEMPTS + 3):
        await scheduler.tick()
        clock.advance(hours=1)
    (row,) = _logs(bot, member_id=ids["201"])
    assert row.status == ReminderStatus.FAILED
    assert row.error == f"gave up after {MAX_ATTEMPTS} attempts: NetworkError: Bad Gateway"
    assert channel.attempts["201"] == MAX_ATTEMPTS and not channel.sent["201"]


async def test_an_unknown_outcome_is_not_resent_and_is_shown_to_admins(
    bot: TestBot, clock: ManualClock, settings, engine, channel: ScriptedChannel
) -> None:
    ids = reminder_world(bot)
    with bot.db() as db:
        make_member(db, ADMIN_USER_ID, role=Role.ADMIN, name="Trưởng phòng Nội vụ")
        db.commit()
    add_deadline(bot, ids, local(2026, 3, 12, 17))
    channel.script["201"].append(LOST)
    scheduler = scheduler_for(bot.core)
    clock.set(local(2026, 3, 5, 8))
    report = await scheduler.tick()
    assert report.reminders.unknown == 1
    (row,) = _logs(bot, member_id=ids["201"])
    assert row.status == ReminderStatus.SENDING and row.error.startswith("unknown outcome")
    # A restart and the following days do not resend it blindly.
    restarted = build_core(settings, engine=engine, clock=clock, migrate=False)
    restarted.hub.register(channel)
    scheduler = scheduler_for(restarted)
    clock.advance(hours=2)
    await scheduler.tick()
    assert channel.attempts["201"] == 1 and len(channel.sent["201"]) == 1
    clock.set(local(2026, 3, 6, 8))
    await scheduler.tick()
    digest = channel.sent[ADMIN_USER_ID][-1].text
    assert "1 lời nhắc chưa rõ đã đến hay chưa" in digest
    assert "Xã Bình Lư — Cán bộ 201" in digest


async def test_a_user_who_blocked_the_bot_is_marked_and_not_retried(
    bot: TestBot, clock: ManualClock, channel: ScriptedChannel
) -> None:
    ids = reminder_world(bot)
    add_deadline(bot, ids, local(2026, 3, 12, 17))
    channel.unreachable.add("201")
    scheduler = scheduler_for(bot.core)
    clock.set(local(2026, 3, 5, 8))
    report = await scheduler.tick()
    assert (report.reminders.sent, report.reminders.failed) == (3, 1)
    (row,) = _logs(bot, member_id=ids["201"])
    assert row.status == ReminderStatus.FAILED and "blocked" in (row.error or "")
    with bot.db() as db:
        member = db.get(Member, ids["201"])
        assert member is not None and member.unreachable_at == clock.now()
    for day in (6, 9, 10, 11):  # later ticks and later reminders leave them alone
        clock.set(local(2026, 3, day, 8))
        await scheduler.tick()
    assert channel.attempts["201"] == 1
    assert len(channel.sent["202"]) == 3  # 7-day, 3-day (Monday 9), 1-day (Wednesday 11)


# --- quiet hours ---------------------------------------------------------------------------------
async def test_quiet_hours_hold_reminders_and_retries_until_seven(
    bot: TestBot, clock: ManualClock, channel: ScriptedChannel
) -> None:
    ids = reminder_world(bot)
    add_deadline(bot, ids, local(2026, 3, 12, 17), policy={"send_at": "20:55"})
    channel.script["201"].append(DeliveryError("NetworkError: Bad Gateway"))
    scheduler = scheduler_for(bot.core)
    clock.set(local(2026, 3, 5, 20, 55))
    report = await scheduler.tick()
    assert (report.reminders.sent, report.reminders.deferred) == (3, 1)
    (row,) = _logs(bot, member_id=ids["201"])
    assert row.next_attempt_at == local(2026, 3, 5, 20, 56)  # one minute, still before 21:00
    channel.script["201"].append(DeliveryError("NetworkError: Bad Gateway"))
    clock.set(local(2026, 3, 5, 20, 59))
    await scheduler.tick()
    (row,) = _logs(bot, member_id=ids["201"])
    assert row.next_attempt_at == local(2026, 3, 6, 7, 0)  # 21:01 is quiet: wait for 07:00
    for moment in (local(2026, 3, 5, 23), local(2026, 3, 6, 3), local(2026, 3, 6, 6, 59)):
        clock.set(moment)
        assert (await scheduler.tick()).reminders.total == 0
    clock.set(local(2026, 3, 6, 7, 0))
    assert (await scheduler.tick()).reminders.sent == 1
    assert len(channel.sent["201"]) == 1


# --- "Nhắc ngay" ---------------------------------------------------------------------------------
async def test_remind_now_goes_to_missing_units_once_an_hour_and_is_audited(
    bot: TestBot, clock: ManualClock, channel: ScriptedChannel
) -> None:
    ids = reminder_world(bot)
    deadline_id = add_deadline(bot, ids, local(2026, 3, 12, 17), title="Báo cáo sơ kết")
    _submit(bot, ids["B"], deadline_id, local(2026, 3, 2, 9))
    scheduler = scheduler_for(bot.core)
    clock.set(local(2026, 3, 3, 10, 15))
    admin = bot.person(ADMIN_USER_ID, "Trưởng phòng")
    await admin.presses_payload(make_payload("nhac", deadline_id))
    assert "Đang gửi nhắc «Báo cáo sơ kết» tới 3 cán bộ của 2 đơn vị chưa nộp" in admin.last_reply
    report = await scheduler.tick()
    assert report.reminders.sent == 3
    reminder = channel.sent["201"][-1]
    assert "Báo cáo sơ kết" in reminder.text and "Xã Bình Lư" in reminder.text
    assert reminder.button_payloads() == [f"rp:{deadline_id}"]
    assert not channel.sent["203"]  # unit B has handed in

    clock.set(local(2026, 3, 3, 10, 50))  # pressed again within the hour: nothing twice
    await admin.presses_payload(make_payload("nhac", deadline_id))
    assert "vừa được nhắc trong giờ này" in admin.last_reply
    await scheduler.tick()
    assert len(channel.sent["201"]) == 1
    clock.set(local(2026, 3, 3, 11, 5))  # a new hour: the admin may remind again
    await admin.presses_payload(make_payload("nhac", deadline_id))
    await scheduler.tick()
    assert len(channel.sent["201"]) == 2
    with bot.db() as db:
        audits = db.exec(select(AuditLog).where(AuditLog.action == "reminder.manual")).all()
    assert [a.detail["queued_members"] for a in audits] == [3, 0, 3]
    assert {r.slot for r in _logs(bot, member_id=ids["201"])} == {
        "manual@2026030310",
        "manual@2026030311",
    }


async def test_remind_now_does_not_double_a_scheduled_reminder_of_the_same_hour(
    bot: TestBot, clock: ManualClock, channel: ScriptedChannel
) -> None:
    ids = reminder_world(bot)
    deadline_id = add_deadline(bot, ids, local(2026, 3, 12, 17))
    scheduler = scheduler_for(bot.core)
    clock.set(local(2026, 3, 5, 8))
    await scheduler.tick()  # the 7-day reminder
    clock.set(local(2026, 3, 5, 8, 40))
    admin = bot.person(ADMIN_USER_ID)
    await admin.presses_payload(make_payload("nhac", deadline_id))
    assert "vừa được nhắc trong giờ này" in admin.last_reply
    await scheduler.tick()
    assert [len(channel.sent[c]) for c in ("201", "202", "203", "204")] == [1, 1, 1, 1]


async def test_only_admins_may_remind_now(bot: TestBot, clock: ManualClock) -> None:
    ids = reminder_world(bot)
    deadline_id = add_deadline(bot, ids, local(2026, 3, 12, 17))
    officer = bot.person("201")
    await officer.presses_payload(make_payload("nhac", deadline_id))
    assert "chỉ dành cho quản trị viên" in officer.last_reply
    assert _logs(bot) == []


async def test_remind_now_in_quiet_hours_waits_for_seven(
    bot: TestBot, clock: ManualClock, channel: ScriptedChannel
) -> None:
    ids = reminder_world(bot)
    deadline_id = add_deadline(bot, ids, local(2026, 3, 12, 17))
    scheduler = scheduler_for(bot.core)
    clock.set(local(2026, 3, 3, 22, 30))
    admin = bot.person(ADMIN_USER_ID)
    await admin.presses_payload(make_payload("nhac", deadline_id))
    assert "Đang là giờ nghỉ (21:00–07:00)" in admin.last_reply
    assert "07:00 thứ Tư, 04/03/2026" in admin.last_reply
    await scheduler.tick()
    assert not channel.sent["201"]
    clock.set(local(2026, 3, 4, 7, 0))
    assert (await scheduler.tick()).reminders.sent == 4


# --- the admins' daily digest --------------------------------------------------------------------
async def test_daily_digest_at_eight_with_counts_and_escalation_once_a_day(
    bot: TestBot, clock: ManualClock, settings, engine, channel: ScriptedChannel
) -> None:
    ids = reminder_world(bot)
    with bot.db() as db:
        make_member(db, ADMIN_USER_ID, role=Role.ADMIN)
        db.commit()
    late_id = add_deadline(bot, ids, local(2026, 3, 2, 17), title="Đăng ký thi đua")
    soon_id = add_deadline(bot, ids, local(2026, 3, 12, 17), title="Báo cáo sơ kết")
    _submit(bot, ids["A"], late_id, local(2026, 3, 2, 9))
    _submit(bot, ids["B"], late_id, local(2026, 3, 3, 9))  # a day late
    _submit(bot, ids["A"], soon_id, local(2026, 3, 4, 9))
    scheduler = scheduler_for(bot.core)
    clock.set(local(2026, 3, 5, 7, 59))
    assert (await scheduler.tick()).digests == 0
    clock.set(local(2026, 3, 5, 8, 0))
    assert (await scheduler.tick()).digests == 1
    digest = channel.sent[ADMIN_USER_ID][-1]
    text = digest.text
    assert "Tổng hợp thi đua ngày 05/03/2026" in text
    assert "Đã nộp 2/3 (muộn 1) · chưa nộp 1" in text  # Đăng ký thi đua
    assert "Đã nộp 1/3 (muộn 0) · chưa nộp 2" in text  # Báo cáo sơ kết
    assert "Quá hạn từ 3 ngày trở lên vẫn chưa nộp: Xã Nà Tăm" in text
    assert make_payload("nhac", late_id) in digest.button_payloads()
    # Not twice the same day, not even after a restart; again the next morning.
    clock.advance(minutes=30)
    assert (await scheduler.tick()).digests == 0
    restarted = build_core(settings, engine=engine, clock=clock, migrate=False)
    restarted.hub.register(channel)
    assert (await scheduler_for(restarted).tick()).digests == 0
    clock.set(local(2026, 3, 6, 8, 0))
    assert (await scheduler_for(restarted).tick()).digests == 1


async def test_digest_reports_reminders_given_up(
    bot: TestBot, clock: ManualClock, channel: ScriptedChannel
) -> None:
    ids = reminder_world(bot)
    with bot.db() as db:
        make_member(db, ADMIN_USER_ID, role=Role.ADMIN)
        db.commit()
    add_deadline(bot, ids, local(2026, 3, 12, 17))
    channel.unreachable.add("204")
    scheduler = scheduler_for(bot.core)
    clock.set(local(2026, 3, 5, 8))
    await scheduler.tick()
    text = channel.sent[ADMIN_USER_ID][-1].text
    assert "1 lời nhắc không gửi được" in text
    assert "Xã Nà Tăm — Cán bộ 204: Báo cáo thành tích (người nhận đã chặn bot" in text
    assert "Đã gửi 3 lời nhắc trong 24 giờ qua" in text


# --- /hanchot ------------------------------------------------------------------------------------
async def test_hanchot_lists_my_units_deadlines_with_time_left_and_status(
    bot: TestBot, clock: ManualClock
) -> None:
    ids = reminder_world(bot)
    done = add_deadline(
        bot,
        ids,
        local(2026, 3, 3, 17),
        title="Đăng ký thi đua",
        kind="registration",
        form_code="dang-ky-thi-dua",
    )
    late = add_deadline(bot, ids, local(2026, 3, 1, 17), title="Báo cáo quý I")
    todo = add_deadline(bot, ids, local(2026, 3, 12, 17), title="Báo cáo sơ kết")
    _submit(bot, ids["A"], done, local(2026, 3, 2, 9))
    with bot.db() as db:
        deadline = db.get(Deadline, todo)
        assert deadline is not None
        make_report(db, _unit(db, ids["A"]), deadline, status=ReportStatus.DRAFT, answers={"x": 1})
        db.commit()
    clock.set(local(2026, 3, 5, 9, 0))
    officer = bot.person("201")
    await officer.says("/hanchot")
    text = officer.last_reply
    assert "Hạn nộp của Xã Bình Lư" in text
    assert "Báo cáo quý I" in text and "quá hạn 3 ngày 16 giờ" in text
    assert "Trạng thái: quá hạn, chưa nộp" in text
    assert "Đăng ký thi đua" in text and "Trạng thái: đã nộp đúng hạn" in text
    assert "Cần nộp: Đăng ký thi đua" in text
    assert "còn 7 ngày 8 giờ" in text and "Trạng thái: đang soạn" in text
    # A button starts the report for each deadline not yet handed in.
    payloads = officer.messages[-1].button_payloads()
    assert payloads == [f"rp:{late}", f"rp:{todo}"]


async def test_hanchot_is_for_officers_of_a_unit(bot: TestBot) -> None:
    visitor = bot.person("999")
    await visitor.says("/hanchot")
    assert "chưa đăng ký" in visitor.last_reply


# --- pacing and waking ---------------------------------------------------------------------------
async def test_two_reminders_for_one_chat_in_a_tick_are_spaced_apart(
    bot: TestBot, clock: ManualClock, channel: ScriptedChannel
) -> None:
    ids = reminder_world(bot)
    add_deadline(bot, ids, local(2026, 3, 12, 17), title="Báo cáo sơ kết")
    add_deadline(bot, ids, local(2026, 3, 12, 17), title="Hồ sơ khen thưởng")
    pauses: list[float] = []

    async def sleep(seconds: float) -> None:  # time stands still: every wait is recorded
        pauses.append(seconds)

    scheduler = ReminderScheduler(
        bot.core, pacer=ChatPacer(1.0, monotonic=lambda: 0.0, sleep=sleep)
    )
    clock.set(local(2026, 3, 5, 8))
    assert (await scheduler.tick()).reminders.sent == 8
    assert [len(channel.sent[c]) for c in ("201", "202", "203", "204")] == [2, 2, 2, 2]
    assert pauses == [1.0, 1.0, 1.0, 1.0]  # each chat's second reminder waited a second


async def test_remind_now_wakes_the_running_scheduler(
    bot: TestBot, clock: ManualClock, channel: ScriptedChannel
) -> None:
    ids = reminder_world(bot)
    deadline_id = add_deadline(bot, ids, local(2026, 3, 12, 17))
    clock.set(local(2026, 3, 3, 10))
    scheduler = scheduler_for(bot.core)
    scheduler.start()  # its start-up tick finds nothing due yet
    try:
        await bot.person(ADMIN_USER_ID).presses_payload(make_payload("nhac", deadline_id))
        # Well before the next 30-second tick: the press woke the scheduler (a press during
        # the start-up tick makes that tick run once more).
        await eventually(lambda: channel.sent["204"], timeout=5, what="the remind-now tick")
    finally:
        scheduler.shutdown()
    assert [len(channel.sent[c]) for c in ("201", "202", "203", "204")] == [1, 1, 1, 1]


async def test_zalo_officers_outside_the_reply_window_are_skipped_and_named_in_the_digest(
    bot: TestBot, clock: ManualClock, channel: ScriptedChannel
) -> None:
    """Zalo may only let a bot write within a window after the user's last message: such
    officers are not sent to (a send would fail), the skip is recorded, and admins see who."""
    zalo = MemoryChannel("zalo")
    zalo.reply_window = timedelta(hours=48)  # type: ignore[attr-defined]
    bot.core.hub.register(zalo)
    ids = reminder_world(bot)
    with bot.db() as db:
        unit_c = db.get(Unit, ids["C"])
        recent = make_member(db, "z-recent", unit=unit_c, channel="zalo", name="Lò Thị Hoa")
        silent = make_member(db, "z-silent", unit=unit_c, channel="zalo", name="Vàng A Páo")
        recent.last_seen_at = local(2026, 3, 4, 20)
        silent.last_seen_at = local(2026, 2, 20, 9)
        make_member(db, ADMIN_USER_ID, role=Role.ADMIN)
        db.commit()
    add_deadline(bot, ids, local(2026, 3, 12, 17))
    clock.set(local(2026, 3, 5, 8, 0))  # the 7-day reminder falls due
    await scheduler_for(bot.core).tick()
    assert len(zalo.sent["z-recent"]) == 1 and zalo.sent["z-silent"] == []
    assert len(channel.sent["204"]) == 1  # Telegram officers of the same unit as usual
    skipped = _logs(bot, status=ReminderStatus.SKIPPED)
    assert [log.member_id for log in skipped] == [silent.id]
    assert "reply window" in (skipped[0].error or "")
    digest = channel.sent[ADMIN_USER_ID][-1].text
    assert "chưa nhắn bot" in digest and "Vàng A Páo" in digest and "Lò Thị Hoa" not in digest
