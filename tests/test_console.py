"""The console channel: a terminal conversation, numbered buttons, files, two terminals."""

from __future__ import annotations

import io
from pathlib import Path

from bot.channels.console import ConsoleChannel, run_console
from bot.events import Button, Inbound, Outbound, OutboundFile
from bot.runtime import build_core


def _console(tmp_path: Path, user_id: str = "1", name: str = "Lò Văn Tâm") -> ConsoleChannel:
    return ConsoleChannel(
        user_id=user_id, display_name=name, spool_dir=tmp_path / "console", out=io.StringIO()
    )


async def test_a_session_in_the_terminal(tmp_path: Path, settings, engine, clock) -> None:
    core = build_core(settings, engine=engine, clock=clock, migrate=False)
    channel = _console(tmp_path)
    core.hub.register(channel)
    await run_console(
        channel, core.process, stdin=io.StringIO("/start\n/trogiup\n:thoat\n"), poll_seconds=0.01
    )
    out = channel.out.getvalue()
    assert "Xin chào Lò Văn Tâm!" in out and "<b>" not in out
    assert "/trogiup — xem trợ giúp" in out and "Tạm biệt" in out


async def test_numbered_buttons_and_typed_answers(tmp_path: Path) -> None:
    channel = _console(tmp_path)
    typed = Inbound("console", "1", "1")  # what the bot answers
    await channel.send(
        "1", Outbound("Chọn loại", [[Button("Xã", "k:xa"), Button("Trường", "k:tr")]]), typed
    )
    assert "  2. Trường" in channel.out.getvalue()
    assert channel.to_inbound("2").payload == "k:tr"
    assert channel.to_inbound("3").text == "3"  # out of range: plain text
    question = Outbound("Số cá nhân đăng ký?", [[Button("Bỏ qua", "skip")]], accepts_text=True)
    await channel.send("1", question, typed)
    assert "  #1. Bỏ qua" in channel.out.getvalue()
    assert channel.to_inbound("1").text == "1" and channel.to_inbound("1").payload is None
    assert channel.to_inbound("#1").payload == "skip"


async def test_files_in_and_out(tmp_path: Path) -> None:
    channel = _console(tmp_path)
    source = tmp_path / "don-vi.csv"
    source.write_bytes("ma,ten\nXA-1,Xã Một\n".encode())
    event = channel.to_inbound(f":tep {source}")
    assert event.attachment is not None and event.attachment.file_name == "don-vi.csv"
    assert await channel.download(event.attachment) == source.read_bytes()
    assert channel.to_inbound(":tep /khong/co/tep.csv") is None
    await channel.send("1", Outbound("Báo cáo", document=OutboundFile("bao-cao.xlsx", b"PK")))
    saved = next((tmp_path / "console" / "files").glob("*bao-cao.xlsx"))
    assert saved.read_bytes() == b"PK" and str(saved) in channel.out.getvalue()


async def test_messages_for_another_terminal_are_spooled(tmp_path: Path) -> None:
    admin, officer = _console(tmp_path, "1", "Admin"), _console(tmp_path, "2", "Cán bộ")
    await admin.send("2", Outbound("Đăng ký của bạn đã được duyệt", [[Button("Báo cáo", "rp:1")]]))
    assert "được duyệt" not in admin.out.getvalue()
    officer.drain_spool()
    assert "Đăng ký của bạn đã được duyệt" in officer.out.getvalue()
    assert officer.to_inbound("A").payload == "rp:1"  # sent on its own: lettered
    officer.drain_spool()  # drained once only
    assert officer.out.getvalue().count("được duyệt") == 1
