"""Reports (báo cáo): an officer fills in, on a phone, the report a deadline asks for — one
question at a time, buttons wherever the answer is a choice, the draft saved after every
answer, a review of every answer before submitting. Admins' review (accept, return, reopen)
is handlers/report_review.py.

Officers: /baocao, then inside the flow /boqua (skip an optional question), /quaylai (back one
step), /huy (pause; the draft stays). Buttons: `rp:<deadline_id>` opens a unit's report
(reminders attach it too); `rpa:<serial>:<action>` acts on the question currently shown (an
older serial is a stale button). A submission notifies the admins with the accept/return
buttons that report_review handles.

The conversation is a declared flow (`bot.steps`) with dynamic steps: one `Step` per kind of
screen (a question, "more?", a group's menu, the review), the place in the form in the typed
`ReportChat.at` (`domain.forms.Position`), the next place chosen from the form and the answers
(`_following`), /quaylai along the places visited (`_previous`). A commune's report to the
province may open on one more screen, the offer to pre-fill its numeric answers with the sums
of its villages' accepted reports (`Place.PREFILL`, `domain.rollup`). The answers sit in the
shared `Report`, so another officer or another device continues from them. Rules live in
domain/reports.py and domain/forms.py; this module only converses. No platform import.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from bot.access import Access, can_act_for_unit
from bot.catalog import TYPED as TYPED_STYLE
from bot.catalog import Raw, pick, t
from bot.context import Context
from bot.errors import InputError
from bot.events import BUTTON_LABEL_MAX, Button, Inbound, Outbound
from bot.router import Router, make_payload, split_payload
from bot.steps import TRANSIENT, Flow, Step
from bot.storage import FileRejected, receive_file
from domain import audit
from domain.campaigns import open_deadlines_for_unit, takes_part, unit_status
from domain.forms import (
    PREFILL,
    REVIEW,
    TYPED,
    AnswerError,
    Field,
    Form,
    Place,
    Position,
    Problem,
    answer_words,
    check_selection,
    entry_pending,
    format_answer,
    next_position,
    parse_answer,
    problems,
)
from domain.members import audit_refusal
from domain.organisers import office_words
from domain.reports import (
    ReportError,
    add_entry,
    admins_of_deadline,
    campaign_refusal,
    close_group,
    edit_refusal,
    find_report,
    get_or_create_report,
    has_unsent_changes,
    remove_entry,
    report_with_context,
    set_answer,
    submit,
    unit_officers,
)
from domain.rollup import PrefillOffer, prefill_offer, prefill_values
from domain.text import fold, heading, shorten
from handlers.signing import offer_signing_copy
from models.campaigns import Campaign, Deadline
from models.reports import Report, ReportStatus
from models.units import Unit

log = logging.getLogger("thidua.reports")
router = Router()

FLOW = "report"
# Modes: "fill" asks only what is unanswered; "edit" walks an entry's questions in order.
FILL, EDIT = "fill", "edit"
HISTORY_LIMIT = 100
EDIT_BUTTONS_PER_ROW = 4


@dataclass(slots=True)
class Open:
    """The report a chat works on, with what it needs to be shown."""

    report: Report
    deadline: Deadline
    form: Form
    unit: Unit

    @property
    def answers(self) -> dict[str, Any]:
        return self.report.answers or {}


@dataclass(slots=True)
class ReportChat:
    """Where a chat is in a report: the flow's data, kept in the conversation state. (The
    answers are not here but in the shared `Report`.)"""

    report_id: int = 0
    deadline_id: int = 0
    form: str = ""
    # Stamped on the buttons of the screen shown: a press on an older screen is stale.
    serial: int = 0
    at: Position = REVIEW
    # The places left so far, for /quaylai (the last HISTORY_LIMIT).
    history: list[Position] = field(default_factory=list)
    mode: str = FILL
    # Where the walk returns once the question (or entry) being edited is answered.
    back_to: Position | None = None
    # The ticks of the multi-choice question shown, until «Xong».
    selected: list[str] | None = None
    # Answers put in from the sums of the unit's own accepted reports of the level below
    # (field id → the value put in; marked while the answer is still that value), the ones
    # the walk has not shown back yet, and the counts they came from ([accepted, total]).
    prefilled: dict[str, Any] = field(default_factory=dict)
    to_confirm: list[str] = field(default_factory=list)
    prefill_counts: list[int] = field(default_factory=list)
    # The report, loaded and re-checked for this update (`_load`); never stored.
    opened: Open | None = field(default=None, compare=False, repr=False, metadata=TRANSIENT)

    @property
    def o(self) -> Open:
        if self.opened is None:
            raise RuntimeError("the report was not loaded for this update")
        return self.opened


# The keys of the conversation state before the flow was declared (positions as raw lists,
# read by `Position.from_state`): a report half-way through an upgrade goes on.
LEGACY_KEYS = {"n": "serial", "pos": "at", "hist": "history", "ret": "back_to", "sel": "selected"}


# --- small helpers ------------------------------------------------------------------------------
def _forms(ctx: Context) -> dict[str, Form]:
    return dict(ctx.services.forms)


def _when(ctx: Context, moment: datetime) -> str:
    return moment.astimezone(ctx.settings.tz).strftime("%H:%M %d/%m/%Y")


def _button(chat: ReportChat, label: str, action: str) -> Button:
    return Button(label, make_payload("rpa", chat.serial, action))


def _field_at(form: Form, pos: Position) -> Field:
    top = form.field(pos.field_id)
    return top.sub(pos.sub or "") if pos.in_entry else top


def _entry(answers: dict[str, Any], group_id: str, index: int) -> dict[str, Any] | None:
    entries = answers.get(group_id)
    if isinstance(entries, list) and 0 <= index < len(entries):
        return entries[index]
    return None


def _value_at(answers: dict[str, Any], pos: Position) -> Any:
    if pos.entry is None:
        return answers.get(pos.field_id)
    entry = _entry(answers, pos.field_id, pos.entry)
    return entry.get(pos.sub or "") if entry else None


def _siblings(answers: dict[str, Any], pos: Position) -> dict[str, Any]:
    if pos.entry is None:
        return answers
    return _entry(answers, pos.field_id, pos.entry) or {}


def _still_there(o: Open, pos: Position) -> bool:
    """A remembered position still exists (an entry may have been deleted since)."""
    try:
        if pos.kind is Place.QUESTION and pos.entry is None:
            return o.form.field(pos.field_id).type != "group"
        if pos.kind is Place.QUESTION and pos.entry is not None:
            _field_at(o.form, pos)
            return _entry(o.answers, pos.field_id, pos.entry) is not None
        if pos.kind in (Place.MORE, Place.MENU):
            return o.form.field(pos.field_id).type == "group"
    except (KeyError, IndexError, TypeError):
        return False
    return pos.kind in (Place.REVIEW, Place.PREFILL)


def status_label(report: Report | None, deadline: Deadline, now: datetime) -> str:
    return t(f"status.{unit_status(report, deadline, now)}")


# --- opening a report -----------------------------------------------------------------------------
@router.command("baocao", access=Access.OFFICER, help_key="help.baocao")
async def start_report(event: Inbound, ctx: Context) -> None:
    """Start or resume the unit's report; with several open deadlines, pick one by button."""
    assert ctx.member is not None and ctx.member.unit_id is not None
    unit = ctx.session.get(Unit, ctx.member.unit_id)
    assert unit is not None
    deadlines = open_deadlines_for_unit(ctx.session, unit)
    if event.args.strip().isdigit():
        wanted = int(event.args.strip())
        chosen = [d for d in deadlines if d.id == wanted]
        if not chosen:
            _not_open(ctx, unit, wanted)
            return
        deadlines = chosen
    if not deadlines:
        ctx.say("reports.no_deadlines")
        return
    if len(deadlines) == 1:
        _open(ctx, unit, deadlines[0])
        return
    now = ctx.now()
    buttons = []
    for deadline in deadlines:
        report = find_report(ctx.session, unit_id=unit.id, deadline_id=deadline.id)  # type: ignore[arg-type]  # a stored row: its id is set
        due = deadline.due_at.astimezone(ctx.settings.tz).strftime("%d/%m")
        status = status_label(report, deadline, now)
        # The title gives way so the due date and the status stay on the button.
        room = BUTTON_LABEL_MAX - len(t("reports.pick_button", title="", due=due, status=status))
        label = t(
            "reports.pick_button",
            title=shorten(deadline.title, max(room, 12)),
            due=due,
            status=status,
        )
        buttons.append([Button(label, make_payload("rp", deadline.id))])
    ctx.reply(t("reports.pick", count=len(deadlines)), buttons)


