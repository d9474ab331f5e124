"""The routing table: which handler answers a command, a button press or text inside a flow.

Each module in `handlers/` owns a `Router` and decorates its callbacks; `handlers.build_router`
includes them all — the one place where wiring is declared. Every route names the access it
needs (`bot.access.Access`); the core checks it before calling the handler, so no handler
repeats the check.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.access import Access
from bot.services import HelpEntry

if TYPE_CHECKING:
    from bot.context import Context
    from bot.events import Inbound

Handler = Callable[["Inbound", "Context"], Awaitable[None]]
PAYLOAD_SEPARATOR = ":"


@dataclass(slots=True)
class CommandRoute:
    name: str
    handler: Handler
    access: Access
    # Catalog key of the one-line description shown by /trogiup; None hides the command.
    help_key: str | None = None


@dataclass(slots=True)
class ButtonRoute:
    prefix: str
    handler: Handler
    access: Access


@dataclass(slots=True)
class FlowRoute:
    """A multi-step conversation: text and files go to `handler` while a chat is in it."""

    name: str
    handler: Handler | None = None
    access: Access = Access.PUBLIC
    commands: dict[str, Handler] = field(default_factory=dict)


@dataclass(slots=True)
class TextRoute:
    """Free text outside any flow that has a recognisable shape (e.g. a pasted invite code)."""

    pattern: re.Pattern[str]
    handler: Handler
    access: Access


class RoutingError(Exception):
    pass


class Router:
    def __init__(self) -> None:
        self.commands: dict[str, CommandRoute] = {}
        self.buttons: dict[str, ButtonRoute] = {}
        self.flows: dict[str, FlowRoute] = {}
        self.texts: list[TextRoute] = []

    def command(
        self, *names: str, access: Access = Access.MEMBER, help_key: str | None = None
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            for index, name in enumerate(names):
                self._add(
                    self.commands,
                    name,
                    CommandRoute(name, handler, access, help_key if index == 0 else None),
                )
            return handler

        return register

    def button(
        self, prefix: str, *, access: Access = Access.MEMBER
    ) -> Callable[[Handler], Handler]:
        if PAYLOAD_SEPARATOR in prefix:
            raise RoutingError(f"button prefix {prefix!r} must not contain ':'")

        def register(handler: Handler) -> Handler:
            self._add(self.buttons, prefix, ButtonRoute(prefix, handler, access))
            return handler

        return register

    def flow(self, name: str, *, access: Access = Access.PUBLIC) -> Callable[[Handler], Handler]:
        """Register the handler for text and files sent while a chat is in flow `name`."""

        def register(handler: Handler) -> Handler:
            route = self.flows.setdefault(name, FlowRoute(name))
            if route.handler is not None:
                raise RoutingError(f"flow {name!r} registered twice")
            route.handler = handler
            route.access = access
            return handler

        return register

    def text(self, pattern: str, *, access: Access = Access.PUBLIC) -> Callable[[Handler], Handler]:
        """Route free text (outside flows) that fully matches `pattern`."""

        def register(handler: Handler) -> Handler:
            self.texts.append(TextRoute(re.compile(pattern), handler, access))
            return handler

        return register

    def flow_command(self, flow: str, *names: str) -> Callable[[Handler], Handler]:
        """A command that means something special inside a flow (e.g. /boqua, /quaylai)."""

        def register(handler: Handler) -> Handler:
            route = self.flows.setdefault(flow, FlowRoute(flow))
            for name in names:
                route.commands[name] = handler
            return handler

        return register

    def help_entries(self) -> tuple[HelpEntry, ...]:
        """The /trogiup list, in the order the commands were registered (fed to Services)."""
        return tuple(
            HelpEntry(name, route.access, route.help_key)
            for name, route in self.commands.items()
            if route.help_key is not None
        )

    def include(self, other: Router) -> None:
        for name, command in other.commands.items():
            self._add(self.commands, name, command)
        for prefix, button in other.buttons.items():
            self._add(self.buttons, prefix, button)
        for name, flow in other.flows.items():
            self._add(self.flows, name, flow)
        self.texts.extend(other.texts)

    @staticmethod
    def _add(table: dict[str, Any], key: str, value: object) -> None:
        if key in table:
            raise RoutingError(f"{key!r} is routed twice")
        table[key] = value


def make_payload(prefix: str, *parts: object) -> str:
    """A button payload `prefix:part1:part2`; Telegram allows 64 bytes of callback data."""
    payload = PAYLOAD_SEPARATOR.join([prefix, *(str(p) for p in parts)])
    if len(payload.encode()) > 64:
        raise RoutingError(f"payload too long: {payload!r}")
    return payload


def split_payload(payload: str) -> tuple[str, list[str]]:
    prefix, *parts = payload.split(PAYLOAD_SEPARATOR)
    return prefix, parts
