"""Long-lived collaborators shared by every update, typed: the hub of channels, the delivery
service for pushed messages and how those are worded, the report forms, the /trogiup list, the
reminder scheduler and the bot's @username. Built once by the composition root
(bot/runtime.py), passed in the Context. Must not import the router or the context (they
import this)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from bot.access import Access
from bot.delivery import DeliveryService
from bot.hub import Hub

if TYPE_CHECKING:
    from bot.delivery import PushTexts
    from domain.dossier import DossierTexts
    from domain.forms import Form


@dataclass(frozen=True, slots=True)
class HelpEntry:
    """One line of /trogiup: a command, who may use it and the catalog key describing it."""

    command: str
    access: Access
    help_key: str


class Waker(Protocol):
    """The reminder scheduler as handlers see it: "run a tick soon" (after "Nhắc ngay")."""

    def wake(self) -> None: ...


@dataclass(slots=True)
class Services:
    hub: Hub = field(default_factory=Hub)
    # Set in __post_init__ over `hub` unless given.
    delivery: DeliveryService = field(default=None)  # type: ignore[assignment]  # see above
    # How reminders, digests and broadcasts are worded (handlers/ give them at build time).
    texts: PushTexts | None = None
    forms: Mapping[str, Form] = field(default_factory=dict)
    # The dossier's words (handlers.dossier.dossier_texts): the web desk builds the same ZIP.
    dossier_texts: Callable[[], DossierTexts] | None = None
    help: tuple[HelpEntry, ...] = ()
    reminders: Waker | None = None
    # Telegram's @username of this bot (invite links): set once when the channel starts;
    # BOT_USERNAME names it for a process without Telegram.
    bot_username: str | None = None

    def __post_init__(self) -> None:
        if self.delivery is None:
            self.delivery = DeliveryService(self.hub)

    @property
    def push_texts(self) -> PushTexts:
        if self.texts is None:
            raise RuntimeError("no renderers for pushed messages: build the core with build_core")
        return self.texts