@router.button("rp", access=Access.OFFICER)
async def open_from_button(event: Inbound, ctx: Context) -> None:
    """`rp:<deadline_id>`: from the picker, a reminder, or a 'returned'/'reopened' notice."""
    _, parts = split_payload(event.payload or "")
    assert ctx.member is not None and ctx.member.unit_id is not None
    unit = ctx.session.get(Unit, ctx.member.unit_id)
    assert unit is not None
    deadline_id = int(parts[0]) if parts and parts[0].isdigit() else None
    # Rights are checked again on every press: the deadline must be open for this unit now.
    deadline = next(
        (d for d in open_deadlines_for_unit(ctx.session, unit) if d.id == deadline_id), None
    )
    if deadline is None:
        _not_open(ctx, unit, deadline_id)
        return
    _open(ctx, unit, deadline)


def _not_open(ctx: Context, unit: Unit, deadline_id: int | None) -> None:
    """Refuse a deadline that is not open for the unit. One of a campaign the unit takes no
    part in was never offered to it (a forged button payload, a guessed id): audited."""
    deadline = ctx.session.get(Deadline, deadline_id) if deadline_id else None
    campaign = ctx.session.get(Campaign, deadline.campaign_id) if deadline else None
    if campaign is not None and not takes_part(ctx.session, campaign, unit):
        audit_refusal(
            ctx.session,
            member=ctx.member,
            event=ctx.event,
            route=f"deadline:{deadline_id}",
            now=ctx.now(),
        )
    ctx.say("reports.deadline_not_open")


def _open(ctx: Context, unit: Unit, deadline: Deadline) -> None:
    form = _forms(ctx).get(deadline.form_code)
    if form is None:
        log.warning("deadline %s names unknown form %r", deadline.id, deadline.form_code)
        ctx.say("reports.form_missing", code=deadline.form_code)
        return
    now = ctx.now()
    report = get_or_create_report(ctx.session, unit=unit, deadline=deadline, now=now)
    o = Open(report, deadline, form, unit)
    refusal = edit_refusal(report, deadline, now)
    if refusal is not None:
        if ctx.flow == FLOW:
            ctx.end()
        ctx.reply(_review_text(ctx, o))
        ctx.say(f"reports.{refusal}", due=_when(ctx, deadline.due_at))
        return
    chat = ReportChat(
        report_id=report.id,  # type: ignore[arg-type]  # a stored row: its id is set
        deadline_id=deadline.id,  # type: ignore[arg-type]  # a stored row: its id is set
        form=form.code,
        opened=o,
    )
    fill = _fill_offer(ctx, o)
    if report.version > 0:
        # Handed in before (or returned, or reopened): start from the review.
        REPORT.start(ctx, chat, at=_place(chat, PREFILL if fill else REVIEW))
        return
    answers = o.answers
    common: dict[str, Any] = {
        "heading": heading(form.title, deadline.title),
        "due": _when(ctx, deadline.due_at),
        "count": len(form.fields),
    }
    if answers:
        answered = [f for f in form.fields if f.id in answers]
        lines = [t("reports.resume", answered=len(answered), **common)]
        for item in answered:
            value = format_answer(item, answers[item.id]) or t("reports.empty_value")
            lines.append(t("reports.resume_line", label=item.label, value=value))
        ctx.reply("\n".join(lines))
    else:
        ctx.say("reports.start", **common)
    REPORT.start(ctx, chat, at=_place(chat, PREFILL if fill else next_position(form, answers)))


