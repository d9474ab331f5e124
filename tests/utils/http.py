"""Waiting on the fake Bot API servers (Telegram, Zalo): act, then wait for the answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.fakes.outbox import Outbox


async def until(api: Outbox, chat: int | str, fragment: str, act: Callable[[], object]) -> Any:
    """Do `act`, then wait for a new message to `chat` containing `fragment`; return it."""
    seen = len(api.sent[str(chat)])
    act()
    return await api.wait_for_text(chat, fragment, after=seen)
