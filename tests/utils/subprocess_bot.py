"""`thidua-bot run` as a real child process, for the fault tests: start it against a fake Bot
API server, kill it with SIGKILL wherever the test likes, start it again on the same database.

The child gets a clean environment (no `.env` is read: it runs in a temporary directory), its
settings passed as variables, and a shared bytecode cache, so only the first start of a test
run pays for compiling the sources. Its log (stdout and stderr) goes to a file the test can
read after the fact.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
# Variables of the parent that must not reach the child (settings come only from `settings`).
_INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")


class BotProcess:
    """One bot deployment: a work directory, settings, and the process currently running it."""

    def __init__(self, work_dir: Path, settings: dict[str, str], *, pycache: Path) -> None:
        self.work_dir = work_dir
        self.settings = settings
        self.pycache = pycache
        self.log_path = work_dir / "bot.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def environment(self) -> dict[str, str]:
        env = {k: os.environ[k] for k in _INHERITED if k in os.environ}
        env.update(
            {
                "PYTHONPATH": str(REPO_ROOT),
                "PYTHONPYCACHEPREFIX": str(self.pycache),
                "PYTHONUNBUFFERED": "1",
                # Channels not under test stay off even if the parent's shell has a token.
                "ZALO_BOT_TOKEN": "",
                **self.settings,
            }
        )
        return env

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None, "already running"
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        with self.log_path.open("ab") as log:
            log.write(f"--- start {self.starts} ---\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "run"],
                cwd=self.work_dir,
                env=self.environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, nothing is flushed or confirmed."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    async def terminate(self, timeout: float = 15.0) -> int:
        """SIGTERM and wait (without blocking the event loop the fake server runs in)."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                self.process.kill()
                self.process.wait()
                raise AssertionError(f"the bot did not stop on SIGTERM:\n{self.log()}")
            await asyncio.sleep(0.05)
        return self.process.returncode

    def ensure_stopped(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@contextmanager
def sqlite_write_lock(path: Path) -> Iterator[None]:
    """Hold SQLite's write lock (BEGIN IMMEDIATE) from outside the bot: a bot update reaching its
    first write then waits inside its transaction — a place to kill it from."""
    connection = sqlite3.connect(path, isolation_level=None, timeout=10)
    try:
        connection.execute("BEGIN IMMEDIATE")
        yield
        connection.execute("ROLLBACK")
    finally:
        connection.close()
