"""The console channel: the bot in a terminal, no token needed.

Each line typed becomes an Inbound from the user chosen with --user-id/--name; buttons are
shown numbered and chosen by typing the number (those of messages the bot sent on its own, a
reminder or a notice, are lettered and stay choosable; see bot/channels/choices.py). `:tep PATH` sends a file, `:doi ID [NAME]`
switches to another user (an admin and an officer in one terminal), `:demo` loads demo data on
an empty database when the CLI offers it, `:thoat` quits.
Messages the bot sends to another console user (an admin approving an officer, a reminder)
are spooled to a file that user's terminal reads, so an admin and an officer can try the bot
in two terminals against the same SQLite database. A terminal cannot change what it printed,
so an edited message (a progress count) is printed again, marked as an update. Only translation
lives here.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import mimetypes
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TextIO

from bot.channels.choices import MemoryChoiceStore, record_sent, resolve
from bot.channels.parsing import parse_command
from bot.channels.text import html_to_plain
from bot.events import Attachment, Button, Inbound, Outbound, OutboundFile
from bot.hub import DeliveryError

CHANNEL = "console"
QUIT = {":thoat", ":q", ":quit", ":exit"}


class ConsoleChannel:
    name = CHANNEL
    has_buttons = False  # choices are numbered; the person types the number

    def __init__(
        self, *, user_id: str, display_name: str, spool_dir: Path, out: TextIO = sys.stdout
    ):
        self.user_id = user_id
        self.display_name = display_name
        self.spool_dir = spool_dir
        self.files_dir = spool_dir / "files"
        self.out = out
        # What typed numbers and letters mean, per user of this terminal.
        self.choices = MemoryChoiceStore()
        self._ids = itertools.count(1)
        self._update_ids = itertools.count(1)
        self.known_names: dict[str, str] = {user_id: display_name}
        self.spool_dir.mkdir(parents=True, exist_ok=True)

    def switch_user(self, user_id: str, display_name: str = "") -> None:
        """Speak as another user from now on (`:doi 2`); their waiting messages show next."""
        self.user_id = user_id
        self.display_name = display_name or self.known_names.get(user_id) or f"Người dùng {user_id}"
        self.known_names[user_id] = self.display_name

    # --- Outlet ---------------------------------------------------------------------------
    async def send(
        self, chat_id: str, message: Outbound, reply_to: Inbound | None = None
    ) -> str | None:
        if chat_id != self.user_id:
            self._spool(chat_id, message)
        else:
            self.show(message, reply_to)
        return str(next(self._ids))

    async def download(self, attachment: Attachment) -> bytes:
        path = Path(attachment.file_id)
        try:
            return path.read_bytes()
        except OSError as exc:
            raise DeliveryError(f"cannot read {attachment.file_name}: {exc.strerror}") from None

    # --- rendering ------------------------------------------------------------------------
    def show(self, message: Outbound, reply_to: Inbound | None = None) -> None:
        """Print `message`; `reply_to` None: sent on its own (its choices get letters)."""
        lines = [html_to_plain(message.text)] if message.text else []
        if lines and message.edit_message_id is not None:
            lines[0] = "(cập nhật) " + lines[0]
        for item in (message.document, message.photo):
            if item is not None:
                lines.append(f"[tệp] {self._save(item)}")
                if item.caption:
                    lines.append(html_to_plain(item.caption))
        buttons = [b for row in message.buttons for b in row]
        markers = record_sent(self.choices, self.user_id, message, reply_to)
        lines += [f"  {marker}. {b.label}" for marker, b in zip(markers, buttons, strict=True)]
        self.out.write("\n".join(["bot> " + lines[0] if lines else "bot>", *lines[1:]]) + "\n")
        self.out.flush()

    def _save(self, item: OutboundFile) -> Path:
        self.files_dir.mkdir(parents=True, exist_ok=True)
        path = self.files_dir / f"{next(self._ids)}-{Path(item.file_name).name}"
        path.write_bytes(item.content)
        return path

    def _spool_path(self, chat_id: str) -> Path:
        return self.spool_dir / f"{''.join(c for c in chat_id if c.isalnum() or c in '-_')}.jsonl"

    def _spool(self, chat_id: str, message: Outbound) -> None:
        record = {
            "text": message.text,
            "buttons": [[[b.label, b.payload] for b in row] for row in message.buttons],
            "edit_message_id": message.edit_message_id,
        }
        with self._spool_path(chat_id).open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")

    def drain_spool(self) -> None:
        """Show what other terminals' bots sent this user."""
        path = self._spool_path(self.user_id)
        if not path.exists():
            return
        taken = path.with_suffix(".taken")
        try:
            path.rename(taken)
        except OSError:
            return
        for line in taken.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            buttons = [
                [Button(label, payload) for label, payload in row] for row in record["buttons"]
            ]
            self.show(
                Outbound(record["text"], buttons, edit_message_id=record.get("edit_message_id"))
            )
        taken.unlink(missing_ok=True)

    # --- input ----------------------------------------------------------------------------
    def to_inbound(self, line: str) -> Inbound | None:
        text = line.strip()
        if not text:
            return None
        base: dict[str, Any] = {
            "channel": CHANNEL,
            "chat_id": self.user_id,
            "user_id": self.user_id,
            "display_name": self.display_name,
            "update_id": None,
        }
        chosen = resolve(self.choices, self.user_id, text)
        if chosen is not None:
            return Inbound(**base, payload=chosen.payload)
        if text.startswith(":tep "):
            path = Path(text[5:].strip()).expanduser()
            if not path.is_file():
                self.out.write(f"(không tìm thấy tệp {path})\n")
                return None
            attachment = Attachment(
                file_id=str(path.resolve()),
                file_name=path.name,
                mime_type=mimetypes.guess_type(path.name)[0],
                size=path.stat().st_size,
            )
            return Inbound(**base, attachment=attachment)
        command, args = parse_command(text)
        return Inbound(**base, text=text, command=command, args=args)


