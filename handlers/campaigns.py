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

from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from bot.access import Access, in_scope
from bot.catalog import Raw, t
from bot.context import Context
from bot.errors import InputError
from bot.events import Button, Inbound
from bot.router import Router, make_payload, split_payload
from bot.steps import Flow, Step
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
from handlers.deadlines import start_new_deadline
from handlers.reminders import format_due
from models.campaigns import Campaign, CampaignStatus, Deadline

router = Router()
FLOW_NEW_CAMPAIGN = "campaign_new"
FLOW_EDIT_CAMPAIGN = "campaign_edit"
# Steps of /dotmoi, in the order of `NEW_CAMPAIGN` (/quaylai goes one back).
STEP_NUMBER = "number"
STEP_NAME = "name"
STEP_BODY = "issuing_body"
STEP_ISSUED = "issued_on"
STEP_START = "starts_on"
STEP_END = "ends_on"
STEP_PARTICIPANTS = "participants"
STEP_BLOCS = "blocs"
STEP_UNITS = "units"
UNITS_PER_PAGE = 8


@dataclass(slots=True)
class CampaignDraft:
    """What /dotmoi has gathered so far (kept in the conversation state, JSON: dates as ISO
    text). The participant picker of a campaign edit uses it too, with `campaign_id`."""

    number: str = ""
    name: str = ""
    issuing_body: str = ""
    issued_on: str | None = None
    starts_on: str | None = None
    ends_on: str | None = None
    mode: str = "all"  # participants: "all", "blocs" or "units"
    bloc_options: list[str] = field(default_factory=list)  # the bloc buttons, by index
    blocs: list[str] = field(default_factory=list)
    unit_ids: list[int] = field(default_factory=list)
    page: int = 0  # of the unit picker
    campaign_id: int | None = None  # editing that campaign's participants

    def day(self, name: str) -> date | None:
        value = getattr(self, name)
        return date.fromisoformat(value) if value else None


# =============================================================================================
# /dotmoi — a new campaign
# =============================================================================================
def _skip_button() -> list[list[Button]]:
    return [[btn("campaigns.button_skip", CAMPAIGN, "skip")]]


def _ask_number(ctx: Context, draft: CampaignDraft) -> None:
    ctx.ask(t("campaigns.ask_number"))


def _take_number(ctx: Context, draft: CampaignDraft, event: Inbound) -> None:
    draft.number = clean_answer(event.text, 64, "campaigns.bad_number", "353/KH-UBND")


def _ask_name(ctx: Context, draft: CampaignDraft) -> None:
    ctx.ask(t("campaigns.ask_name"))


def _take_name(ctx: Context, draft: CampaignDraft, event: Inbound) -> None:
    draft.name = clean_answer(
        event.text, 500, "campaigns.bad_name", "Đợt thi đua chào mừng Đại hội Đảng các cấp"
    )


def _ask_body(ctx: Context, draft: CampaignDraft) -> None:
    ctx.ask(t("campaigns.ask_body"), _skip_button())


def _take_body(ctx: Context, draft: CampaignDraft, event: Inbound) -> None:
    draft.issuing_body = clean_answer(event.text, 200, "campaigns.bad_body", "UBND huyện Tam Đường")


def _ask_issued(ctx: Context, draft: CampaignDraft) -> None:
    ctx.ask(t("campaigns.ask_issued"), _skip_button())


def _take_issued(ctx: Context, draft: CampaignDraft, event: Inbound) -> None:
    issued = parse_day(event.text, ctx)
    today = ctx.now().astimezone(ctx.settings.tz).date()
    if issued > today:
        # A plan is signed before it is entered; a future date is a typo (2091 for 2019).
        raise InputError("hints.issued_in_future", example=format_date(today))
    draft.issued_on = issued.isoformat()


def _ask_start(ctx: Context, draft: CampaignDraft) -> None:
    ctx.ask(t("campaigns.ask_start"))


def _take_start(ctx: Context, draft: CampaignDraft, event: Inbound) -> None:
    draft.starts_on = parse_day(event.text, ctx, "1/5/2019").isoformat()


