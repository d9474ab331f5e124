"""Starting a campaign from its plan document (kế hoạch): /nhapkehoach.

The admin sends the plan as .txt, .docx or .pdf; the bot reads it (`domain.plan_parser`) and
shows the proposal as one message with buttons to accept it, edit a field, edit or drop a
proposed deadline, or cancel. Editing a deadline opens a small menu (its date, typed; its kind,
by buttons; its title, typed); "Quay lại" or /huy returns to the proposal, keeping every edit
made so far. The proposal lives in the conversation state, so a restart loses nothing; only on
accept are the draft campaign and its deadlines created (`domain.plans`). Activating the draft
belongs to the campaign commands, not here.

Reading the file runs in a child process bounded in time and memory (`bot.isolated`), so a
slow or hostile document never holds up other users; zip bombs are refused before that by
`domain.safe_zip`, and the parser has its own limits on size, pages and characters. Yearly rules ("trước ngày 10/8 hằng năm")
are proposed at their next occurrence and marked as repeating; deadlines counted from an
undated event ("trước ngày trao thưởng ít nhất 07 ngày") are shown as notes the admin can give
a date, which turns the note into a deadline like the others.
"""

from __future__ import annotations

import zlib
from datetime import date
from typing import Any

from bot.access import Access
from bot.catalog import Raw, t
from bot.context import Context
from bot.errors import InputError
from bot.events import Button, Inbound
from bot.hub import DeliveryError
from bot.plan_reader import basis_line as _basis_line
from bot.plan_reader import plan_description, read_plan
from bot.router import Router, make_payload, split_payload
from domain.campaigns import DEADLINE_KINDS
from domain.dates import ParseError, format_date, parse_date
from domain.plan_parser import (
    CONFIRM_FLAGS,
    KIND_TITLES,
    MAX_FILE_BYTES,
    PlanFileError,
    PlanProposal,
    ProposedDeadline,
    RelativeNote,
    deadline_flags,
    parse_document_number,
)
from domain.plans import PlanNotReady, check_ready, create_campaign_from_plan
from domain.text import clean_text, shorten
from models.campaigns import DeadlineKind

router = Router()

FLOW = "plan"
STEP_FILE = "file"
STEP_REVIEW = "review"
STEP_EDIT = "edit"
# Editing one proposed deadline (its number in ctx.data["dl"]): the menu, then one question.
STEP_DEADLINE = "deadline"
STEP_DEADLINE_DATE = "deadline_date"
STEP_DEADLINE_KIND = "deadline_kind"
STEP_DEADLINE_TITLE = "deadline_title"
# Giving a date to a relative note (its number in ctx.data["note"]).
STEP_NOTE_DATE = "note_date"
DEADLINE_FIELDS = {
    "date": STEP_DEADLINE_DATE,
    "kind": STEP_DEADLINE_KIND,
    "title": STEP_DEADLINE_TITLE,
}
# Steps that leave an edit: /huy there goes back to the proposal instead of cancelling it.
EDIT_STEPS = (STEP_EDIT, STEP_DEADLINE, STEP_NOTE_DATE, *DEADLINE_FIELDS.values())
PREFIX = "kh"
# Fields the admin may edit: button `plans.btn.edit_<field>`, question `plans.ask.<field>`.
FIELDS = ("number", "name", "body", "issued", "start", "end")
MAX_MB = MAX_FILE_BYTES // (1024 * 1024)
# Telegram shows 4096 characters per message; the proposal must stay one message.
MESSAGE_BUDGET = 3800
DATE_EXAMPLE = "25/4/2026"


@router.command("nhapkehoach", access=Access.ADMIN, help_key="help.nhapkehoach")
async def start_import(event: Inbound, ctx: Context) -> None:
    token = _token(ctx, b"")
    ctx.begin(FLOW, STEP_FILE, {"token": token})
    ctx.ask(t("plans.send_file", max_mb=MAX_MB), [[_button("btn.cancel", "no", token)]])


