"""The campaign dossier in the chat: `/hoso <campaign>` builds the ZIP the office files (each
unit's filled report and signed scan, the list of nominees, a draft submission, an index of
what is missing); `/dieukien <campaign>` lists nominations that break a rule of the law, and
an admin may let one through with a reason (kept and audited).

Admins only. Building the dossier renders a Word document per unit: it runs after the update
as a background job, in worker threads a few units at a time, with one progress message
edited as it goes — never on the event loop. Rules and documents live in `domain/dossier.py`,
`domain/awards.py` and `domain/documents.py`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.access import Access
from bot.broadcasts import ProgressMessage
from bot.catalog import Raw, t
from bot.channels.text import html_to_plain
from bot.context import Context
from bot.db import outside_update
from bot.delivery import DeliveryService
from bot.errors import InputError
from bot.events import Address, Button, Delivery, Inbound, Outbound, OutboundFile
from bot.router import Router, make_payload, split_payload
from bot.settings import Settings
from bot.web.links import DOSSIER, keep_for_link, signed_file_url
from domain import audit
from domain import dossier as docs
from domain.awards import AwardImportResult, Violation, catalog, override
from domain.campaigns import active_campaigns
from domain.export import RankingTexts, find_campaign
from domain.forms import Form
from models.campaigns import Campaign

log = logging.getLogger(__name__)
T = TypeVar("T")
router = Router()

FLOW_OVERRIDE = "override"
STEP_REASON = "reason"
P_OVERRIDE = "hs-ok"  # hs-ok:<campaign>:<index>
UNITS_PER_STEP = 4  # units rendered per worker-thread call: progress moves, the loop stays free
MAX_SHOWN = 20
MAX_SHOWN_ERRORS = 20
REASON_MIN, REASON_MAX = 5, 1000
DOSSIER_LINK_TTL = timedelta(days=1)  # the ZIP as a link (Zalo): opened the day it was asked


def dossier_texts() -> docs.DossierTexts:
    """The index sheet's words, from the catalog."""
    return docs.DossierTexts(
        headers=t("dossier.index.headers").split("|"),
        violations_headers=t("dossier.index.violations_headers").split("|"),
        submitted=t("dossier.index.submitted"),
        not_submitted=t("dossier.index.not_submitted"),
        missing_report=t("dossier.index.missing_report"),
        missing_scan=t("dossier.index.missing_scan"),
        complete=t("dossier.index.complete"),
        list_headers=t("dossier.index.list_headers").split("|"),
        rule_message=lambda v: html_to_plain(violation_text(v)),
        propose_title=t("dossier.title_propose"),
        generic_title=t("dossier.title_generic"),
        index_sheet=t("dossier.index.sheet"),
        violations_sheet=t("dossier.index.violations_sheet"),
        list_sheet=t("dossier.index.list_sheet"),
        role_label=lambda role: t(f"council.role_{role.replace('-', '_')}"),
        recipient_of=t("organiser_documents.recipient"),
        ranking=RankingTexts.from_catalog(t),
        adjustments_sheet=t("scoring.dossier.adjustments_sheet"),
        adjustments_headers=t("scoring.dossier.adjustments_headers").split("|"),
    )


def violation_text(violation: Violation) -> str:
    return t(f"awards.rule.{violation.kind}", **violation.params)


def render_award_import(result: AwardImportResult) -> str:
    """The answer to an award-history import (the CLI prints it)."""
    if result.ok:
        return t("awards.import.done", created=result.created, updated=result.updated)
    lines = [t("awards.import.refused", count=len(result.errors))]
    for error in result.errors[:MAX_SHOWN_ERRORS]:
        reason = t(f"awards.import.error.{error.reason}", **error.params)
        lines.append(
            reason if error.row == 0 else t("awards.import.row", row=error.row, reason=Raw(reason))
        )
    if len(result.errors) > MAX_SHOWN_ERRORS:
        lines.append(t("awards.import.more", count=len(result.errors) - MAX_SHOWN_ERRORS))
    return "\n".join(lines)


def _campaign(ctx: Context, args: str, example: str) -> Campaign | None:
    if args:
        campaign = find_campaign(args, scope=ctx.admin_scope, session=ctx.session)
        if campaign is None:
            raise InputError("admin.campaign_not_found", example=example, query=args)
        return campaign
    active = active_campaigns(scope=ctx.admin_scope, session=ctx.session)
    if len(active) == 1:
        return active[0]
    raise InputError("dossier.which_campaign", example=example)