async def run_console(
    channel: ConsoleChannel,
    handle: Callable[[Inbound], Awaitable[object]],
    *,
    stdin: TextIO = sys.stdin,
    poll_seconds: float = 1.0,
    note: str = "",
    demo: Callable[[], Awaitable[str]] | None = None,
) -> None:
    """The REPL: read a line, hand it to the core, repeat until EOF or :thoat. `note` is
    printed after the greeting (what to do on an empty database); `demo`, when given, runs on
    `:demo` and returns what to print."""
    loop = asyncio.get_running_loop()
    channel.out.write(
        f"thidua-bot — console. Bạn là {channel.display_name} (id {channel.user_id}). "
        "Gõ /start; chọn nút bằng số (#số khi câu hỏi cũng nhận câu gõ tay); :tep ĐƯỜNG_DẪN "
        "để gửi tệp; :doi SỐ để đổi sang người dùng khác; :thoat để thoát.\n"
    )
    if note:
        channel.out.write(note.rstrip("\n") + "\n")

    async def poll_spool() -> None:
        while True:
            channel.drain_spool()
            await asyncio.sleep(poll_seconds)

    poller = asyncio.create_task(poll_spool())
    try:
        while True:
            channel.out.write("bạn> ")
            channel.out.flush()
            line = await loop.run_in_executor(None, stdin.readline)
            if not line or line.strip() in QUIT:
                break
            command, _, rest = line.strip().partition(" ")
            if command == ":doi":
                _switch(channel, rest)
                continue
            if command == ":demo":
                if demo is None:
                    channel.out.write("(:demo chỉ dùng được khi cơ sở dữ liệu còn trống)\n")
                else:
                    channel.out.write((await demo()).rstrip("\n") + "\n")
                continue
            event = channel.to_inbound(line)
            if event is not None:
                await handle(event)
    finally:
        poller.cancel()
        channel.out.write("\nTạm biệt!\n")


def _switch(channel: ConsoleChannel, rest: str) -> None:
    user_id, _, name = rest.strip().partition(" ")
    if not user_id:
        channel.out.write("(gõ :doi kèm mã người dùng, ví dụ :doi 2)\n")
        return
    channel.switch_user(user_id, name.strip())
    channel.out.write(f"(bây giờ bạn là {channel.display_name}, id {channel.user_id})\n")
    channel.drain_spool()
