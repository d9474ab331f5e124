"""Work on untrusted input in a child process: its answer comes back, and a child that runs
too long or asks for too much memory is stopped while the caller carries on."""

from __future__ import annotations

import os
import time

import pytest

from bot.isolated import IsolatedError, run_isolated

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the fork server is POSIX-only")

GIB = 1024 * 1024 * 1024


def answer(value: int) -> dict[str, int]:
    return {"value": value, "pid": os.getpid()}


def sleep_long() -> None:
    time.sleep(60)


def eat_memory() -> int:
    blocks = [bytearray(256 * 1024 * 1024) for _ in range(16)]  # 4 GB, past the limit
    return len(blocks)


class Refused(Exception):
    reason = "zip_bomb"


def refuse() -> None:
    raise Refused


async def test_the_answer_comes_back_from_another_process() -> None:
    result = await run_isolated(answer, 7, timeout=30, memory_bytes=GIB)
    assert result["value"] == 7 and result["pid"] != os.getpid()


async def test_a_child_past_its_time_is_stopped() -> None:
    started = time.monotonic()
    with pytest.raises(IsolatedError) as stopped:
        await run_isolated(sleep_long, timeout=1, memory_bytes=GIB)
    assert stopped.value.reason == "timeout"
    assert time.monotonic() - started < 15


async def test_a_child_past_its_memory_is_stopped_and_the_caller_goes_on() -> None:
    with pytest.raises(IsolatedError) as stopped:
        await run_isolated(eat_memory, timeout=30, memory_bytes=GIB)
    assert stopped.value.reason == "memory"
    assert (await run_isolated(answer, 1, timeout=30, memory_bytes=GIB))["value"] == 1


async def test_a_refusal_keeps_its_reason() -> None:
    with pytest.raises(IsolatedError) as refused:
        await run_isolated(refuse, timeout=30, memory_bytes=GIB)
    assert refused.value.reason == "zip_bomb"