def _ask_end(ctx: Context, draft: CampaignDraft) -> None:
    ctx.ask(t("campaigns.ask_end"))


def _take_end(ctx: Context, draft: CampaignDraft, event: Inbound) -> None:
    ends = parse_day(event.text, ctx, "30/9/2019")
    starts = draft.day("starts_on")
    if starts is not None and ends < starts:
        raise InputError("campaigns.end_before_start", start=format_date(starts))
    draft.ends_on = ends.isoformat()


def _ask_confirm(ctx: Context, draft: CampaignDraft) -> None:
    ctx.ask(
        _campaign_summary(ctx, draft),
        [
            [btn("campaigns.button_save_activate", CAMPAIGN, "save", 1)],
            [
                btn("campaigns.button_save_draft", CAMPAIGN, "save", 0),
                btn("core.cancel", CAMPAIGN, "cancel"),
            ],
        ],
    )


NEW_CAMPAIGN: Flow[CampaignDraft] = Flow(
    FLOW_NEW_CAMPAIGN,
    CampaignDraft,
    [
        Step(STEP_NUMBER, _ask_number, _take_number),
        Step(STEP_NAME, _ask_name, _take_name),
        Step(STEP_BODY, _ask_body, _take_body, optional=True),
        Step(STEP_ISSUED, _ask_issued, _take_issued, optional=True),
        Step(STEP_START, _ask_start, _take_start),
        Step(STEP_END, _ask_end, _take_end),
        # Answered by buttons (`_picker_action`); the pickers go back as "participants" would.
        Step(STEP_PARTICIPANTS, lambda ctx, draft: _ask_participants(ctx)),
        Step(STEP_BLOCS, lambda ctx, draft: _ask_blocs(ctx, draft), back=STEP_END),
        Step(STEP_UNITS, lambda ctx, draft: _ask_units(ctx, draft), back=STEP_END),
        Step(STEP_CONFIRM, _ask_confirm, back=STEP_PARTICIPANTS),
    ],
    required_key="campaigns.cannot_skip",
    typed_refusal="campaigns.use_buttons",
)
NEW_CAMPAIGN.register(router, access=Access.ADMIN)


@router.command("dotmoi", access=Access.ADMIN, help_key="help.dotmoi")
async def new_campaign(event: Inbound, ctx: Context) -> None:
    ctx.say("campaigns.new_intro")
    NEW_CAMPAIGN.start(ctx)


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


def _ask_blocs(ctx: Context, draft: CampaignDraft) -> None:
    options = draft.bloc_options
    chosen = set(draft.blocs)
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


