"""`thidua-bot run` as a real child process, for the fault and security tests: start it against
the fake Bot API server, kill it with SIGKILL wherever the test likes, start it again on the
same database.

The child gets a clean environment (no `.env` is read: it runs in a temporary directory), its
settings passed as variables. It reads the same `__pycache__` bytecode the test process wrote
(a private cache prefix used to make every worker's first start recompile the standard library
and every dependency: 2.5 s). Its log (stdout and stderr) goes to a file the test can read after
the fact.

Fixtures (registered in tests/conftest.py): `deployment_db` (a migrated SQLite file
with two units, their officers, an admin and an open deadline), `bot_process`.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.db import create_db_engine
from models.conversation import ProcessedUpdate
from models.reports import Report
from models.units import Role, Unit
from tests.fakes.telegram_api import FakeTelegram
from tests.utils.factories import make_campaign, make_deadline, make_member, make_unit
from tests.utils.ids import ADMIN_USER_ID

REPO_ROOT = Path(__file__).resolve().parents[2]
# Variables of the parent the child keeps (settings come only from `settings`).
_INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
STARTUP_SECONDS = 30.0  # generous: a loaded machine with cold caches
OFFICER = 4242  # officer of XA-001 "Xã Bình Lư"
COLLEAGUE = 4343  # officer of XA-002 "Xã Bản Giang"
COLLEAGUE_PHONE = "0987654321"


class BotProcess:
    """One bot deployment: a work directory, settings, and the process currently running it."""

    def __init__(self, work_dir: Path, settings: dict[str, str]) -> None:
        self.work_dir = work_dir
        self.settings = settings
        self.log_path = work_dir / "bot.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        # Arguments after `thidua-bot run` (e.g. ["--webhook"]).
        self.run_args: list[str] = []

    def environment(self) -> dict[str, str]:
        env = {k: os.environ[k] for k in _INHERITED if k in os.environ}
        env.update(
            {
                "PYTHONPATH": str(REPO_ROOT),
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
                [sys.executable, "-m", "bot.cli", "run", *self.run_args],
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


# --- fixtures ---------------------------------------------------------------------------------
@pytest.fixture
def deployment_db(tmp_path: Path, sqlite_template: Path) -> Path:
    """A migrated SQLite file with two units, their officers, an admin and an open deadline."""
    path = tmp_path / "thidua.db"
    shutil.copy(sqlite_template, path)
    engine = create_db_engine(f"sqlite:///{path}")
    # The child runs on the system clock, so the deadline is due two weeks from now.
    due = datetime.now(UTC) + timedelta(days=14)
    with Session(engine) as db:
        binh_lu = make_unit(db, "Xã Bình Lư", code="XA-001")
        ban_giang = make_unit(db, "Xã Bản Giang", code="XA-002")
        make_member(db, str(OFFICER), unit=binh_lu, channel="telegram", name="Lò Văn Tâm")
        make_member(
            db,
            str(COLLEAGUE),
            unit=ban_giang,
            channel="telegram",
            name="Tao Thị Hoa",
            phone=COLLEAGUE_PHONE,
        )
        make_member(db, ADMIN_USER_ID, role=Role.ADMIN, channel="telegram", name="Phòng Nội vụ")
        make_deadline(db, make_campaign(db), title="Báo cáo thành tích đợt 1", due_at=due)
        db.commit()
    engine.dispose()
    return path


@pytest.fixture
async def bot_process(
    telegram_api: FakeTelegram, deployment_db: Path, tmp_path: Path
) -> AsyncIterator[BotProcess]:
    process = BotProcess(
        tmp_path / "bot",
        {
            "TELEGRAM_BOT_TOKEN": telegram_api.token,
            "TELEGRAM_BASE_URL": telegram_api.base_url,
            "DATABASE_URL": f"sqlite:///{deployment_db}",
            "STORAGE_DIR": str(tmp_path / "files"),
            "ADMIN_IDS": ADMIN_USER_ID,
            "LOG_LEVEL": "INFO",
            "FLOOD_MAX_PER_WINDOW": "1000",
            # The fake server does not limit a chat here; what these tests crash and count is
            # not paced (tests/test_telegram_keyboards_pacing.py is where pacing is tested).
            "TELEGRAM_CHAT_SPACING_SECONDS": "0",
        },
    )
    yield process
    process.ensure_stopped()


# --- waiting on the child ---------------------------------------------------------------------
async def started(api: FakeTelegram, process: BotProcess) -> None:
    """Start the process and wait until it polls the fake server."""
    polls = api.calls.count("getUpdates")
    process.start()
    deadline = time.monotonic() + STARTUP_SECONDS
    while api.calls.count("getUpdates") == polls:
        if not process.running or time.monotonic() > deadline:
            raise AssertionError(f"the bot did not start polling:\n{process.log()}")
        await asyncio.sleep(0.05)


async def fetched(api: FakeTelegram, *update_ids: int) -> None:
    """Wait until the bot has fetched these updates from the server."""
    deadline = time.monotonic() + 10
    while not set(update_ids) <= set(api.handed_out):
        assert time.monotonic() < deadline, f"updates {update_ids} never fetched"
        await asyncio.sleep(0.02)


async def finished(db_path: Path, update_id: int) -> None:
    """Wait until the bot has recorded the answers to an update as sent."""
    engine = create_db_engine(f"sqlite:///{db_path}")
    deadline = time.monotonic() + 10
    try:
        while True:
            with Session(engine) as db:
                row = db.exec(
                    select(ProcessedUpdate).where(ProcessedUpdate.update_id == str(update_id))
                ).first()
            if row is not None and row.answered_at is not None:
                return
            assert time.monotonic() < deadline, f"update {update_id} never finished"
            await asyncio.sleep(0.02)
    finally:
        engine.dispose()


# --- reading the database ---------------------------------------------------------------------
def report_of(db_path: Path, unit_code: str) -> Report | None:
    engine = create_db_engine(f"sqlite:///{db_path}")
    try:
        with Session(engine) as db:
            unit = db.exec(select(Unit).where(Unit.code == unit_code)).one()
            return db.exec(select(Report).where(Report.unit_id == unit.id)).first()
    finally:
        engine.dispose()


def handled_updates(db_path: Path) -> list[str]:
    engine = create_db_engine(f"sqlite:///{db_path}")
    try:
        with Session(engine) as db:
            return [u.update_id for u in db.exec(select(ProcessedUpdate)).all()]
    finally:
        engine.dispose()
