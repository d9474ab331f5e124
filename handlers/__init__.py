"""What the bot does, one capability per module. Handlers are channel-neutral: they get an
`Inbound` and a `Context` and answer through the context; no platform import here.

`build_router` is the one place where the capabilities are wired together.
"""

from __future__ import annotations

from bot.router import Router


def build_router() -> Router:
    from handlers import (
        admin,
        campaigns,
        organisers,
        plans,
        registration,
        reminders,
        reports,
        start,
        units,
    )

    router = Router()
    for module in (
        start,
        units,
        registration,
        campaigns,
        reminders,
        reports,
        plans,
        admin,
        organisers,
    ):
        router.include(module.router)
    return router
