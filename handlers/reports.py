"""Reports (báo cáo): an officer fills in, on a phone, the report a deadline asks for — one
question at a time, buttons wherever the answer is a choice, the draft saved after every
answer, a review of every answer before submitting. Admins' review (accept, return, reopen)
is handlers/report_review.py.

Officers: /baocao, then inside the flow /boqua (skip an optional question), /quaylai (back one
step), /huy (pause; the draft stays). Buttons: `rp:<deadline_id>` opens a unit's report
(reminders attach it too); `rpa:<serial>:<action>` acts on the question currently shown (an
older serial is a stale button). A submission notifies the admins with the accept/return
buttons that report_review handles.

Where the chat is in the form sits in the conversation state (`pos`, see
`domain.forms.Position`); the answers sit in the shared `Report`, so another officer or
another device continues from them. Rules live in domain/reports.py and domain/forms.py; this
module only converses. No platform import.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from bot.access import Access, can_act_for_unit
from bot.catalog import TYPED as TYPED_STYLE
from bot.catalog import Raw, pick, t
from bot.context import Context
from bot.errors import InputError
from bot.events import BUTTON_LABEL_MAX, Button, Inbound, Outbound
from bot.router import Router, make_payload, split_payload
from bot.storage import FileRejected, receive_file
from domain.campaigns import open_deadlines_for_unit, takes_part, unit_status
from domain.forms import (
    REVIEW,
    TYPED,
    AnswerError,
    Field,
    Form,
    Position,
    Problem,
    answer_words,
    check_selection,
    entry_pending,
    format_answer,
    parse_answer,
    pending_position,
    problems,
)
from domain.members import audit_refusal
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
from domain.text import fold, heading, shorten
from handlers.signing import offer_signing_copy
from models.campaigns import Campaign, Deadline
from models.reports import Report, ReportStatus
from models.units import Unit

log = logging.getLogger("thidua.reports")
router = Router()

FLOW = "report"
# Steps of the report flow; the exact question is data["pos"].
STEP_QUESTION = "question"
STEP_MORE = "more"
STEP_MENU = "menu"
STEP_REVIEW = "review"
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


# --- small helpers ------------------------------------------------------------------------------
def _forms(ctx: Context) -> dict[str, Form]:
    return dict(ctx.services.forms)


def _when(ctx: Context, moment: datetime) -> str:
    return moment.astimezone(ctx.settings.tz).strftime("%H:%M %d/%m/%Y")


def _button(ctx: Context, label: str, action: str) -> Button:
    return Button(label, make_payload("rpa", ctx.data.get("n", 0), action))


def _field_at(form: Form, pos: Position) -> Field:
    top = form.field(pos[1])
    return top.sub(pos[3]) if len(pos) == 4 else top


def _entry(answers: dict[str, Any], group_id: str, index: int) -> dict[str, Any] | None:
    entries = answers.get(group_id)
    if isinstance(entries, list) and 0 <= index < len(entries):
        return entries[index]
    return None


def _value_at(answers: dict[str, Any], pos: Position) -> Any:
    if len(pos) == 2:
        return answers.get(pos[1])
    entry = _entry(answers, pos[1], pos[2])
    return entry.get(pos[3]) if entry else None


def _siblings(answers: dict[str, Any], pos: Position) -> dict[str, Any]:
    if len(pos) == 2:
        return answers
    return _entry(answers, pos[1], pos[2]) or {}


def _still_there(o: Open, pos: Position) -> bool:
    """A remembered position still exists (an entry may have been deleted since)."""
    try:
        if pos[0] == "q" and len(pos) == 2:
            return o.form.field(pos[1]).type != "group"
        if pos[0] == "q" and len(pos) == 4:
            _field_at(o.form, pos)
            return _entry(o.answers, pos[1], pos[2]) is not None
        if pos[0] in ("more", "menu"):
            return o.form.field(pos[1]).type == "group"
    except (KeyError, IndexError, TypeError):
        return False
    return pos[0] == "review"


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
    ctx.begin(
        FLOW,
        STEP_QUESTION,
        {
            "report_id": report.id,
            "deadline_id": deadline.id,
            "form": form.code,
            "n": 0,
            "hist": [],
            "mode": FILL,
        },
    )
    if report.version > 0:
        # Handed in before (or returned, or reopened): start from the review.
        _enter(ctx, o, list(REVIEW))
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
    _enter(ctx, o, pending_position(form, answers))


def _load(ctx: Context) -> Open | None:
    """The chat's report, re-checked: it exists, this member may act for its unit, and it is
    still open to changes. Otherwise the flow ends with a word saying why."""
    found = report_with_context(ctx.session, int(ctx.data.get("report_id") or 0))
    form = _forms(ctx).get(found[1].form_code) if found else None
    if found is None or form is None:
        ctx.end()
        ctx.say("reports.stale_out")
        return None
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
        return None
    refusal = edit_refusal(report, deadline, ctx.now())
    if refusal is not None:
        ctx.end()
        ctx.say(f"reports.{refusal}", due=_when(ctx, deadline.due_at))
        return None
    inactive = campaign_refusal(ctx.session, deadline)
    if inactive is not None:
        # Closed (or back to a draft) since the report was opened: no more answers; the draft
        # stays in Report.answers for when it opens again.
        ctx.end()
        ctx.say("checks.campaign_inactive", campaign=inactive)
        return None
    o = Open(report, deadline, form, unit)
    if not _still_there(o, ctx.data.get("pos") or list(REVIEW)):
        # The question went away (a colleague deleted that entry, or the form changed).
        ctx.say("reports.moved")
        _enter(ctx, o, pending_position(form, o.answers))
        return None
    return o


# --- showing where the chat is --------------------------------------------------------------------
def _enter(ctx: Context, o: Open, pos: Position) -> None:
    """Move to a position and show it (a question, "more?", a group's menu, the review)."""
    if not _still_there(o, pos):
        pos = pending_position(o.form, o.answers)
    ctx.data["pos"] = pos
    ctx.data["n"] = int(ctx.data.get("n", 0)) + 1
    ctx.data.pop("sel", None)
    if pos[0] == "q":
        ctx.goto(STEP_QUESTION)
        _ask(ctx, o)
    elif pos[0] == "more":
        _more(ctx, o, pos[1])
    elif pos[0] == "menu":
        ctx.goto(STEP_MENU)
        _menu(ctx, o, pos[1])
    else:
        ctx.goto(STEP_REVIEW)
        ctx.ask(_review_text(ctx, o) + "\n\n" + t("reports.review_footer"), _review_buttons(ctx, o))


def _progress(o: Open, pos: Position) -> str:
    if len(pos) == 2:
        return t("reports.progress", number=o.form.index(pos[1]) + 1, count=len(o.form.fields))
    group = o.form.field(pos[1])
    subs = [s.id for s in group.fields]
    return t(
        "reports.progress_entry",
        group=group.label,
        entry=pos[2] + 1,
        number=subs.index(pos[3]) + 1,
        count=len(subs),
    )


def _ask(ctx: Context, o: Open) -> Outbound:
    pos = ctx.data["pos"]
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
    if not item.required:
        lines.append(t("reports.optional"))
    buttons: list[list[Button]] = []
    if item.type == "choice":
        buttons = [[_button(ctx, c.label, f"c{i}")] for i, c in enumerate(item.choices)]
    elif item.type == "yes_no":
        buttons = [
            [
                _button(ctx, answer_words().yes, "y"),
                _button(ctx, answer_words().no, "n"),
            ]
        ]
    elif item.type == "multi_choice":
        selected = ctx.data.setdefault("sel", list(value or []))
        for i, choice in enumerate(item.choices):
            key = "checked" if choice.value in selected else "unchecked"
            label = t(f"reports.button.{key}", label=choice.label)
            buttons.append([_button(ctx, label, f"t{i}")])
        buttons.append([_button(ctx, t("reports.button.done"), "done")])
    extra = []
    if value is not None:
        extra.append(_button(ctx, t("reports.button.keep"), "keep"))
    if not item.required:
        extra.append(_button(ctx, t("reports.button.skip"), "skip"))
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


def _more(ctx: Context, o: Open, group_id: str) -> None:
    group = o.form.field(group_id)
    _prune_empty_entries(ctx, o, group_id)
    entries = o.answers.get(group_id) or []
    if len(entries) < group.min_items:
        # A list that needs entries: start the next one straight away.
        index = add_entry(ctx.session, report=o.report, group_id=group_id, now=ctx.now())
        _enter(ctx, o, ["q", group_id, index, group.fields[0].id])
        return
    ctx.goto(STEP_MORE)
    full = group.max_items is not None and len(entries) >= group.max_items
    if not entries:
        lines = [t("reports.more_first", label=group.label, prompt=group.prompt)]
        if group.help:
            lines.append(t("reports.help_line", help=group.help))
        buttons = [
            [
                _button(ctx, t("reports.button.add"), "add"),
                _button(ctx, t("reports.button.skip"), "fin"),
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
    row = [] if full else [_button(ctx, t("reports.button.add_another"), "add")]
    row.append(_button(ctx, t("reports.button.done"), "fin"))
    ctx.ask(text, [row])


def _menu(ctx: Context, o: Open, group_id: str) -> None:
    group = o.form.field(group_id)
    _prune_empty_entries(ctx, o, group_id)
    entries = o.answers.get(group_id) or []
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
            _button(ctx, t("reports.button.edit_entry", number=i), f"e{i - 1}"),
            _button(ctx, t("reports.button.delete_entry", number=i), f"d{i - 1}"),
        ]
        for i in range(1, len(entries) + 1)
    ]
    last = []
    if group.max_items is None or len(entries) < group.max_items:
        last.append(_button(ctx, t("reports.button.add"), "add"))
    last.append(_button(ctx, t("reports.button.done"), "fin"))
    buttons.append(last)
    ctx.ask(text, buttons)


def _answer_lines(o: Open) -> list[str]:
    lines = []
    empty = t("reports.empty_value")
    for number, item in enumerate(o.form.fields, 1):
        value = format_answer(item, o.answers.get(item.id)) or empty
        block = "\n" in value or (item.type == "group" and value != empty)
        key = "reports.review_block" if block else "reports.review_line"
        lines.append(t(key, number=number, label=item.label, value=value))
    return lines


def _review_text(ctx: Context, o: Open) -> str:
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
    lines += ["", *_answer_lines(o)]
    missing = problems(o.form, o.answers)
    if missing:
        items = ", ".join(dict.fromkeys(p.label for p in missing))
        lines += ["", t("reports.review_missing", items=items)]
    return "\n".join(lines)


def _review_buttons(ctx: Context, o: Open) -> list[list[Button]]:
    edits = [
        _button(ctx, t("reports.button.edit", number=k), f"e{k - 1}")
        for k in range(1, len(o.form.fields) + 1)
    ]
    rows = [edits[i : i + EDIT_BUTTONS_PER_ROW] for i in range(0, len(edits), EDIT_BUTTONS_PER_ROW)]
    key = "reports.button.resubmit" if o.report.version > 0 else "reports.button.submit"
    rows.append([_button(ctx, t(key), "sub")])
    return rows


# --- moving on ------------------------------------------------------------------------------------
def _save(ctx: Context, o: Open, value: Any) -> None:
    """Store the answer to the current question in the shared draft, then go on."""
    pos = ctx.data["pos"]
    set_answer(ctx.session, report=o.report, path=pos[1:], value=value, now=ctx.now())
    _advance(ctx, o)


def _advance(ctx: Context, o: Open) -> None:
    pos: Position = ctx.data["pos"]
    history: list[Position] = ctx.data.setdefault("hist", [])
    history.append(pos)
    del history[:-HISTORY_LIMIT]
    if len(pos) == 2:
        ret = ctx.data.pop("ret", None)
        if ret is not None:
            ctx.data["mode"] = FILL
            _enter(ctx, o, ret)
        else:
            _enter(ctx, o, pending_position(o.form, o.answers, after=pos[1]))
        return
    _, group_id, index, sub_id = pos
    group = o.form.field(group_id)
    entry = _entry(o.answers, group_id, index) or {}
    if ctx.data.get("mode") == EDIT:
        ids = [s.id for s in group.fields]
        following = ids[ids.index(sub_id) + 1 :]
        next_sub = following[0] if following else None
    else:
        next_sub = entry_pending(group, entry, after=sub_id)
    if next_sub is not None:
        _enter(ctx, o, ["q", group_id, index, next_sub])
        return
    ret = ctx.data.pop("ret", None)
    ctx.data["mode"] = FILL
    _enter(ctx, o, ret if ret is not None else ["more", group_id])


def _bad_answer(item: Field, exc: AnswerError) -> InputError:
    return InputError(f"reports.invalid.{exc.reason}", example=item.example or None, **exc.params)


DONE_WORDS = frozenset({"xong", "xong roi", "da xong", "done"})


# --- answers by typing or sending a file ----------------------------------------------------------
@router.flow(FLOW, access=Access.OFFICER)
async def on_answer(event: Inbound, ctx: Context) -> None:
    o = _load(ctx)
    if o is None:
        return
    pos = ctx.data.get("pos") or list(REVIEW)
    if event.attachment is None and fold(event.text).strip(" .!") in DONE_WORDS:
        # "xong" typed instead of pressing «Xong»: a list, or a multi-choice selection.
        if pos[0] == "more":
            _more_action(ctx, o, "fin")
            return
        if pos[0] == "q" and _field_at(o.form, pos).type == "multi_choice":
            _question_action(ctx, o, "done")
            return
    if pos[0] != "q":
        raise InputError("reports.invalid.press_button")
    item = _field_at(o.form, pos)
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
                field_id=".".join(str(p) for p in pos[1:]),
            )
        except FileRejected as exc:
            kinds = ", ".join(k.upper() for k in item.accept)
            raise InputError(f"reports.file.{exc.reason}", kinds=kinds) from None
        _save(ctx, o, {"attachment_id": row.id, "file_name": row.file_name})
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
    _save(ctx, o, value)