# --- the sums of the level below (a commune's report upward) -------------------------------------
def _rollup_offer(ctx: Context, o: Open) -> PrefillOffer | None:
    """The unit's own villages' accepted answers for this deadline, when the unit organises a
    campaign answering it (None otherwise: nothing to offer or say)."""
    return prefill_offer(ctx.session, parent_deadline=o.deadline, unit=o.unit, forms=_forms(ctx))


def _fill_offer(ctx: Context, o: Open) -> bool:
    """Whether to open on the offer to pre-fill; when there is a linked campaign but nothing
    to put in, say why (the counts, what is missing) and go on."""
    offer = _rollup_offer(ctx, o)
    if offer is None:
        return False
    if prefill_values(offer, form=o.form, answers=o.answers):
        return True
    title = offer.deadline.title
    if not offer.sums:
        ctx.say("prefill.none_accepted", title=title, accepted=offer.accepted, total=offer.total)
    else:
        ctx.say("prefill.nothing_to_fill", accepted=offer.accepted, total=offer.total)
    if offer.missing:
        ctx.say("prefill.missing", missing=offer.missing, total=offer.total)
    return False


def _ask_prefill(ctx: Context, chat: ReportChat) -> None:
    """The offer: n/m villages accepted, what is missing, the sums it would put in."""
    o = chat.o
    offer = _rollup_offer(ctx, o)
    values = prefill_values(offer, form=o.form, answers=o.answers) if offer else {}
    if offer is None or not values:
        # Answered meanwhile (a colleague) or no longer linked: nothing to offer.
        _enter(ctx, chat, _after_offer(chat))
        return
    items = "\n".join(
        t(
            "prefill.offer_item",
            label=o.form.field(field_id).label,
            value=format_answer(o.form.field(field_id), value),
        )
        for field_id, value in values.items()
    )
    lines = [
        t(
            "prefill.offer",
            title=offer.deadline.title,
            accepted=offer.accepted,
            total=offer.total,
            items=Raw(items),
        )
    ]
    if offer.missing:
        lines.append(t("prefill.missing", missing=offer.missing, total=offer.total))
    lines.append(t("prefill.offer_question"))
    buttons = [
        [
            _button(chat, t("prefill.button_fill"), "pf"),
            _button(chat, t("prefill.button_own"), "pfno"),
        ]
    ]
    ctx.ask("\n".join(lines), buttons)


def _prefill_action(ctx: Context, chat: ReportChat, action: str) -> None:
    if action == "pf":
        _put_sums(ctx, chat)
        REPORT.advance(ctx, chat)
    elif action == "pfno":
        REPORT.skip(ctx, chat)
    else:
        _stale(ctx)


def _decline_prefill(ctx: Context, chat: ReportChat) -> None:
    ctx.say("prefill.declined")


def _put_sums(ctx: Context, chat: ReportChat) -> None:
    """Put the sums in the unanswered numeric questions (read afresh: a colleague may have
    answered one since the offer), each to be shown back; recorded in the audit log."""
    o, now = chat.o, ctx.now()
    offer = _rollup_offer(ctx, o)
    values = prefill_values(offer, form=o.form, answers=o.answers) if offer else {}
    if offer is None or not values:
        return
    for field_id, value in values.items():
        set_answer(ctx.session, report=o.report, path=[field_id], value=value, now=now)
    chat.prefilled.update(values)
    chat.to_confirm = [f.id for f in o.form.fields if f.id in values]
    chat.prefill_counts = [offer.accepted, offer.total]
    campaign = ctx.session.get(Campaign, o.deadline.campaign_id)
    audit.record(
        ctx.session,
        now=now,
        action="report.prefilled",
        actor=ctx.member,
        target_type="report",
        target_id=o.report.id,
        detail={
            "from_deadline": offer.deadline.id,
            "accepted": offer.accepted,
            "total": offer.total,
            "values": values,
        },
        organiser_id=campaign.organiser_id if campaign else None,
    )
    ctx.say("prefill.filled", count=len(values), accepted=offer.accepted, total=offer.total)


def _after_offer(chat: ReportChat) -> Position:
    """Past the offer: the first answer to show back or question to answer; the review for
    a report handed in before with nothing to show."""
    if chat.o.report.version > 0 and not chat.to_confirm:
        return REVIEW
    return _next_open(chat, None)


def _next_open(chat: ReportChat, after: str | None) -> Position:
    """`next_position`, but a pre-filled answer not shown back yet counts as open: the walk
    asks it (with its value and «Giữ nguyên») in its turn."""
    o = chat.o
    pending = next_position(o.form, o.answers, after=after)
    ids = [f.id for f in o.form.fields]
    start = ids.index(after) + 1 if after in ids else 0
    order = {field_id: i for i, field_id in enumerate(ids[start:] + ids[:start])}
    waiting = sorted((order[f], f) for f in chat.to_confirm if f in order)
    if not waiting:
        return pending
    rank, field_id = waiting[0]
    if pending.kind is Place.REVIEW or rank <= order.get(pending.field_id, len(order)):
        return Position.question(field_id)
    return pending


