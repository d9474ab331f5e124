"""Faults with a real process: `thidua-bot run` started as a child against the fake Bot API
server, killed with SIGKILL in the middle of a report conversation, started again on the same
SQLite file. Nothing an officer answered may be lost, the conversation goes on where it was,
and no update is answered twice although Telegram delivers the unconfirmed ones again.

Where the kill lands is chosen, not left to chance, so the tests are not flaky:
- inside an update's transaction (the test holds SQLite's write lock, the bot waits on it);
- after an update committed, while its answer is being sent (the fake server leaves that send
  hanging).
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.db import create_db_engine
from models.conversation import ProcessedUpdate
from models.reports import Report
from models.units import Role
from tests.conftest import ADMIN_USER_ID
from tests.fakes.telegram_api import FakeTelegram
from tests.utils.factories import make_campaign, make_deadline, make_member, make_unit
from tests.utils.http import until
from tests.utils.subprocess_bot import BotProcess, sqlite_write_lock

pytestmark = pytest.mark.slow

OFFICER = 4242
COLLEAGUE = 4343  # an officer of another unit, writing at the same time
STARTUP_SECONDS = 30.0  # the first start of a run compiles the sources


@pytest.fixture(scope="session")
def pycache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pycache")


@pytest.fixture
def db_path(tmp_path: Path, sqlite_template: Path) -> Iterator[Path]:
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
        make_member(db, str(COLLEAGUE), unit=ban_giang, channel="telegram", name="Tao Thị Hoa")
        make_member(db, ADMIN_USER_ID, role=Role.ADMIN, channel="telegram", name="Phòng Nội vụ")
        make_deadline(db, make_campaign(db), title="Báo cáo thành tích đợt 1", due_at=due)
        db.commit()
    engine.dispose()
    yield path


@pytest.fixture
async def bot_process(
    telegram_api: FakeTelegram, db_path: Path, tmp_path: Path, pycache: Path
) -> AsyncIterator[BotProcess]:
    process = BotProcess(
        tmp_path / "bot",
        {
            "TELEGRAM_BOT_TOKEN": telegram_api.token,
            "TELEGRAM_BASE_URL": telegram_api.base_url,
            "DATABASE_URL": f"sqlite:///{db_path}",
            "STORAGE_DIR": str(tmp_path / "files"),
            "ADMIN_IDS": ADMIN_USER_ID,
            "LOG_LEVEL": "INFO",
            "FLOOD_MAX_PER_WINDOW": "1000",
        },
        pycache=pycache,
    )
    yield process
    process.ensure_stopped()


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


def questions(api: FakeTelegram, chat: int) -> Counter[str]:
    """How many times each numbered question ("Câu k/9") was sent to the chat."""
    counts: Counter[str] = Counter()
    for text in api.texts(chat):
        for k in range(1, 10):
            if f"Câu {k}/9" in text:
                counts[f"Câu {k}/9"] += 1
    return counts


def report_of(db_path: Path, unit_code: str) -> Report | None:
    engine = create_db_engine(f"sqlite:///{db_path}")
    try:
        with Session(engine) as db:
            reports = db.exec(select(Report)).all()
            from models.units import Unit

            unit = db.exec(select(Unit).where(Unit.code == unit_code)).one()
            return next((r for r in reports if r.unit_id == unit.id), None)
    finally:
        engine.dispose()


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


def handled_updates(db_path: Path) -> list[str]:
    engine = create_db_engine(f"sqlite:///{db_path}")
    try:
        with Session(engine) as db:
            return [u.update_id for u in db.exec(select(ProcessedUpdate)).all()]
    finally:
        engine.dispose()


async def test_sigkill_inside_a_transaction_loses_no_answer(
    telegram_api: FakeTelegram, bot_process: BotProcess, db_path: Path
) -> None:
    api = telegram_api
    await started(api, bot_process)
    await until(api, OFFICER, "Câu 1/9", lambda: api.push_text(OFFICER, "/baocao"))
    await until(
        api,
        OFFICER,
        "Câu 2/9",
        lambda: api.push_text(OFFICER, "Thu ngân sách đạt 105% kế hoạch; giảm hộ nghèo"),
    )
    await until(api, OFFICER, "Câu 3/9", lambda: api.push_text(OFFICER, "12"))
    await finished(db_path, api.handed_out[-1])
    # Two answers acknowledged. Now the bot is frozen inside the next update's transaction
    # (the database is locked by someone else) while more updates wait behind it; kill it.
    with sqlite_write_lock(db_path):
        pending = [
            api.push_text(OFFICER, "11"),
            api.push_text(COLLEAGUE, "/baocao"),
            api.push_text(COLLEAGUE, "Giảm 3% hộ nghèo, 100% thôn có nhà văn hoá"),
        ]
        await fetched(api, *pending)
        await asyncio.sleep(0.3)  # well inside the transaction, waiting for the lock
        bot_process.kill()
    assert "Câu 4/9" not in "\n".join(api.texts(OFFICER))

    await started(api, bot_process)
    # Telegram never got the confirmation, so it delivers them again; each is handled once.
    question = await api.wait_for_text(OFFICER, "Câu 4/9")
    await api.wait_for_text(COLLEAGUE, "Câu 2/9")
    assert "Hoàn thành tốt nhiệm vụ" in [label for label, _ in question.buttons]
    await until(api, OFFICER, "Câu 5/9", lambda: api.press(OFFICER, "Hoàn thành tốt nhiệm vụ"))

    report = report_of(db_path, "XA-001")
    assert report is not None
    assert report.answers["ket_qua"] == "Thu ngân sách đạt 105% kế hoạch; giảm hộ nghèo"
    assert report.answers["tong_chi_tieu"] == 12
    assert report.answers["chi_tieu_dat"] == 11
    assert report.answers["xep_loai"] == "Hoàn thành tốt nhiệm vụ"
    colleague = report_of(db_path, "XA-002")
    assert colleague is not None
    assert colleague.answers["ket_qua"].startswith("Giảm 3% hộ nghèo")
    # Every question went out exactly once, and every update was recorded once.
    assert set(questions(api, OFFICER).values()) == {1}, api.texts(OFFICER)
    assert set(questions(api, COLLEAGUE).values()) == {1}, api.texts(COLLEAGUE)
    handled = handled_updates(db_path)
    assert len(handled) == len(set(handled))
    assert {str(u) for u in pending} <= set(handled)
    assert "Traceback" not in bot_process.log()


async def test_sigkill_while_an_answer_is_being_sent(
    telegram_api: FakeTelegram, bot_process: BotProcess, db_path: Path
) -> None:
    api = telegram_api
    await started(api, bot_process)
    await until(api, OFFICER, "Câu 1/9", lambda: api.push_text(OFFICER, "/baocao"))
    await until(
        api,
        OFFICER,
        "Câu 2/9",
        lambda: api.push_text(OFFICER, "Thu ngân sách đạt 105% kế hoạch; giảm hộ nghèo"),
    )
    # The officer's next answer is saved, but its reply hangs on the way to Telegram; more
    # updates are waiting meanwhile. Then the process dies.
    api.stalled_chats.add(str(OFFICER))
    pending = [
        api.push_text(OFFICER, "12"),
        api.push_text(OFFICER, "11"),
        api.push_text(COLLEAGUE, "/baocao"),
    ]
    await fetched(api, *pending)
    deadline = time.monotonic() + 10
    while (report := report_of(db_path, "XA-001")) is None or "tong_chi_tieu" not in report.answers:
        assert time.monotonic() < deadline, "the answer was never saved"
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)
    bot_process.kill()
    api.stalled_chats.clear()

    await started(api, bot_process)
    # Whatever was not confirmed to Telegram comes again; the officer is asked the question
    # the conversation is at, once.
    await api.wait_for_text(OFFICER, "Câu 4/9")
    await api.wait_for_text(COLLEAGUE, "Câu 1/9")
    await until(api, OFFICER, "Câu 5/9", lambda: api.press(OFFICER, "Hoàn thành tốt nhiệm vụ"))
    report = report_of(db_path, "XA-001")
    assert report is not None
    assert report.answers["tong_chi_tieu"] == 12
    assert report.answers["chi_tieu_dat"] == 11
    assert report.answers["xep_loai"] == "Hoàn thành tốt nhiệm vụ"
    assert set(questions(api, OFFICER).values()) == {1}, api.texts(OFFICER)
    assert set(questions(api, COLLEAGUE).values()) == {1}, api.texts(COLLEAGUE)
