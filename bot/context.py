"""What a handler gets besides the event: the database session, who the user is, the chat's
conversation state, the clock, and ways to answer.

Handlers answer through `ctx.reply`/`ctx.say` (to the chat that wrote) and `ctx.notify` (to
anyone else); nothing is sent until the update's transaction has committed. A notice is given
as a function that builds it (`Compose`), called once per recipient in the wording of the
recipient's channel (`Hub.worded_for`): an admin on Telegram returning a report tells an
officer on Zalo to "gõ", not to "bấm". `ctx.ask` shows a
question and remembers it, so the core can ask it again after bad input. Work too long for one
update (a broadcast to hundreds of officers) is handed to `ctx.defer`: it runs in the
background after the commit, outside the update's transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from bot.catalog import t
from bot.clock import Clock
from bot.events import Address, Attachment, Button, Delivery, Inbound, Outbound, OutboundFile
from bot.settings import Settings
from domain.scope import Scope
from models.conversation import ConversationState
from models.units import Member

if TYPE_CHECKING:
    from bot.services import Services

PROMPT_KEY = "_prompt"
# Background work started after the update committed and its answers were delivered.
Job = Callable[[], Awaitable[None]]
# Builds a message to another person: called with the catalog worded for their channel.
Compose = Callable[[], Outbound]


def saved_prompt(state: ConversationState) -> Outbound | None:
    """The question a chat was last asked (`Context.ask`), as it was shown; None if none."""
    prompt = (state.data or {}).get(PROMPT_KEY)
    if not prompt:
        return None
    buttons = [[Button(label, payload) for label, payload in row] for row in prompt["buttons"]]
    return Outbound(prompt["text"], buttons, accepts_text=prompt.get("accepts_text", False))


@dataclass(slots=True)
class Context:
    event: Inbound
    session: Session
    settings: Settings
    clock: Clock
    services: Services
    member: Member | None
    state: ConversationState
    replies: list[Outbound] = field(default_factory=list)
    notifications: list[Delivery] = field(default_factory=list)
    deferred: list[Job] = field(default_factory=list)
    # The organiser an admin route acts for (set by the core before the handler); None on
    # other routes. Every admin query goes through it (domain.scope).
    scope: Scope | None = None

    @property
    def admin_scope(self) -> Scope:
        """The scope of an admin route (the core set it before calling the handler)."""
        if self.scope is None:
            raise RuntimeError("admin scope asked outside an admin route")
        return self.scope

    # --- time -----------------------------------------------------------------------------
    def now(self) -> datetime:
        return self.clock.now()

    # --- answering --------------------------------------------------------------------------
    def reply(
        self,
        text: str = "",
        buttons: list[list[Button]] | None = None,
        *,
        document: OutboundFile | None = None,
        photo: OutboundFile | None = None,
        replace: bool = False,
    ) -> Outbound:
        message = Outbound(text, buttons or [], document=document, photo=photo, replace=replace)
        self.replies.append(message)
        return message

    def say(
        self, key: str, /, buttons: list[list[Button]] | None = None, **params: object
    ) -> Outbound:
        return self.reply(t(key, **params), buttons)

    def ask(
        self, text: str, buttons: list[list[Button]] | None = None, *, accepts_text: bool = False
    ) -> Outbound:
        """Show a question and remember it: after bad input it is asked again as it was.

        `accepts_text`: the answer may be typed even though buttons are shown (e.g. a number
        with a "skip" button)."""
        self.state.data[PROMPT_KEY] = {
            "text": text,
            "buttons": [[[b.label, b.payload] for b in row] for row in buttons or []],
            "accepts_text": accepts_text,
        }
        message = self.reply(text, buttons)
        message.accepts_text = accepts_text
        return message

    def last_prompt(self) -> Outbound | None:
        return saved_prompt(self.state)

    def notify(self, channel: str, chat_id: str, compose: Compose) -> None:
        """Send someone else the message `compose()` builds, worded for their channel (the
        style of the update's own channel does not apply to it). Build every text of the
        message inside `compose` — a text made with `t()` outside it has the sender's wording."""
        with self.services.hub.worded_for(channel):
            message = compose()
        self.notifications.append(Delivery(Address(channel, chat_id), message))

    def notify_member(self, member: Member, compose: Compose) -> None:
        self.notify(member.channel, member.chat_id, compose)

    def tell(self, member: Member, key: str, /, **params: object) -> None:
        """Send `member` the catalog text `key`, worded for their channel (`notify`)."""
        self.notify_member(member, lambda: Outbound(t(key, **params)))

    def defer(self, job: Job) -> None:
        """Run `job` in the background once this update has committed and its answers are
        delivered; dropped if the update fails. The job opens its own sessions."""
        self.deferred.append(job)

    # --- conversation state -------------------------------------------------------------------
    @property
    def flow(self) -> str | None:
        return self.state.flow

    @property
    def step(self) -> str | None:
        return self.state.step

    @property
    def data(self) -> dict[str, Any]:
        return self.state.data

    def begin(self, flow: str, step: str, data: dict[str, Any] | None = None) -> None:
        self.state.flow = flow
        self.state.step = step
        self.state.data = dict(data or {})

    def goto(self, step: str) -> None:
        self.state.step = step

    def end(self) -> None:
        self.state.flow = None
        self.state.step = None
        self.state.data = {}

    # --- files -------------------------------------------------------------------------------
    async def download(self, attachment: Attachment) -> bytes:
        return await self.services.hub.download(self.event.channel, attachment)