def _marks(chat: ReportChat | None, o: Open) -> dict[str, str]:
    """The answers still as pre-filled, with the words that mark them."""
    if chat is None or not chat.prefilled:
        return {}
    accepted, total = [*chat.prefill_counts, 0, 0][:2]
    mark = t("prefill.mark", accepted=accepted, total=total)
    return {
        field_id: mark
        for field_id, value in chat.prefilled.items()
        if field_id in o.answers and o.answers[field_id] == value
    }


def _load(ctx: Context, chat: ReportChat) -> bool:
    """The chat's report, re-checked before every answer, command and press: it exists, this
    member may act for its unit, and it is still open to changes. Otherwise the flow ends with
    a word saying why (False); False too when the chat's place went away (it moves on)."""
    found = report_with_context(ctx.session, int(chat.report_id or 0))
    form = _forms(ctx).get(found[1].form_code) if found else None
    if found is None or form is None:
        ctx.end()
        ctx.say("reports.stale_out")
        return False
    report, deadline, unit = found
    if not can_act_for_unit(ctx.member, report.unit_id, session=ctx.session):
        # The member was moved to another unit (or removed) since the report was opened.
        ctx.end()
        ctx.say("access.not_your_unit")
        audit_refusal(
            ctx.session,
            member=ctx.member,
            event=ctx.event,
            route=f"report:{report.id}",
            now=ctx.now(),
        )
        return False
    refusal = edit_refusal(report, deadline, ctx.now())
    if refusal is not None:
        ctx.end()
        ctx.say(f"reports.{refusal}", due=_when(ctx, deadline.due_at))
        return False
    inactive = campaign_refusal(ctx.session, deadline)
    if inactive is not None:
        # Closed (or back to a draft) since the report was opened: no more answers; the draft
        # stays in Report.answers for when it opens again.
        ctx.end()
        ctx.say("checks.campaign_inactive", campaign=inactive)
        return False
    chat.opened = o = Open(report, deadline, form, unit)
    if not _still_there(o, chat.at):
        # The question went away (a colleague deleted that entry, or the form changed).
        ctx.say("reports.moved")
        _enter(ctx, chat, next_position(form, o.answers))
        return False
    ctx.goto(chat.at.kind.value)  # the step is the kind of place (as the old code read it)
    return True


# --- the steps: where the chat is, and what each screen shows ---------------------------------
def _place(chat: ReportChat, pos: Position) -> str:
    """Put the chat at `pos` (at the next open question when that went away), with a new
    serial for the buttons shown there; the step that shows it."""
    o = chat.o
    if not _still_there(o, pos):
        pos = next_position(o.form, o.answers)
    chat.at = pos
    chat.serial += 1
    chat.selected = None
    return pos.kind.value


def _enter(ctx: Context, chat: ReportChat, pos: Position) -> None:
    """Move to a position and show it (a question, "more?", a group's menu, the review)."""
    REPORT.goto(ctx, _place(chat, pos), chat)


def _remember(chat: ReportChat, pos: Position) -> None:
    chat.history.append(pos)
    del chat.history[:-HISTORY_LIMIT]


def _following(ctx: Context, chat: ReportChat) -> str:
    """The place after the current one, once it is answered (or skipped): in "fill" mode the
    next unanswered question, in "edit" mode the entry's next question; then where an edit
    started (`back_to`), or "more?" after an entry, or what follows a finished group."""
    o, pos = chat.o, chat.at
    if pos.kind is Place.PREFILL:  # the offer, taken or not (not a place to go back to)
        return _place(chat, _after_offer(chat))
    _remember(chat, pos)
    # (A menu and the review are left by buttons only: they never come here.)
    if pos.kind is Place.MORE:  # the group is finished
        return _place(chat, _next_open(chat, pos.field_id))
    if pos.entry is None:  # a top-level question
        if pos.field_id in chat.to_confirm:  # a pre-filled answer kept or changed
            chat.to_confirm.remove(pos.field_id)
        if chat.back_to is not None:  # an edit from the review: back there
            back_to, chat.back_to, chat.mode = chat.back_to, None, FILL
            return _place(chat, back_to)
        return _place(chat, _next_open(chat, pos.field_id or None))
    group = o.form.field(pos.field_id)
    sub_id = pos.sub or ""
    if chat.mode == EDIT:
        ids = [s.id for s in group.fields]
        later = ids[ids.index(sub_id) + 1 :]
        next_sub = later[0] if later else None
    else:
        entry = _entry(o.answers, pos.field_id, pos.entry) or {}
        next_sub = entry_pending(group, entry, after=sub_id)
    if next_sub is not None:
        return _place(chat, Position.question(group.id, pos.entry, next_sub))
    # The entry is done: back where its edit started, or "more?".
    after_entry = chat.back_to if chat.back_to is not None else Position.more(group.id)
    chat.back_to, chat.mode = None, FILL
    return _place(chat, after_entry)


def _previous(ctx: Context, chat: ReportChat) -> str | None:
    """/quaylai: the last place visited that still exists; None when there is none."""
    while chat.history:
        previous = chat.history.pop()
        if _still_there(chat.o, previous):
            return _place(chat, previous)
    return None


