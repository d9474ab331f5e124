"""Scenario helpers: tests read as people talking to the bot.

officer = bot.person("200", "Lò Văn Tâm")
await officer.says("/baocao")
await officer.presses("Nộp")
assert "đã nộp" in officer.last_reply
"""

from __future__ import annotations

from sqlmodel import Session

from bot.channels.memory import MemoryChannel
from bot.channels.text import html_to_plain
from bot.core import BotCore
from bot.events import Button, Inbound, Outbound


class Person:
    def __init__(self, bot: TestBot, user_id: str, name: str) -> None:
        self.bot = bot
        self.user_id = user_id
        self.name = name
        self._seen = 0

    # --- acting -----------------------------------------------------------------------------
    async def says(self, text: str) -> list[Outbound]:
        return await self._send(self.bot.channel.event(self.user_id, name=self.name, text=text))

    async def presses(self, label: str) -> list[Outbound]:
        """Press the button whose label contains `label` on the latest message that has one."""
        button = self.find_button(label)
        event = self.bot.channel.event(self.user_id, name=self.name, payload=button.payload)
        return await self._send(event)

    async def presses_payload(self, payload: str) -> list[Outbound]:
        """Send a raw button payload — what a forged callback would do."""
        return await self._send(
            self.bot.channel.event(self.user_id, name=self.name, payload=payload)
        )

    async def sends_file(
        self, content: bytes, file_name: str, mime_type: str | None = None, caption: str = ""
    ) -> list[Outbound]:
        attachment = self.bot.channel.add_file(content, file_name, mime_type)
        event = self.bot.channel.event(
            self.user_id, name=self.name, text=caption, attachment=attachment
        )
        return await self._send(event)

    async def _send(self, event: Inbound) -> list[Outbound]:
        self._seen = len(self.messages)
        await self.bot.core.process(event)
        return self.new_messages

    # --- reading ----------------------------------------------------------------------------
    @property
    def messages(self) -> list[Outbound]:
        return self.bot.channel.sent[self.user_id]

    @property
    def new_messages(self) -> list[Outbound]:
        return self.messages[self._seen :]

    @property
    def last_reply(self) -> str:
        return html_to_plain(self.messages[-1].text) if self.messages else ""

    @property
    def new_text(self) -> str:
        """All text received since the last action, as one plain string."""
        return "\n".join(html_to_plain(m.text) for m in self.new_messages)

    @property
    def all_text(self) -> str:
        return "\n".join(html_to_plain(m.text) for m in self.messages)

    def find_button(self, label: str) -> Button:
        for message in reversed(self.messages):
            for row in message.buttons:
                for button in row:
                    if label in button.label:
                        return button
        available = [b.label for m in self.messages[-3:] for row in m.buttons for b in row]
        raise AssertionError(f"no button {label!r}; last buttons: {available}")

    @property
    def buttons(self) -> list[str]:
        for message in reversed(self.messages):
            if message.buttons:
                return [b.label for row in message.buttons for b in row]
        return []


class TestBot:
    __test__ = False  # not a pytest class

    def __init__(self, core: BotCore, channel: MemoryChannel) -> None:
        self.core = core
        self.channel = channel

    def db(self) -> Session:
        """A fresh session for assertions: it sees everything the bot committed so far."""
        return Session(self.core.engine, expire_on_commit=False)

    def person(self, user_id: str, name: str = "") -> Person:
        return Person(self, user_id, name or f"Người dùng {user_id}")