@router.flow(FLOW, access=Access.ADMIN)
async def on_message(event: Inbound, ctx: Context) -> None:
    if event.attachment is not None and ctx.step in (STEP_FILE, STEP_REVIEW):
        await _read_plan(event, ctx)
    elif ctx.step == STEP_EDIT:
        if event.attachment is not None:
            raise InputError("plans.need_value")
        _apply_edit(ctx, event.text)
        ctx.goto(STEP_REVIEW)
        _show(ctx)
    elif ctx.step == STEP_NOTE_DATE:
        if event.attachment is not None:
            raise InputError("plans.need_value")
        _apply_note_date(ctx, event.text)
    elif ctx.step in (STEP_DEADLINE_DATE, STEP_DEADLINE_TITLE):
        if event.attachment is not None:
            raise InputError("plans.need_value")
        _apply_deadline_edit(ctx, event.text)
    elif ctx.step in (STEP_REVIEW, STEP_DEADLINE, STEP_DEADLINE_KIND):
        raise InputError("plans.use_buttons")
    else:
        raise InputError("plans.need_file")


@router.button(PREFIX, access=Access.ADMIN)
async def on_button(event: Inbound, ctx: Context) -> None:
    _, parts = split_payload(event.payload or "")
    action = parts[0] if parts else ""
    token = parts[1] if len(parts) > 1 else ""
    args = parts[2:]
    if ctx.flow != FLOW or token != ctx.data.get("token"):
        ctx.say("core.stale_button")
        return
    if action == "no":
        ctx.end()
        ctx.say("plans.cancelled")
        return
    if "proposal" not in ctx.data:
        ctx.say("core.stale_button")
        return
    number = int(args[0]) if args and args[0].isdigit() else None
    if action == "ed" and args and args[0] in FIELDS:
        _ask_field(ctx, args[0])
    elif action == "rm" and number is not None:
        _drop_deadline(ctx, number)
    elif action == "nd" and number is not None:
        _ask_note_date(ctx, number)
    elif action in ("de", "df", "dk", "dm") and number is not None:
        _deadline_button(ctx, action, number, args[1] if len(args) > 1 else "")
    elif action == "ok":
        _accept(ctx, confirmed=args == ["1"])
    else:  # "bk": back to the proposal
        _back_to_proposal(ctx)


@router.flow_command(FLOW, "huy")
async def on_cancel(event: Inbound, ctx: Context) -> None:
    """/huy while editing leaves the edit (what was changed before stays); else cancels."""
    if ctx.step in EDIT_STEPS and "proposal" in ctx.data:
        ctx.say("plans.edit_left")
        _back_to_proposal(ctx)
        return
    ctx.end()
    ctx.say("plans.cancelled")


def _back_to_proposal(ctx: Context) -> None:
    ctx.data.pop("field", None)
    ctx.data.pop("dl", None)
    ctx.data.pop("note", None)
    ctx.goto(STEP_REVIEW)
    _show(ctx)


# --- reading the file ------------------------------------------------------------------------


async def _read_plan(event: Inbound, ctx: Context) -> None:
    attachment = event.attachment
    assert attachment is not None
    if attachment.kind == "photo":
        raise InputError("plans.photo")
    if attachment.size is not None and attachment.size > MAX_FILE_BYTES:
        raise InputError("plans.file.too_large", max_mb=MAX_MB)
    try:
        content = await ctx.download(attachment)
    except DeliveryError:
        raise InputError("plans.download_failed") from None
    try:
        proposal = await read_plan(content, attachment.file_name, today=_today(ctx))
    except PlanFileError as exc:
        raise InputError(f"plans.file.{exc.reason}", max_mb=MAX_MB) from None
    if not proposal.is_useful():
        raise InputError("plans.nothing_found")
    ctx.data.pop("edited", None)
    ctx.data.pop("added", None)
    ctx.data.update(
        proposal=proposal.to_dict(),
        found=len(proposal.deadlines),
        token=_token(ctx, content),
    )
    ctx.goto(STEP_REVIEW)
    _show(ctx)


def _token(ctx: Context, salt: bytes) -> str:
    """A short tag in the button payloads: buttons of an older proposal are refused."""
    seed = salt + ctx.now().isoformat().encode() + (ctx.event.update_id or "").encode()
    return f"{zlib.crc32(seed):08x}"


