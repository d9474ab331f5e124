"""The Excel export (xuất) for admins.

    /xuat [số kế hoạch]  the campaign's XLSX workbook

Admin-only (checked by the core); every use is audited. The workbook is built by
domain/export.py. It must not import a platform.

The export is heavy (a province: 15,000 units, half a million cells): the update only records
the request and says it is under way; the workbook is built after the commit, as a deferred
job, in a worker thread with its own read-only session, one export at a time per process, and
sent when ready. Nobody else waits for it — neither the event loop nor the core's transaction
turn — and a crash while it is built does not replay it: the update was committed and answered
(the admin asks again).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.access import Access, in_scope
from bot.catalog import t
from bot.context import Context
from bot.db import in_transaction
from bot.delivery import DeliveryService
from bot.errors import InputError
from bot.events import Address, Button, Delivery, Inbound, Outbound, OutboundFile
from bot.router import Router, make_payload
from domain.campaigns import active_campaigns, recent_campaigns
from domain.export import (
    ExportTexts,
    FormLike,
    export_campaign,
    export_file_name,
    find_campaign,
)
from handlers.admin_common import (
    MAX_PICK_BUTTONS,
    audit_action,
    export_texts,
    forms_of,
    local_time,
    payload_ints,
    plain,
)
from models.campaigns import Campaign

log = logging.getLogger("thidua.export")
router = Router()
# One export at a time per process: each holds a workbook's worth of memory and a core of CPU.
_ONE_AT_A_TIME = asyncio.Semaphore(1)

# Button prefixes owned here. "nhac" (remind now) belongs to the reminders capability.
P_EXPORT = "adm-xuat"  # adm-xuat:<campaign>


# --- /xuat ------------------------------------------------------------------------------------
def _export(ctx: Context, campaign: Campaign) -> None:
    """Record the request and say it is under way; the workbook follows (`_send_export`)."""
    audit_action(ctx, "admin.export", "campaign", campaign.id)
    ctx.say("heavy.export_started", campaign=campaign.document_number)
    engine = ctx.session.get_bind()
    assert isinstance(engine, Engine)
    delivery, address = ctx.services.delivery, Address(ctx.event.channel, ctx.event.chat_id)
    forms, texts, zone = forms_of(ctx), export_texts(), ctx.settings.tz
    # The export time: aware UTC for the statuses (overdue or not) and the title row, local
    # for the caption and the file name.
    at = ctx.now()
    now, campaign_id = local_time(ctx, at), campaign.id
    assert campaign_id is not None
    ctx.defer(
        lambda: _send_export(delivery, engine, address, campaign_id, forms, texts, zone, now, at)
    )


async def _send_export(
    delivery: DeliveryService,
    engine: Engine,
    address: Address,
    campaign_id: int,
    forms: Mapping[str, FormLike],
    texts: ExportTexts,
    zone: ZoneInfo,
    now: datetime,
    at: datetime,
) -> None:
    def build(session: Session) -> tuple[Campaign, bytes] | None:
        campaign = session.get(Campaign, campaign_id)
        if campaign is None:
            return None
        data = export_campaign(
            campaign, session=session, forms=forms, texts=texts, default_zone=zone, now=at
        )
        return campaign, data

    try:
        async with _ONE_AT_A_TIME:
            built = await asyncio.to_thread(
                in_transaction, engine, build, commit=False, what="export"
            )
    except Exception:
        log.exception("export of campaign %s failed", campaign_id)
        await delivery.push(Delivery(address, Outbound(t("core.error"))))
        return
    if built is None:
        await delivery.push(Delivery(address, Outbound(t("core.stale_button"))))
        return
    campaign, data = built
    caption = t(
        "admin.export_caption",
        campaign=campaign.document_number,
        now=now.strftime("%H:%M %d/%m/%Y"),
    )
    name = export_file_name(campaign, now.date())
    # A pushed message (bot/delivery.py): retried while it certainly did not go.
    outcome = await delivery.push(
        Delivery(address, Outbound(document=OutboundFile(name, data, caption=caption)))
    )
    if not outcome.sent:
        log.warning("export of campaign %s not delivered: %s", campaign_id, outcome.status)


@router.command("xuat", access=Access.ADMIN, help_key="help.xuat")
async def export(event: Inbound, ctx: Context) -> None:
    if event.args:
        campaign = find_campaign(event.args, scope=ctx.admin_scope, session=ctx.session)
        if campaign is None:
            raise InputError(
                "admin.campaign_not_found", example="/xuat 353/KH-UBND", query=event.args
            )
        _export(ctx, campaign)
        return
    active = active_campaigns(scope=ctx.admin_scope, session=ctx.session)
    if len(active) == 1:
        _export(ctx, active[0])
        return
    choices = active or recent_campaigns(
        scope=ctx.admin_scope, session=ctx.session, limit=MAX_PICK_BUTTONS
    )
    if not choices:
        ctx.say("admin.export_none")
        return
    buttons = [
        [
            Button(
                plain("admin.campaign_button", number=c.document_number, name=c.name)[:60],
                make_payload(P_EXPORT, c.id),
            )
        ]
        for c in choices[:MAX_PICK_BUTTONS]
    ]
    ctx.reply(t("admin.export_pick"), buttons)


@router.button(P_EXPORT, access=Access.ADMIN)
async def on_export(event: Inbound, ctx: Context) -> None:
    ids = payload_ints(event.payload)
    campaign = in_scope(ctx, "campaign", ids[0]) if ids else None
    if campaign is None:
        ctx.say("core.stale_button")
        return
    _export(ctx, campaign)
