"""Waiting for a condition instead of sleeping a fixed time: `await eventually(lambda: ...)`
returns as soon as the condition holds and fails with a clear message if it never does."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


async def eventually(
    condition: Callable[[], object], *, timeout: float = 10.0, what: str = "the condition"
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not hold within {timeout} s")
        await asyncio.sleep(0.01)  # polling interval, not a synchronisation guess
