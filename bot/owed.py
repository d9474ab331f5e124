"""The answers an update owes, kept with its record so a crash between the commit and the send
does not lose them (`processed_update.answers`).

The core stores an update's deliveries (text, buttons, the chat they go to) in the update's
own transaction; once they went out the update is marked answered. An update committed but
never marked — the process died while answering — has its answers sent at the next start-up
(`BotCore.resume_unanswered`) or when the platform delivers it again, once
(`BotCore._owed_answers`). Files (exports, charts) are not kept: only their accompanying
text is, and the user asks for the file again. Nothing here knows a platform or a handler.
"""

from __future__ import annotations

from typing import Any

from bot.events import Address, Button, Delivery, Outbound


def dump(deliveries: list[Delivery]) -> list[dict[str, Any]] | None:
    """The deliveries as JSON-ready data; None when there is nothing worth keeping."""
    kept: list[dict[str, Any]] = []
    for delivery in deliveries:
        message = delivery.message
        text = message.text
        for file in (message.document, message.photo):
            if file is not None and file.caption and file.caption != text:
                text = "\n\n".join(part for part in (file.caption, text) if part)
        if not text:
            continue
        kept.append(
            {
                "channel": delivery.address.channel,
                "chat_id": delivery.address.chat_id,
                "reply": delivery.reply_to is not None,
                "text": text,
                "buttons": [[[b.label, b.payload] for b in row] for row in message.buttons],
                "accepts_text": message.accepts_text,
                "edit_message_id": message.edit_message_id,
            }
        )
    return kept or None


def load(data: list[dict[str, Any]] | None) -> list[Delivery]:
    """Deliveries back from `dump`'s data (each a new message: the one a button sat on may be
    long gone, so nothing replaces it)."""
    deliveries = []
    for item in data or []:
        message = Outbound(
            text=str(item.get("text") or ""),
            buttons=[[Button(label, payload) for label, payload in row] for row in item["buttons"]],
            accepts_text=bool(item.get("accepts_text")),
            edit_message_id=item.get("edit_message_id"),
        )
        deliveries.append(Delivery(Address(item["channel"], item["chat_id"]), message))
    return deliveries