# --- showing the proposal ----------------------------------------------------------------------


def _proposal(ctx: Context) -> PlanProposal:
    return PlanProposal.from_dict(ctx.data["proposal"])


def _save(ctx: Context, proposal: PlanProposal) -> None:
    ctx.data["proposal"] = proposal.to_dict()


def _today(ctx: Context) -> date:
    return ctx.now().astimezone(ctx.settings.tz).date()


def _show(ctx: Context, *, replace: bool = False) -> None:
    proposal = _proposal(ctx)
    message = ctx.ask(
        render_proposal(proposal, today=_today(ctx)),
        _proposal_buttons(proposal, ctx.data["token"]),
    )
    message.replace = replace


def render_proposal(
    proposal: PlanProposal, *, today: date | None = None, footer: bool = True
) -> str:
    """The proposal as one HTML message, shortening the quoted sentences to fit.
    `footer` explains the buttons (the CLI has none)."""
    text = ""
    for quote_chars in (160, 80, 0):
        text = _render(proposal, today=today, quote_chars=quote_chars, footer=footer)
        if len(text) <= MESSAGE_BUDGET:
            break
    return text


def _render(proposal: PlanProposal, *, today: date | None, quote_chars: int, footer: bool) -> str:
    unknown = Raw(t("plans.unknown"))
    issued: str = unknown
    if proposal.issued_on and proposal.place:
        issued = Raw(
            t("plans.place_date", place=proposal.place, date=format_date(proposal.issued_on))
        )
    elif proposal.issued_on:
        issued = format_date(proposal.issued_on)
    lines = [
        t("plans.proposal.heading"),
        t("plans.proposal.number", value=proposal.document_number or unknown),
        t("plans.proposal.body", value=proposal.issuing_body or unknown),
        t("plans.proposal.issued", value=issued),
        t("plans.proposal.name", value=proposal.title or unknown),
        t(
            "plans.proposal.period",
            start=format_date(proposal.starts_on) if proposal.starts_on else unknown,
            end=format_date(proposal.ends_on) if proposal.ends_on else unknown,
        ),
    ]
    if proposal.basis:
        lines.append(t("plans.proposal.basis_heading"))
        lines += [t("plans.proposal.basis_line", value=_basis_line(b)) for b in proposal.basis]
    lines.append("")
    if proposal.deadlines:
        lines.append(t("plans.proposal.deadlines_heading", count=len(proposal.deadlines)))
    else:
        lines.append(t("plans.proposal.no_deadlines"))
    for deadline in proposal.deadlines:
        lines.append(
            t(
                "plans.proposal.deadline",
                no=deadline.no,
                kind=t(f"plans.kind.{deadline.kind}"),
                time=deadline.due_time.strftime("%H:%M"),
                date=format_date(deadline.due_on),
            )
        )
        if deadline.starts_on:
            lines.append(t("plans.proposal.deadline_from", date=format_date(deadline.starts_on)))
        if deadline.kind == DeadlineKind.OTHER or deadline.title != KIND_TITLES.get(deadline.kind):
            lines.append(t("plans.proposal.deadline_title", title=deadline.title))
        if quote_chars:
            lines.append(t("plans.proposal.source", text=shorten(deadline.source, quote_chars)))
        for flag in deadline_flags(deadline, issued_on=proposal.issued_on, today=today):
            lines.append(t(f"plans.flag.{flag}", year=deadline.due_on.year))
    if proposal.notes:
        lines += ["", t("plans.proposal.notes_heading")]
        for note in proposal.notes:
            text = shorten(note.text, max(quote_chars, 80))
            lines.append(t("plans.proposal.note", no=note.no, text=text))
    if proposal.problems:
        lines += ["", t("plans.proposal.problems_heading")]
        for problem in proposal.problems:
            source = shorten(problem.source, quote_chars or 80)
            lines.append(t(f"plans.problem.{problem.code}", text=problem.text, source=source))
    if footer:
        lines += ["", t("plans.proposal.footer")]
    return "\n".join(lines)


