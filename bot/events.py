"""Channel-neutral events: what a user sent (`Inbound`) and what the bot answers (`Outbound`).

Channels (Telegram, Zalo, console, the in-memory test channel) translate their platform's
updates into `Inbound` and render `Outbound`; handlers only ever see these classes. Nothing
here knows a platform. Outbound text is HTML in the small subset all channels can render
(<b>, <i>, <code>); text from users must already be escaped (the catalog does it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

from domain.text import shorten

# Longest button label shown; longer ones end in "…".
BUTTON_LABEL_MAX = 60


@dataclass(frozen=True, slots=True)
class Button:
    """A choice offered under a message; pressing it sends `payload` back as an Inbound."""

    label: str
    payload: str

    def __post_init__(self) -> None:
        # A unit name can run to 120 characters; a button shows about a line. Cut here, once,
        # so no handler has to remember (the full name is in the message text).
        if len(self.label) > BUTTON_LABEL_MAX:
            object.__setattr__(self, "label", shorten(self.label, BUTTON_LABEL_MAX))


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file the user sent. `file_id` is the channel's handle to download it."""

    file_id: str
    file_name: str | None = None
    mime_type: str | None = None
    size: int | None = None
    kind: Literal["document", "photo"] = "document"
    unique_id: str | None = None


@dataclass(slots=True)
class Inbound:
    """One thing a user did: typed text, a command, pressed a button or sent a file."""

    channel: str
    chat_id: str
    user_id: str
    display_name: str = ""
    text: str = ""
    command: str | None = None
    args: str = ""
    payload: str | None = None
    attachment: Attachment | None = None
    update_id: str | None = None
    # The message the pressed button sits on, so a reply can replace it (pagination).
    message_id: str | None = None
    username: str | None = None
    # Set when the user sent something this channel cannot hand over (a file Zalo does not
    # deliver, a voice note): the catalog key of the reply telling them how else to send it.
    # The core answers with it and asks the chat's last question again; no handler runs.
    unsupported: str | None = None
    # The platform's own name for what was sent (the bot's id and the message or callback id):
    # with the content it tells a re-delivered update from a new one reusing its id.
    source: str | None = None


@dataclass(frozen=True, slots=True)
class OutboundFile:
    """A file to send: bytes in memory with the name the user will see. `link`, when given,
    makes a signed link to the same file (`bot.web.links`): a channel that cannot upload it
    (Zalo) sends that instead of copying the bytes to a published file; others ignore it."""

    file_name: str
    content: bytes
    caption: str = ""
    link: Callable[[], Awaitable[str]] | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True)
class Outbound:
    """One message to show a user."""

    text: str = ""
    buttons: list[list[Button]] = field(default_factory=list)
    document: OutboundFile | None = None
    photo: OutboundFile | None = None
    # Replace the message the pressed button sits on instead of sending a new one.
    replace: bool = False
    # The question also takes a typed answer (a number, a date, a name): channels that turn
    # buttons into numbered choices must not read a typed "1" as choice 1.
    accepts_text: bool = False
    # Edit this earlier message of the same chat (an id a send returned, e.g. a progress
    # message) instead of sending a new one. Text and buttons only. A channel that cannot
    # edit at all sends a new message; a failed edit raises DeliveryError.
    edit_message_id: str | None = None

    def button_payloads(self) -> list[str]:
        return [b.payload for row in self.buttons for b in row]


@dataclass(frozen=True, slots=True)
class Address:
    """Where a message goes: a chat on a channel."""

    channel: str
    chat_id: str


@dataclass(slots=True)
class Delivery:
    """An Outbound bound for an address; `reply_to` is set when it answers an Inbound."""

    address: Address
    message: Outbound
    reply_to: Inbound | None = None
