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
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.fakes.telegram_api import FakeTelegram
from tests.utils.http import pressing, saying, until
from tests.utils.subprocess_bot import (
    COLLEAGUE,
    OFFICER,
    BotProcess,
    fetched,
    finished,
    handled_updates,
    report_of,
    sqlite_write_lock,
    started,
)

pytestmark = pytest.mark.slow


def questions(api: FakeTelegram, chat: int) -> Counter[str]:
    """How many times each numbered question ("Câu k/12") was sent to the chat."""
    counts: Counter[str] = Counter()
    for text in api.texts(chat):
        for k in range(1, 13):
            if f"Câu {k}/12" in text:
                counts[f"Câu {k}/12"] += 1
    return counts


async def test_sigkill_inside_a_transaction_loses_no_answer(
    telegram_api: FakeTelegram, bot_process: BotProcess, deployment_db: Path
) -> None:
    api = telegram_api
    say, press = saying(api, OFFICER), pressing(api, OFFICER)
    await started(api, bot_process)
    await until(api, OFFICER, "Câu 1/12", say("/baocao"))
    await until(api, OFFICER, "Câu 2/12", say("Thu ngân sách đạt 105% kế hoạch; giảm hộ nghèo"))
    await until(api, OFFICER, "Câu 3/12", say("12"))
    await finished(deployment_db, api.handed_out[-1])
    # Two answers acknowledged. Now the bot is frozen inside the next update's transaction
    # (the database is locked by someone else) while more updates wait behind it; kill it.
    with sqlite_write_lock(deployment_db):
        pending = [
            api.push_text(OFFICER, "11"),
            api.push_text(COLLEAGUE, "/baocao"),
            api.push_text(COLLEAGUE, "Giảm 3% hộ nghèo, 100% thôn có nhà văn hóa"),
        ]
        await fetched(api, *pending)
        await asyncio.sleep(0.3)  # well inside the transaction, waiting for the lock
        bot_process.kill()
    assert "Câu 4/12" not in "\n".join(api.texts(OFFICER))

    await started(api, bot_process)
    # Telegram never got the confirmation, so it delivers them again; each is handled once.
    question = await api.wait_for_text(OFFICER, "Câu 4/12")
    await api.wait_for_text(COLLEAGUE, "Câu 2/12")
    assert "Hoàn thành tốt nhiệm vụ" in [label for label, _ in question.buttons]
    await until(api, OFFICER, "Câu 5/12", press("Hoàn thành tốt nhiệm vụ"))

    report = report_of(deployment_db, "XA-001")
    assert report is not None
    assert report.answers["ket_qua"] == "Thu ngân sách đạt 105% kế hoạch; giảm hộ nghèo"
    assert report.answers["tong_chi_tieu"] == 12
    assert report.answers["chi_tieu_dat"] == 11
    assert report.answers["xep_loai"] == "Hoàn thành tốt nhiệm vụ"
    colleague = report_of(deployment_db, "XA-002")
    assert colleague is not None
    assert colleague.answers["ket_qua"].startswith("Giảm 3% hộ nghèo")
    # Every question went out exactly once, and every update was recorded once.
    assert set(questions(api, OFFICER).values()) == {1}, api.texts(OFFICER)
    assert set(questions(api, COLLEAGUE).values()) == {1}, api.texts(COLLEAGUE)
    handled = handled_updates(deployment_db)
    assert len(handled) == len(set(handled))
    assert {str(u) for u in pending} <= set(handled)
    assert "Traceback" not in bot_process.log()


async def test_sigkill_while_an_answer_is_being_sent(
    telegram_api: FakeTelegram, bot_process: BotProcess, deployment_db: Path
) -> None:
    api = telegram_api
    say, press = saying(api, OFFICER), pressing(api, OFFICER)
    await started(api, bot_process)
    await until(api, OFFICER, "Câu 1/12", say("/baocao"))
    await until(api, OFFICER, "Câu 2/12", say("Thu ngân sách đạt 105% kế hoạch; giảm hộ nghèo"))
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
    while (
        report := report_of(deployment_db, "XA-001")
    ) is None or "tong_chi_tieu" not in report.answers:
        assert time.monotonic() < deadline, "the answer was never saved"
        await asyncio.sleep(0.05)
    while not api.stalled_requests[str(OFFICER)]:  # its reply is now hanging at the server
        assert time.monotonic() < deadline, "the reply was never sent"
        await asyncio.sleep(0.02)
    bot_process.kill()
    api.stalled_chats.clear()

    await started(api, bot_process)
    # Whatever was not confirmed to Telegram comes again; the officer is asked the question
    # the conversation is at, once.
    await api.wait_for_text(OFFICER, "Câu 4/12")
    await api.wait_for_text(COLLEAGUE, "Câu 1/12")
    await until(api, OFFICER, "Câu 5/12", press("Hoàn thành tốt nhiệm vụ"))
    report = report_of(deployment_db, "XA-001")
    assert report is not None
    assert report.answers["tong_chi_tieu"] == 12
    assert report.answers["chi_tieu_dat"] == 11
    assert report.answers["xep_loai"] == "Hoàn thành tốt nhiệm vụ"
    assert set(questions(api, OFFICER).values()) == {1}, api.texts(OFFICER)
    assert set(questions(api, COLLEAGUE).values()) == {1}, api.texts(COLLEAGUE)
