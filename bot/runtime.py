"""Assembling a running bot: database (migrated), router, core and shared services.

Used by the CLI, the channels' tests and the benchmarks, so they all run the same bot.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from bot.clock import Clock, SystemClock
from bot.core import BotCore
from bot.db import create_db_engine, upgrade
from bot.services import Services
from bot.settings import Settings
from domain.forms import DEFAULT_FORMS_DIR, load_forms
from handlers import build_router

if TYPE_CHECKING:
    from bot.scheduler import ReminderScheduler


def build_core(
    settings: Settings,
    *,
    engine: Engine | None = None,
    clock: Clock | None = None,
    migrate: bool = True,
) -> BotCore:
    # A broken form file stops start-up here, with the file, field and reason (FormError).
    forms = load_forms(settings.forms_dir or DEFAULT_FORMS_DIR)
    engine = engine or create_db_engine(settings.database_url)
    if migrate:
        upgrade(engine)
    if migrate:
        _sync_admins(engine, settings, clock or SystemClock())
    services = Services()
    services.extras["forms"] = forms
    return BotCore(
        settings=settings,
        engine=engine,
        router=build_router(),
        clock=clock or SystemClock(),
        services=services,
    )


def _sync_admins(engine: Engine, settings: Settings, clock: Clock) -> None:
    """ADMIN_IDS is read at start-up: admins it no longer names lose those rights now."""
    import logging

    from bot.db import in_transaction
    from domain.members import sync_configured_admins

    dropped = in_transaction(
        engine,
        lambda session: sync_configured_admins(session, settings=settings, now=clock.now()),
        what="ADMIN_IDS sync",
    )
    for member in dropped:
        logging.getLogger("thidua").info(
            "member=%s no longer in ADMIN_IDS: admin rights taken back", member.id
        )


def build_scheduler(core: BotCore) -> ReminderScheduler:
    """The reminder scheduler of a core (started by the caller inside its event loop);
    handlers reach it as `services.extras["reminders"]`."""
    from bot.scheduler import ReminderScheduler

    scheduler = ReminderScheduler(core)
    core.services.extras["reminders"] = scheduler
    return scheduler