@router.flow_command(FLOW, "boqua")
async def skip_question(event: Inbound, ctx: Context) -> None:
    o = _load(ctx)
    if o is None:
        return
    _skip(ctx, o)


def _skip(ctx: Context, o: Open) -> None:
    pos = ctx.data.get("pos") or list(REVIEW)
    if pos[0] == "more":
        _finish_group(ctx, o, pos[1])
        return
    if pos[0] != "q":
        raise InputError("reports.invalid.press_button")
    if _field_at(o.form, pos).required:
        raise InputError("reports.invalid.required")
    _save(ctx, o, None)


@router.flow_command(FLOW, "quaylai")
async def go_back(event: Inbound, ctx: Context) -> None:
    o = _load(ctx)
    if o is None:
        return
    history: list[Position] = ctx.data.get("hist") or []
    while history:
        previous = history.pop()
        if _still_there(o, previous):
            _enter(ctx, o, previous)
            return
    ctx.say("reports.first_question")
    prompt = ctx.last_prompt()
    if prompt is not None:
        ctx.replies.append(prompt)


@router.flow_command(FLOW, "huy")
async def pause(event: Inbound, ctx: Context) -> None:
    """Leave the flow; every answer is already in the shared draft."""
    ctx.end()
    ctx.say("reports.paused")