def _progress(o: Open, pos: Position) -> str:
    if pos.entry is None:
        return t(
            "reports.progress", number=o.form.index(pos.field_id) + 1, count=len(o.form.fields)
        )
    group = o.form.field(pos.field_id)
    subs = [s.id for s in group.fields]
    return t(
        "reports.progress_entry",
        group=group.label,
        entry=pos.entry + 1,
        number=subs.index(pos.sub or "") + 1,
        count=len(subs),
    )


def _ask_question(ctx: Context, chat: ReportChat) -> None:
    _show_question(ctx, chat)


def _show_question(ctx: Context, chat: ReportChat) -> Outbound:
    o, pos = chat.o, chat.at
    item = _field_at(o.form, pos)
    value = _value_at(o.answers, pos)
    lines = [
        t("reports.question_title", progress=Raw(_progress(o, pos)), label=item.label),
        t("reports.prompt", prompt=pick(item.prompt, {TYPED_STYLE: item.prompt_typed})),
    ]
    if item.type == "multi_choice":  # how to choose, worded for the channel
        lines.append(t("prompts.multi_choice_hint"))
    if item.help:
        lines.append(t("reports.help_line", help=item.help))
    if item.type in TYPED:
        lines.append(t("reports.example_line", example=item.example))
    if item.type == "file":
        lines.append(t("reports.file_hint", kinds=", ".join(k.upper() for k in item.accept)))
    if value is not None and format_answer(item, value):
        lines.append(t("reports.current_value", value=format_answer(item, value)))
        if pos.entry is None and pos.field_id in _marks(chat, o):
            accepted, total = [*chat.prefill_counts, 0, 0][:2]
            lines.append(t("prefill.question_line", accepted=accepted, total=total))
    if not item.required:
        lines.append(t("reports.optional"))
    buttons: list[list[Button]] = []
    if item.type == "choice":
        buttons = [[_button(chat, c.label, f"c{i}")] for i, c in enumerate(item.choices)]
    elif item.type == "yes_no":
        buttons = [
            [
                _button(chat, answer_words().yes, "y"),
                _button(chat, answer_words().no, "n"),
            ]
        ]
    elif item.type == "multi_choice":
        if chat.selected is None:
            chat.selected = list(value or [])
        for i, choice in enumerate(item.choices):
            key = "checked" if choice.value in chat.selected else "unchecked"
            label = t(f"reports.button.{key}", label=choice.label)
            buttons.append([_button(chat, label, f"t{i}")])
        buttons.append([_button(chat, t("reports.button.done"), "done")])
    extra = []
    if value is not None:
        extra.append(_button(chat, t("reports.button.keep"), "keep"))
    if not item.required:
        extra.append(_button(chat, t("reports.button.skip"), "skip"))
    if extra:
        buttons.append(extra)
    return ctx.ask(
        "\n".join(lines), buttons, accepts_text=item.type in TYPED or item.type == "file"
    )


def _entry_lines(group: Field, entries: list[dict[str, Any]]) -> str:
    lines = []
    for number, entry in enumerate(entries, 1):
        summary = "; ".join(
            format_answer(sub, entry.get(sub.id))
            for sub in group.fields[:3]
            if format_answer(sub, entry.get(sub.id))
        )
        lines.append(t("reports.entry_line", number=number, summary=summary or "…"))
    return "\n".join(lines)


def _prune_empty_entries(ctx: Context, o: Open, group_id: str) -> None:
    """Entries started but left without a single answer are dropped (e.g. after /quaylai)."""
    entries = o.answers.get(group_id)
    if not isinstance(entries, list):
        return
    for index in reversed(range(len(entries))):
        if not entries[index]:
            remove_entry(
                ctx.session, report=o.report, group_id=group_id, index=index, now=ctx.now()
            )
            entries = o.answers.get(group_id) or []


def _ask_more(ctx: Context, chat: ReportChat) -> None:
    o = chat.o
    group = o.form.field(chat.at.field_id)
    _prune_empty_entries(ctx, o, group.id)
    entries = o.answers.get(group.id) or []
    if len(entries) < group.min_items:
        # A list that needs entries: start the next one straight away.
        index = add_entry(ctx.session, report=o.report, group_id=group.id, now=ctx.now())
        _enter(ctx, chat, Position.question(group.id, index, group.fields[0].id))
        return
    full = group.max_items is not None and len(entries) >= group.max_items
    if not entries:
        lines = [t("reports.more_first", label=group.label, prompt=group.prompt)]
        if group.help:
            lines.append(t("reports.help_line", help=group.help))
        buttons = [
            [
                _button(chat, t("reports.button.add"), "add"),
                _button(chat, t("reports.button.skip"), "fin"),
            ]
        ]
        ctx.ask("\n".join(lines), buttons)
        return
    text = t(
        "reports.more",
        label=group.label,
        count=len(entries),
        entries=Raw(_entry_lines(group, entries)),
    )
    row = [] if full else [_button(chat, t("reports.button.add_another"), "add")]
    row.append(_button(chat, t("reports.button.done"), "fin"))
    ctx.ask(text, [row])


def _ask_menu(ctx: Context, chat: ReportChat) -> None:
    o = chat.o
    group = o.form.field(chat.at.field_id)
    _prune_empty_entries(ctx, o, group.id)
    entries = o.answers.get(group.id) or []
    if entries:
        text = t(
            "reports.menu",
            label=group.label,
            count=len(entries),
            entries=Raw(_entry_lines(group, entries)),
        )
    else:
        text = t("reports.menu_empty", label=group.label)
    buttons = [
        [
            _button(chat, t("reports.button.edit_entry", number=i), f"e{i - 1}"),
            _button(chat, t("reports.button.delete_entry", number=i), f"d{i - 1}"),
        ]
        for i in range(1, len(entries) + 1)
    ]
    last = []
    if group.max_items is None or len(entries) < group.max_items:
        last.append(_button(chat, t("reports.button.add"), "add"))
    last.append(_button(chat, t("reports.button.done"), "fin"))
    buttons.append(last)
    ctx.ask(text, buttons)