# --- /hoso ------------------------------------------------------------------------------------
@router.command("hoso", access=Access.ADMIN, help_key="help.hoso")
async def dossier(event: Inbound, ctx: Context) -> None:
    campaign = _campaign(ctx, event.args, "/hoso 353/KH-UBND")
    assert campaign is not None and campaign.id is not None
    engine = ctx.session.get_bind()
    assert isinstance(engine, Engine)
    address = Address(event.channel, event.chat_id)
    audit.record(
        ctx.session,
        now=ctx.now(),
        action="dossier.build",
        actor=ctx.member,
        target_type="campaign",
        target_id=campaign.id,
    )
    delivery, settings, clock = ctx.services.delivery, ctx.settings, ctx.clock
    forms: Mapping[str, Form] = ctx.services.forms
    campaign_id = campaign.id
    ctx.defer(
        lambda: build_and_send(
            delivery, engine, settings, forms, address, campaign_id, now=clock.now()
        )
    )


async def build_and_send(
    delivery: DeliveryService,
    engine: Engine,
    settings: Settings,
    forms: Mapping[str, Form],
    address: Address,
    campaign_id: int,
    *,
    now: datetime,
) -> None:
    """Render the dossier a few units per worker-thread call, editing one progress message,
    then send the ZIP. Any failure is logged and told to the admin in one sentence."""
    office, texts, zone = settings.office(), dossier_texts(), settings.tz
    storage = Path(settings.storage_dir)

    def read(work: Callable[[Session], T]) -> Awaitable[T]:
        return outside_update(engine, work, commit=False, what="dossier")

    def current(session: Session) -> Campaign:
        campaign = session.get(Campaign, campaign_id)
        if campaign is None:  # deleted while the dossier was being built: told as a failure
            raise LookupError(f"campaign {campaign_id} no longer exists")
        return campaign

    def files_of(chunk: list[int]) -> Callable[[Session], dict[int, docs.UnitFiles]]:
        def work(session: Session) -> dict[int, docs.UnitFiles]:
            return docs.unit_files(
                session,
                campaign=current(session),
                unit_ids=chunk,
                forms=forms,
                office=office,
                texts=texts,
                storage_dir=storage,
                templates_dir=settings.templates_dir,
            )

        return work

    try:
        campaign, ids = await read(lambda s: (current(s), docs.participant_ids(s, current(s))))
        progress = ProgressMessage(
            delivery.hub,
            address,
            lambda done, total: t("dossier.progress", done=done, total=total),
            delivery=delivery,
        )
        await progress.start(len(ids))
        units: dict[int, docs.UnitFiles] = {}
        for start in range(0, len(ids), UNITS_PER_STEP):
            chunk = ids[start : start + UNITS_PER_STEP]
            units.update(await read(files_of(chunk)))
            await progress.update(min(start + UNITS_PER_STEP, len(ids)), len(ids))
        await progress.finish(len(ids), len(ids))
        local_today = now.astimezone(zone).date()

        def finish(session: Session) -> bytes:
            files = [f for u in units.values() for f in u.files]
            files += docs.office_files(
                session,
                campaign=current(session),
                units=units,
                office=office,
                texts=texts,
                today=local_today,
                zone=zone,
                templates_dir=settings.templates_dir,
            )
            return docs.write_zip(docs.dossier_root(current(session)), files)

        data = await read(finish)
    except Exception:
        log.exception("dossier of campaign %s could not be built", campaign_id)
        await delivery.push(Delivery(address, Outbound(t("dossier.failed"))), pace=False)
        return
    missing_reports = sum(1 for u in units.values() if not u.reported)
    missing_scans = sum(
        1 for u in units.values() for line in u.index if line[-1] == texts.missing_scan
    )
    caption = t(
        "dossier.caption",
        number=campaign.document_number,
        units=len(units),
        missing_reports=missing_reports,
        missing_scans=missing_scans,
    )
    name = f"{docs.dossier_root(campaign)}.zip"
    link = _dossier_link(settings, campaign, data, now=now) if settings.public_url else None
    document = OutboundFile(name, data, caption=caption, link=link)
    await delivery.push(Delivery(address, Outbound(document=document)), pace=False)


