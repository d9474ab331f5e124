"""Admins run campaigns (đợt thi đua) here.

/dotmoi creates a campaign step by step (document number, name, issuing body, dates typed the
Vietnamese way, participants: all units, chosen blocs or chosen units) and ends on a summary:
saved as a draft or, once the admin confirms, activated — only active campaigns remind.
/dotthidua lists campaigns with their deadlines and how many units submitted; from there admins
edit, activate and close (closing asks first). Deadlines (/hanmoi) are handlers/deadlines.py.
Rules and the audit trail live in `domain.campaigns`; buttons carry ids and are checked again
on every press.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from bot.access import Access, in_scope
from bot.catalog import Raw, t
from bot.context import Context
from bot.errors import InputError
from bot.events import Button, Inbound
from bot.router import Router, make_payload, split_payload
from domain import campaigns as domain
from domain.dates import format_date
from domain.text import shorten
from handlers.campaign_common import (
    CAMPAIGN,
    DEADLINE,
    STEP_CONFIRM,
    btn,
    campaign_from,
    clean_answer,
    fmt_date,
    parse_day,
)
from handlers.deadlines import FLOW_NEW_DEADLINE, STEP_KIND, ask_deadline_step
from handlers.reminders import format_due
from models.campaigns import Campaign, CampaignStatus, Deadline

router = Router()
FLOW_NEW_CAMPAIGN = "campaign_new"
FLOW_EDIT_CAMPAIGN = "campaign_edit"
# Steps of /dotmoi, in order (/quaylai goes one back).
STEP_NUMBER = "number"
STEP_NAME = "name"
STEP_BODY = "issuing_body"
STEP_ISSUED = "issued_on"
STEP_START = "starts_on"
STEP_END = "ends_on"
STEP_PARTICIPANTS = "participants"
STEP_BLOCS = "blocs"
STEP_UNITS = "units"
CAMPAIGN_STEPS = (
    STEP_NUMBER,
    STEP_NAME,
    STEP_BODY,
    STEP_ISSUED,
    STEP_START,
    STEP_END,
    STEP_PARTICIPANTS,
    STEP_CONFIRM,
)
OPTIONAL_CAMPAIGN_STEPS = (STEP_BODY, STEP_ISSUED)
UNITS_PER_PAGE = 8


# =============================================================================================
# /dotmoi — a new campaign
# =============================================================================================
@router.command("dotmoi", access=Access.ADMIN, help_key="help.dotmoi")
async def new_campaign(event: Inbound, ctx: Context) -> None:
    ctx.begin(FLOW_NEW_CAMPAIGN, STEP_NUMBER, {})
    ctx.say("campaigns.new_intro")
    _ask_campaign_step(ctx)


def _ask_campaign_step(ctx: Context) -> None:
    step = ctx.step
    skip = [[btn("campaigns.button_skip", CAMPAIGN, "skip")]]
    if step == STEP_NUMBER:
        ctx.ask(t("campaigns.ask_number"))
    elif step == STEP_NAME:
        ctx.ask(t("campaigns.ask_name"))
    elif step == STEP_BODY:
        ctx.ask(t("campaigns.ask_body"), skip)
    elif step == STEP_ISSUED:
        ctx.ask(t("campaigns.ask_issued"), skip)
    elif step == STEP_START:
        ctx.ask(t("campaigns.ask_start"))
    elif step == STEP_END:
        ctx.ask(t("campaigns.ask_end"))
    elif step == STEP_PARTICIPANTS:
        _ask_participants(ctx)
    elif step == STEP_BLOCS:
        _ask_blocs(ctx)
    elif step == STEP_UNITS:
        _ask_units(ctx)
    elif step == STEP_CONFIRM:
        ctx.ask(
            _campaign_summary(ctx),
            [
                [btn("campaigns.button_save_activate", CAMPAIGN, "save", 1)],
                [
                    btn("campaigns.button_save_draft", CAMPAIGN, "save", 0),
                    btn("core.cancel", CAMPAIGN, "cancel"),
                ],
            ],
        )


def _next_campaign_step(ctx: Context) -> None:
    order = list(CAMPAIGN_STEPS)
    current = ctx.step if ctx.step in order else STEP_PARTICIPANTS
    ctx.goto(order[order.index(current) + 1])
    _ask_campaign_step(ctx)


@router.flow(FLOW_NEW_CAMPAIGN, access=Access.ADMIN)
async def new_campaign_answer(event: Inbound, ctx: Context) -> None:
    step, data = ctx.step, ctx.data
    if step == STEP_NUMBER:
        data["number"] = clean_answer(event.text, 64, "campaigns.bad_number", "353/KH-UBND")
    elif step == STEP_NAME:
        data["name"] = clean_answer(
            event.text, 500, "campaigns.bad_name", "Đợt thi đua chào mừng Đại hội Đảng các cấp"
        )
    elif step == STEP_BODY:
        data["issuing_body"] = clean_answer(
            event.text, 200, "campaigns.bad_body", "UBND huyện Tam Đường"
        )
    elif step == STEP_ISSUED:
        data["issued_on"] = parse_day(event.text, ctx).isoformat()
    elif step == STEP_START:
        data["starts_on"] = parse_day(event.text, ctx, "1/5/2019").isoformat()
    elif step == STEP_END:
        ends = parse_day(event.text, ctx, "30/9/2019")
        if ends < date.fromisoformat(data["starts_on"]):
            raise InputError(
                "campaigns.end_before_start",
                start=format_date(date.fromisoformat(data["starts_on"])),
            )
        data["ends_on"] = ends.isoformat()
    else:
        raise InputError("campaigns.use_buttons")
    _next_campaign_step(ctx)


@router.flow_command(FLOW_NEW_CAMPAIGN, "boqua")
async def new_campaign_skip(event: Inbound, ctx: Context) -> None:
    if ctx.step not in OPTIONAL_CAMPAIGN_STEPS:
        raise InputError("campaigns.cannot_skip")
    _next_campaign_step(ctx)


@router.flow_command(FLOW_NEW_CAMPAIGN, "quaylai")
async def new_campaign_back(event: Inbound, ctx: Context) -> None:
    order = list(CAMPAIGN_STEPS)
    current = ctx.step if ctx.step in order else STEP_PARTICIPANTS
    index = order.index(current)
    ctx.goto(order[max(index - 1, 0)])
    _ask_campaign_step(ctx)


# --- participants (new campaign, or editing one) -----------------------------------------------
def _ask_participants(ctx: Context) -> None:
    ctx.ask(
        t("campaigns.ask_participants"),
        [
            [btn("campaigns.button_all_units", CAMPAIGN, "all")],
            [
                btn("campaigns.button_pick_blocs", CAMPAIGN, "blocs"),
                btn("campaigns.button_pick_units", CAMPAIGN, "units"),
            ],
        ],
    )


def _ask_blocs(ctx: Context) -> None:
    options: list[str] = ctx.data.get("bloc_options", [])
    chosen = set(ctx.data.get("blocs", []))
    rows = [
        [
            Button(
                ("✅ " if bloc in chosen else "▫️ ") + bloc,
                make_payload(CAMPAIGN, "bloc", index),
            )
        ]
        for index, bloc in enumerate(options)
    ]
    rows.append([btn("campaigns.button_done", CAMPAIGN, "done")])
    ctx.ask(t("campaigns.ask_blocs", count=len(chosen)), rows)


def _ask_units(ctx: Context) -> None:
    units = domain.active_units(ctx.session, scope=ctx.admin_scope)
    chosen = set(ctx.data.get("unit_ids", []))
    pages = max((len(units) + UNITS_PER_PAGE - 1) // UNITS_PER_PAGE, 1)
    page = min(max(int(ctx.data.get("page", 0)), 0), pages - 1)
    shown = units[page * UNITS_PER_PAGE : (page + 1) * UNITS_PER_PAGE]
    rows = [
        [
            Button(
                ("✅ " if unit.id in chosen else "▫️ ") + unit.name,
                make_payload(CAMPAIGN, "unit", unit.id),
            )
        ]
        for unit in shown
    ]
    nav: list[Button] = []
    if page > 0:
        nav.append(btn("core.prev", CAMPAIGN, "page", page - 1))
    if page < pages - 1:
        nav.append(btn("core.next", CAMPAIGN, "page", page + 1))
    if nav:
        rows.append(nav)
    rows.append([btn("campaigns.button_done", CAMPAIGN, "done")])
    ctx.ask(
        t("campaigns.ask_units", count=len(chosen), page=page + 1, pages=pages),
        rows,
    )


def _participants_from(data: dict) -> domain.Participants:
    mode = data.get("mode", "all")
    if mode == "all":
        return domain.Participants()
    return domain.Participants(
        everyone=False,
        blocs=list(data.get("blocs", [])) if mode == "blocs" else [],
        unit_ids=[int(u) for u in data.get("unit_ids", [])] if mode == "units" else [],
    )


def _participants_text(ctx: Context, participants: domain.Participants) -> str:
    if participants.everyone:
        return t(
            "campaigns.participants_all",
            count=len(domain.active_units(ctx.session, scope=ctx.admin_scope)),
        )
    parts: list[str] = []
    if participants.blocs:
        parts.append(t("campaigns.participants_blocs", blocs=", ".join(participants.blocs)))
    if participants.unit_ids:
        names = [
            u.name
            for u in (in_scope(ctx, "unit", i) for i in participants.unit_ids[:10])
            if u is not None
        ]
        more = len(participants.unit_ids) - len(names)
        listed = ", ".join(names) + (f" (+{more})" if more > 0 else "")
        parts.append(
            t("campaigns.participants_units", count=len(participants.unit_ids), units=listed)
        )
    return "; ".join(parts) or t("campaigns.participants_none")


def _campaign_summary(ctx: Context) -> str:
    data = ctx.data
    return t(
        "campaigns.summary",
        number=data.get("number", ""),
        name=data.get("name", ""),
        body=data.get("issuing_body") or t("campaigns.none"),
        issued=fmt_date(date.fromisoformat(data["issued_on"]) if data.get("issued_on") else None),
        starts=fmt_date(date.fromisoformat(data["starts_on"]) if data.get("starts_on") else None),
        ends=fmt_date(date.fromisoformat(data["ends_on"]) if data.get("ends_on") else None),
        participants=_participants_text(ctx, _participants_from(data)),
    )


def _participants_chosen(ctx: Context) -> None:
    """After all/blocs/units: the new campaign goes to its summary; an edit is saved."""
    data = ctx.data
    participants = _participants_from(data)
    if not participants.everyone and not (participants.blocs or participants.unit_ids):
        raise InputError("campaigns.nothing_chosen")
    if ctx.flow == FLOW_NEW_CAMPAIGN:
        ctx.goto(STEP_CONFIRM)
        _ask_campaign_step(ctx)
        return
    campaign = in_scope(ctx, "campaign", int(data["campaign_id"]))
    if campaign is None or campaign.status == CampaignStatus.CLOSED:
        ctx.end()
        ctx.say("campaigns.closed_or_missing")
        return
    before = _participants_text(ctx, domain.participants_of(ctx.session, campaign))
    domain.set_participants(ctx.session, campaign, participants)
    from domain import audit

    audit.record(
        ctx.session,
        now=ctx.now(),
        action="campaign.participants",
        actor=ctx.member,
        target_type="campaign",
        target_id=campaign.id,
        detail={"before": before, "after": _participants_text(ctx, participants)},
    )
    ctx.end()
    ctx.say("campaigns.edited", name=campaign.name)
    _show_campaign(ctx, campaign)


# =============================================================================================
# Campaign buttons: participants, save, view, activate, close, edit
# =============================================================================================
@router.button(CAMPAIGN, access=Access.ADMIN)
async def on_campaign_button(event: Inbound, ctx: Context) -> None:
    _, parts = split_payload(event.payload or "")
    action = parts[0] if parts else ""
    arg = parts[1] if len(parts) > 1 else None
    in_picker = ctx.flow in (FLOW_NEW_CAMPAIGN, FLOW_EDIT_CAMPAIGN)
    if action in {"skip", "all", "blocs", "units", "bloc", "unit", "page", "done", "save"}:
        if not in_picker:
            ctx.say("core.stale_button")
            return
        _picker_action(ctx, action, arg)
    elif action == "cancel":
        ctx.end()
        ctx.say("campaigns.cancelled")
    elif action == "view":
        campaign = campaign_from(ctx, arg)
        if campaign is None:
            ctx.say("campaigns.not_found")
            return
        _show_campaign(ctx, campaign)
    elif action in {"act", "actok", "close", "closeok", "edit", "ef", "addhan"}:
        campaign = campaign_from(ctx, arg)
        if campaign is None:
            ctx.say("campaigns.not_found")
            return
        _campaign_action(ctx, action, campaign, parts[2] if len(parts) > 2 else None)
    elif action == "no":
        ctx.say("campaigns.left_unchanged")
    else:
        ctx.say("core.stale_button")


def _picker_action(ctx: Context, action: str, arg: str | None) -> None:
    data = ctx.data
    if action == "skip":
        if ctx.flow != FLOW_NEW_CAMPAIGN or ctx.step not in OPTIONAL_CAMPAIGN_STEPS:
            ctx.say("core.stale_button")
            return
        _next_campaign_step(ctx)
    elif action == "all":
        data["mode"] = "all"
        _participants_chosen(ctx)
    elif action == "blocs":
        options = domain.blocs(ctx.session, scope=ctx.admin_scope)
        if not options:
            raise InputError("campaigns.no_blocs")
        data.update(mode="blocs", bloc_options=options, blocs=[])
        ctx.goto(STEP_BLOCS)
        _ask_blocs(ctx)
    elif action == "units":
        data.update(mode="units", unit_ids=[], page=0)
        ctx.goto(STEP_UNITS)
        _ask_units(ctx)
    elif action == "bloc" and ctx.step == STEP_BLOCS and arg is not None and arg.isdigit():
        options = data.get("bloc_options", [])
        if int(arg) < len(options):
            chosen = data.setdefault("blocs", [])
            bloc = options[int(arg)]
            chosen.remove(bloc) if bloc in chosen else chosen.append(bloc)
        _ask_blocs(ctx)
    elif action == "unit" and ctx.step == STEP_UNITS and arg is not None and arg.isdigit():
        unit = in_scope(ctx, "unit", int(arg))
        if unit is not None and unit.active:
            chosen = data.setdefault("unit_ids", [])
            chosen.remove(unit.id) if unit.id in chosen else chosen.append(unit.id)
        _ask_units(ctx)
    elif action == "page" and ctx.step == STEP_UNITS and arg is not None and arg.isdigit():
        data["page"] = int(arg)
        _ask_units(ctx)
    elif action == "done" and ctx.step in (STEP_BLOCS, STEP_UNITS):
        _participants_chosen(ctx)
    elif action == "save" and ctx.flow == FLOW_NEW_CAMPAIGN and ctx.step == STEP_CONFIRM:
        _save_new_campaign(ctx, activate=arg == "1")
    else:
        ctx.say("core.stale_button")


def _save_new_campaign(ctx: Context, *, activate: bool) -> None:
    data = ctx.data
    campaign = domain.create_campaign(
        ctx.session,
        document_number=data["number"],
        name=data["name"],
        issuing_body=data.get("issuing_body", ""),
        issued_on=date.fromisoformat(data["issued_on"]) if data.get("issued_on") else None,
        starts_on=date.fromisoformat(data["starts_on"]),
        ends_on=date.fromisoformat(data["ends_on"]),
        participants=_participants_from(data),
        activate=activate,
        timezone=ctx.settings.timezone,
        organiser_id=ctx.admin_scope.organiser_id,
        actor=ctx.member,
        now=ctx.now(),
    )
    ctx.end()
    key = "campaigns.created_active" if activate else "campaigns.created_draft"
    ctx.say(
        key,
        [[btn("campaigns.button_add_deadline", CAMPAIGN, "addhan", campaign.id)]],
        name=campaign.name,
        number=campaign.document_number,
    )


def _ask_confirmation(
    ctx: Context, campaign: Campaign, question: str, button: str, confirmed_action: str
) -> None:
    """A question about the campaign with a yes button (doing `confirmed_action`) and a no."""
    ctx.reply(
        t(f"campaigns.{question}", name=campaign.name),
        [
            [
                btn(f"campaigns.{button}", CAMPAIGN, confirmed_action, campaign.id),
                btn("campaigns.button_no", CAMPAIGN, "no"),
            ]
        ],
    )


def _campaign_action(ctx: Context, action: str, campaign: Campaign, extra: str | None) -> None:
    now = ctx.now()
    if action == "act":
        if campaign.status != CampaignStatus.DRAFT:
            ctx.say("campaigns.not_draft", name=campaign.name)
            return
        _ask_confirmation(ctx, campaign, "confirm_activate", "button_activate", "actok")
    elif action == "actok":
        try:
            domain.activate_campaign(ctx.session, campaign, actor=ctx.member, now=now)
        except domain.CampaignStateError:
            ctx.say("campaigns.not_draft", name=campaign.name)
            return
        ctx.say("campaigns.activated", name=campaign.name)
    elif action == "close":
        if campaign.status == CampaignStatus.CLOSED:
            ctx.say("campaigns.already_closed", name=campaign.name)
            return
        _ask_confirmation(ctx, campaign, "confirm_close", "button_close", "closeok")
    elif action == "closeok":
        try:
            domain.close_campaign(ctx.session, campaign, actor=ctx.member, now=now)
        except domain.CampaignStateError:
            ctx.say("campaigns.already_closed", name=campaign.name)
            return
        ctx.say("campaigns.closed", name=campaign.name)
    elif action == "edit":
        if campaign.status == CampaignStatus.CLOSED:
            ctx.say("campaigns.already_closed", name=campaign.name)
            return
        fields = ("document_number", "name", "issuing_body", "starts_on", "ends_on", "participants")
        ctx.reply(
            t("campaigns.pick_field", name=campaign.name),
            [[btn(f"campaigns.field_{f}", CAMPAIGN, "ef", campaign.id, f)] for f in fields],
        )
    elif action == "ef":
        if campaign.status == CampaignStatus.CLOSED:
            ctx.say("campaigns.already_closed", name=campaign.name)
            return
        _begin_campaign_edit(ctx, campaign, extra or "")
    elif action == "addhan":
        if campaign.status == CampaignStatus.CLOSED:
            ctx.say("campaigns.already_closed", name=campaign.name)
            return
        ctx.begin(FLOW_NEW_DEADLINE, STEP_KIND, {"campaign_id": campaign.id})
        ask_deadline_step(ctx)


# =============================================================================================
# Editing a campaign
# =============================================================================================
CAMPAIGN_EDIT_FIELDS = {"document_number", "name", "issuing_body", "starts_on", "ends_on"}


def _begin_campaign_edit(ctx: Context, campaign: Campaign, field: str) -> None:
    if field == "participants":
        current = domain.participants_of(ctx.session, campaign)
        ctx.begin(FLOW_EDIT_CAMPAIGN, STEP_PARTICIPANTS, {"campaign_id": campaign.id})
        ctx.say("campaigns.current_participants", participants=_participants_text(ctx, current))
        _ask_participants(ctx)
        return
    if field not in CAMPAIGN_EDIT_FIELDS:
        ctx.say("core.stale_button")
        return
    ctx.begin(FLOW_EDIT_CAMPAIGN, field, {"campaign_id": campaign.id})
    current = getattr(campaign, field)
    shown = fmt_date(current) if isinstance(current, date) or current is None else str(current)
    ctx.ask(
        t(
            "campaigns.ask_new_value",
            field=t(f"campaigns.field_{field}"),
            current=shown or t("campaigns.none"),
        )
    )


@router.flow(FLOW_EDIT_CAMPAIGN, access=Access.ADMIN)
async def edit_campaign_answer(event: Inbound, ctx: Context) -> None:
    field = ctx.step or ""
    campaign = in_scope(ctx, "campaign", int(ctx.data.get("campaign_id", 0)))
    if campaign is None or campaign.status == CampaignStatus.CLOSED:
        ctx.end()
        ctx.say("campaigns.closed_or_missing")
        return
    value: object
    if field == "document_number":
        value = clean_answer(event.text, 64, "campaigns.bad_number", "353/KH-UBND")
    elif field == "name":
        value = clean_answer(event.text, 500, "campaigns.bad_name", "Đợt thi đua chào mừng Đại hội")
    elif field == "issuing_body":
        value = clean_answer(event.text, 200, "campaigns.bad_body", "UBND huyện Tam Đường")
    elif field == "starts_on":
        value = parse_day(event.text, ctx, "1/5/2019")
        if campaign.ends_on and value > campaign.ends_on:
            raise InputError("campaigns.start_after_end", end=format_date(campaign.ends_on))
    elif field == "ends_on":
        value = parse_day(event.text, ctx, "30/9/2019")
        if campaign.starts_on and value < campaign.starts_on:
            raise InputError("campaigns.end_before_start", start=format_date(campaign.starts_on))
    else:
        raise InputError("campaigns.use_buttons")
    domain.edit_campaign(
        ctx.session, campaign, changes={field: value}, actor=ctx.member, now=ctx.now()
    )
    ctx.end()
    ctx.say("campaigns.edited", name=campaign.name)
    _show_campaign(ctx, campaign)


# =============================================================================================
# /dotthidua — campaigns, their deadlines and counts
# =============================================================================================
def _deadline_line(ctx: Context, deadline: Deadline, campaign: Campaign, index: int) -> str:
    progress = domain.deadline_progress(ctx.session, deadline, campaign=campaign)
    return t(
        "campaigns.deadline_line",
        index=index,
        title=deadline.title,
        kind=t(f"campaigns.kind_{deadline.kind}"),
        due=format_due(deadline.due_at, ZoneInfo(campaign.timezone)),
        submitted=progress.submitted,
        total=progress.total,
        late=progress.late,
        missing=len(progress.missing),
    )


@router.command("dotthidua", access=Access.ADMIN, help_key="help.dotthidua")
async def list_campaigns(event: Inbound, ctx: Context) -> None:
    campaigns = domain.list_campaigns(ctx.session, scope=ctx.admin_scope)
    if not campaigns:
        ctx.say("campaigns.list_empty")
        return
    blocks = [t("campaigns.list_title")]
    buttons: list[list[Button]] = []
    for number, campaign in enumerate(campaigns, 1):
        lines = [
            t(
                "campaigns.list_item",
                index=number,
                number=campaign.document_number,
                name=campaign.name,
                status=t(f"campaigns.status_{campaign.status}"),
            )
        ]
        deadlines = domain.deadlines_of(ctx.session, campaign)
        lines += [_deadline_line(ctx, d, campaign, i) for i, d in enumerate(deadlines, 1)]
        if not deadlines:
            lines.append(t("campaigns.no_deadlines"))
        blocks.append("\n".join(lines))
        buttons.append(
            [
                Button(
                    t("campaigns.button_view", number=Raw(campaign.document_number)),
                    make_payload(CAMPAIGN, "view", campaign.id),
                )
            ]
        )
    ctx.reply("\n\n".join(blocks), buttons)


def _show_campaign(ctx: Context, campaign: Campaign) -> None:
    deadlines = domain.deadlines_of(ctx.session, campaign)
    lines = [
        t(
            "campaigns.detail",
            number=campaign.document_number,
            name=campaign.name,
            status=t(f"campaigns.status_{campaign.status}"),
            body=campaign.issuing_body or t("campaigns.none"),
            issued=fmt_date(campaign.issued_on),
            starts=fmt_date(campaign.starts_on),
            ends=fmt_date(campaign.ends_on),
            participants=_participants_text(ctx, domain.participants_of(ctx.session, campaign)),
        )
    ]
    lines += [_deadline_line(ctx, d, campaign, i) for i, d in enumerate(deadlines, 1)]
    if not deadlines:
        lines.append(t("campaigns.no_deadlines"))
    buttons: list[list[Button]] = []
    if campaign.status != CampaignStatus.CLOSED:
        buttons.append(
            [
                btn("campaigns.button_add_deadline", CAMPAIGN, "addhan", campaign.id),
                btn("campaigns.button_edit", CAMPAIGN, "edit", campaign.id),
            ]
        )
        for deadline in deadlines:
            title = shorten(deadline.title, 30)
            buttons.append(
                [
                    btn(
                        "campaigns.button_edit_deadline",
                        DEADLINE,
                        "edit",
                        deadline.id,
                        title=Raw(title),
                    )
                ]
            )
        row = []
        if campaign.status == CampaignStatus.DRAFT:
            row.append(btn("campaigns.button_activate", CAMPAIGN, "act", campaign.id))
        row.append(btn("campaigns.button_close", CAMPAIGN, "close", campaign.id))
        buttons.append(row)
    ctx.reply("\n".join(lines), buttons)
