"""Running untrusted-input work (reading an uploaded document) in a child process with a time
and memory bound, so a hostile file can neither freeze the bot nor exhaust its memory.

A thread cannot be stopped: a parse that overruns its time in `asyncio.to_thread` keeps a worker
of the shared pool busy and keeps its memory. A child process can be killed. Children are forked
from a small fork server (`multiprocessing`'s "forkserver" start method) that has the parsing
modules already imported, so each job starts in milliseconds; each child lowers its own address
space limit (RLIMIT_AS) before it starts, so the kernel refuses its allocations past the limit
and the parent carries on.

Only picklable functions at module level and plain data cross the boundary. Where the fork
server is not available (not a POSIX system) the work runs in a thread instead, with the time
bound only.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

# Imported once by the fork server, so that each child starts with them loaded. (A child still
# imports the parent's main script again, as multiprocessing does; for `thidua-bot` that is the
# small console script.)
PRELOAD = ["domain.plan_parser", "docx", "pypdf"]


class IsolatedError(Exception):
    """The work did not finish. `reason`: timeout, memory (the child hit its memory limit or
    was killed for memory), crashed, or the `reason` of an exception the work raised with one
    (see `run_isolated`)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_context_lock = threading.Lock()
_context: Any = None


def _forkserver() -> Any:
    global _context
    with _context_lock:
        if _context is None and "forkserver" in multiprocessing.get_all_start_methods():
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(PRELOAD)
            _context = context
        return _context


def _child(
    conn: Connection, func: Callable[..., Any], args: tuple[Any, ...], memory_bytes: int
) -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    except (ImportError, ValueError, OSError):
        pass  # no limit available here: the time bound still holds
    try:
        result: tuple[str, Any] = ("ok", func(*args))
    except MemoryError:
        result = ("error", "memory")
    except Exception as exc:  # handed to the parent, which re-raises it by its reason
        result = ("error", getattr(exc, "reason", None) or type(exc).__name__)
    try:
        conn.send(result)
    finally:
        conn.close()


def _run_in_child(
    context: Any, func: Callable[..., Any], args: tuple[Any, ...], timeout: float, memory: int
) -> Any:
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(sender, func, args, memory), daemon=True)
    process.start()
    sender.close()
    try:
        if not receiver.poll(timeout):
            raise IsolatedError("timeout")
        try:
            status, value = receiver.recv()
        except (EOFError, OSError):
            # Died without an answer: killed by the kernel (SIGKILL: out of memory) or crashed.
            process.join(5)
            reason = "memory" if process.exitcode == -signal.SIGKILL else "crashed"
            raise IsolatedError(reason) from None
    finally:
        receiver.close()
        # The answer is in: the child has nothing left to do but tear its interpreter down.
        if process.is_alive():
            process.kill()
        process.join(5)
        process.close()
    if status == "error":
        raise IsolatedError(value)
    return value


async def run_isolated(
    func: Callable[..., Any], *args: Any, timeout: float, memory_bytes: int
) -> Any:
    """`func(*args)` in a child process, off the event loop; `IsolatedError` when it takes
    longer than `timeout` seconds, runs out of its `memory_bytes`, or raises (the reason is
    the exception's `reason` attribute, or its class name)."""
    context = _forkserver() if os.name == "posix" else None
    if context is None:
        try:
            return await asyncio.wait_for(asyncio.to_thread(func, *args), timeout=timeout)
        except TimeoutError:
            raise IsolatedError("timeout") from None
        except Exception as exc:
            raise IsolatedError(getattr(exc, "reason", None) or type(exc).__name__) from None
    return await asyncio.to_thread(_run_in_child, context, func, args, timeout, memory_bytes)
