"""Secrets: the bot token never appears in the log, in an error, in an export or in the
database, and `.env` (where it is kept) never reaches git.

The log checked is the real one: `thidua-bot run` as a child process, at DEBUG, through a
report conversation, a handler crash, a Telegram outage, an Excel export and a shutdown; and
the start-up with a token Telegram refuses (PTB's own error message repeats the token).
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import subprocess
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session

from bot import cli
from bot.db import create_db_engine
from models.conversation import ConversationState
from tests.fakes.telegram_api import FakeTelegram
from tests.utils.http import until
from tests.utils.ids import ADMIN_USER_ID
from tests.utils.subprocess_bot import COLLEAGUE, OFFICER, REPO_ROOT, BotProcess, started

ADMIN = int(ADMIN_USER_ID)


def assert_no_token(token: str, text: str | bytes, where: str) -> None:
    secret = token.split(":", 1)[1]
    blob = text if isinstance(text, bytes) else text.encode()
    assert token.encode() not in blob, f"the token is in {where}"
    assert secret.encode() not in blob, f"the token's secret part is in {where}"


def test_env_files_and_databases_are_ignored_by_git() -> None:
    """.env holds the tokens; data/ and *.db hold personal data and backups."""
    for path in (".env", "data/thidua.db", "backup/thidua-2026-11-25.db", "data/files/x.pdf"):
        result = subprocess.run(
            ["git", "check-ignore", "--no-index", "-q", path], cwd=REPO_ROOT, check=False
        )
        assert result.returncode == 0, f"{path} is not git-ignored"
    assert ".env" in (REPO_ROOT / ".gitignore").read_text().split()
    assert (
        subprocess.run(
            ["git", "check-ignore", "--no-index", "-q", ".env.example"], cwd=REPO_ROOT, check=False
        ).returncode
        == 1
    ), ".env.example documents the settings and must stay in git"


def test_an_unexpected_crash_of_the_cli_is_logged_without_the_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    token = "123456789:AAHcrashTESTabcdefghijklmnopqrstuv"
    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", token)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'thidua.db'}")

    async def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError(f"GET https://api.telegram.org/bot{token}/getMe failed")

    monkeypatch.setattr("bot.serve.serve", crash)
    try:
        assert cli.main(["run"]) == 1
    finally:
        logging.getLogger().handlers.clear()
    err = capfd.readouterr().err
    assert "RuntimeError" in err and "getMe failed" in err
    assert_no_token(token, err, "the crash report")


@pytest.mark.slow
async def test_a_refused_token_stops_the_bot_with_one_line_without_it(
    telegram_api: FakeTelegram, deployment_db: Path, tmp_path: Path
) -> None:
    wrong = "987654321:AAHwrongTESTabcdefghijklmnopqrstuv"
    process = BotProcess(
        tmp_path / "bot",
        {
            "TELEGRAM_BOT_TOKEN": wrong,
            "TELEGRAM_BASE_URL": telegram_api.base_url,
            "DATABASE_URL": f"sqlite:///{deployment_db}",
            "LOG_LEVEL": "DEBUG",
        },
    )
    process.start()
    try:
        code = await _exit_code(process)
    finally:
        process.ensure_stopped()
    log = process.log()
    assert code == 2, log
    assert "TELEGRAM_BOT_TOKEN" in log and "Traceback" not in log
    assert_no_token(wrong, log, "the start-up error")


async def _exit_code(process: BotProcess, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    assert process.process is not None
    while process.process.poll() is None:
        assert time.monotonic() < deadline, process.log()
        await asyncio.sleep(0.05)
    return process.process.returncode


@pytest.mark.slow
async def test_a_whole_run_keeps_the_token_out_of_the_log_the_database_and_exports(
    telegram_api: FakeTelegram, bot_process: BotProcess, deployment_db: Path
) -> None:
    api, token = telegram_api, telegram_api.token
    bot_process.settings["LOG_LEVEL"] = "DEBUG"
    await started(api, bot_process)
    await until(api, ADMIN, "quản trị viên", lambda: api.push_text(ADMIN, "/start"))
    await until(api, OFFICER, "Câu 1/12", lambda: api.push_text(OFFICER, "/baocao"))
    await until(
        api,
        OFFICER,
        "Câu 2/12",
        lambda: api.push_text(OFFICER, "Thu ngân sách đạt 105% kế hoạch; giảm hộ nghèo"),
    )
    # A handler crashes on a conversation state it cannot read: logged with its traceback.
    engine = create_db_engine(f"sqlite:///{deployment_db}")
    with Session(engine) as db:
        db.add(
            ConversationState(
                channel="telegram",
                chat_id=str(COLLEAGUE),
                flow="report",
                step="question",
                data={"report_id": {"broken": True}},
                version=1,
                updated_at=datetime.now(UTC),
            )
        )
        db.commit()
    engine.dispose()
    await until(api, COLLEAGUE, "Xin lỗi", lambda: api.push_text(COLLEAGUE, "12"))
    # Telegram away for a moment: connection errors are logged while polling backs off.
    await api.stop()
    deadline = time.monotonic() + 30
    while "getUpdates failed" not in bot_process.log():  # the refused polls are logged
        assert time.monotonic() < deadline, bot_process.log()
        await asyncio.sleep(0.05)
    await api.start()
    # The admin exports the campaign.
    export = await until(api, ADMIN, "Số liệu", lambda: api.push_text(ADMIN, "/xuat"))
    assert export.method == "sendDocument" and export.content
    assert await bot_process.terminate() == 0

    log = bot_process.log()
    assert "handler error" in log and "Traceback" in log  # the crash was logged
    assert "getUpdates failed" in log  # so was the outage
    assert_no_token(token, log, "the log")
    for message in [m for chat in api.sent.values() for m in chat]:
        assert_no_token(token, json.dumps([message.text, message.caption]), "a message")
    with zipfile.ZipFile(io.BytesIO(export.content)) as workbook:
        for name in workbook.namelist():
            assert_no_token(token, workbook.read(name), f"the export's {name}")
    for path in deployment_db.parent.glob(deployment_db.name + "*"):
        assert_no_token(token, path.read_bytes(), path.name)
