"""Helpers for reminder tests: local times in Hà Nội, a channel whose sends can be scripted to
fail, a scheduler without per-chat pauses, and an inbox that notes when each message came."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.channels.memory import MemoryChannel
from bot.channels.text import html_to_plain
from bot.clock import ManualClock
from bot.core import BotCore
from bot.delivery import ChatPacer
from bot.events import Inbound, Outbound
from bot.hub import DeliveryError
from bot.scheduler import ReminderScheduler
from models.campaigns import Campaign
from tests.utils.factories import make_campaign, make_deadline, make_member, make_unit
from tests.utils.scenario import TestBot

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
LOST = "lost"  # the message arrives but the sender never hears back (unknown outcome)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=HANOI)


class ScriptedChannel(MemoryChannel):
    """A MemoryChannel whose next sends to a chat can fail as scripted."""

    def __init__(self, name: str = "memory") -> None:
        super().__init__(name)
        self.script: dict[str, list[DeliveryError | str]] = defaultdict(list)
        self.attempts: Counter[str] = Counter()

    async def send(
        self, chat_id: str, message: Outbound, reply_to: Inbound | None = None
    ) -> str | None:
        self.attempts[chat_id] += 1
        if self.script[chat_id]:
            action = self.script[chat_id].pop(0)
            if action == LOST:
                self.sent[chat_id].append(message)
                raise DeliveryError("TimedOut: read timeout", uncertain=True)
            assert isinstance(action, DeliveryError)
            raise action
        return await super().send(chat_id, message, reply_to)


def scheduler_for(core: BotCore) -> ReminderScheduler:
    """The scheduler as production builds it, without real pauses between sends to a chat."""
    scheduler = ReminderScheduler(core, pacer=ChatPacer(0))
    core.services.reminders = scheduler
    return scheduler


@dataclass
class Received:
    at: str  # local time, "Mon 02/03 08:00"
    text: str
    payloads: list[str]


class Inbox:
    """What each chat received, stamped with the clock's local time when it was noticed."""

    def __init__(self, channel: MemoryChannel, clock: ManualClock) -> None:
        self.channel = channel
        self.clock = clock
        self.seen: Counter[str] = Counter()
        self.log: dict[str, list[Received]] = defaultdict(list)

    def collect(self) -> None:
        stamp = self.clock.now().astimezone(HANOI).strftime("%a %d/%m %H:%M")
        for chat_id, messages in self.channel.sent.items():
            for message in messages[self.seen[chat_id] :]:
                self.log[chat_id].append(
                    Received(stamp, html_to_plain(message.text), message.button_payloads())
                )
            self.seen[chat_id] = len(messages)

    def summary(self, chat_id: str, titles: dict[str, str]) -> list[str]:
        """`"Mon 02/03 08:00 D2"` per message, naming deadlines by the short names given."""
        lines = []
        for item in self.log[chat_id]:
            names = [short for title, short in titles.items() if title in item.text]
            lines.append(f"{item.at} {'+'.join(names) or '?'}")
        return lines


def reminder_world(bot: TestBot) -> dict[str, int]:
    """Three communes with four officers, one active campaign (IDs returned by name)."""
    with bot.db() as db:
        a, b, c = (make_unit(db, name) for name in ("Xã Bình Lư", "Xã Bản Bo", "Xã Nà Tăm"))
        ids = {"A": a.id, "B": b.id, "C": c.id}
        for user_id, unit in (("201", a), ("202", a), ("203", b), ("204", c)):
            ids[user_id] = make_member(db, user_id, unit=unit).id  # type: ignore[assignment]
        campaign = make_campaign(db)
        ids["campaign"] = campaign.id  # type: ignore[assignment]
        db.commit()
    return ids


def add_deadline(bot: TestBot, ids: dict[str, int], due: datetime, **kwargs: object) -> int:
    """A deadline of `reminder_world`'s campaign, due at `due`; its id.

    A form printed from no Word template: these scenarios count deadline reminders only, not
    the nudges for a missing signed scan (tests/test_signing_loop.py)."""
    kwargs.setdefault("form_code", "de-nghi-khen-thuong")
    with bot.db() as db:
        campaign = db.get(Campaign, ids["campaign"])
        assert campaign is not None
        deadline = make_deadline(db, campaign, due_at=due, **kwargs)  # type: ignore[arg-type]
        db.commit()
        assert deadline.id is not None
        return deadline.id
