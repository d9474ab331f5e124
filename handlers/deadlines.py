"""Admins add and edit deadlines (hạn nộp) of a campaign here.

/hanmoi adds a deadline (campaign, kind, title, due date and time — 17:00 unless changed —,
the report form, the reminder policy: defaults or the admin's own); from a campaign shown by
/dotthidua admins edit its deadlines. Rules and the audit trail live in `domain.campaigns`;
buttons carry ids and are checked again on every press.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from bot.access import Access, in_scope
from bot.catalog import Raw, t
from bot.context import Context
from bot.errors import InputError
from bot.events import Button, Inbound, Outbound
from bot.router import Router, make_payload, split_payload
from bot.steps import Flow, Step
from domain import campaigns as domain
from domain import scope as scoped
from domain.dates import ParseError, format_date, parse_time
from domain.forms import base_form_code, form_for_organiser
from domain.schedule import (
    DEFAULT_POLICY,
    Policy,
    load_calendar,
    policy_from_overrides,
    policy_of,
    policy_overrides,
    schedule,
)
from domain.units import members_by_unit
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
from models.units import MemberStatus

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
OVERDUE_CHOICES = (0, 1, 2, 3, 5)
MAX_BEFORE_DAYS = 60
MAX_OVERDUE_TIMES = 10


@dataclass(slots=True)
class DeadlineDraft:
    """What /hanmoi has gathered so far, or what a deadline edit needs (`deadline_id`); kept
    in the conversation state, JSON: the due date and time as ISO text."""

    campaign_id: int | None = None
    kind: str = ""
    title: str = ""
    due_date: str | None = None
    due_time: str | None = None  # None: DEFAULT_DUE_TIME (17:00)
    form: str = ""
    policy: dict[str, Any] | None = None  # reminder policy overrides; {} = the defaults
    before_days: list[int] = field(default_factory=list)  # a custom policy being chosen
    deadline_id: int | None = None  # the deadline being edited


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
    NEW_DEADLINE.start(ctx)


def start_new_deadline(ctx: Context, campaign: Campaign) -> None:
    """/hanmoi for a campaign already chosen (the button under a campaign)."""
    NEW_DEADLINE.start(ctx, DeadlineDraft(campaign_id=campaign.id), at=STEP_KIND)


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


def _ask_campaign(ctx: Context, draft: DeadlineDraft) -> None:
    ctx.ask(
        t("campaigns.ask_campaign"),
        [
            [Button(f"{c.document_number} — {c.name}"[:60], make_payload(DEADLINE, "camp", c.id))]
            for c in _open_campaigns(ctx)
        ],
    )


def _ask_kind(ctx: Context, draft: DeadlineDraft) -> None:
    ctx.ask(
        t("campaigns.ask_kind"),
        [[btn(f"campaigns.kind_{k}", DEADLINE, "kind", k)] for k in domain.DEADLINE_KINDS],
    )


def _ask_title(ctx: Context, draft: DeadlineDraft) -> None:
    label = t(f"campaigns.kind_{draft.kind or 'other'}")
    ctx.ask(
        t("campaigns.ask_title"),
        [[btn("campaigns.button_use_title", DEADLINE, "title", title=Raw(label))]],
    )


def _take_title(ctx: Context, draft: DeadlineDraft, event: Inbound) -> None:
    draft.title = clean_answer(event.text, 300, "campaigns.bad_title", "Báo cáo sơ kết 6 tháng")


def _ask_date(ctx: Context, draft: DeadlineDraft) -> None:
    ctx.ask(t("campaigns.ask_due_date"))


def _take_date(ctx: Context, draft: DeadlineDraft, event: Inbound) -> None:
    day = parse_day(event.text, ctx, "30/6/2026")
    _check_due_date(ctx, day, _tz_of(ctx, draft))
    draft.due_date = day.isoformat()


def _ask_time(ctx: Context, draft: DeadlineDraft) -> None:
    ctx.ask(
        t("campaigns.ask_due_time"),
        [[btn("campaigns.button_default_time", DEADLINE, "time", "default")]],
    )


def _take_time(ctx: Context, draft: DeadlineDraft, event: Inbound) -> None:
    draft.due_time = _time(event.text).isoformat()
    _check_due(ctx, _due_from(draft, _tz_of(ctx, draft)))


def _form_of(ctx: Context, campaign: Campaign, code: str) -> str:
    """The form a deadline of `campaign` asks for: its organiser's own version of `code` when
    the organiser has one (forms/<ORGANISER CODE>/), else the default."""
    organiser = scoped.organiser_of_campaign(campaign, session=ctx.session)
    return form_for_organiser(ctx.services.forms, organiser.code, code)


def _ask_form(ctx: Context, draft: DeadlineDraft) -> None:
    suggested = draft.form or domain.DEFAULT_FORM.get(draft.kind)
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


def _ask_policy(ctx: Context, draft: DeadlineDraft) -> None:
    ctx.ask(t("campaigns.ask_policy", policy=_policy_text(DEFAULT_POLICY)), _policy_buttons())


def _ask_policy_before(ctx: Context, draft: DeadlineDraft) -> None:
    ctx.ask(t("campaigns.ask_policy_before"))


def _take_policy_before(ctx: Context, draft: DeadlineDraft, event: Inbound) -> None:
    draft.before_days = list(_parse_before_days(event.text))


def _ask_policy_overdue(ctx: Context, draft: DeadlineDraft) -> None:
    ctx.ask(
        t("campaigns.ask_policy_overdue", every=DEFAULT_POLICY.overdue_every_days),
        [[Button(str(n), make_payload(DEADLINE, "od", n)) for n in OVERDUE_CHOICES]],
        # The choices are numbers: a typed "3" means three, never "the third button".
        accepts_text=True,
    )


def _take_policy_overdue(ctx: Context, draft: DeadlineDraft, event: Inbound) -> None:
    count = _parse_overdue_count(event.text)
    draft.policy = policy_overrides(Policy(before_days=tuple(draft.before_days), overdue_max=count))


def _ask_confirm(ctx: Context, draft: DeadlineDraft) -> None:
    ctx.ask(
        _deadline_summary(ctx, draft),
        [
            [
                btn("campaigns.button_save", DEADLINE, "save"),
                btn("core.cancel", DEADLINE, "cancel"),
            ]
        ],
    )


NEW_DEADLINE: Flow[DeadlineDraft] = Flow(
    FLOW_NEW_DEADLINE,
    DeadlineDraft,
    [
        Step(STEP_CAMPAIGN, _ask_campaign),
        Step(STEP_KIND, _ask_kind),
        Step(STEP_TITLE, _ask_title, _take_title),
        Step(STEP_DATE, _ask_date, _take_date),
        Step(STEP_TIME, _ask_time, _take_time),
        Step(STEP_FORM, _ask_form),
        # Defaults or off go straight to the confirmation; "custom" asks the two below, which
        # /quaylai leaves as it would leave the policy question.
        Step(STEP_POLICY, _ask_policy),
        Step(STEP_POLICY_BEFORE, _ask_policy_before, _take_policy_before, back=STEP_FORM),
        Step(STEP_POLICY_OVERDUE, _ask_policy_overdue, _take_policy_overdue, back=STEP_FORM),
        Step(STEP_CONFIRM, _ask_confirm, back=STEP_POLICY),
    ],
    typed_refusal="campaigns.use_buttons",
)
NEW_DEADLINE.register(router, access=Access.ADMIN)


def _tz_of(ctx: Context, draft: DeadlineDraft) -> ZoneInfo:
    campaign = in_scope(ctx, "campaign", draft.campaign_id or 0)
    return ZoneInfo(campaign.timezone if campaign else ctx.settings.timezone)


def _due_from(draft: DeadlineDraft, tz: ZoneInfo) -> datetime:
    if draft.due_date is None:  # a state no version of the wizard leaves
        raise InputError("core.stale_button")
    day = date.fromisoformat(draft.due_date)
    at = time.fromisoformat(draft.due_time or domain.DEFAULT_DUE_TIME.isoformat())
    return datetime.combine(day, at, tzinfo=tz)


def _check_due_date(ctx: Context, day: date, tz: ZoneInfo) -> None:
    if day < ctx.now().astimezone(tz).date():
        raise InputError(
            "campaigns.due_in_past", example=format_date(ctx.now().astimezone(tz).date())
        )
    calendar = load_calendar(ctx.settings.holidays_file)
    if calendar.is_day_off(day):
        # Allowed (a plan may say so), but said: the units' offices are closed that day.
        weekend = day.weekday() >= 5
        ctx.say(
            "hints.due_on_day_off",
            day=format_date(day),
            what=t(f"reminders.weekday_{day.weekday()}") if weekend else t("hints.holiday"),
            earlier=format_date(calendar.previous_working_day(day)),
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


def _parse_overdue_count(text: str) -> int:
    words = text.strip().split()
    if words and words[0].isdigit() and 0 <= int(words[0]) <= MAX_OVERDUE_TIMES:
        return int(words[0])  # "3" or "3 lần"
    raise InputError("hints.bad_overdue_count", example="3", max=MAX_OVERDUE_TIMES)


def _time(text: str) -> time:
    try:
        return parse_time(text)
    except ParseError as exc:
        raise InputError(f"campaigns.time_{exc.reason}", example="16h30") from None


def _deadline_summary(ctx: Context, draft: DeadlineDraft) -> str:
    campaign = in_scope(ctx, "campaign", draft.campaign_id or 0)
    assert campaign is not None
    tz = ZoneInfo(campaign.timezone)
    due = _due_from(draft, tz)
    policy = policy_from_overrides(draft.policy)
    return t(
        "campaigns.deadline_summary",
        campaign=campaign.name,
        kind=t(f"campaigns.kind_{draft.kind}"),
        title=draft.title,
        due=format_due(due, tz),
        form=t(f"campaigns.form_{draft.form}"),
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
    draft, step = NEW_DEADLINE.data(ctx), ctx.step
    if action == "camp" and step == STEP_CAMPAIGN:
        campaign = campaign_from(ctx, arg)
        if campaign is None or campaign.status == CampaignStatus.CLOSED:
            raise InputError("campaigns.closed_or_missing")
        draft.campaign_id = campaign.id
    elif action == "kind" and step == STEP_KIND and arg in domain.DEADLINE_KINDS:
        draft.kind = arg
        draft.form = domain.DEFAULT_FORM[arg]
    elif action == "title" and step == STEP_TITLE:
        draft.title = t(f"campaigns.kind_{draft.kind or 'other'}")
    elif action == "time" and step == STEP_TIME:
        draft.due_time = domain.DEFAULT_DUE_TIME.isoformat()
        _check_due(ctx, _due_from(draft, _tz_of(ctx, draft)))
    elif action == "form" and step == STEP_FORM and arg in domain.KNOWN_FORMS:
        draft.form = arg
    elif action == "pol" and step == STEP_POLICY:
        if arg == "custom":
            NEW_DEADLINE.goto(ctx, STEP_POLICY_BEFORE, draft)
            return
        draft.policy = {} if arg == "default" else {"enabled": False}
        NEW_DEADLINE.goto(ctx, STEP_CONFIRM, draft)
        return
    elif action == "od" and step == STEP_POLICY_OVERDUE and arg is not None and arg.isdigit():
        policy = Policy(before_days=tuple(draft.before_days), overdue_max=int(arg))
        draft.policy = policy_overrides(policy)
    elif action == "save" and step == STEP_CONFIRM:
        _save_new_deadline(ctx, draft)
        return
    else:
        ctx.say("core.stale_button")
        return
    NEW_DEADLINE.advance(ctx, draft)


def _save_new_deadline(ctx: Context, draft: DeadlineDraft) -> None:
    campaign = in_scope(ctx, "campaign", draft.campaign_id or 0)
    if campaign is None or campaign.status == CampaignStatus.CLOSED:
        ctx.end()
        ctx.say("campaigns.closed_or_missing")
        return
    tz = ZoneInfo(campaign.timezone)
    due = _due_from(draft, tz)
    _check_due(ctx, due)
    deadline = domain.add_deadline(
        ctx.session,
        campaign,
        kind=draft.kind,
        title=draft.title,
        due_at=due,
        form_code=_form_of(ctx, campaign, draft.form),
        reminder_policy=draft.policy or {},
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
            form=t(f"campaigns.form_{base_form_code(deadline.form_code)}"),
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
    draft = DeadlineDraft(deadline_id=deadline.id, campaign_id=campaign.id, form=deadline.form_code)
    steps = {
        "title": STEP_TITLE,
        "date": STEP_DATE,
        "time": STEP_TIME,
        "form": STEP_FORM,
        "policy": STEP_POLICY,
    }
    ctx.begin(FLOW_EDIT_DEADLINE, steps[field])
    NEW_DEADLINE.save(ctx, draft)
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
        NEW_DEADLINE.ask(ctx, draft)  # the same question as in /hanmoi


@router.flow(FLOW_EDIT_DEADLINE, access=Access.ADMIN)
async def edit_deadline_answer(event: Inbound, ctx: Context) -> None:
    draft = NEW_DEADLINE.data(ctx)
    deadline = in_scope(ctx, "deadline", draft.deadline_id or 0)
    if deadline is None:
        ctx.end()
        ctx.say("campaigns.deadline_not_found")
        return
    tz = _tz_of(ctx, draft)
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
        draft.before_days = list(_parse_before_days(event.text))
        NEW_DEADLINE.goto(ctx, STEP_POLICY_OVERDUE, draft)
    else:
        raise InputError("campaigns.use_buttons")


def _edit_deadline_button(ctx: Context, action: str, arg: str | None) -> None:
    draft = NEW_DEADLINE.data(ctx)
    deadline = in_scope(ctx, "deadline", draft.deadline_id or 0)
    if deadline is None:
        ctx.end()
        ctx.say("campaigns.deadline_not_found")
        return
    step = ctx.step
    if action == "time" and step == STEP_TIME:
        tz = _tz_of(ctx, draft)
        due = datetime.combine(
            deadline.due_at.astimezone(tz).date(), domain.DEFAULT_DUE_TIME, tzinfo=tz
        )
        _check_due(ctx, due)
        _save_deadline_edit(ctx, deadline, {"due_at": due.astimezone(ZoneInfo("UTC"))})
    elif action == "form" and step == STEP_FORM and arg in domain.KNOWN_FORMS:
        campaign = ctx.session.get(Campaign, deadline.campaign_id)
        assert campaign is not None  # a foreign key
        _save_deadline_edit(ctx, deadline, {"form_code": _form_of(ctx, campaign, arg)})
    elif action == "pol" and step == STEP_POLICY:
        if arg == "custom":
            NEW_DEADLINE.goto(ctx, STEP_POLICY_BEFORE, draft)
            return
        _save_deadline_edit(
            ctx, deadline, {"reminder_policy": {} if arg == "default" else {"enabled": False}}
        )
    elif action == "od" and step == STEP_POLICY_OVERDUE and arg is not None and arg.isdigit():
        policy = Policy(before_days=tuple(draft.before_days), overdue_max=int(arg))
        _save_deadline_edit(ctx, deadline, {"reminder_policy": policy_overrides(policy)})
    else:
        ctx.say("core.stale_button")


def _save_deadline_edit(ctx: Context, deadline: Deadline, changes: dict) -> None:
    old_due = deadline.due_at
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
    text = t(
        "campaigns.deadline_edited",
        title=deadline.title,
        due=format_due(deadline.due_at, tz),
        schedule=Raw(_schedule_text(deadline.due_at, policy_of(deadline), ctx, tz)),
    )
    if "due_at" in changes and deadline.due_at != old_due:
        text += _announce_new_due(ctx, deadline, old_due, tz)
    ctx.reply(text)


def _announce_new_due(ctx: Context, deadline: Deadline, old_due: datetime, tz: ZoneInfo) -> str:
    """Tell the participating units' officers that a due date moved (otherwise they find out
    only from /hanchot); returns the line that tells the admin so."""
    campaign = in_scope(ctx, "campaign", deadline.campaign_id)
    if campaign is None or campaign.status != CampaignStatus.ACTIVE:
        return ""  # a draft campaign has told nobody anything yet
    units = domain.participating_units(ctx.session, campaign)
    officers = members_by_unit(
        ctx.session, domain.unit_ids(units), statuses=(MemberStatus.APPROVED,)
    )
    sender = ctx.member.display_name if ctx.member else ""

    def notice() -> Outbound:
        text = t(
            "hints.due_changed",
            title=deadline.title,
            campaign=campaign.name,
            old=format_due(old_due, tz),
            new=format_due(deadline.due_at, tz),
            sender=sender,
        )
        return Outbound(text, [[Button(t("reports.button.open"), make_payload("rp", deadline.id))]])

    told = 0
    for members in officers.values():
        for member in members:
            if member.unreachable_at is None:
                ctx.notify_member(member, notice)
                told += 1
    return "\n" + t("hints.due_change_announced", count=told, units=len(officers))


def _tz_of_deadline(ctx: Context, deadline: Deadline) -> ZoneInfo:
    campaign = in_scope(ctx, "campaign", deadline.campaign_id)
    return ZoneInfo(campaign.timezone if campaign else ctx.settings.timezone)