def _button(label_key: str, action: str, token: str, *args: object, **params: object) -> Button:
    return Button(t(f"plans.{label_key}", **params), make_payload(PREFIX, action, token, *args))


def _proposal_buttons(proposal: PlanProposal, token: str) -> list[list[Button]]:
    rows = [
        [_button("btn.accept", "ok", token)],
        [_button(f"btn.edit_{f}", "ed", token, f) for f in ("number", "name", "body")],
        [_button(f"btn.edit_{f}", "ed", token, f) for f in ("issued", "start", "end")],
    ]
    rows += [
        [
            _button("btn.edit_deadline", "de", token, d.no, no=d.no),
            _button("btn.drop", "rm", token, d.no, no=d.no),
        ]
        for d in proposal.deadlines
    ]
    notes = [_button("btn.date_note", "nd", token, n.no, no=n.no) for n in proposal.notes]
    rows += [notes[i : i + 2] for i in range(0, len(notes), 2)]
    rows.append([_button("btn.cancel", "no", token)])
    return rows


# --- editing -----------------------------------------------------------------------------------


def _ask_field(ctx: Context, field: str) -> None:
    proposal = _proposal(ctx)
    current = {
        "number": proposal.document_number,
        "name": proposal.title,
        "body": proposal.issuing_body,
        "issued": format_date(proposal.issued_on) if proposal.issued_on else None,
        "start": format_date(proposal.starts_on) if proposal.starts_on else None,
        "end": format_date(proposal.ends_on) if proposal.ends_on else None,
    }[field]
    ctx.data["field"] = field
    ctx.goto(STEP_EDIT)
    ctx.ask(
        t(f"plans.ask.{field}", current=current or Raw(t("plans.unknown"))),
        [[_button("btn.back", "bk", ctx.data["token"])]],
        accepts_text=True,
    )


def _apply_edit(ctx: Context, text: str) -> None:
    proposal = _proposal(ctx)
    field = ctx.data.get("field")
    value = clean_text(text, multiline=False)
    if field == "number":
        parsed = parse_document_number(value)
        if parsed is None:
            raise InputError("plans.bad_number", example="353/KH-UBND")
        proposal.document_number, proposal.document_type = parsed
    elif field == "name":
        if not 5 <= len(value) <= 500:
            raise InputError("plans.bad_name", example="Phát động đợt thi đua chào mừng …")
        proposal.title = value
    elif field == "body":
        if not 2 <= len(value) <= 200:
            raise InputError("plans.bad_body", example="UBND huyện Tam Đường")
        proposal.issuing_body = value
    elif field == "issued":
        proposal.issued_on = _date(value)
    elif field == "start":
        starts = _date(value)
        if proposal.ends_on and starts > proposal.ends_on:
            raise InputError("plans.start_after_end", end=format_date(proposal.ends_on))
        proposal.starts_on = starts
    elif field == "end":
        ends = _date(value)
        if proposal.starts_on and ends < proposal.starts_on:
            raise InputError("plans.end_before_start", start=format_date(proposal.starts_on))
        proposal.ends_on = ends
    ctx.data.pop("field", None)
    _save(ctx, proposal)


def _date(text: str, default_year: int | None = None) -> date:
    try:
        return parse_date(text, default_year=default_year)
    except ParseError as exc:
        raise InputError(f"plans.bad_date.{exc.reason}", example=DATE_EXAMPLE) from None


def _drop_deadline(ctx: Context, number: int) -> None:
    proposal = _proposal(ctx)
    proposal.deadlines = [d for d in proposal.deadlines if d.no != number]
    _save(ctx, proposal)
    ctx.goto(STEP_REVIEW)
    _show(ctx, replace=True)


# --- editing one proposed deadline --------------------------------------------------------------


