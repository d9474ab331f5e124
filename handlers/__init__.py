"""What the bot does, one capability per module. Handlers are channel-neutral: they get an
`Inbound` and a `Context` and answer through the context; no platform import here.

`build_router` is the one place where the capabilities are wired together; `build_push_texts`
gives the delivery service in bot/ the wording of pushed messages.
"""

from __future__ import annotations

from types import ModuleType

from bot.delivery import CouncilTexts, PushTexts
from bot.router import Router


def build_router() -> Router:
    from handlers import (
        broadcasts,
        campaigns,
        council,
        deadlines,
        dossier,
        export,
        organisers,
        plans,
        progress,
        registration,
        reminders,
        report_review,
        report_view,
        reports,
        scoring,
        signing,
        start,
        units,
        web,
    )

    router = Router()
    modules: list[ModuleType] = [start, units, registration, campaigns, deadlines, reminders]
    modules += [reports, report_review, plans, progress, report_view, export, broadcasts]
    modules += [council, scoring]  # Hội đồng TĐKT, chấm điểm khối
    modules += [organisers]  # cơ quan tổ chức, tổng hợp, đợt cấp trên
    modules += [web]
    modules += [dossier, signing]  # hồ sơ Word, bản ký
    for module in modules:
        router.include(module.router)
    return router


def build_push_texts() -> PushTexts:
    """How reminders, digests and broadcasts are worded, for the delivery service in bot/."""
    from handlers import council
    from handlers.broadcasts import BROADCAST_TEXTS
    from handlers.reminders import digest_message, reminder_message

    return PushTexts(
        reminder=reminder_message,
        digest=digest_message,
        broadcast=BROADCAST_TEXTS,
        council=CouncilTexts(
            closed_messages=council.closed_messages, reminder_message=council.reminder_message
        ),
    )
