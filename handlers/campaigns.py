"""Admins run campaigns (đợt thi đua) and their deadlines (hạn nộp) here.

/dotmoi creates a campaign step by step (document number, name, issuing body, dates typed the
Vietnamese way, participants: all units, chosen blocs or chosen units) and ends on a summary:
saved as a draft or, once the admin confirms, activated — only active campaigns remind.
/hanmoi adds a deadline (campaign, kind, title, due date and time — 17:00 unless changed —,
the report form, the reminder policy: defaults or the admin's own). /dotthidua lists campaigns
with their deadlines and how many units submitted; from there admins edit, activate and close
(closing asks first). Rules and the audit trail live in `domain.campaigns`; buttons carry ids
and are checked again on every press.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from bot.access import Access, in_scope
from bot.catalog import Raw, t
from bot.context import Context
from bot.errors import InputError
from bot.events import Button, Inbound
from bot.router import Router, make_payload, split_payload
from domain import campaigns as domain
from domain.dates import ParseError, format_date, parse_date, parse_time
from domain.reminders import (
    DEFAULT_POLICY,
    Policy,
    load_calendar,
    policy_from_overrides,
    policy_of,
    policy_overrides,
    schedule,
)
from domain.text import clean_text, shorten
from handlers.reminders import format_due
from models.campaigns import Campaign, CampaignStatus, Deadline

router = Router()

CAMPAIGN = "dot"  # button prefix for campaign actions
DEADLINE = "han"  # button prefix for deadline actions

FLOW_NEW_CAMPAIGN = "campaign_new"
FLOW_EDIT_CAMPAIGN = "campaign_edit"
FLOW_NEW_DEADLINE = "deadline_new"
FLOW_EDIT_DEADLINE = "deadline_edit"

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
STEP_CONFIRM = "confirm"
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

# Steps of /hanmoi.
STEP_CAMPAIGN = "campaign"
STEP_KIND = "kind"
STEP_TITLE = "title"
STEP_DATE = "date"
STEP_TIME = "time"
STEP_FORM = "form"
STEP_POLICY = "policy"
STEP_POLICY_BEFORE = "policy_before"
STEP_POLICY_OVERDUE = "policy_overdue"
DEADLINE_STEPS = (
    STEP_CAMPAIGN,
    STEP_KIND,
    STEP_TITLE,
    STEP_DATE,
    STEP_TIME,
    STEP_FORM,
    STEP_POLICY,
    STEP_CONFIRM,
)

UNITS_PER_PAGE = 8
OVERDUE_CHOICES = (0, 1, 2, 3, 5)
MAX_BEFORE_DAYS = 60


def _btn(label_key: str, prefix: str, *parts: object, **params: object) -> Button:
    """A button; labels are plain text, so parameters must be passed as `Raw` (not escaped)."""
    return Button(t(label_key, **params), make_payload(prefix, *parts))


def _clean(text: str, limit: int, key: str, example: str) -> str:
    value = clean_text(text, max_length=limit, multiline=False)
    if not value:
        raise InputError(key, example=example)
    return value


def _date(text: str, ctx: Context, example: str = "25/4/2019") -> date:
    year = ctx.now().astimezone(ctx.settings.tz).year
    try:
        return parse_date(text, default_year=year)
    except ParseError as exc:
        raise InputError(f"campaigns.date_{exc.reason}", example=example) from None


def _fmt(value: date | None) -> str:
    return format_date(value) if value else t("campaigns.none")


def _campaign_from(ctx: Context, raw: str | None) -> Campaign | None:
    if not raw or not raw.isdigit():
        return None
    return in_scope(ctx, "campaign", int(raw))


def _deadline_from(ctx: Context, raw: str | None) -> Deadline | None:
    if not raw or not raw.isdigit():
        return None
    return in_scope(ctx, "deadline", int(raw))


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
    skip = [[_btn("campaigns.button_skip", CAMPAIGN, "skip")]]
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
                [_btn("campaigns.button_save_activate", CAMPAIGN, "save", 1)],
                [
                    _btn("campaigns.button_save_draft", CAMPAIGN, "save", 0),
                    _btn("core.cancel", CAMPAIGN, "cancel"),
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
        data["number"] = _clean(event.text, 64, "campaigns.bad_number", "353/KH-UBND")
    elif step == STEP_NAME:
        data["name"] = _clean(
            event.text, 500, "campaigns.bad_name", "Đợt thi đua chào mừng Đại hội Đảng các cấp"
        )
    elif step == STEP_BODY:
        data["issuing_body"] = _clean(event.text, 200, "campaigns.bad_body", "UBND huyện Tam Đường")
    elif step == STEP_ISSUED:
        data["issued_on"] = _date(event.text, ctx).isoformat()
    elif step == STEP_START:
        data["starts_on"] = _date(event.text, ctx, "1/5/2019").isoformat()
    elif step == STEP_END:
        ends = _date(event.text, ctx, "30/9/2019")
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
            [_btn("campaigns.button_all_units", CAMPAIGN, "all")],
            [
                _btn("campaigns.button_pick_blocs", CAMPAIGN, "blocs"),
                _btn("campaigns.button_pick_units", CAMPAIGN, "units"),
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
    rows.append([_btn("campaigns.button_done", CAMPAIGN, "done")])
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
        nav.append(_btn("core.prev", CAMPAIGN, "page", page - 1))
    if page < pages - 1:
        nav.append(_btn("core.next", CAMPAIGN, "page", page + 1))
    if nav:
        rows.append(nav)
    rows.append([_btn("campaigns.button_done", CAMPAIGN, "done")])
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
        issued=_fmt(date.fromisoformat(data["issued_on"]) if data.get("issued_on") else None),
        starts=_fmt(date.fromisoformat(data["starts_on"]) if data.get("starts_on") else None),
        ends=_fmt(date.fromisoformat(data["ends_on"]) if data.get("ends_on") else None),
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
        campaign = _campaign_from(ctx, arg)
        if campaign is None:
            ctx.say("campaigns.not_found")
            return
        _show_campaign(ctx, campaign)
    elif action in {"act", "actok", "close", "closeok", "edit", "ef", "addhan"}:
        campaign = _campaign_from(ctx, arg)
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
        [[_btn("campaigns.button_add_deadline", CAMPAIGN, "addhan", campaign.id)]],
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
                _btn(f"campaigns.{button}", CAMPAIGN, confirmed_action, campaign.id),
                _btn("campaigns.button_no", CAMPAIGN, "no"),
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
            [[_btn(f"campaigns.field_{f}", CAMPAIGN, "ef", campaign.id, f)] for f in fields],
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
        _ask_deadline_step(ctx)


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
    shown = _fmt(current) if isinstance(current, date) or current is None else str(current)
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
        value = _clean(event.text, 64, "campaigns.bad_number", "353/KH-UBND")
    elif field == "name":
        value = _clean(event.text, 500, "campaigns.bad_name", "Đợt thi đua chào mừng Đại hội")
    elif field == "issuing_body":
        value = _clean(event.text, 200, "campaigns.bad_body", "UBND huyện Tam Đường")
    elif field == "starts_on":
        value = _date(event.text, ctx, "1/5/2019")
        if campaign.ends_on and value > campaign.ends_on:
            raise InputError("campaigns.start_after_end", end=format_date(campaign.ends_on))
    elif field == "ends_on":
        value = _date(event.text, ctx, "30/9/2019")
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
            issued=_fmt(campaign.issued_on),
            starts=_fmt(campaign.starts_on),
            ends=_fmt(campaign.ends_on),
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
                _btn("campaigns.button_add_deadline", CAMPAIGN, "addhan", campaign.id),
                _btn("campaigns.button_edit", CAMPAIGN, "edit", campaign.id),
            ]
        )
        for deadline in deadlines:
            title = shorten(deadline.title, 30)
            buttons.append(
                [
                    _btn(
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
            row.append(_btn("campaigns.button_activate", CAMPAIGN, "act", campaign.id))
        row.append(_btn("campaigns.button_close", CAMPAIGN, "close", campaign.id))
        buttons.append(row)
    ctx.reply("\n".join(lines), buttons)


# =============================================================================================
# /hanmoi — a new deadline
# =============================================================================================
def _open_campaigns(ctx: Context) -> list[Campaign]:
    return domain.list_campaigns(ctx.session, scope=ctx.admin_scope, include_closed=0)


@router.command("hanmoi", access=Access.ADMIN, help_key="help.hanmoi")
async def new_deadline(event: Inbound, ctx: Context) -> None:
    if not _open_campaigns(ctx):
        ctx.say("campaigns.no_open_campaign")
        return
    ctx.begin(FLOW_NEW_DEADLINE, STEP_CAMPAIGN, {})
    _ask_deadline_step(ctx)


def _policy_text(policy: Policy) -> str:
    if not policy.enabled:
        return t("campaigns.policy_off")
    before = ", ".join(str(d) for d in policy.before_days) or t("campaigns.none")
    return t(
        "campaigns.policy_text",
        before=before,
        due_day=t("campaigns.policy_due_day") if policy.on_due_day else "",
        at=policy.send_at.strftime("%H:%M"),
        every=policy.overdue_every_days,
        times=policy.overdue_max,
        quiet_start=policy.quiet_start.strftime("%H:%M"),
        quiet_end=policy.quiet_end.strftime("%H:%M"),
    )


def _policy_buttons() -> list[list[Button]]:
    return [
        [_btn("campaigns.button_policy_default", DEADLINE, "pol", "default")],
        [
            _btn("campaigns.button_policy_custom", DEADLINE, "pol", "custom"),
            _btn("campaigns.button_policy_off", DEADLINE, "pol", "off"),
        ],
    ]


def _ask_deadline_step(ctx: Context) -> None:
    step, data = ctx.step, ctx.data
    if step == STEP_CAMPAIGN:
        ctx.ask(
            t("campaigns.ask_campaign"),
            [
                [
                    Button(
                        f"{c.document_number} — {c.name}"[:60], make_payload(DEADLINE, "camp", c.id)
                    )
                ]
                for c in _open_campaigns(ctx)
            ],
        )
    elif step == STEP_KIND:
        ctx.ask(
            t("campaigns.ask_kind"),
            [[_btn(f"campaigns.kind_{k}", DEADLINE, "kind", k)] for k in domain.DEADLINE_KINDS],
        )
    elif step == STEP_TITLE:
        label = t(f"campaigns.kind_{data.get('kind', 'other')}")
        ctx.ask(
            t("campaigns.ask_title"),
            [[_btn("campaigns.button_use_title", DEADLINE, "title", title=Raw(label))]],
        )
    elif step == STEP_DATE:
        ctx.ask(t("campaigns.ask_due_date"))
    elif step == STEP_TIME:
        ctx.ask(
            t("campaigns.ask_due_time"),
            [[_btn("campaigns.button_default_time", DEADLINE, "time", "default")]],
        )
    elif step == STEP_FORM:
        suggested = data.get("form") or domain.DEFAULT_FORM.get(data.get("kind", ""))
        ctx.ask(
            t("campaigns.ask_form"),
            [
                [
                    Button(
                        ("⭐ " if code == suggested else "") + t(f"campaigns.form_{code}"),
                        make_payload(DEADLINE, "form", code),
                    )
                ]
                for code in domain.KNOWN_FORMS
            ],
        )
    elif step == STEP_POLICY:
        ctx.ask(t("campaigns.ask_policy", policy=_policy_text(DEFAULT_POLICY)), _policy_buttons())
    elif step == STEP_POLICY_BEFORE:
        ctx.ask(t("campaigns.ask_policy_before"))
    elif step == STEP_POLICY_OVERDUE:
        ctx.ask(
            t("campaigns.ask_policy_overdue", every=DEFAULT_POLICY.overdue_every_days),
            [[Button(str(n), make_payload(DEADLINE, "od", n)) for n in OVERDUE_CHOICES]],
        )
    elif step == STEP_CONFIRM:
        ctx.ask(
            _deadline_summary(ctx),
            [
                [
                    _btn("campaigns.button_save", DEADLINE, "save"),
                    _btn("core.cancel", DEADLINE, "cancel"),
                ]
            ],
        )


def _next_deadline_step(ctx: Context) -> None:
    order = list(DEADLINE_STEPS)
    current = ctx.step if ctx.step in order else STEP_POLICY
    ctx.goto(order[order.index(current) + 1])
    _ask_deadline_step(ctx)


def _tz_of(ctx: Context) -> ZoneInfo:
    campaign = in_scope(ctx, "campaign", int(ctx.data.get("campaign_id") or 0))
    return ZoneInfo(campaign.timezone if campaign else ctx.settings.timezone)


def _due_from(data: dict, tz: ZoneInfo) -> datetime:
    day = date.fromisoformat(data["due_date"])
    at = time.fromisoformat(data.get("due_time") or domain.DEFAULT_DUE_TIME.isoformat())
    return datetime.combine(day, at, tzinfo=tz)


def _check_due_date(ctx: Context, day: date, tz: ZoneInfo) -> None:
    if day < ctx.now().astimezone(tz).date():
        raise InputError(
            "campaigns.due_in_past", example=format_date(ctx.now().astimezone(tz).date())
        )


def _check_due(ctx: Context, due: datetime) -> None:
    if due <= ctx.now():
        raise InputError("campaigns.due_time_passed")


def _parse_before_days(text: str) -> tuple[int, ...]:
    words = [w for w in re.split(r"[,;\s]+", text.strip()) if w]
    if not words:
        raise InputError("campaigns.bad_before_days", example="7, 3, 1")
    days: set[int] = set()
    for word in words:
        if not word.isdigit() or int(word) > MAX_BEFORE_DAYS:
            raise InputError("campaigns.bad_before_days", example="7, 3, 1")
        if int(word) > 0:
            days.add(int(word))
    return tuple(sorted(days, reverse=True))


def _schedule_text(due_at: datetime, policy: Policy, ctx: Context, tz: ZoneInfo) -> str:
    """The coming reminders, so the admin sees weekends and holidays taken into account."""
    calendar = load_calendar(ctx.settings.holidays_file)
    now = ctx.now()
    slots = [s for s in schedule(due_at, policy, tz=tz, calendar=calendar) if s.fire_at > now]
    if not slots:
        return t("campaigns.schedule_none")
    moments = ", ".join(format_due(s.fire_at, tz) for s in slots)
    return t("campaigns.schedule", moments=moments)


@router.flow(FLOW_NEW_DEADLINE, access=Access.ADMIN)
async def new_deadline_answer(event: Inbound, ctx: Context) -> None:
    step, data = ctx.step, ctx.data
    tz = _tz_of(ctx)
    if step == STEP_TITLE:
        data["title"] = _clean(event.text, 300, "campaigns.bad_title", "Báo cáo sơ kết 6 tháng")
    elif step == STEP_DATE:
        day = _date(event.text, ctx, "30/6/2026")
        _check_due_date(ctx, day, tz)
        data["due_date"] = day.isoformat()
    elif step == STEP_TIME:
        data["due_time"] = _time(event.text).isoformat()
        _check_due(ctx, _due_from(data, tz))
    elif step == STEP_POLICY_BEFORE:
        data["before_days"] = list(_parse_before_days(event.text))
        ctx.goto(STEP_POLICY_OVERDUE)
        _ask_deadline_step(ctx)
        return
    else:
        raise InputError("campaigns.use_buttons")
    _next_deadline_step(ctx)


def _time(text: str) -> time:
    try:
        return parse_time(text)
    except ParseError as exc:
        raise InputError(f"campaigns.time_{exc.reason}", example="16h30") from None


@router.flow_command(FLOW_NEW_DEADLINE, "quaylai")
async def new_deadline_back(event: Inbound, ctx: Context) -> None:
    order = list(DEADLINE_STEPS)
    current = ctx.step if ctx.step in order else STEP_POLICY
    ctx.goto(order[max(order.index(current) - 1, 0)])
    _ask_deadline_step(ctx)


def _deadline_summary(ctx: Context) -> str:
    data = ctx.data
    campaign = in_scope(ctx, "campaign", int(data["campaign_id"]))
    assert campaign is not None
    tz = ZoneInfo(campaign.timezone)
    due = _due_from(data, tz)
    policy = policy_from_overrides(data.get("policy"))
    return t(
        "campaigns.deadline_summary",
        campaign=campaign.name,
        kind=t(f"campaigns.kind_{data['kind']}"),
        title=data["title"],
        due=format_due(due, tz),
        form=t(f"campaigns.form_{data['form']}"),
        policy=Raw(_policy_text(policy)),
        schedule=Raw(_schedule_text(due, policy, ctx, tz)),
    )


# =============================================================================================
# Deadline buttons (new and edit flows) and editing a deadline
# =============================================================================================
@router.button(DEADLINE, access=Access.ADMIN)
async def on_deadline_button(event: Inbound, ctx: Context) -> None:
    _, parts = split_payload(event.payload or "")
    action = parts[0] if parts else ""
    arg = parts[1] if len(parts) > 1 else None
    if action == "edit":
        deadline = _deadline_from(ctx, arg)
        if deadline is None:
            ctx.say("campaigns.deadline_not_found")
            return
        _offer_deadline_fields(ctx, deadline)
        return
    if action == "ef":
        deadline = _deadline_from(ctx, arg)
        if deadline is None:
            ctx.say("campaigns.deadline_not_found")
            return
        _begin_deadline_edit(ctx, deadline, parts[2] if len(parts) > 2 else "")
        return
    if action == "cancel":
        ctx.end()
        ctx.say("campaigns.cancelled")
        return
    if ctx.flow == FLOW_NEW_DEADLINE:
        _new_deadline_button(ctx, action, arg)
    elif ctx.flow == FLOW_EDIT_DEADLINE:
        _edit_deadline_button(ctx, action, arg)
    else:
        ctx.say("core.stale_button")


def _new_deadline_button(ctx: Context, action: str, arg: str | None) -> None:
    data, step = ctx.data, ctx.step
    if action == "camp" and step == STEP_CAMPAIGN:
        campaign = _campaign_from(ctx, arg)
        if campaign is None or campaign.status == CampaignStatus.CLOSED:
            raise InputError("campaigns.closed_or_missing")
        data["campaign_id"] = campaign.id
    elif action == "kind" and step == STEP_KIND and arg in domain.DEADLINE_KINDS:
        data["kind"] = arg
        data["form"] = domain.DEFAULT_FORM[arg]
    elif action == "title" and step == STEP_TITLE:
        data["title"] = t(f"campaigns.kind_{data.get('kind', 'other')}")
    elif action == "time" and step == STEP_TIME:
        data["due_time"] = domain.DEFAULT_DUE_TIME.isoformat()
        _check_due(ctx, _due_from(data, _tz_of(ctx)))
    elif action == "form" and step == STEP_FORM and arg in domain.KNOWN_FORMS:
        data["form"] = arg
    elif action == "pol" and step == STEP_POLICY:
        if arg == "custom":
            ctx.goto(STEP_POLICY_BEFORE)
            _ask_deadline_step(ctx)
            return
        data["policy"] = {} if arg == "default" else {"enabled": False}
    elif action == "od" and step == STEP_POLICY_OVERDUE and arg is not None and arg.isdigit():
        policy = Policy(before_days=tuple(data.get("before_days", [])), overdue_max=int(arg))
        data["policy"] = policy_overrides(policy)
        ctx.goto(STEP_POLICY)
    elif action == "save" and step == STEP_CONFIRM:
        _save_new_deadline(ctx)
        return
    else:
        ctx.say("core.stale_button")
        return
    _next_deadline_step(ctx)


def _save_new_deadline(ctx: Context) -> None:
    data = ctx.data
    campaign = in_scope(ctx, "campaign", int(data["campaign_id"]))
    if campaign is None or campaign.status == CampaignStatus.CLOSED:
        ctx.end()
        ctx.say("campaigns.closed_or_missing")
        return
    tz = ZoneInfo(campaign.timezone)
    due = _due_from(data, tz)
    _check_due(ctx, due)
    deadline = domain.add_deadline(
        ctx.session,
        campaign,
        kind=data["kind"],
        title=data["title"],
        due_at=due,
        form_code=data["form"],
        reminder_policy=data.get("policy") or {},
        actor=ctx.member,
        now=ctx.now(),
    )
    ctx.end()
    key = (
        "campaigns.deadline_created"
        if campaign.status == CampaignStatus.ACTIVE
        else "campaigns.deadline_created_draft"
    )
    ctx.say(
        key,
        title=deadline.title,
        campaign=campaign.name,
        due=format_due(deadline.due_at, tz),
        schedule=Raw(_schedule_text(deadline.due_at, policy_of(deadline), ctx, tz)),
    )


DEADLINE_EDIT_FIELDS = ("title", "date", "time", "form", "policy")


def _offer_deadline_fields(ctx: Context, deadline: Deadline) -> None:
    campaign = in_scope(ctx, "campaign", deadline.campaign_id)
    if campaign is None or campaign.status == CampaignStatus.CLOSED:
        ctx.say("campaigns.closed_or_missing")
        return
    tz = ZoneInfo(campaign.timezone)
    ctx.reply(
        t(
            "campaigns.deadline_pick_field",
            title=deadline.title,
            due=format_due(deadline.due_at, tz),
            form=t(f"campaigns.form_{deadline.form_code}"),
            policy=Raw(_policy_text(policy_of(deadline))),
        ),
        [
            [_btn(f"campaigns.dfield_{f}", DEADLINE, "ef", deadline.id, f)]
            for f in DEADLINE_EDIT_FIELDS
        ],
    )


def _begin_deadline_edit(ctx: Context, deadline: Deadline, field: str) -> None:
    campaign = in_scope(ctx, "campaign", deadline.campaign_id)
    if campaign is None or campaign.status == CampaignStatus.CLOSED:
        ctx.say("campaigns.closed_or_missing")
        return
    if field not in DEADLINE_EDIT_FIELDS:
        ctx.say("core.stale_button")
        return
    data = {"deadline_id": deadline.id, "campaign_id": campaign.id, "form": deadline.form_code}
    steps = {
        "title": STEP_TITLE,
        "date": STEP_DATE,
        "time": STEP_TIME,
        "form": STEP_FORM,
        "policy": STEP_POLICY,
    }
    ctx.begin(FLOW_EDIT_DEADLINE, steps[field], data)
    if field == "title":
        ctx.ask(t("campaigns.ask_new_title", current=deadline.title))
    elif field == "date":
        ctx.ask(
            t(
                "campaigns.ask_new_due_date",
                current=format_due(deadline.due_at, ZoneInfo(campaign.timezone)),
            )
        )
    else:
        _ask_deadline_step(ctx)


@router.flow(FLOW_EDIT_DEADLINE, access=Access.ADMIN)
async def edit_deadline_answer(event: Inbound, ctx: Context) -> None:
    deadline = in_scope(ctx, "deadline", int(ctx.data.get("deadline_id") or 0))
    if deadline is None:
        ctx.end()
        ctx.say("campaigns.deadline_not_found")
        return
    tz = _tz_of(ctx)
    local = deadline.due_at.astimezone(tz)
    step = ctx.step
    if step == STEP_TITLE:
        title = _clean(event.text, 300, "campaigns.bad_title", "Báo cáo sơ kết 6 tháng")
        _save_deadline_edit(ctx, deadline, {"title": title})
    elif step == STEP_DATE:
        day = _date(event.text, ctx, "30/6/2026")
        _check_due_date(ctx, day, tz)
        due = datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=tz)
        _check_due(ctx, due)
        _save_deadline_edit(ctx, deadline, {"due_at": due.astimezone(ZoneInfo("UTC"))})
    elif step == STEP_TIME:
        due = datetime.combine(local.date(), _time(event.text), tzinfo=tz)
        _check_due(ctx, due)
        _save_deadline_edit(ctx, deadline, {"due_at": due.astimezone(ZoneInfo("UTC"))})
    elif step == STEP_POLICY_BEFORE:
        ctx.data["before_days"] = list(_parse_before_days(event.text))
        ctx.goto(STEP_POLICY_OVERDUE)
        _ask_deadline_step(ctx)
    else:
        raise InputError("campaigns.use_buttons")


def _edit_deadline_button(ctx: Context, action: str, arg: str | None) -> None:
    deadline = in_scope(ctx, "deadline", int(ctx.data.get("deadline_id") or 0))
    if deadline is None:
        ctx.end()
        ctx.say("campaigns.deadline_not_found")
        return
    step = ctx.step
    if action == "time" and step == STEP_TIME:
        tz = _tz_of(ctx)
        due = datetime.combine(
            deadline.due_at.astimezone(tz).date(), domain.DEFAULT_DUE_TIME, tzinfo=tz
        )
        _check_due(ctx, due)
        _save_deadline_edit(ctx, deadline, {"due_at": due.astimezone(ZoneInfo("UTC"))})
    elif action == "form" and step == STEP_FORM and arg in domain.KNOWN_FORMS:
        _save_deadline_edit(ctx, deadline, {"form_code": arg})
    elif action == "pol" and step == STEP_POLICY:
        if arg == "custom":
            ctx.goto(STEP_POLICY_BEFORE)
            _ask_deadline_step(ctx)
            return
        _save_deadline_edit(
            ctx, deadline, {"reminder_policy": {} if arg == "default" else {"enabled": False}}
        )
    elif action == "od" and step == STEP_POLICY_OVERDUE and arg is not None and arg.isdigit():
        policy = Policy(before_days=tuple(ctx.data.get("before_days", [])), overdue_max=int(arg))
        _save_deadline_edit(ctx, deadline, {"reminder_policy": policy_overrides(policy)})
    else:
        ctx.say("core.stale_button")


def _save_deadline_edit(ctx: Context, deadline: Deadline, changes: dict) -> None:
    try:
        domain.edit_deadline(
            ctx.session, deadline, changes=changes, actor=ctx.member, now=ctx.now()
        )
    except domain.CampaignStateError as exc:
        if exc.reason == "after_parent":
            raise InputError("organisers.deadline_after_parent") from None
        ctx.end()
        ctx.say("campaigns.closed_or_missing")
        return
    ctx.end()
    tz = _tz_of_deadline(ctx, deadline)
    ctx.say(
        "campaigns.deadline_edited",
        title=deadline.title,
        due=format_due(deadline.due_at, tz),
        schedule=Raw(_schedule_text(deadline.due_at, policy_of(deadline), ctx, tz)),
    )


def _tz_of_deadline(ctx: Context, deadline: Deadline) -> ZoneInfo:
    campaign = in_scope(ctx, "campaign", deadline.campaign_id)
    return ZoneInfo(campaign.timezone if campaign else ctx.settings.timezone)