def _deadline_button(ctx: Context, action: str, number: int, arg: str) -> None:
    """`de`: the deadline's menu; `df`: ask for its date, kind or title; `dk`: set its kind;
    `dm`: take off its "hằng năm" (`r`) or "dự kiến" (`t`) mark."""
    proposal = _proposal(ctx)
    deadline = next((d for d in proposal.deadlines if d.no == number), None)
    if deadline is None:  # dropped meanwhile (an older message's button)
        ctx.say("plans.deadline_gone", no=number)
        _back_to_proposal(ctx)
        return
    ctx.data["dl"] = number
    if action == "df" and arg in DEADLINE_FIELDS:
        _ask_deadline_field(ctx, deadline, arg)
    elif action == "dk" and arg in DEADLINE_KINDS:
        _set_kind(deadline, arg)
        _save(ctx, proposal)
        _mark_edited(ctx, number)
        _deadline_menu(ctx, deadline, replace=True)
    elif action == "dm" and arg in ("r", "t"):
        if arg == "r":
            deadline.recurring = False
        else:
            deadline.tentative = False
        _save(ctx, proposal)
        _mark_edited(ctx, number)
        _deadline_menu(ctx, deadline, replace=True)
    else:  # "de", or a kind/field no longer offered
        _deadline_menu(ctx, deadline, replace=ctx.step != STEP_REVIEW)


def _deadline_menu(ctx: Context, deadline: ProposedDeadline, *, replace: bool = False) -> None:
    ctx.goto(STEP_DEADLINE)
    token, no = ctx.data["token"], deadline.no
    marks = [
        _button(f"btn.unmark_{mark}", "dm", token, no, mark)
        for mark, on in (("r", deadline.recurring), ("t", deadline.tentative))
        if on
    ]
    text = t(
        "plans.deadline.menu",
        no=no,
        kind=t(f"plans.kind.{deadline.kind}"),
        title=deadline.title,
        time=deadline.due_time.strftime("%H:%M"),
        date=format_date(deadline.due_on),
    )
    if deadline.recurring:
        text += "\n" + t("plans.deadline.recurring")
    if deadline.tentative:
        text += "\n" + t("plans.deadline.tentative")
    rows = [[_button(f"btn.deadline_{field}", "df", token, no, field) for field in DEADLINE_FIELDS]]
    if marks:
        rows.append(marks)
    rows.append([_button("btn.to_proposal", "bk", token)])
    message = ctx.ask(text, rows)
    message.replace = replace


def _ask_deadline_field(ctx: Context, deadline: ProposedDeadline, field: str) -> None:
    ctx.goto(DEADLINE_FIELDS[field])
    token, no = ctx.data["token"], deadline.no
    back = [_button("btn.back", "de", token, no)]
    if field == "kind":
        kinds = [_button(f"kind.{kind}", "dk", token, no, kind) for kind in DEADLINE_KINDS]
        ctx.ask(
            t("plans.deadline.ask_kind", no=no, kind=t(f"plans.kind.{deadline.kind}")),
            [kinds[:2], kinds[2:4], kinds[4:], back],
        )
        return
    current = format_date(deadline.due_on) if field == "date" else deadline.title
    ctx.ask(t(f"plans.deadline.ask_{field}", no=no, current=current), [back], accepts_text=True)


def _set_kind(deadline: ProposedDeadline, kind: str) -> None:
    """A title that was the old kind's standard one follows the kind; one the plan or the
    admin wrote stays."""
    if deadline.title == KIND_TITLES.get(deadline.kind) and kind in KIND_TITLES:
        deadline.title = KIND_TITLES[kind]
    deadline.kind = kind


def _apply_deadline_edit(ctx: Context, text: str) -> None:
    proposal = _proposal(ctx)
    deadline = next((d for d in proposal.deadlines if d.no == ctx.data.get("dl")), None)
    if deadline is None:
        _back_to_proposal(ctx)
        return
    value = clean_text(text, multiline=False)
    if ctx.step == STEP_DEADLINE_DATE:
        # "15/3" takes the year of the date it replaces, as the plan is about that year.
        deadline.due_on = _date(value, default_year=deadline.due_on.year)
        deadline.year_assumed = False
        if deadline.starts_on and deadline.starts_on > deadline.due_on:
            deadline.starts_on = None  # "từ ngày …" only informs; a range ending first is void
    else:
        if not 2 <= len(value) <= 300:
            raise InputError("plans.bad_deadline_title", example="Báo cáo sơ kết 6 tháng đầu năm")
        deadline.title = value
    _save(ctx, proposal)
    _mark_edited(ctx, deadline.no)
    _deadline_menu(ctx, deadline)


