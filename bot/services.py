"""Long-lived collaborators shared by every update: the hub of channels and whatever later
capabilities register (forms, storage). Built once by the runtime, passed in the Context."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.hub import Hub
from bot.router import Router


@dataclass(slots=True)
class Services:
    hub: Hub = field(default_factory=Hub)
    router: Router = field(default_factory=Router)
    # Capabilities put their own shared objects here by name (e.g. "forms").
    extras: dict[str, Any] = field(default_factory=dict)
