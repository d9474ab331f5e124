"""An in-memory channel: what tests and benchmarks talk to the core through.

`MemoryChannel` turns method calls into Inbound events, keeps every message the bot sent to
each chat, and serves downloads of files registered with `add_file`. An edit
(`Outbound.edit_message_id`) replaces the message in place and is counted in `edits`.
No business rules.
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
        # The next this-many sends fail as if the platform were down (connection refused).
        self.outage_sends = 0
        # message id -> (chat, index in sent[chat]); how many times each message was edited.
        self.positions: dict[str, tuple[str, int]] = {}
        self.edits: dict[str, int] = defaultdict(int)
        self._ids = itertools.count(1)
        self._update_ids = itertools.count(1)

    async def send(
        self, chat_id: str, message: Outbound, reply_to: Inbound | None = None
    ) -> str | None:
        if chat_id in self.unreachable:
            raise DeliveryError("Forbidden: bot was blocked by the user", permanent=True)
        if self.outage_sends > 0:
            self.outage_sends -= 1
            raise DeliveryError("NetworkError: connection refused")
        if message.edit_message_id is not None:
            return self._edit(chat_id, message.edit_message_id, message)
        self.sent[chat_id].append(message)
        message_id = str(next(self._ids))
        self.positions[message_id] = (chat_id, len(self.sent[chat_id]) - 1)
        return message_id

    def _edit(self, chat_id: str, message_id: str, message: Outbound) -> str:
        chat, index = self.positions.get(message_id, ("", -1))
        if chat != chat_id:
            raise DeliveryError("Bad Request: message to edit not found", permanent=True)
        self.sent[chat_id][index] = message
        self.edits[message_id] += 1
        return message_id

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
