"""Waiting on the fake Bot API servers (Telegram, Zalo): act, then wait for the answer."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any


async def until(api: Any, chat: int | str, fragment: str, act: Callable[[], object]) -> Any:
    """Do `act`, then wait for a new message to `chat` containing `fragment`; return it.

    `api` is a FakeTelegram or FakeZalo: both keep `sent[chat]`, `texts(chat)` and `wait_for`.
    """
    key = str(chat)
    seen = len(api.sent[key])
    act()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for message, text in zip(api.sent[key][seen:], api.texts(key)[seen:], strict=True):
            if fragment in text:
                return message
        with contextlib.suppress(AssertionError):
            await api.wait_for(key, count=len(api.sent[key]) + 1, timeout=0.5)
    raise AssertionError(f"chat {key} never got {fragment!r}: {api.texts(key)[seen:]}")