def _ask_review(ctx: Context, chat: ReportChat) -> None:
    o = chat.o
    edits = [
        _button(chat, t("reports.button.edit", number=k), f"e{k - 1}")
        for k in range(1, len(o.form.fields) + 1)
    ]
    rows = [edits[i : i + EDIT_BUTTONS_PER_ROW] for i in range(0, len(edits), EDIT_BUTTONS_PER_ROW)]
    key = "reports.button.resubmit" if o.report.version > 0 else "reports.button.submit"
    rows.append([_button(chat, t(key), "sub")])
    ctx.ask(_review_text(ctx, o, _marks(chat, o)) + "\n\n" + t("reports.review_footer"), rows)


def _answer_lines(o: Open, marks: dict[str, str] | None = None) -> list[str]:
    """Every answer, numbered; one still as pre-filled from the level below says so."""
    lines = []
    empty = t("reports.empty_value")
    for number, item in enumerate(o.form.fields, 1):
        value = format_answer(item, o.answers.get(item.id)) or empty
        if marks and item.id in marks:
            value = f"{value} {marks[item.id]}"
        block = "\n" in value or (item.type == "group" and value != empty)
        key = "reports.review_block" if block else "reports.review_line"
        lines.append(t(key, number=number, label=item.label, value=value))
    return lines


def _review_text(ctx: Context, o: Open, marks: dict[str, str] | None = None) -> str:
    report = o.report
    lines = [
        t(
            "reports.review_title",
            heading=heading(o.form.title, o.deadline.title),
            due=_when(ctx, o.deadline.due_at),
        )
    ]
    if report.status == ReportStatus.RETURNED and report.return_reason:
        lines.append(t("reports.review_returned", reason=report.return_reason))
    elif report.status == ReportStatus.REOPENED:
        lines.append(t("reports.review_reopened"))
    if report.version > 0 and report.submitted_at is not None:
        lines.append(
            t(
                "reports.review_submitted",
                version=report.version,
                reference=report.reference or "",
                at=_when(ctx, report.submitted_at),
            )
        )
        if has_unsent_changes(ctx.session, report):
            lines.append(t("reports.review_unsent"))
    lines += ["", *_answer_lines(o, marks)]
    missing = problems(o.form, o.answers)
    if missing:
        items = ", ".join(dict.fromkeys(p.label for p in missing))
        lines += ["", t("reports.review_missing", items=items)]
    return "\n".join(lines)


# --- answers: typed, sent as a file, skipped ------------------------------------------------------
def _bad_answer(item: Field, exc: AnswerError) -> InputError:
    return InputError(f"reports.invalid.{exc.reason}", example=item.example or None, **exc.params)


DONE_WORDS = frozenset({"xong", "xong roi", "da xong", "done"})


def _typed_done(event: Inbound) -> bool:
    """Whether «Xong» was typed rather than pressed (a list, or a multi-choice selection)."""
    return event.attachment is None and fold(event.text).strip(" .!") in DONE_WORDS


async def _take_answer(ctx: Context, chat: ReportChat, event: Inbound) -> None:
    o, pos = chat.o, chat.at
    item = _field_at(o.form, pos)
    if item.type == "multi_choice" and _typed_done(event):
        _store(ctx, chat, _selection(chat, item))
        return
    if item.type == "file":
        if event.attachment is None:
            raise InputError(
                "reports.invalid.need_file", kinds=", ".join(k.upper() for k in item.accept)
            )
        try:
            row = await receive_file(
                ctx,
                event.attachment,
                accept=item.accept,
                report_id=o.report.id,
                field_id=".".join(str(p) for p in pos.path),
            )
        except FileRejected as exc:
            kinds = ", ".join(k.upper() for k in item.accept)
            raise InputError(f"reports.file.{exc.reason}", kinds=kinds) from None
        _store(ctx, chat, {"attachment_id": row.id, "file_name": row.file_name})
        return
    if event.attachment is not None:
        raise InputError("reports.invalid.need_text", example=item.example or None)
    today = ctx.now().astimezone(ctx.settings.tz).date()
    try:
        value = parse_answer(item, event.text, today=today, siblings=_siblings(o.answers, pos))
    except AnswerError as exc:
        if exc.reason == "too_long":
            # Nothing is cut: the whole answer comes back so the officer can shorten it.
            raise InputError(
                "hints.too_long_kept",
                text=event.text,
                length=exc.params.get("length"),
                max=exc.params.get("max"),
            ) from None
        raise _bad_answer(item, exc) from None
    _store(ctx, chat, value)


def _store(ctx: Context, chat: ReportChat, value: Any) -> None:
    """Store the answer to the current question in the shared draft."""
    set_answer(ctx.session, report=chat.o.report, path=chat.at.path, value=value, now=ctx.now())


def _selection(chat: ReportChat, item: Field) -> list[str]:
    chosen = set(chat.selected or [])
    values = [c.value for c in item.choices if c.value in chosen]
    try:
        check_selection(item, values)
    except AnswerError as exc:
        raise _bad_answer(item, exc) from None
    return values


def _question_optional(ctx: Context, chat: ReportChat) -> bool:
    return not _field_at(chat.o.form, chat.at).required


def _skip_question(ctx: Context, chat: ReportChat) -> None:
    _store(ctx, chat, None)


