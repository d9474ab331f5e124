"""What the bot does, one capability per module. Handlers are channel-neutral: they get an
`Inbound` and a `Context` and answer through the context; no platform import here.

`build_router` is the one place where the capabilities are wired together.
"""

from __future__ import annotations

from bot.router import Router


def build_router() -> Router:
    from handlers import (
        broadcasts,
        campaigns,
        deadlines,
        export,
        organisers,
        plans,
        progress,
        registration,
        reminders,
        report_review,
        report_view,
        reports,
        start,
        units,
    )

    router = Router()
    modules = (start, units, registration, campaigns, deadlines, reminders, reports)
    modules += (report_review, plans)
    modules += (progress, report_view, export, broadcasts, organisers)
    for module in modules:
        router.include(module.router)
    return router
