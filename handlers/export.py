"""The Excel export (xuất) for admins.

    /xuat [số kế hoạch]  the campaign's XLSX workbook

Admin-only (checked by the core); every use is audited. The workbook is built by
domain/export.py. It must not import a platform.
"""

from __future__ import annotations

from bot.access import Access, in_scope
from bot.catalog import t
from bot.context import Context
from bot.errors import InputError
from bot.events import Button, Inbound, OutboundFile
from bot.router import Router, make_payload
from domain.campaigns import active_campaigns, recent_campaigns
from domain.export import (
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

router = Router()

# Button prefixes owned here. "nhac" (remind now) belongs to the reminders capability.
P_EXPORT = "adm-xuat"  # adm-xuat:<campaign>


# --- /xuat ------------------------------------------------------------------------------------
def _export(ctx: Context, campaign: Campaign) -> None:
    data = export_campaign(
        campaign,
        session=ctx.session,
        forms=forms_of(ctx),
        texts=export_texts(),
        default_zone=ctx.settings.tz,
    )
    now = local_time(ctx, ctx.now())
    caption = t(
        "admin.export_caption",
        campaign=campaign.document_number,
        now=now.strftime("%H:%M %d/%m/%Y"),
    )
    name = export_file_name(campaign, now.date())
    ctx.reply(document=OutboundFile(name, data, caption=caption))
    audit_action(ctx, "admin.export", "campaign", campaign.id, bytes=len(data))


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
