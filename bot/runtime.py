"""The composition root: assembling a running bot — database (migrated), router, core, the
shared services and how pushed messages are worded.

The one module of bot/ that imports handlers/ (a test keeps it so): everything else in bot/
gets what handlers provide (routes, renderers) through what is built here. Used by the CLI,
the channels' tests and the benchmarks, so they all run the same bot.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from bot.catalog import set_default
from bot.clock import Clock, SystemClock
from bot.core import BotCore
from bot.db import create_db_engine, upgrade
from bot.delivery import ChatPacer, DeliveryService
from bot.hub import Hub
from bot.services import Services
from bot.settings import Settings
from domain.documents import validate_templates
from domain.forms import DEFAULT_FORMS_DIR, load_forms, use_forms
from handlers import build_push_texts, build_router
from handlers.dossier import dossier_texts, render_award_import

# The CLI prints what the chat would say, in the same words: handed over from here.
from handlers.plans import MAX_MB as PLAN_MAX_MB
from handlers.plans import render_proposal
from handlers.signing import send_scan_reminders
from handlers.units import render_import_result

__all__ = [
    "PLAN_MAX_MB",
    "build_core",
    "build_scheduler",
    "dossier_texts",
    "render_award_import",
    "render_import_result",
    "render_proposal",
]

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
    # Domain code asked to make deadlines without them (the desk's plan upload) reads them so.
    use_forms(forms)
    # So does a broken Word template, with the file and the variable (TemplateError).
    validate_templates(settings.templates_dir)
    # Texts that name the office ("gửi cho {organiser}") take it from the settings.
    set_default("organiser", settings.office().name)
    engine = engine or create_db_engine(settings.database_url)
    if migrate:
        upgrade(engine)
    if migrate:
        _sync_admins(engine, settings, clock or SystemClock())
    hub = Hub()
    hub.web_desk_public = settings.public_url is not None
    # Texts that point to a desk page ("{desk_url}/plans") name this process's address.
    set_default("desk_url", settings.web_base_url)
    delivery = DeliveryService(
        hub,
        pacer=ChatPacer(settings.reminder_chat_spacing_seconds, spaced_elsewhere=hub.spaces_chats),
    )
    services = Services(
        hub=hub,
        delivery=delivery,
        texts=build_push_texts(),
        forms=forms,
        dossier_texts=dossier_texts,
    )
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
    """The scheduler of a core, with every timed job of a running bot: the reminder tick and
    digest, council rounds, resuming broadcasts (started by the caller inside its event loop,
    once the channels can send; stopped with `await scheduler.stop()`); handlers reach it as
    `services.reminders`."""
    from bot.broadcasts import BroadcastWatch
    from bot.council_jobs import council_job
    from bot.scheduler import ReminderScheduler

    scheduler = ReminderScheduler(core)
    scheduler.extra_jobs.append(
        lambda current: send_scan_reminders(current.core, calendar=current.calendar)
    )
    # Broadcasts a crash or restart cut off go on to those not reached yet.
    scheduler.interval_jobs.append(BroadcastWatch(core).job())
    # Review rounds close on time; members who have not voted are reminded.
    scheduler.interval_jobs.append(council_job(core))
    core.services.reminders = scheduler
    return scheduler
