"""Assembling a running bot: database (migrated), router, core and shared services.

Used by the CLI, the channels' tests and the benchmarks, so they all run the same bot.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from bot.catalog import set_default
from bot.clock import Clock, SystemClock
from bot.core import BotCore
from bot.db import create_db_engine, upgrade
from bot.services import Services
from bot.settings import Settings
from domain.documents import validate_templates
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
    # So does a broken Word template, with the file and the variable (TemplateError).
    templates = validate_templates(settings.templates_dir)
    # Texts that name the office ("gửi cho {organiser}") take it from the settings.
    set_default("organiser", settings.office().name)
    engine = engine or create_db_engine(settings.database_url)
    if migrate:
        upgrade(engine)
    services = Services()
    services.extras["forms"] = forms
    services.extras["templates"] = templates
    return BotCore(
        settings=settings,
        engine=engine,
        router=build_router(),
        clock=clock or SystemClock(),
        services=services,
    )


def build_scheduler(core: BotCore) -> ReminderScheduler:
    """The reminder scheduler of a core (started by the caller inside its event loop);
    handlers reach it as `services.extras["reminders"]`."""
    from bot.scheduler import ReminderScheduler

    scheduler = ReminderScheduler(core)
    core.services.extras["reminders"] = scheduler
    return scheduler
