"""A process started after DIGEST_TIME does not use up the day's digest before the reminders
its predecessor left unknown can be named in it.

A reminder whose send a crash interrupted stays `sending`: its outcome is unknown, and it is
named in the admins' daily digest once UNKNOWN_AFTER has passed since its claim. A process
restarted after DIGEST_TIME used to send (and claim) the day's one digest on its first tick,
before that: the unknown reminders waited until the next day.
"""

from __future__ import annotations

import pytest

from bot.runtime import build_core
from domain.ledger import UNKNOWN_AFTER
from models.units import Role
from tests.utils.factories import make_member
from tests.utils.ids import ADMIN_USER_ID
from tests.utils.reminders import (
    LOST,
    ScriptedChannel,
    add_deadline,
    local,
    reminder_world,
    scheduler_for,
)
from tests.utils.scenario import TestBot


@pytest.fixture
def channel() -> ScriptedChannel:
    return ScriptedChannel()


async def test_a_restart_after_digest_time_waits_to_name_the_unknown_reminders(
    bot: TestBot, clock, settings, engine, channel: ScriptedChannel
) -> None:
    settings = settings.model_copy(update={"digest_time": "09:00"})
    ids = reminder_world(bot)
    with bot.db() as db:
        make_member(db, ADMIN_USER_ID, role=Role.ADMIN, name="Trưởng phòng Nội vụ")
        db.commit()
    add_deadline(bot, ids, local(2026, 3, 12, 17))
    before = build_core(settings, engine=engine, clock=clock, migrate=False)
    before.hub.register(channel)
    channel.script["201"].append(LOST)  # the process dies while this reminder is sent
    clock.set(local(2026, 3, 5, 8, 58))
    assert (await scheduler_for(before).tick()).reminders.unknown == 1

    # Restarted at 09:02, after DIGEST_TIME: not yet — the reminder is not "unknown" until 09:08.
    clock.set(local(2026, 3, 5, 9, 2))
    restarted = build_core(settings, engine=engine, clock=clock, migrate=False)
    restarted.hub.register(channel)
    scheduler = scheduler_for(restarted)
    assert (await scheduler.tick()).digests == 0
    clock.set(local(2026, 3, 5, 9, 2) + UNKNOWN_AFTER)
    assert (await scheduler.tick()).digests == 1
    digest = channel.sent[ADMIN_USER_ID][-1].text
    assert "1 lời nhắc chưa rõ đã đến hay chưa" in digest
    clock.advance(minutes=30)
    assert (await scheduler.tick()).digests == 0  # still once a day
