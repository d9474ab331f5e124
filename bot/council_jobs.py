"""The council's periodic work: close review rounds whose time is over (the tally goes to the
admins) and remind members who have not voted on every nominee.

An interval job on the reminder scheduler's APScheduler instance (`council_job`, added by the
composition root); its database work goes through `bot.db.outside_update` in
`core.database_turn()`, like the reminder tick's. A reminder's row
(round, member, slot) is claimed and committed before it is sent, as the deadline reminders
do, so neither a restart nor a second process sends it twice. This module decides nothing:
the rules are in `domain.council`, the texts in `handlers.council` (given at build time as
`PushTexts.council`); sends go through the delivery service like every pushed message.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlmodel import Session

from bot.core import BotCore
from bot.db import outside_update
from bot.events import Address, Delivery
from bot.scheduler import IntervalJob
from domain import council
from models.council import CouncilReminderStatus

log = logging.getLogger(__name__)
TICK_SECONDS = 60


@dataclass(slots=True)
class CouncilTick:
    closed: int = 0
    reminded: int = 0


async def council_tick(core: BotCore) -> CouncilTick:
    report = CouncilTick()
    tz = core.settings.tz
    texts = core.services.push_texts.council
    if texts is None:
        return report
    closed_messages, reminder_message = texts.closed_messages, texts.reminder_message

    def work(session: Session) -> tuple[list[Delivery], list[int]]:
        now = core.clock.now()
        out: list[Delivery] = []
        for round_ in council.due_rounds(session, now=now):
            try:
                council.close_round(session, round_=round_, now=now, how="time")
            except council.CouncilError:
                continue
            report.closed += 1
            for admin, compose in closed_messages(session, round_):
                with core.hub.worded_for(admin.channel):  # "gõ" where choices are typed
                    message = compose()
                out.append(Delivery(Address(admin.channel, admin.chat_id), message))
        claimed = council.claim_reminders(session, now=now)
        ids: list[int] = []
        for round_, member, row in claimed:
            if not core.hub.can_reach(member.channel, member.last_seen_at, now):
                # Out of the platform's reply window (Zalo): recorded, never sent late.
                row.status = CouncilReminderStatus.SKIPPED
                session.add(row)
                continue
            with core.hub.worded_for(member.channel):
                message = reminder_message(session, round_, member, tz)
            out.append(Delivery(Address(member.channel, member.chat_id), message))
            if row.id is not None:
                ids.append(row.id)
        return out, ids

    deliveries, reminder_ids = await outside_update(
        core.engine, work, what="council tick", turn=core.database_turn
    )
    for delivery in deliveries:
        await core.services.delivery.push(delivery)
    if reminder_ids:
        await outside_update(
            core.engine,
            lambda s: council.mark_reminded(s, reminder_ids=reminder_ids, now=core.clock.now()),
            what="council reminders sent",
            turn=core.database_turn,
        )
        report.reminded = len(reminder_ids)
    return report


def council_job(core: BotCore, *, every: float = TICK_SECONDS) -> IntervalJob:
    """`council_tick` every `every` seconds, the first at start-up (rounds that ended while
    the bot was down are closed at once)."""
    return IntervalJob(
        id="council-tick",
        name="council rounds and vote reminders",
        run=lambda: council_tick(core),
        every=every,
    )