def _ask_units(ctx: Context, draft: CampaignDraft) -> None:
    units = domain.active_units(ctx.session, scope=ctx.admin_scope)
    chosen = set(draft.unit_ids)
    pages = max((len(units) + UNITS_PER_PAGE - 1) // UNITS_PER_PAGE, 1)
    page = min(max(int(draft.page), 0), pages - 1)
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


def _participants_from(draft: CampaignDraft) -> domain.Participants:
    if draft.mode == "all":
        return domain.Participants()
    return domain.Participants(
        everyone=False,
        blocs=list(draft.blocs) if draft.mode == "blocs" else [],
        unit_ids=[int(u) for u in draft.unit_ids] if draft.mode == "units" else [],
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


def _campaign_summary(ctx: Context, draft: CampaignDraft) -> str:
    return t(
        "campaigns.summary",
        number=draft.number,
        name=draft.name,
        body=draft.issuing_body or t("campaigns.none"),
        issued=fmt_date(draft.day("issued_on")),
        starts=fmt_date(draft.day("starts_on")),
        ends=fmt_date(draft.day("ends_on")),
        participants=_participants_text(ctx, _participants_from(draft)),
    )


def _participants_chosen(ctx: Context, draft: CampaignDraft) -> None:
    """After all/blocs/units: the new campaign goes to its summary; an edit is saved."""
    participants = _participants_from(draft)
    if not participants.everyone and not (participants.blocs or participants.unit_ids):
        raise InputError("campaigns.nothing_chosen")
    if ctx.flow == FLOW_NEW_CAMPAIGN:
        NEW_CAMPAIGN.goto(ctx, STEP_CONFIRM, draft)
        return
    campaign = in_scope(ctx, "campaign", draft.campaign_id or 0)
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
    """The buttons of /dotmoi's steps and of the participant picker (also when editing)."""
    draft = NEW_CAMPAIGN.data(ctx)
    if action == "skip":
        if ctx.flow != FLOW_NEW_CAMPAIGN or not NEW_CAMPAIGN.current(ctx).optional:
            ctx.say("core.stale_button")
            return
        NEW_CAMPAIGN.advance(ctx, draft)
    elif action == "all":
        draft.mode = "all"
        _participants_chosen(ctx, draft)
    elif action == "blocs":
        options = domain.blocs(ctx.session, scope=ctx.admin_scope)
        if not options:
            raise InputError("campaigns.no_blocs")
        draft.mode, draft.bloc_options, draft.blocs = "blocs", options, []
        NEW_CAMPAIGN.goto(ctx, STEP_BLOCS, draft)
    elif action == "units":
        draft.mode, draft.unit_ids, draft.page = "units", [], 0
        NEW_CAMPAIGN.goto(ctx, STEP_UNITS, draft)
    elif action == "bloc" and ctx.step == STEP_BLOCS and arg is not None and arg.isdigit():
        if int(arg) < len(draft.bloc_options):
            bloc = draft.bloc_options[int(arg)]
            draft.blocs.remove(bloc) if bloc in draft.blocs else draft.blocs.append(bloc)
        NEW_CAMPAIGN.ask(ctx, draft)
    elif action == "unit" and ctx.step == STEP_UNITS and arg is not None and arg.isdigit():
        unit = in_scope(ctx, "unit", int(arg))
        if unit is not None and unit.active and unit.id is not None:
            chosen = draft.unit_ids
            chosen.remove(unit.id) if unit.id in chosen else chosen.append(unit.id)
        NEW_CAMPAIGN.ask(ctx, draft)
    elif action == "page" and ctx.step == STEP_UNITS and arg is not None and arg.isdigit():
        draft.page = int(arg)
        NEW_CAMPAIGN.ask(ctx, draft)
    elif action == "done" and ctx.step in (STEP_BLOCS, STEP_UNITS):
        _participants_chosen(ctx, draft)
    elif action == "save" and ctx.flow == FLOW_NEW_CAMPAIGN and ctx.step == STEP_CONFIRM:
        _save_new_campaign(ctx, draft, activate=arg == "1")
    else:
        ctx.say("core.stale_button")


def _save_new_campaign(ctx: Context, draft: CampaignDraft, *, activate: bool) -> None:
    starts_on, ends_on = draft.day("starts_on"), draft.day("ends_on")
    if starts_on is None or ends_on is None:  # a state no version of the wizard leaves
        ctx.say("core.stale_button")
        return
    campaign = domain.create_campaign(
        ctx.session,
        document_number=draft.number,
        name=draft.name,
        issuing_body=draft.issuing_body,
        issued_on=draft.day("issued_on"),
        starts_on=starts_on,
        ends_on=ends_on,
        participants=_participants_from(draft),
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
        start_new_deadline(ctx, campaign)


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
    campaign = in_scope(ctx, "campaign", NEW_CAMPAIGN.data(ctx).campaign_id or 0)
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
def _deadline_line(ctx: Context, deadline: Deadline, campaign: Campaign) -> str:
    # Deadlines carry their id as "#N" on every screen (/tiendo, /hanchot, /xem, /mobaocao…).
    progress = domain.deadline_progress(ctx.session, deadline, campaign=campaign)
    return t(
        "campaigns.deadline_line",
        id=deadline.id,
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
        lines += [_deadline_line(ctx, d, campaign) for d in deadlines]
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
    lines += [_deadline_line(ctx, d, campaign) for d in deadlines]
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
