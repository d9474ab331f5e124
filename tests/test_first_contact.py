"""A new user's first minutes: the console on an empty database, /dangky with no units, the CLI's
output (no Alembic chatter, no traceback on a quick :thoat, Vietnamese errors), settings that
accept what people write and backups that never overwrite silently."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot import cli
from bot.channels.console import ConsoleChannel, run_console
from bot.console_demo import demo_offer, load_console_demo
from bot.runtime import build_core
from bot.settings import SettingsError, load_settings

ROOT = Path(__file__).resolve().parent.parent


async def test_dangky_on_an_empty_registry_says_what_to_do(bot) -> None:
    newcomer = bot.person("300", "Lò Thị Mai")
    await newcomer.says("/dangky")
    assert "Danh sách đơn vị còn trống" in newcomer.last_reply
    assert "/nhapdonvi" in newcomer.last_reply
    # No registration question was asked: typing a name is not taken as a unit search.
    await newcomer.says("binh lu")
    assert "Không tìm thấy đơn vị nào khớp" not in newcomer.new_text


async def test_console_on_an_empty_database_offers_a_demo_and_a_second_officer(
    tmp_path: Path, settings, engine, clock
) -> None:
    core = build_core(settings, engine=engine, clock=clock, migrate=False)
    channel = ConsoleChannel(
        user_id="1", display_name="Quản trị", spool_dir=tmp_path / "console", out=io.StringIO()
    )
    core.hub.register(channel)
    note = demo_offer(engine)
    assert ":demo" in note

    async def demo() -> str:
        return load_console_demo(engine, channel, settings=settings, clock=clock)

    script = ":demo\n/dotthidua\n:doi 2\n/hanchot\n:doi 1\n/tiendo\n:thoat\n"
    await run_console(
        channel, core.process, stdin=io.StringIO(script), poll_seconds=0.01, note=note, demo=demo
    )
    out = channel.out.getvalue()
    assert "Đã nạp dữ liệu mẫu: 19 đơn vị" in out
    assert "01/KH-THU" in out  # /dotthidua answered the admin
    assert "bây giờ bạn là Lò Văn Tâm" in out
    assert "Hạn nộp của Xã Bình Lư" in out  # /hanchot answered the officer
    assert "Tiến độ nộp báo cáo" in out  # back as admin
    # Not offered twice, and never over real data.
    assert demo_offer(engine) == ""
    assert "đã có dữ liệu" in load_console_demo(engine, channel, settings=settings, clock=clock)


def _console_process(tmp_path: Path, stdin: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'thidua.db'}",
        "STORAGE_DIR": str(tmp_path / "files"),
    }
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "console"],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp_path,  # no .env
        env=env,
        timeout=120,
    )


def test_quitting_at_once_prints_no_traceback_and_no_alembic_chatter(tmp_path: Path) -> None:
    result = _console_process(tmp_path, ":thoat\n")
    assert result.returncode == 0
    assert "Tạm biệt" in result.stdout
    assert "Traceback" not in result.stderr and "CancelledError" not in result.stderr
    assert "alembic" not in result.stderr + result.stdout


def test_db_upgrade_prints_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'thidua.db'}")
    assert cli.main(["db", "upgrade"]) == 0
    out, err = capfd.readouterr()
    assert "Cơ sở dữ liệu đã ở phiên bản" in out
    assert "INFO" not in err and "alembic" not in err


@pytest.mark.parametrize(
    "written", ["http://127.0.0.1:8081", "http://127.0.0.1:8081/", "http://127.0.0.1:8081/bot"]
)
def test_telegram_base_url_accepts_both_conventions(written: str) -> None:
    settings = load_settings(_env_file=None, telegram_base_url=written)
    assert settings.telegram_base_url == "http://127.0.0.1:8081"


def test_telegram_base_url_says_what_is_wrong_without_echoing_a_token() -> None:
    token = "123456789:AAHfakefakefakefakefakefakefakefake"
    with pytest.raises(SettingsError) as refused:
        load_settings(_env_file=None, telegram_base_url=f"http://127.0.0.1:8081/bot{token}")
    assert "TELEGRAM_BASE_URL" in str(refused.value) and "token" in str(refused.value)
    assert token not in str(refused.value)
    with pytest.raises(SettingsError, match="http://"):
        load_settings(_env_file=None, telegram_base_url="127.0.0.1:8081")


def test_backup_never_overwrites_without_force(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("bot.logging_setup.setup_logging", lambda *a, **k: None)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'thidua.db'}")
    assert cli.main(["db", "upgrade"]) == 0
    target = tmp_path / "backup.db"
    target.write_bytes(b"yesterday")
    assert cli.main(["backup", "--out", str(target)]) == 2
    assert "--force" in capsys.readouterr().err
    assert target.read_bytes() == b"yesterday"
    assert cli.main(["backup", "--out", str(target), "--force"]) == 0
    out = capsys.readouterr().out
    assert target.read_bytes() != b"yesterday"
    assert " KB)" in out and "byte" not in out  # "(96,0 KB)", not "98,304 byte"


def test_cli_file_errors_are_in_vietnamese(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("bot.logging_setup.setup_logging", lambda *a, **k: None)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'thidua.db'}")
    assert cli.main(["units", "import", str(tmp_path / "khong-co.csv")]) == 2
    err = capsys.readouterr().err
    assert "không có tệp hoặc thư mục này" in err and "No such file" not in err


async def test_a_bad_invite_code_gets_one_message(bot) -> None:
    visitor = bot.person("301", "Lò Văn Pó")
    sent = await visitor.says("/start ABCD2345")
    assert len(sent) == 1
    assert "không đúng" in visitor.last_reply and "/dangky" in visitor.last_reply


def test_long_names_are_shortened_on_buttons() -> None:
    from bot.events import BUTTON_LABEL_MAX, Button

    name = "Trung tâm Giáo dục nghề nghiệp – Giáo dục thường xuyên huyện Tam Đường " * 2
    button = Button(name, "un-i:1")
    assert len(button.label) == BUTTON_LABEL_MAX and button.label.endswith("…")
    assert Button("Xã Bình Lư", "x").label == "Xã Bình Lư"
