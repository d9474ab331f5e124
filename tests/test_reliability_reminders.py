"""What a crash leaves of a reminder run, in-process and on the ManualClock: rows claimed but
never handed to the platform go out after the restart; a row whose send was under way (marked
`sending`) does not; and a row another run took over is not sent by the run that lost it.

The same with a real process killed in the middle of 500 sends: tests/test_faults_reminders.py.
"""

from __future__ import annotations

from sqlmodel import select

from bot.runtime import build_core
from domain.ledger import claim, mark_sending, plan_due, release_claims
from domain.schedule import load_calendar
from models.campaigns import ReminderLog, ReminderStatus
from tests.utils.factories import make_campaign, make_deadline, make_member, make_unit
from tests.utils.reminders import local, scheduler_for
from tests.utils.scenario import TestBot

OFFICERS = ("201", "202", "203")


def _world(bot: TestBot) -> None:
    with bot.db() as db:
        campaign = make_campaign(db)
        make_deadline(db, campaign, title="Báo cáo sơ kết", due_at=local(2026, 3, 12, 17))
        for user_id in OFFICERS:
            make_member(db, user_id, unit=make_unit(db))
        db.commit()


def _crash_mid_run(bot: TestBot, now) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """A run claimed all three reminders, had handed the first to the platform, then died."""
    with bot.db() as db:
        due = plan_due(db, now=now, calendar=load_calendar(), channels=["memory"])
        claimed = claim(db, due, now=now, channels=["memory"]).claimed
        db.commit()
        assert len(claimed) == len(OFFICERS)
        assert mark_sending(db, [claimed[0].log_id]) == {claimed[0].log_id}
        db.commit()
    return {c.chat_id: c.log_id for c in claimed}


def _statuses(bot: TestBot) -> dict[int, str]:
    with bot.db() as db:
        return {row.id: row.status for row in db.exec(select(ReminderLog)).all()}  # type: ignore[misc]


async def test_after_a_crash_unsent_claims_go_out_and_the_one_under_way_does_not(
    bot: TestBot, clock, settings, engine, channel
) -> None:
    _world(bot)
    clock.set(local(2026, 3, 5, 8, 30))  # the 7-days-before reminder is due
    logs = _crash_mid_run(bot, clock.now())
    under_way, *never_sent = OFFICERS

    clock.advance(minutes=1)
    restarted = build_core(settings, engine=engine, clock=clock, migrate=False)
    restarted.hub.register(channel)
    report = await scheduler_for(restarted).tick()
    assert report.reminders.sent == 2
    assert [chat for chat in OFFICERS if channel.sent[chat]] == never_sent
    statuses = _statuses(bot)
    assert statuses[logs[under_way]] == ReminderStatus.SENDING  # unknown: never resent
    assert all(statuses[logs[chat]] == ReminderStatus.SENT for chat in never_sent)
    # Later ticks change nothing.
    clock.advance(hours=1)
    await scheduler_for(restarted).tick()
    assert sum(len(channel.sent[chat]) for chat in OFFICERS) == 2


async def test_a_claim_taken_over_by_another_run_is_not_sent_twice(
    bot: TestBot, clock, channel
) -> None:
    _world(bot)
    clock.set(local(2026, 3, 5, 8, 30))
    with bot.db() as db:
        due = plan_due(db, now=clock.now(), calendar=load_calendar(), channels=["memory"])
        stale = claim(db, due, now=clock.now(), channels=["memory"]).claimed
        db.commit()
    # Another process, started later, puts the claims back and sends them itself.
    clock.advance(minutes=1)
    with bot.db() as db:
        assert release_claims(db, before=clock.now(), now=clock.now()) == len(OFFICERS)
        db.commit()
    report = await scheduler_for(bot.core).tick()
    assert report.reminders.sent == len(OFFICERS)
    # The first run wakes up: none of its claims is its own any more.
    with bot.db() as db:
        assert mark_sending(db, [c.log_id for c in stale]) == set()
    assert all(len(channel.sent[chat]) == 1 for chat in OFFICERS)