# --- buttons inside the flow ----------------------------------------------------------------------
@router.button("rpa", access=Access.OFFICER)
async def on_action(event: Inbound, ctx: Context) -> None:
    _, parts = split_payload(event.payload or "")
    if ctx.flow != FLOW or len(parts) != 2 or parts[0] != str(ctx.data.get("n")):
        _stale(ctx)
        return
    o = _load(ctx)
    if o is None:
        return
    action = parts[1]
    kind = ctx.data["pos"][0]
    if kind == "q":
        _question_action(ctx, o, action)
    elif kind == "more":
        _more_action(ctx, o, action)
    elif kind == "menu":
        _menu_action(ctx, o, action)
    else:
        _review_action(ctx, o, action)


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


def _question_action(ctx: Context, o: Open, action: str) -> None:
    pos = ctx.data["pos"]
    item = _field_at(o.form, pos)
    if action == "skip":
        _skip(ctx, o)
    elif action == "keep":
        _advance(ctx, o)
    elif item.type == "yes_no" and action in ("y", "n"):
        _save(ctx, o, action == "y")
    elif item.type == "choice" and (i := _index(action, "c", len(item.choices))) is not None:
        _save(ctx, o, item.choices[i].value)
    elif item.type == "multi_choice" and (i := _index(action, "t", len(item.choices))) is not None:
        selected: list[str] = ctx.data.setdefault("sel", [])
        value = item.choices[i].value
        if value in selected:
            selected.remove(value)
        else:
            selected.append(value)
        _ask(ctx, o).replace = True  # redraw the same message with the new ticks
    elif item.type == "multi_choice" and action == "done":
        chosen = set(ctx.data.get("sel") or [])
        values = [c.value for c in item.choices if c.value in chosen]
        try:
            check_selection(item, values)
        except AnswerError as exc:
            raise _bad_answer(item, exc) from None
        _save(ctx, o, values)
    else:
        _stale(ctx)