def _take_done(ctx: Context, chat: ReportChat, event: Inbound) -> None:
    """On "more?", "xong" typed finishes the list; anything else wants a button."""
    if not _typed_done(event):
        raise InputError("reports.invalid.press_button")
    _finish_group(ctx, chat)


def _finish_group(ctx: Context, chat: ReportChat) -> None:
    o = chat.o
    group = o.form.field(chat.at.field_id)
    entries = o.answers.get(group.id) or []
    if len(entries) < group.min_items:
        raise InputError("reports.invalid.too_few_entries", min=group.min_items)
    close_group(ctx.session, report=o.report, group_id=group.id, now=ctx.now())


REPORT: Flow[ReportChat] = Flow(
    FLOW,
    ReportChat,
    [
        Step(
            Place.QUESTION.value,
            _ask_question,
            _take_answer,
            optional=_question_optional,
            skip=_skip_question,
            required_key="reports.invalid.required",
        ),
        # /boqua (or «Xong») on "more?" finishes the group.
        Step(Place.MORE.value, _ask_more, _take_done, optional=True, skip=_finish_group),
        Step(Place.MENU.value, _ask_menu, required_key="reports.invalid.press_button"),
        Step(Place.REVIEW.value, _ask_review, required_key="reports.invalid.press_button"),
        # /boqua (or «Tự nhập») declines the offer to pre-fill.
        Step(Place.PREFILL.value, _ask_prefill, optional=True, skip=_decline_prefill),
    ],
    typed_refusal="reports.invalid.press_button",
    legacy=LEGACY_KEYS,
    load=_load,
    following=_following,
    previous=_previous,
    first_key="reports.first_question",
)
REPORT.register(router, access=Access.OFFICER)


@router.flow_command(FLOW, "huy")
async def pause(event: Inbound, ctx: Context) -> None:
    """Leave the flow; every answer is already in the shared draft."""
    ctx.end()
    ctx.say("reports.paused")


# --- buttons inside the flow ----------------------------------------------------------------------
@router.button("rpa", access=Access.OFFICER)
async def on_action(event: Inbound, ctx: Context) -> None:
    _, parts = split_payload(event.payload or "")
    chat = REPORT.data(ctx) if ctx.flow == FLOW else None
    if chat is None or len(parts) != 2 or parts[0] != str(chat.serial):
        _stale(ctx)
        return
    if not _load(ctx, chat):
        return
    action = parts[1]
    kind = chat.at.kind
    if kind is Place.QUESTION:
        _question_action(ctx, chat, action)
    elif kind is Place.MORE:
        _more_action(ctx, chat, action)
    elif kind is Place.MENU:
        _menu_action(ctx, chat, action)
    elif kind is Place.PREFILL:
        _prefill_action(ctx, chat, action)
    else:
        _review_action(ctx, chat, action)


def _stale(ctx: Context) -> None:
    prompt = ctx.last_prompt() if ctx.flow == FLOW else None
    if prompt is None:
        ctx.say("reports.stale_out")
        return
    ctx.say("reports.stale")
    ctx.replies.append(prompt)


def _index(action: str, prefix: str, size: int) -> int | None:
    if not action.startswith(prefix) or not action[len(prefix) :].isdigit():
        return None
    index = int(action[len(prefix) :])
    return index if 0 <= index < size else None


def _answer(ctx: Context, chat: ReportChat, value: Any) -> None:
    _store(ctx, chat, value)
    REPORT.advance(ctx, chat)


def _question_action(ctx: Context, chat: ReportChat, action: str) -> None:
    item = _field_at(chat.o.form, chat.at)
    if action == "skip":
        REPORT.skip(ctx, chat)
    elif action == "keep":
        REPORT.advance(ctx, chat)
    elif item.type == "yes_no" and action in ("y", "n"):
        _answer(ctx, chat, action == "y")
    elif item.type == "choice" and (i := _index(action, "c", len(item.choices))) is not None:
        _answer(ctx, chat, item.choices[i].value)
    elif item.type == "multi_choice" and (i := _index(action, "t", len(item.choices))) is not None:
        selected = chat.selected if chat.selected is not None else []
        value = item.choices[i].value
        if value in selected:
            selected.remove(value)
        else:
            selected.append(value)
        chat.selected = selected
        _show_question(ctx, chat).replace = True  # redraw the same message with the new ticks
        REPORT.save(ctx, chat)
    elif item.type == "multi_choice" and action == "done":
        _answer(ctx, chat, _selection(chat, item))
    else:
        _stale(ctx)


def _add_entry(ctx: Context, chat: ReportChat, group: Field) -> None:
    o = chat.o
    entries = o.answers.get(group.id) or []
    if group.max_items is not None and len(entries) >= group.max_items:
        raise InputError("reports.invalid.too_many_entries", max=group.max_items)
    index = add_entry(ctx.session, report=o.report, group_id=group.id, now=ctx.now())
    chat.mode = FILL
    _enter(ctx, chat, Position.question(group.id, index, group.fields[0].id))


def _more_action(ctx: Context, chat: ReportChat, action: str) -> None:
    group = chat.o.form.field(chat.at.field_id)
    if action == "add":
        _remember(chat, Position.more(group.id))
        _add_entry(ctx, chat, group)
    elif action == "fin":
        REPORT.skip(ctx, chat)
    else:
        _stale(ctx)


