"""Admins add and edit deadlines (hạn nộp) of a campaign here.

/hanmoi adds a deadline (campaign, kind, title, due date and time — 17:00 unless changed —,
the report form, the reminder policy: defaults or the admin's own); from a campaign shown by
/dotthidua admins edit its deadlines. Rules and the audit trail live in `domain.campaigns`;
buttons carry ids and are checked again on every press.
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
from domain.dates import ParseError, format_date, parse_time
from domain.schedule import (
    DEFAULT_POLICY,
    Policy,
    load_calendar,
    policy_from_overrides,
    policy_of,
    policy_overrides,
    schedule,
)
from handlers.campaign_common import (
    DEADLINE,
    STEP_CONFIRM,
    btn,
    campaign_from,
    clean_answer,
    deadline_from,
    parse_day,
)
from handlers.reminders import format_due
from models.campaigns import Campaign, CampaignStatus, Deadline

router = Router()
FLOW_NEW_DEADLINE = "deadline_new"
FLOW_EDIT_DEADLINE = "deadline_edit"
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
OVERDUE_CHOICES = (0, 1, 2, 3, 5)
MAX_BEFORE_DAYS = 60


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
    ask_deadline_step(ctx)


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
        [btn("campaigns.button_policy_default", DEADLINE, "pol", "default")],
        [
            btn("campaigns.button_policy_custom", DEADLINE, "pol", "custom"),
            btn("campaigns.button_policy_off", DEADLINE, "pol", "off"),
        ],
    ]


def ask_deadline_step(ctx: Context) -> None:
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
            [[btn(f"campaigns.kind_{k}", DEADLINE, "kind", k)] for k in domain.DEADLINE_KINDS],
        )
    elif step == STEP_TITLE:
        label = t(f"campaigns.kind_{data.get('kind', 'other')}")
        ctx.ask(
            t("campaigns.ask_title"),
            [[btn("campaigns.button_use_title", DEADLINE, "title", title=Raw(label))]],
        )
    elif step == STEP_DATE:
        ctx.ask(t("campaigns.ask_due_date"))
    elif step == STEP_TIME:
        ctx.ask(
            t("campaigns.ask_due_time"),
            [[btn("campaigns.button_default_time", DEADLINE, "time", "default")]],
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
                    btn("campaigns.button_save", DEADLINE, "save"),
                    btn("core.cancel", DEADLINE, "cancel"),
                ]
            ],
        )


def _next_deadline_step(ctx: Context) -> None:
    order = list(DEADLINE_STEPS)
    current = ctx.step if ctx.step in order else STEP_POLICY
    ctx.goto(order[order.index(current) + 1])
    ask_deadline_step(ctx)


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
        data["title"] = clean_answer(
            event.text, 300, "campaigns.bad_title", "Báo cáo sơ kết 6 tháng"
        )
    elif step == STEP_DATE:
        day = parse_day(event.text, ctx, "30/6/2026")
        _check_due_date(ctx, day, tz)
        data["due_date"] = day.isoformat()
    elif step == STEP_TIME:
        data["due_time"] = _time(event.text).isoformat()
        _check_due(ctx, _due_from(data, tz))
    elif step == STEP_POLICY_BEFORE:
        data["before_days"] = list(_parse_before_days(event.text))
        ctx.goto(STEP_POLICY_OVERDUE)
        ask_deadline_step(ctx)
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
    ask_deadline_step(ctx)


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
        deadline = deadline_from(ctx, arg)
        if deadline is None:
            ctx.say("campaigns.deadline_not_found")
            return
        _offer_deadline_fields(ctx, deadline)
        return
    if action == "ef":
        deadline = deadline_from(ctx, arg)
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
        campaign = campaign_from(ctx, arg)
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
            ask_deadline_step(ctx)
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
            [btn(f"campaigns.dfield_{f}", DEADLINE, "ef", deadline.id, f)]
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
        ask_deadline_step(ctx)


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
        title = clean_answer(event.text, 300, "campaigns.bad_title", "Báo cáo sơ kết 6 tháng")
        _save_deadline_edit(ctx, deadline, {"title": title})
    elif step == STEP_DATE:
        day = parse_day(event.text, ctx, "30/6/2026")
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
        ask_deadline_step(ctx)
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
            ask_deadline_step(ctx)
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