def _add_entry(ctx: Context, o: Open, group: Field) -> None:
    entries = o.answers.get(group.id) or []
    if group.max_items is not None and len(entries) >= group.max_items:
        raise InputError("reports.invalid.too_many_entries", max=group.max_items)
    index = add_entry(ctx.session, report=o.report, group_id=group.id, now=ctx.now())
    ctx.data["mode"] = FILL
    _enter(ctx, o, ["q", group.id, index, group.fields[0].id])


def _finish_group(ctx: Context, o: Open, group_id: str) -> None:
    group = o.form.field(group_id)
    entries = o.answers.get(group_id) or []
    if len(entries) < group.min_items:
        raise InputError("reports.invalid.too_few_entries", min=group.min_items)
    close_group(ctx.session, report=o.report, group_id=group_id, now=ctx.now())
    _advance_from_group(ctx, o, group_id)


def _advance_from_group(ctx: Context, o: Open, group_id: str) -> None:
    history: list[Position] = ctx.data.setdefault("hist", [])
    history.append(["more", group_id])
    del history[:-HISTORY_LIMIT]
    _enter(ctx, o, pending_position(o.form, o.answers, after=group_id))


def _more_action(ctx: Context, o: Open, action: str) -> None:
    group = o.form.field(ctx.data["pos"][1])
    if action == "add":
        ctx.data.setdefault("hist", []).append(["more", group.id])
        _add_entry(ctx, o, group)
    elif action == "fin":
        _finish_group(ctx, o, group.id)
    else:
        _stale(ctx)