def _ask_note_date(ctx: Context, number: int) -> None:
    note = next((n for n in _proposal(ctx).notes if n.no == number), None)
    if note is None:
        ctx.say("plans.note_gone", no=number)
        _back_to_proposal(ctx)
        return
    ctx.data["note"] = number
    ctx.goto(STEP_NOTE_DATE)
    ctx.ask(
        t("plans.note.ask_date", no=number, text=note.text),
        [[_button("btn.back", "bk", ctx.data["token"])]],
        accepts_text=True,
    )


def _apply_note_date(ctx: Context, text: str) -> None:
    """The note becomes a deadline ("other" kind, titled by the note) on the date typed."""
    proposal = _proposal(ctx)
    note = next((n for n in proposal.notes if n.no == ctx.data.get("note")), None)
    if note is None:
        _back_to_proposal(ctx)
        return
    today = _today(ctx)
    due = _date(clean_text(text, multiline=False), default_year=today.year)
    # Past every number given so far, dropped ones included, so old buttons never reach it.
    number = ctx.data.get("found", 0) + ctx.data.get("added", 0) + 1
    proposal.deadlines.append(_deadline_from_note(note, due, number))
    proposal.deadlines.sort(key=lambda d: (d.due_on, d.due_time))
    proposal.notes = [n for n in proposal.notes if n.no != note.no]
    ctx.data["added"] = ctx.data.get("added", 0) + 1
    _save(ctx, proposal)
    ctx.say("plans.note.dated", no=note.no, date=format_date(due), deadline=number)
    _back_to_proposal(ctx)


def _deadline_from_note(note: RelativeNote, due: date, number: int) -> ProposedDeadline:
    return ProposedDeadline(
        no=number,
        kind=DeadlineKind.OTHER,
        title=shorten(note.text, 300),
        due_on=due,
        source=note.source,
    )


def _mark_edited(ctx: Context, number: int) -> None:
    edited = ctx.data.setdefault("edited", [])
    if number not in edited:
        edited.append(number)


# --- accepting ---------------------------------------------------------------------------------


def _accept(ctx: Context, *, confirmed: bool) -> None:
    proposal = _proposal(ctx)
    today = _today(ctx)
    flagged = [
        d
        for d in proposal.deadlines
        if CONFIRM_FLAGS & set(deadline_flags(d, issued_on=proposal.issued_on, today=today))
    ]
    try:
        if flagged and not confirmed:
            check_ready(
                ctx.session, proposal, scope=ctx.admin_scope
            )  # what is missing comes before "are you sure"
            token = ctx.data["token"]
            ctx.ask(
                t("plans.confirm_flags", count=len(flagged)),
                [[_button("btn.confirm", "ok", token, 1), _button("btn.back", "bk", token)]],
            )
            return
        campaign = create_campaign_from_plan(
            ctx.session,
            proposal=proposal,
            scope=ctx.admin_scope,
            actor=ctx.member,
            now=ctx.now(),
            timezone=ctx.settings.timezone,
            description=plan_description(proposal),
            dropped=ctx.data.get("found", 0) + ctx.data.get("added", 0) - len(proposal.deadlines),
            edited=len(set(ctx.data.get("edited", [])) & {d.no for d in proposal.deadlines}),
            forms=ctx.services.forms,
        )
    except PlanNotReady as exc:
        same = exc.campaign
        params: dict[str, Any] = (
            {"number": same.document_number, "name": same.name, "id": same.id} if same else {}
        )
        ctx.say(f"plans.not_ready.{exc.reason}", **params)
        ctx.goto(STEP_REVIEW)
        _show(ctx)
        return
    ctx.end()
    ctx.say(
        "plans.created",
        name=campaign.name,
        number=campaign.document_number,
        id=campaign.id,
        count=len(proposal.deadlines),
    )
