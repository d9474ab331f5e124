"""The unit registry for admins: /themdonvi, /nhapdonvi, /donvi, /moi and /thuhoi.

/themdonvi asks code, name, kind (buttons from refdata) and bloc, then shows the unit for a
confirmation. /nhapdonvi takes a CSV or XLSX file and imports it all-or-nothing. /donvi lists
units with their officers, a page at a time (Prev/Next replace the message), and `/donvi <text>`
searches diacritics-insensitively. /moi creates an invite link for a unit. Rules live in
`domain.units` and `domain.registration`; nothing here knows a platform.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.access import Access, refuse_in_update
from bot.catalog import Raw, t
from bot.context import Context
from bot.errors import InputError
from bot.events import Button, Inbound
from bot.router import Router, make_payload, split_payload
from bot.steps import Flow, Step
from domain import audit, registration
from domain import scope as scoped
from domain import units as registry
from domain.dates import format_date
from domain.text import fold
from handlers.admin_common import say_out_of_scope
from models.units import Member, MemberStatus, Unit

router = Router()

ADD_FLOW = "unit_add"
STEP_CODE, STEP_NAME, STEP_KIND, STEP_BLOC, STEP_CONFIRM = "code", "name", "kind", "bloc", "confirm"
IMPORT_FLOW = "unit_import"
STEP_FILE = "file"

PER_PAGE = 8
MAX_BLOC_BUTTONS = 6
MAX_PICK = 8
MAX_SHOWN_ERRORS = 30


def kinds_text() -> str:
    return "; ".join(k.label for k in registry.unit_kinds())


# --- /themdonvi ----------------------------------------------------------------------------
@dataclass(slots=True)
class UnitDraft:
    """What /themdonvi has gathered so far (kept in the conversation state)."""

    code: str = ""
    name: str = ""
    kind: str = ""
    bloc: str | None = None
    blocs: list[str] = field(default_factory=list)  # the bloc buttons offered, by index


def _ask_code(ctx: Context, draft: UnitDraft) -> None:
    ctx.ask(t("units.add.ask_code") + "\n" + t("core.example", example="XA-BINHLU"))


def _take_code(ctx: Context, draft: UnitDraft, event: Inbound) -> None:
    draft.code = registry.check_new_code(ctx.session, event.text, scope=ctx.admin_scope)


def _ask_name(ctx: Context, draft: UnitDraft) -> None:
    ctx.ask(t("units.add.ask_name") + "\n" + t("core.example", example="Xã Bình Lư"))


def _take_name(ctx: Context, draft: UnitDraft, event: Inbound) -> None:
    draft.name = registry.check_name(event.text)


def _ask_kind(ctx: Context, draft: UnitDraft) -> None:
    buttons = [
        [Button(kind.label, make_payload("un-k", kind.code))] for kind in registry.unit_kinds()
    ]
    ctx.ask(t("units.add.ask_kind"), buttons)


def _take_kind(ctx: Context, draft: UnitDraft, event: Inbound) -> None:
    kind = registry.resolve_kind(event.text)
    if kind is None:
        raise InputError("units.add.unknown_kind")
    draft.kind = kind


def _ask_bloc(ctx: Context, draft: UnitDraft) -> None:
    draft.blocs = registry.blocs(ctx.session, scope=ctx.admin_scope)[:MAX_BLOC_BUTTONS]
    buttons = [[Button(b, make_payload("un-b", i))] for i, b in enumerate(draft.blocs)]
    key = "units.add.ask_bloc" if draft.blocs else "units.add.ask_bloc_new"
    ctx.ask(t(key), buttons, accepts_text=True)


def _take_bloc(ctx: Context, draft: UnitDraft, event: Inbound) -> None:
    draft.bloc = registry.check_bloc(event.text)


def _skip_bloc(ctx: Context, draft: UnitDraft) -> None:
    draft.bloc = None


def _ask_confirm(ctx: Context, draft: UnitDraft) -> None:
    text = t(
        "units.add.confirm",
        code=draft.code,
        name=draft.name,
        kind=registry.kind_label(draft.kind),
        bloc=draft.bloc or t("units.add.no_bloc"),
    )
    buttons = [
        [
            Button(t("core.confirm"), make_payload("un-ok", "yes")),
            Button(t("core.cancel"), make_payload("un-ok", "no")),
        ]
    ]
    ctx.ask(text, buttons)


ADD = Flow(
    ADD_FLOW,
    UnitDraft,
    [
        Step(STEP_CODE, _ask_code, _take_code),
        Step(STEP_NAME, _ask_name, _take_name),
        Step(STEP_KIND, _ask_kind, _take_kind),
        Step(STEP_BLOC, _ask_bloc, _take_bloc, optional=True, skip=_skip_bloc),
        Step(STEP_CONFIRM, _ask_confirm),
    ],
    required_key="units.add.required",
    typed_refusal="units.add.use_buttons",
    file_refusal="units.add.text_please",
)
ADD.register(router, access=Access.ADMIN)


@router.command("themdonvi", access=Access.ADMIN, help_key="help.themdonvi")
async def add_unit(event: Inbound, ctx: Context) -> None:
    ADD.start(ctx)


@router.button("un-k", access=Access.ADMIN)
async def add_unit_kind(event: Inbound, ctx: Context) -> None:
    if not ADD.in_step(ctx, STEP_KIND):
        return
    _, parts = split_payload(event.payload or "")
    if not parts or parts[0] not in {k.code for k in registry.unit_kinds()}:
        raise InputError("units.add.unknown_kind")
    draft = ADD.data(ctx)
    draft.kind = parts[0]
    ADD.advance(ctx, draft)


@router.button("un-b", access=Access.ADMIN)
async def add_unit_bloc(event: Inbound, ctx: Context) -> None:
    if not ADD.in_step(ctx, STEP_BLOC):
        return
    _, parts = split_payload(event.payload or "")
    draft = ADD.data(ctx)
    if not parts or not parts[0].isdigit() or int(parts[0]) >= len(draft.blocs):
        ctx.say("core.stale_button")
        return
    draft.bloc = draft.blocs[int(parts[0])]
    ADD.advance(ctx, draft)


@router.button("un-ok", access=Access.ADMIN)
async def add_unit_confirm(event: Inbound, ctx: Context) -> None:
    if not ADD.in_step(ctx, STEP_CONFIRM):
        return
    _, parts = split_payload(event.payload or "")
    if parts[:1] != ["yes"]:
        ctx.end()
        ctx.reply(t("units.add.cancelled"), replace=True)
        return
    draft = ADD.data(ctx)
    ctx.end()
    try:
        # Checked again: another admin may have taken the code while this one was typing.
        code = registry.check_new_code(ctx.session, draft.code, scope=ctx.admin_scope)
    except InputError as exc:
        ctx.say(exc.key, **exc.params)
        return
    unit = registry.create_unit(
        ctx.session,
        code=code,
        name=draft.name,
        kind=draft.kind,
        bloc=draft.bloc,
        now=ctx.now(),
        organiser_id=ctx.admin_scope.organiser_id,
    )
    audit.record(
        ctx.session,
        now=ctx.now(),
        action="unit.create",
        actor=ctx.member,
        target_type="unit",
        target_id=unit.id,
        detail={"code": unit.code},
        organiser_id=unit.organiser_id,
    )
    ctx.reply(t("units.add.done", name=unit.name, code=unit.code), replace=True)


# --- /nhapdonvi ----------------------------------------------------------------------------
@router.command("nhapdonvi", access=Access.ADMIN, help_key="help.nhapdonvi")
async def import_units(event: Inbound, ctx: Context) -> None:
    ctx.begin(IMPORT_FLOW, STEP_FILE)
    ctx.ask(t("units.import.ask_file", kinds=kinds_text()))


@router.flow(IMPORT_FLOW, access=Access.ADMIN)
async def import_units_file(event: Inbound, ctx: Context) -> None:
    attachment = event.attachment
    if attachment is None:
        raise InputError("units.import.need_file")
    if attachment.size is not None and attachment.size > registry.MAX_FILE_BYTES:
        error = registry.RowError(0, "too_big", {"max_mb": registry.MAX_FILE_BYTES // 2**20})
        result = registry.ImportResult(errors=[error])
    else:
        content = await ctx.download(attachment)
        result = registry.import_units(ctx.session, content, scope=ctx.admin_scope, now=ctx.now())
    registry.record_import(
        ctx.session, result, scope=ctx.admin_scope, now=ctx.now(), actor=ctx.member
    )
    if result.ok:
        ctx.end()
        ctx.reply(render_import_result(result))
    else:
        # Stay in the flow: the admin fixes the file and sends it again.
        ctx.reply(render_import_result(result) + "\n\n" + t("units.import.resend"))


def render_import_result(result: registry.ImportResult) -> str:
    """The reply to an import (also printed by `thidua-bot units import`)."""
    if result.ok:
        return t(
            "units.import.done",
            created=len(result.created),
            updated=len(result.updated),
            unchanged=len(result.unchanged),
        )
    lines = [t("units.import.refused", count=len(result.errors))]
    for error in result.errors[:MAX_SHOWN_ERRORS]:
        reason = t(f"units.import.error.{error.reason}", kinds=kinds_text(), **error.params)
        lines.append(
            reason if error.row == 0 else t("units.import.row", row=error.row, reason=Raw(reason))
        )
    if len(result.errors) > MAX_SHOWN_ERRORS:
        lines.append(t("units.import.more", count=len(result.errors) - MAX_SHOWN_ERRORS))
    return "\n".join(lines)


# --- /donvi --------------------------------------------------------------------------------
@router.command("donvi", access=Access.ADMIN, help_key="help.donvi")
async def list_units(event: Inbound, ctx: Context) -> None:
    _show_page(ctx, query=event.args, page=1, replace=False)


@router.button("un-p", access=Access.ADMIN)
async def list_units_page(event: Inbound, ctx: Context) -> None:
    _, parts = split_payload(event.payload or "")
    page = int(parts[0]) if parts and parts[0].isdigit() else 1
    _show_page(ctx, query=":".join(parts[1:]), page=page, replace=True)


def _page_payload(page: int, query: str) -> str:
    # The query rides in the button (≤ 64 bytes); its folded form searches the same.
    folded = fold(query)
    room = 64 - len(f"un-p:{page}:".encode())
    return make_payload("un-p", page, folded.encode()[:room].decode(errors="ignore"))


def _show_page(ctx: Context, *, query: str, page: int, replace: bool) -> None:
    result = registry.unit_page(
        ctx.session, scope=ctx.admin_scope, query=query, page=page, per_page=PER_PAGE
    )
    if result.total == 0:
        key = "units.list.not_found" if query.strip() else "units.list.empty"
        ctx.reply(t(key, query=query), replace=replace)
        return
    title = (
        t("units.list.search_title", query=query, total=result.total)
        if query.strip()
        else t("units.list.title", total=result.total)
    )
    people = registry.members_by_unit(ctx.session, [u.id for u in result.units if u.id])
    lines = [title]
    for unit in result.units:
        lines += _unit_lines(unit, people.get(unit.id or 0, []))
    if result.pages > 1:
        lines.append(t("units.list.page", page=result.page, pages=result.pages))
    nav: list[Button] = []
    if result.page > 1:
        nav.append(Button(t("core.prev"), _page_payload(result.page - 1, query)))
    if result.page < result.pages:
        nav.append(Button(t("core.next"), _page_payload(result.page + 1, query)))
    ctx.reply("\n".join(lines), [nav] if nav else None, replace=replace)


def _unit_lines(unit: Unit, people: list[Member]) -> list[str]:
    line = t("units.list.unit", code=unit.code, name=unit.name, kind=registry.kind_label(unit.kind))
    if unit.bloc:
        line = t("units.list.bloc", line=Raw(line), bloc=unit.bloc)
    if not unit.active:
        line = t("units.list.inactive", line=Raw(line))
    # Names are personal data: this list is for admins only (Access.ADMIN above).
    names = [
        m.display_name
        if m.status == MemberStatus.APPROVED
        else t("units.list.pending", name=m.display_name)
        for m in people
    ]
    if names:
        return [line, t("units.list.officers", names=Raw("; ".join(names)))]
    return [line, t("units.list.no_officer", code=unit.code)]


# --- /moi, /thuhoi -------------------------------------------------------------------------
@router.command("moi", access=Access.ADMIN, help_key="help.moi")
async def invite(event: Inbound, ctx: Context) -> None:
    words = event.args.split()
    if not words:
        ctx.say("units.invite.usage")
        return
    unit = registry.find_unit_by_code(ctx.session, words[0], scope=ctx.admin_scope)
    uses = 1
    if unit is not None and len(words) == 2 and words[1].isdigit():
        uses = int(words[1])
    elif unit is not None and len(words) > 1:
        unit = None  # "/moi Xã Bình Lư": a name, not a code
    if unit is None:
        found = registry.search_units(
            ctx.session, event.args, scope=ctx.admin_scope, active_only=True, limit=MAX_PICK
        )
        if not found:
            ctx.say("units.invite.not_found", query=event.args)
            return
        if len(found) > 1:
            buttons = [[Button(f"{u.name} ({u.code})", make_payload("un-i", u.id))] for u in found]
            ctx.say("units.invite.pick_unit", buttons, query=event.args)
            return
        unit = found[0]
    _issue_invite(ctx, unit, uses)


@router.button("un-i", access=Access.ADMIN)
async def invite_picked(event: Inbound, ctx: Context) -> None:
    _, parts = split_payload(event.payload or "")
    unit_id = int(parts[0]) if parts and parts[0].isdigit() else None
    unit = scoped.unit(unit_id, scope=ctx.admin_scope, session=ctx.session)
    if unit is None:
        say_out_of_scope(ctx, "unit", unit_id)
        return
    _issue_invite(ctx, unit, 1)


def _issue_invite(ctx: Context, unit: Unit, uses: int) -> None:
    if not unit.active:
        ctx.say("units.inactive", name=unit.name)
        return
    assert ctx.member is not None  # Access.ADMIN
    invite = registration.create_invite(
        ctx.session, unit=unit, by=ctx.member, now=ctx.now(), max_uses=uses
    )
    local = invite.expires_at.astimezone(ctx.settings.tz)
    params = {
        "unit": unit.name,
        "uses": invite.max_uses,
        "time": local.strftime("%H:%M"),
        "date": format_date(local.date()),
    }
    # Only the channel knows the bot's @username (Telegram's getMe): the Telegram channel puts
    # it in Services.bot_username; BOT_USERNAME names it for a process without Telegram (an
    # admin on the console preparing links for Telegram users). With neither, the officer is given the
    # token to type after /start, which works on every channel.
    username = ctx.services.bot_username or ctx.settings.bot_username
    code = registration.format_short_code(invite.short_code or "")
    if username:
        link = f"https://t.me/{username.lstrip('@')}?start={invite.token}"
        text = t("units.invite.link", link=link, code=code, **params)
    else:
        text = t("units.invite.token", code=code, **params)
    revoke = [[Button(t("units.invite.revoke_button"), make_payload("un-r", invite.id))]]
    ctx.reply(text, revoke)


@router.button("un-r", access=Access.ADMIN)
async def revoke_invite(event: Inbound, ctx: Context) -> None:
    _, parts = split_payload(event.payload or "")
    assert ctx.member is not None
    invite = (
        registration.revoke_invite(
            ctx.session,
            invite_id=int(parts[0]),
            scope=ctx.admin_scope,
            by=ctx.member,
            now=ctx.now(),
        )
        if parts and parts[0].isdigit()
        else None
    )
    if invite is None:
        refuse_in_update(ctx, "invite", int(parts[0]) if parts and parts[0].isdigit() else None)
        ctx.say("units.invite.gone")
        return
    unit = ctx.session.get(Unit, invite.unit_id)
    ctx.reply(t("units.invite.revoked", unit=unit.name if unit else ""), replace=True)


@router.command("thuhoi", access=Access.ADMIN, help_key="help.thuhoi")
async def revoke_unit_invites(event: Inbound, ctx: Context) -> None:
    unit = (
        registry.find_unit_by_code(ctx.session, event.args, scope=ctx.admin_scope)
        if event.args.strip()
        else None
    )
    if unit is None:
        if event.args.strip():
            ctx.say("units.invite.not_found", query=event.args)
        else:
            ctx.say("units.invite.revoke_usage")
        return
    assert ctx.member is not None
    count = registration.revoke_unit_invites(ctx.session, unit=unit, by=ctx.member, now=ctx.now())
    if count:
        ctx.say("units.invite.revoked_all", count=count, unit=unit.name)
    else:
        ctx.say("units.invite.none_to_revoke", unit=unit.name)