def _menu_action(ctx: Context, o: Open, action: str) -> None:
    group = o.form.field(ctx.data["pos"][1])
    size = len(o.answers.get(group.id) or [])
    if (i := _index(action, "e", size)) is not None:
        ctx.data["mode"] = EDIT
        ctx.data["ret"] = ["menu", group.id]
        _enter(ctx, o, ["q", group.id, i, group.fields[0].id])
    elif (i := _index(action, "d", size)) is not None:
        remove_entry(ctx.session, report=o.report, group_id=group.id, index=i, now=ctx.now())
        _enter(ctx, o, ["menu", group.id])
    elif action == "add":
        ctx.data["ret"] = ["menu", group.id]
        _add_entry(ctx, o, group)
    elif action == "fin":
        _enter(ctx, o, list(REVIEW))
    else:
        _stale(ctx)


def _review_action(ctx: Context, o: Open, action: str) -> None:
    if action == "sub":
        _submit(ctx, o)
        return
    i = _index(action, "e", len(o.form.fields))
    if i is None:
        _stale(ctx)
        return
    item = o.form.fields[i]
    if item.type == "group":
        _enter(ctx, o, ["menu", item.id])
        return
    ctx.data["mode"] = EDIT
    ctx.data["ret"] = list(REVIEW)
    _enter(ctx, o, ["q", item.id])


# --- submitting -----------------------------------------------------------------------------------
def _submit(ctx: Context, o: Open) -> None:
    assert ctx.member is not None
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
        if exc.reason == "incomplete" and _to_broken_rule(ctx, o, exc.params["problems"]):  # type: ignore[arg-type]
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
    ctx.reply(receipt)
    offer_signing_copy(ctx, report=o.report, deadline=o.deadline)
    told = _tell_admins(ctx, o, result.version, result.reference, Raw(timing))
    for colleague in unit_officers(ctx.session, o.unit.id):  # type: ignore[arg-type]  # a stored row: its id is set
        if colleague.id != ctx.member.id and colleague.id not in told:
            ctx.notify_member(
                colleague,
                Outbound(
                    t(
                        "reports.colleague_submitted",
                        name=ctx.member.display_name,
                        title=o.form.title,
                        reference=result.reference,
                    )
                ),
            )


def _to_broken_rule(ctx: Context, o: Open, problems: list[Any]) -> bool:
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
    ctx.data["mode"] = EDIT
    ctx.data["ret"] = list(REVIEW)
    _enter(ctx, o, ["q", *first.path])
    return True


def _tell_admins(ctx: Context, o: Open, version: int, reference: str, timing: Raw) -> set[int]:
    """Send every admin the submission with accept/return buttons; returns who was told."""
    assert ctx.member is not None
    header = t(
        "reports.admin_submitted",
        unit=o.unit.name,
        title=o.form.title,
        version=version,
        timing=timing,
        reference=reference,
        name=ctx.member.display_name,
        unit_code=o.unit.code,
        deadline_id=o.deadline.id,
    )
    text = "\n".join([header, "", *_answer_lines(o)])
    buttons = [
        [
            Button(t("reports.button.accept"), make_payload("rpok", o.report.id, version)),
            Button(t("reports.button.return"), make_payload("rpret", o.report.id, version)),
        ]
    ]
    told: set[int] = set()
    for admin in admins_of_deadline(ctx.session, o.deadline):
        if admin.id != ctx.member.id and admin.id is not None:  # the submitter has the receipt
            ctx.notify_member(admin, Outbound(text, buttons))
            told.add(admin.id)
    return told
