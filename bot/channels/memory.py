"""An in-memory channel: what tests and benchmarks talk to the core through.

`MemoryChannel` turns method calls into Inbound events, keeps every message the bot sent to
each chat, and serves downloads of files registered with `add_file`. No business rules.
"""

from __future__ import annotations

import itertools
from collections import defaultdict

from bot.events import Attachment, Inbound, Outbound
from bot.hub import DeliveryError


class MemoryChannel:
    def __init__(self, name: str = "memory") -> None:
        self.name = name
        self.sent: dict[str, list[Outbound]] = defaultdict(list)
        self.files: dict[str, bytes] = {}
        self.unreachable: set[str] = set()
        self._ids = itertools.count(1)
        self._update_ids = itertools.count(1)

    async def send(
        self, chat_id: str, message: Outbound, reply_to: Inbound | None = None
    ) -> str | None:
        if chat_id in self.unreachable:
            raise DeliveryError("Forbidden: bot was blocked by the user", permanent=True)
        self.sent[chat_id].append(message)
        return str(next(self._ids))

    async def download(self, attachment: Attachment) -> bytes:
        try:
            return self.files[attachment.file_id]
        except KeyError:
            raise DeliveryError(f"no file {attachment.file_id}") from None

    def add_file(self, content: bytes, file_name: str, mime_type: str | None = None) -> Attachment:
        file_id = f"file-{next(self._ids)}"
        self.files[file_id] = content
        return Attachment(
            file_id=file_id, file_name=file_name, mime_type=mime_type, size=len(content)
        )

    def event(
        self,
        user_id: str,
        *,
        name: str = "",
        text: str = "",
        payload: str | None = None,
        attachment: Attachment | None = None,
        chat_id: str | None = None,
    ) -> Inbound:
        """An Inbound as a platform would produce it; commands are parsed like Telegram's."""
        from bot.channels.parsing import parse_command

        command, args = parse_command(text) if payload is None else (None, "")
        return Inbound(
            channel=self.name,
            chat_id=chat_id or user_id,
            user_id=user_id,
            display_name=name,
            text=text,
            command=command,
            args=args,
            payload=payload,
            attachment=attachment,
            update_id=str(next(self._update_ids)),
        )