def _menu_action(ctx: Context, chat: ReportChat, action: str) -> None:
    o = chat.o
    group = o.form.field(chat.at.field_id)
    size = len(o.answers.get(group.id) or [])
    if (i := _index(action, "e", size)) is not None:
        chat.mode = EDIT
        chat.back_to = Position.menu(group.id)
        _enter(ctx, chat, Position.question(group.id, i, group.fields[0].id))
    elif (i := _index(action, "d", size)) is not None:
        remove_entry(ctx.session, report=o.report, group_id=group.id, index=i, now=ctx.now())
        _enter(ctx, chat, Position.menu(group.id))
    elif action == "add":
        chat.back_to = Position.menu(group.id)
        _add_entry(ctx, chat, group)
    elif action == "fin":
        _enter(ctx, chat, REVIEW)
    else:
        _stale(ctx)


def _review_action(ctx: Context, chat: ReportChat, action: str) -> None:
    o = chat.o
    if action == "sub":
        _submit(ctx, chat)
        return
    i = _index(action, "e", len(o.form.fields))
    if i is None:
        _stale(ctx)
        return
    item = o.form.fields[i]
    if item.type == "group":
        _enter(ctx, chat, Position.menu(item.id))
        return
    chat.mode = EDIT
    chat.back_to = REVIEW
    _enter(ctx, chat, Position.question(item.id))


# --- submitting -----------------------------------------------------------------------------------
def _submit(ctx: Context, chat: ReportChat) -> None:
    assert ctx.member is not None
    o = chat.o
    now = ctx.now()
    try:
        result = submit(
            ctx.session,
            report=o.report,
            deadline=o.deadline,
            form=o.form,
            member=ctx.member,
            now=now,
        )
    except ReportError as exc:
        if exc.reason == "incomplete" and _to_broken_rule(ctx, chat, exc.params["problems"]):  # type: ignore[arg-type]  # what `submit` raised with: a list of problems
            return
        if exc.reason == "campaign_inactive":
            ctx.end()
            ctx.say("checks.campaign_inactive", campaign=exc.params["campaign"])
            return
        if exc.reason == "incomplete":
            items = "\n".join(
                t(
                    f"reports.problem.{p.reason}",
                    label=p.label,
                    min=o.form.field(p.field_id).min_items,
                )
                for p in cast("list[Problem]", exc.params["problems"])
            )
            raise InputError("reports.incomplete", items=Raw(items)) from None
        ctx.end()
        ctx.say(f"reports.{exc.reason}", due=_when(ctx, o.deadline.due_at))
        return
    ctx.end()
    due = _when(ctx, o.deadline.due_at)
    timing = t("reports.timing_on_time") if result.on_time else t("reports.timing_late", due=due)
    receipt = t(
        "reports.receipt",
        title=o.form.title,
        unit=o.unit.name,
        reference=result.reference,
        version=result.version,
        at=_when(ctx, now),
        timing=Raw(timing),
    )
    if result.amended:
        receipt += "\n" + t("reports.receipt_amended")
    campaign = ctx.session.get(Campaign, o.deadline.campaign_id)
    words = office_words(ctx.session, organiser_id=campaign.organiser_id) if campaign else {}
    receipt += "\n" + t("office_names.receipt_to", **words)
    ctx.reply(receipt)
    offer_signing_copy(ctx, report=o.report, deadline=o.deadline)
    told = _tell_admins(ctx, o, result.version, result.reference, Raw(timing), _marks(chat, o))
    for colleague in unit_officers(ctx.session, o.unit.id):  # type: ignore[arg-type]  # a stored row: its id is set
        if colleague.id != ctx.member.id and colleague.id not in told:
            ctx.tell(
                colleague,
                "reports.colleague_submitted",
                name=ctx.member.display_name,
                title=o.form.title,
                reference=result.reference,
            )


def _to_broken_rule(ctx: Context, chat: ReportChat, problems: list[Any]) -> bool:
    """When answers break a rule across questions ("met ≤ set" after an edit of either), say
    which answer breaks which rule and take the officer to that question (then back to the
    review); False when no such rule is broken."""
    broken = [p for p in problems if p.reason == "over_field"]
    if not broken:
        return False
    lines = [t("checks.over_field_title")]
    lines += [
        t(
            "checks.over_field",
            label=p.label,
            value=p.value,
            limit_label=p.limit_label,
            limit=p.limit,
        )
        for p in broken
    ]
    first = broken[0]
    lines.append(t("checks.over_field_fix", label=first.label, limit_label=first.limit_label))
    ctx.reply("\n".join(lines))
    chat.mode = EDIT
    chat.back_to = REVIEW
    _enter(ctx, chat, Position.at_path(first.path))
    return True


def _tell_admins(
    ctx: Context,
    o: Open,
    version: int,
    reference: str,
    timing: Raw,
    marks: dict[str, str] | None = None,
) -> set[int]:
    """Send every admin the submission with accept/return buttons; returns who was told."""
    assert ctx.member is not None
    name = ctx.member.display_name

    def notice() -> Outbound:
        header = t(
            "reports.admin_submitted",
            unit=o.unit.name,
            title=o.form.title,
            version=version,
            timing=timing,
            reference=reference,
            name=name,
            unit_code=o.unit.code,
            deadline_id=o.deadline.id,
        )
        text = "\n".join([header, "", *_answer_lines(o, marks)])
        buttons = [
            [
                Button(t("reports.button.accept"), make_payload("rpok", o.report.id, version)),
                Button(t("reports.button.return"), make_payload("rpret", o.report.id, version)),
            ]
        ]
        return Outbound(text, buttons)

    told: set[int] = set()
    for admin in admins_of_deadline(ctx.session, o.deadline):
        if admin.id != ctx.member.id and admin.id is not None:  # the submitter has the receipt
            ctx.notify_member(admin, notice)
            told.add(admin.id)
    return told
