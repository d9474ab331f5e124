"""Waiting for what a fake Bot API server (Telegram, Zalo) sent: the part both fakes share.

A fake keeps `sent[chat]` (messages in order), `_sent_event` (set on every send or edit) and
`texts(chat)` (each message's visible text); this mixin waits on them.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any


class Outbox:
    sent: Any
    _sent_event: asyncio.Event

    def texts(self, chat_id: Any) -> list[str]:
        raise NotImplementedError

    async def wait_for(self, chat_id: Any, count: int = 1, timeout: float = 10.0) -> list[Any]:
        """Wait until `count` messages in all were sent to the chat; return them."""
        deadline = time.monotonic() + timeout
        key = str(chat_id)
        while len(self.sent[key]) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"chat {key}: {len(self.sent[key])} of {count} messages: {self.texts(key)}"
                )
            self._sent_event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._sent_event.wait(), remaining)
        return self.sent[key]

    async def wait_for_text(
        self, chat_id: Any, fragment: str, timeout: float = 10.0, *, after: int = 0
    ) -> Any:
        """The first message (from index `after` on) whose text contains `fragment`."""
        deadline = time.monotonic() + timeout
        key = str(chat_id)
        while True:
            for message, text in zip(self.sent[key][after:], self.texts(key)[after:], strict=True):
                if fragment in text:
                    return message
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"chat {key} never got {fragment!r}: {self.texts(key)}")
            self._sent_event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._sent_event.wait(), min(remaining, 0.5))