def _dossier_link(
    settings: Settings, campaign: Campaign, data: bytes, *, now: datetime
) -> Callable[[], Awaitable[str]]:
    """How a chat that cannot receive the ZIP (Zalo) gets it: kept for the campaign and served
    by the web server to a signed link of the campaign's organiser (`bot.web.links`, kind
    `dossier`) — made only when such a channel asks for it."""
    campaign_id, organiser_id = campaign.id or 0, campaign.organiser_id

    async def link() -> str:
        digest = await asyncio.to_thread(
            keep_for_link, settings, DOSSIER, campaign_id, data, now=now
        )
        return signed_file_url(
            settings,
            DOSSIER,
            campaign_id,
            DOSSIER_LINK_TTL,
            organiser_id=organiser_id,
            digest=digest,
            now=now,
        )

    return link


# --- /dieukien and the override ---------------------------------------------------------------
def _violations(ctx: Context, campaign: Campaign) -> list[Violation]:
    deadlines = docs.deadlines_of(campaign, session=ctx.session)
    year = docs.campaign_year(campaign, deadlines, ctx.settings.tz)
    return docs.violations(ctx.session, campaign, year)


@router.command("dieukien", access=Access.ADMIN, help_key="help.dieukien")
async def check_nominations(event: Inbound, ctx: Context) -> None:
    campaign = _campaign(ctx, event.args, "/dieukien 353/KH-UBND")
    assert campaign is not None
    found = _violations(ctx, campaign)
    if not found:
        ctx.say("dossier.rules_ok", number=campaign.document_number)
        return
    lines = [t("dossier.rules_found", count=len(found), number=campaign.document_number)]
    buttons: list[list[Button]] = []
    for index, violation in enumerate(found[:MAX_SHOWN], 1):
        lines.append(f"{index}. {violation_text(violation)}")
        buttons.append(
            [
                Button(
                    t("dossier.override_button", index=index),
                    make_payload(P_OVERRIDE, campaign.id, index),
                )
            ]
        )
    if len(found) > MAX_SHOWN:
        lines.append(t("awards.import.more", count=len(found) - MAX_SHOWN))
    ctx.reply("\n".join(lines), buttons)


@router.button(P_OVERRIDE, access=Access.ADMIN)
async def on_override(event: Inbound, ctx: Context) -> None:
    _, parts = split_payload(event.payload or "")
    numbers = [int(p) for p in parts if p.isdigit()]
    campaign = ctx.session.get(Campaign, numbers[0]) if len(numbers) == 2 else None
    found = _violations(ctx, campaign) if campaign else []
    if campaign is None or not 1 <= numbers[1] <= len(found):
        ctx.say("core.stale_button")
        return
    violation = found[numbers[1] - 1]
    ctx.begin(
        FLOW_OVERRIDE,
        STEP_REASON,
        {
            "report_id": violation.report_id,
            "nominee": violation.nominee,
            "award": violation.award,
            "rule": violation.rule,
            "campaign_id": campaign.id,
        },
    )
    ctx.ask(t("dossier.override_ask", text=Raw(violation_text(violation))))


@router.flow(FLOW_OVERRIDE, access=Access.ADMIN)
async def on_override_reason(event: Inbound, ctx: Context) -> None:
    reason = " ".join(event.text.split())
    if not REASON_MIN <= len(reason) <= REASON_MAX:
        raise InputError(
            "dossier.override_bad_reason",
            example="Đã có quyết định công nhận sáng kiến, lịch sử chưa cập nhật",
            min=REASON_MIN,
            max=REASON_MAX,
        )
    data = ctx.data
    campaign = ctx.session.get(Campaign, int(data["campaign_id"]))
    found = _violations(ctx, campaign) if campaign else []
    match = next(
        (
            v
            for v in found
            if (v.report_id, v.nominee, v.award, v.rule)
            == (data["report_id"], data["nominee"], data["award"], data["rule"])
        ),
        None,
    )
    ctx.end()
    if match is None:
        ctx.say("dossier.override_gone")
        return
    override(ctx.session, violation=match, reason=reason, actor=ctx.member, now=ctx.now())
    ctx.say(
        "dossier.override_done",
        nominee=match.nominee,
        award=catalog().label(match.award),
        reason=reason,
    )
