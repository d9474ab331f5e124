"""Organisers (cơ quan tổ chức): /coquan to see, add, import them and name their admins; the
province's roll-up of its communes' campaigns (/tonghop); cascading campaigns (/yeucauxa on the
province's side, /dotcaptren on the commune's).

An admin of several organisers chooses which one they act for (/coquan, or the buttons the
core shows); every admin command then works within that one (`ctx.admin_scope`). Rules are in
`domain.organisers` and `domain.scope`; this module reads the event, calls them and answers.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time

from bot.access import ACT_AS, Access, in_scope, refuse_in_update
from bot.catalog import Raw, t
from bot.context import Context
from bot.errors import InputError
from bot.events import Button, Inbound, OutboundFile
from bot.router import Router, make_payload, split_payload
from domain import audit
from domain import organisers as offices
from domain import scope as scoped
from domain.campaigns import deadlines_of
from domain.dates import format_date, format_number
from domain.dossier import slug
from domain.export import find_campaign
from domain.rollup import AnswerRollup, RollupTexts, answer_rollup, rollup_workbook, rollups_of
from domain.text import matches
from domain.units import MAX_FILE_BYTES, RowError, find_unit_by_code
from handlers.admin_common import forms_of, say_out_of_scope
from models.campaigns import Campaign, CampaignStatus
from models.organisers import Organiser
from models.units import Member, MemberStatus, Unit

router = Router()

IMPORT_FLOW = "organisers.import"
STEP_FILE = "file"
GRANT = "og-adm"
REVOKE = "og-rev"
CASCADE_PICK = "og-cas"
CASCADE_OK = "og-casok"
ROLLUP_FILE = "og-sum"
MAX_SHOWN_ERRORS = 10
MAX_PEOPLE = 8


def _acting(ctx: Context) -> Organiser:
    organiser = ctx.session.get(Organiser, ctx.admin_scope.organiser_id)
    assert organiser is not None  # the scope came from an organiser_member row
    return organiser


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def _level(organiser: Organiser) -> str:
    key = f"organisers.level.{organiser.level}"
    return t(key) if organiser.level in offices.LEVELS else organiser.level


# --- /coquan ------------------------------------------------------------------------------------
@router.command("coquan", access=Access.ADMIN, help_key="help.coquan")
async def organisers(event: Inbound, ctx: Context) -> None:
    words = event.args.split(maxsplit=1)
    action = words[0].lower() if words else ""
    rest = words[1] if len(words) > 1 else ""
    if action == "them":
        _add(ctx, rest)
    elif action == "nhap":
        ctx.begin(IMPORT_FLOW, STEP_FILE)
        ctx.ask(t("organisers.import.ask_file"))
    elif action == "quantri":
        _grant_pick(ctx, rest)
    elif action == "sua":
        _edit(ctx, rest)
    elif action == "boquyen":
        _revoke_pick(ctx, rest)
    else:
        _overview(ctx)


def _overview(ctx: Context) -> None:
    acting = _acting(ctx)
    lines = [t("organisers.acting", name=acting.name, level=_level(acting))]
    children = offices.children(acting.id, session=ctx.session)  # type: ignore[arg-type]  # a stored row: its id is set
    if children:
        lines.append(t("organisers.children_title", count=len(children)))
        for child in children:
            lines.append(_line(ctx, child))
    else:
        lines.append(t("organisers.no_children"))
    lines.append(t("organisers.usage"))
    assert ctx.member is not None  # Access.ADMIN
    mine = offices.administered(ctx.member, session=ctx.session)
    buttons = [
        [Button(t("organisers.act_as_button", name=o.name), make_payload(ACT_AS, o.id))]
        for o in mine
        if o.id != acting.id
    ]
    if buttons:
        lines.append(t("organisers.switch_hint"))
    ctx.reply("\n".join(lines), buttons or None)


def _line(ctx: Context, organiser: Organiser) -> str:
    admins = scoped.admins_of(organiser.id, session=ctx.session)  # type: ignore[arg-type]  # a stored row: its id is set
    unit = ctx.session.get(Unit, organiser.unit_id) if organiser.unit_id else None
    return t(
        "organisers.line",
        name=organiser.name,
        code=organiser.code,
        level=_level(organiser),
        unit=unit.code if unit else t("organisers.no_unit"),
        admins=len(admins),
    )


def _add(ctx: Context, text: str) -> None:
    """`/coquan them MA; Tên; cấp; mã đơn vị (tuỳ chọn); nơi ký (tuỳ chọn)`."""
    parts = [p.strip() for p in text.split(";")]
    if len(parts) < 3 or not all(parts[:3]):
        raise InputError("organisers.add.usage", example=t("organisers.add.example"))
    code, name, level = parts[:3]
    unit_code = parts[3] if len(parts) > 3 else ""
    signing = parts[4] if len(parts) > 4 else ""
    acting = _acting(ctx)
    unit = None
    if unit_code:
        unit = find_unit_by_code(ctx.session, unit_code, scope=ctx.admin_scope)
        if unit is None:
            raise InputError(
                "organisers.add.unknown_unit", example=t("organisers.add.example"), code=unit_code
            )
    try:
        created = offices.add_organiser(
            code=code,
            name=name,
            level=level,
            parent=acting,
            unit=unit,
            signing_place=signing,
            by=ctx.member,
            now=ctx.now(),
            session=ctx.session,
        )
    except offices.OrganiserError as exc:
        reason = t(f"organisers.import.error.{exc.reason}", **exc.params)
        raise InputError(
            "organisers.add.refused", example=t("organisers.add.example"), reason=Raw(reason)
        ) from None
    ctx.say("organisers.add.done", name=created.name, code=created.code)


def _edit(ctx: Context, text: str) -> None:
    """`/coquan sua Tên; cấp; địa danh; nơi ký`: the organiser acted for."""
    parts = [p.strip() for p in text.split(";")]
    if len(parts) < 2 or not all(parts[:2]):
        raise InputError("organisers.edit.usage", example=t("organisers.edit.example"))
    acting = _acting(ctx)
    try:
        offices.update_organiser(
            acting,
            name=parts[0],
            level=parts[1],
            place=parts[2] if len(parts) > 2 else "",
            signing_place=parts[3] if len(parts) > 3 else "",
            by=ctx.member,
            now=ctx.now(),
            session=ctx.session,
        )
    except offices.OrganiserError as exc:
        reason = t(f"organisers.import.error.{exc.reason}", **exc.params)
        raise InputError(
            "organisers.add.refused", example=t("organisers.edit.example"), reason=Raw(reason)
        ) from None
    ctx.say(
        "organisers.edit.done",
        name=acting.name,
        level=_level(acting),
        signing=acting.signing_place or t("organisers.no_unit"),
    )


# --- /coquan nhap: an import file -----------------------------------------------------------
@router.flow(IMPORT_FLOW, access=Access.ADMIN)
async def import_file(event: Inbound, ctx: Context) -> None:
    attachment = event.attachment
    if attachment is None:
        raise InputError("organisers.import.need_file")
    if attachment.size is not None and attachment.size > MAX_FILE_BYTES:
        rows: list[offices.OrganiserRow] = []
        errors = [RowError(0, "too_big", {"max_mb": MAX_FILE_BYTES // 2**20})]
    else:
        content = await ctx.download(attachment)
        # Reading a spreadsheet is CPU work: off the event loop.
        rows, errors = await asyncio.to_thread(offices.parse_rows, content)
    result = offices.apply_rows(
        rows, errors, parent=_acting(ctx), by=ctx.member, now=ctx.now(), session=ctx.session
    )
    if result.ok:
        ctx.end()
        ctx.say("organisers.import.done", created=len(result.created), updated=len(result.updated))
        return
    lines = [t("organisers.import.refused", count=len(result.errors))]
    for error in result.errors[:MAX_SHOWN_ERRORS]:
        reason = t(f"organisers.import.error.{error.reason}", **error.params)
        row = t("organisers.import.row", row=error.row, reason=Raw(reason))
        lines.append(reason if error.row == 0 else row)
    ctx.reply("\n".join(lines) + "\n\n" + t("organisers.import.resend"))


# --- acting as the admin of one organiser ----------------------------------------------------
@router.button(ACT_AS, access=Access.MEMBER)
async def act_as(event: Inbound, ctx: Context) -> None:
    _, parts = split_payload(event.payload or "")
    organiser_id = _int(parts[0]) if parts else None
    assert ctx.member is not None  # Access.MEMBER
    if organiser_id is None or not offices.set_acting(
        ctx.member, organiser_id, session=ctx.session
    ):
        ctx.say(refuse_in_update(ctx, "organiser", organiser_id))
        return
    organiser = ctx.session.get(Organiser, organiser_id)
    assert organiser is not None
    ctx.reply(t("organisers.now_acting", name=organiser.name), replace=True)


# --- /coquan quantri: name an admin of an organiser --------------------------------------------
def _grant_pick(ctx: Context, text: str) -> None:
    words = text.split(maxsplit=1)
    if len(words) < 2:
        raise InputError("organisers.grant.usage", example="XA-BINHLU Nguyễn Văn An")
    target = offices.find_by_code(words[0], session=ctx.session)
    if target is None or not offices.is_under(
        target, ctx.admin_scope.organiser_id, session=ctx.session
    ):
        raise InputError(
            "organisers.grant.unknown", example="XA-BINHLU Nguyễn Văn An", code=words[0]
        )
    people = _people(ctx, target, words[1])
    if not people:
        ctx.say("organisers.grant.nobody", query=words[1])
        return
    buttons = [
        [Button(f"{m.display_name} ({_unit_code(ctx, m)})", make_payload(GRANT, target.id, m.id))]
        for m in people[:MAX_PEOPLE]
    ]
    ctx.say("organisers.grant.pick", buttons, name=target.name)


def _people(ctx: Context, target: Organiser, query: str) -> list[Member]:
    """Approved members the acting admin may name: officers of units of the acting organiser
    or of `target` (a commune's own officer may run the commune)."""
    scope = scoped.Scope.of(ctx.admin_scope.organiser_id, target.id)  # type: ignore[arg-type]  # a stored row: its id is set
    rows = ctx.session.exec(
        scoped.members(scope).where(Member.status == MemberStatus.APPROVED)
    ).all()
    return [m for m in rows if matches(query, m.display_name)]


def _unit_code(ctx: Context, member: Member) -> str:
    unit = ctx.session.get(Unit, member.unit_id) if member.unit_id else None
    return unit.code if unit else "—"


def _named(
    ctx: Context, event: Inbound
) -> tuple[Organiser | None, Member | None, int | None, int | None]:
    """The organiser and the person a grant or revoke button names, and the ids as sent (for
    the refusal's audit line)."""
    _, parts = split_payload(event.payload or "")
    organiser_id = _int(parts[0]) if parts else None
    member_id = _int(parts[1]) if len(parts) > 1 else None
    target = ctx.session.get(Organiser, organiser_id) if organiser_id else None
    person = ctx.session.get(Member, member_id) if member_id else None
    return target, person, organiser_id, member_id


@router.button(GRANT, access=Access.ADMIN)
async def grant(event: Inbound, ctx: Context) -> None:
    target, person, organiser_id, member_id = _named(ctx, event)
    allowed = (
        target is not None
        and person is not None
        and offices.is_under(target, ctx.admin_scope.organiser_id, session=ctx.session)
        and person in _people(ctx, target, "")
    )
    if not allowed:
        say_out_of_scope(
            ctx,
            "member" if target is not None else "organiser",
            member_id if target is not None else organiser_id,
        )
        return
    assert target is not None and person is not None
    if offices.grant_admin(person, target, by=ctx.member, now=ctx.now(), session=ctx.session):
        ctx.reply(t("organisers.grant.done", name=person.display_name, office=target.name))
        ctx.tell(person, "organisers.grant.notice", office=target.name)
    else:
        ctx.reply(t("organisers.grant.already", name=person.display_name, office=target.name))


# --- /coquan boquyen: an admin of an organiser no longer ---------------------------------------
def _revoke_pick(ctx: Context, text: str) -> None:
    code = text.strip()
    target = offices.find_by_code(code, session=ctx.session) if code else None
    if target is None or not offices.is_under(
        target, ctx.admin_scope.organiser_id, session=ctx.session
    ):
        raise InputError("organisers.grant.unknown", example="/coquan boquyen CQ-BINHLU", code=code)
    admins = [
        a
        for a in scoped.admins_of(target.id, session=ctx.session)  # type: ignore[arg-type]  # a stored row: its id is set
        if a.id != (ctx.member.id if ctx.member else None)
    ]
    if not admins:
        ctx.say("organisers.revoke.nobody", name=target.name)
        return
    buttons = [[Button(a.display_name, make_payload(REVOKE, target.id, a.id))] for a in admins]
    ctx.say("organisers.revoke.pick", buttons, name=target.name)


@router.button(REVOKE, access=Access.ADMIN)
async def revoke(event: Inbound, ctx: Context) -> None:
    target, person, organiser_id, member_id = _named(ctx, event)
    allowed = (
        target is not None
        and person is not None
        and person.id != (ctx.member.id if ctx.member else None)
        and offices.is_under(target, ctx.admin_scope.organiser_id, session=ctx.session)
    )
    if not allowed or not offices.revoke_admin(
        person,  # type: ignore[arg-type]  # not None: checked in `allowed` above
        target,  # type: ignore[arg-type]  # not None: checked in `allowed` above
        by=ctx.member,
        now=ctx.now(),
        session=ctx.session,
    ):
        say_out_of_scope(
            ctx,
            "member" if target is not None else "organiser",
            member_id if target is not None else organiser_id,
        )
        return
    assert target is not None and person is not None
    ctx.reply(t("organisers.revoke.done", name=person.display_name, office=target.name))
    ctx.tell(person, "organisers.revoke.notice", office=target.name)


# --- /tonghop: the province's read-only roll-up ------------------------------------------------
@router.command("tonghop", access=Access.ADMIN, help_key="help.tonghop")
async def rollup(event: Inbound, ctx: Context) -> None:
    """The progress of the organiser's children (a province's communes), read-only; and, for
    a commune running cascaded campaigns, the sums of its units' accepted reports it answers
    the level above with (`_answer_sums`)."""
    acting = _acting(ctx)
    entries = offices.rollup(acting, session=ctx.session)
    sums = rollups_of(acting, session=ctx.session, forms=forms_of(ctx))
    if not entries and not sums:
        ctx.say("organisers.rollup.none", name=acting.name)
        return
    for found in sums:
        _answer_sums(ctx, found)
    if entries:
        _children_progress(ctx, acting, entries)


def _answer_sums(ctx: Context, found: AnswerRollup) -> None:
    """What the commune's units reported, added up, for the commune's own report upward."""
    lines = [
        t(
            "organiser_documents.rollup_title",
            campaign=found.campaign.name,
            title=found.deadline.title,
            parent=found.parent_deadline.title if found.parent_deadline else "",
            accepted=found.units_accepted,
            total=found.units_total,
        )
    ]
    answered = [total for total in found.totals if total.answered]
    lines += [
        t(
            "organiser_documents.rollup_line",
            label=total.label,
            total=format_number(total.value),
            answered=total.answered,
        )
        for total in answered
    ] or [t("organiser_documents.rollup_nothing")]
    lines.append(t("organiser_documents.rollup_hint"))
    button = Button(
        t("organiser_documents.rollup_button"), make_payload(ROLLUP_FILE, found.deadline.id)
    )
    ctx.reply("\n".join(lines), [[button]] if found.rows else [])


@router.button(ROLLUP_FILE, access=Access.ADMIN)
async def rollup_file(event: Inbound, ctx: Context) -> None:
    """The workbook of one roll-up: a row per unit with an accepted report, the total row."""
    _, parts = split_payload(event.payload or "")
    deadline = in_scope(ctx, "deadline", _int(parts[0]) if parts else None)
    if deadline is None or deadline.parent_deadline_id is None:
        ctx.say("organisers.out_of_scope")
        return
    found = answer_rollup(ctx.session, deadline=deadline, forms=forms_of(ctx))
    texts = RollupTexts(
        sheet=t("organiser_documents.rollup_sheet"),
        caption=t("organiser_documents.rollup_sheet_caption"),
        unit_header=t("organiser_documents.rollup_unit"),
        code_header=t("organiser_documents.rollup_code"),
        total_row=t("organiser_documents.rollup_total_row"),
    )
    caption = t(
        "organiser_documents.rollup_caption",
        title=deadline.title,
        accepted=found.units_accepted,
        total=found.units_total,
    )
    name = f"tong-hop-{slug(found.campaign.document_number, 20)}-{slug(deadline.title, 30)}.xlsx"
    data = rollup_workbook(found, texts=texts)
    ctx.reply(document=OutboundFile(name, data, caption=caption))


def _children_progress(
    ctx: Context, acting: Organiser, entries: list[offices.ChildProgress]
) -> None:
    lines = [t("organisers.rollup.title", name=acting.name)]
    for entry in entries:
        lines.append(t("organisers.rollup.office", name=entry.organiser.name))
        if not entry.deadlines:
            lines.append(t("organisers.rollup.no_campaign"))
        for progress in entry.deadlines:
            local = progress.deadline.due_at.astimezone(ctx.settings.tz)
            lines.append(
                t(
                    "organisers.rollup.deadline",
                    campaign=progress.campaign.name,
                    title=progress.deadline.title,
                    date=format_date(local.date()),
                    submitted=progress.submitted,
                    total=progress.total,
                )
            )
    for status in offices.cascade_status(acting, session=ctx.session):
        lines.append(
            t(
                "organisers.rollup.cascade",
                name=status.campaign.name,
                accepted=len(status.accepted),
                total=len(status.accepted) + len(status.waiting),
                waiting=", ".join(o.name for o in status.waiting) or "—",
            )
        )
    lines.append(t("organisers.rollup.read_only"))
    ctx.reply("\n".join(lines))


# --- cascading campaigns ---------------------------------------------------------------------
@router.command("yeucauxa", access=Access.ADMIN, help_key="help.yeucauxa")
async def request_cascade(event: Inbound, ctx: Context) -> None:
    """The province asks its communes to run the campaign for their own units."""
    campaign = find_campaign(event.args, scope=ctx.admin_scope, session=ctx.session)
    if campaign is None or campaign.status != CampaignStatus.ACTIVE:
        raise InputError("organisers.cascade.usage", example="/yeucauxa 353/KH-UBND")
    campaign.cascade = True
    ctx.session.add(campaign)
    told = 0
    for child in offices.children(campaign.organiser_id, session=ctx.session):
        if campaign in offices.pending_cascades(child, session=ctx.session):
            for admin in scoped.admins_of(child.id, session=ctx.session):  # type: ignore[arg-type]  # a stored row: its id is set
                ctx.tell(admin, "organisers.cascade.notice", name=campaign.name, office=child.name)
                told += 1
    audit.record(
        ctx.session,
        now=ctx.now(),
        action="campaign.cascade_request",
        actor=ctx.member,
        target_type="campaign",
        target_id=campaign.id,
        organiser_id=campaign.organiser_id,
    )
    ctx.say("organisers.cascade.requested", name=campaign.name, count=told)


@router.command("dotcaptren", access=Access.ADMIN, help_key="help.dotcaptren")
async def pending_cascades(event: Inbound, ctx: Context) -> None:
    acting = _acting(ctx)
    pending = offices.pending_cascades(acting, session=ctx.session)
    if not pending:
        ctx.say("organisers.cascade.none", name=acting.name)
        return
    buttons = [[Button(c.name, make_payload(CASCADE_PICK, c.id))] for c in pending]
    ctx.say("organisers.cascade.pick", buttons, name=acting.name)


def _pending(ctx: Context, campaign_id: int | None) -> Campaign | None:
    """The upper level's campaign still waiting for this organiser's answer, or None after
    answering the refusal (another organiser's, an accepted one, a forged id)."""
    pending = offices.pending_cascades(_acting(ctx), session=ctx.session)
    found = next((c for c in pending if c.id == campaign_id), None)
    if found is None:
        say_out_of_scope(ctx, "campaign", campaign_id)
    return found


def _parse_due(text: str, *, default: datetime, ctx: Context) -> datetime:
    """ "dd/mm/yyyy" (17:00 local) or nothing for the proposed date."""
    text = text.strip()
    if not text:
        return default
    try:
        day, month, year = (int(p) for p in text.split("/"))
        local = datetime.combine(date(year, month, day), time(17, 0), tzinfo=ctx.settings.tz)
    except ValueError:
        raise InputError("organisers.cascade.bad_date", example="25/11/2026") from None
    return local.astimezone(default.tzinfo)


@router.button(CASCADE_PICK, access=Access.ADMIN)
async def cascade_picked(event: Inbound, ctx: Context) -> None:
    _, parts = split_payload(event.payload or "")
    campaign_id = _int(parts[0]) if parts else None
    campaign = _pending(ctx, campaign_id)
    if campaign is None:
        return
    lines = [t("organisers.cascade.plan", name=campaign.name)]
    for number, deadline in enumerate(deadlines_of(ctx.session, campaign), start=1):
        parent = deadline.due_at.astimezone(ctx.settings.tz).date()
        mine = offices.proposed_due(deadline.due_at).astimezone(ctx.settings.tz).date()
        lines.append(
            t(
                "organisers.cascade.deadline",
                number=number,
                title=deadline.title,
                parent=format_date(parent),
                mine=format_date(mine),
            )
        )
    lines.append(t("organisers.cascade.how_to_change", id=campaign.id))
    ok = [[Button(t("organisers.cascade.accept"), make_payload(CASCADE_OK, campaign.id))]]
    ctx.reply("\n".join(lines), ok)


@router.button(CASCADE_OK, access=Access.ADMIN)
async def cascade_accepted(event: Inbound, ctx: Context) -> None:
    _, parts = split_payload(event.payload or "")
    _accept(ctx, _int(parts[0]) if parts else None, [])


@router.command("nhandot", access=Access.ADMIN)
async def accept_with_dates(event: Inbound, ctx: Context) -> None:
    """`/nhandot <id> dd/mm/yyyy …`: accept with the commune's own dates, in deadline order."""
    words = event.args.split()
    if not words or not words[0].isdigit():
        raise InputError("organisers.cascade.accept_usage", example="/nhandot 3 20/11/2026")
    _accept(ctx, int(words[0]), words[1:])


def _accept(ctx: Context, campaign_id: int | None, dates: list[str]) -> None:
    campaign = _pending(ctx, campaign_id)
    if campaign is None:
        return
    parent_deadlines = deadlines_of(ctx.session, campaign)
    due = {
        d.id: _parse_due(text, default=offices.proposed_due(d.due_at), ctx=ctx)
        for d, text in zip(parent_deadlines, dates, strict=False)
    }
    try:
        mine = offices.accept_cascade(
            campaign,
            _acting(ctx),
            due=due,  # type: ignore[arg-type]  # stored deadlines: their ids are set
            by=ctx.member,
            now=ctx.now(),
            session=ctx.session,
        )
    except offices.OrganiserError as exc:
        raise InputError(
            f"organisers.cascade.{exc.reason}", example="/nhandot 3 20/11/2026", **exc.params
        ) from None
    ctx.say("organisers.cascade.accepted", name=mine.name, count=len(parent_deadlines))


# --- /nhatky: the organiser's audit log ---------------------------------------------------------
AUDIT_SHOWN = 20


@router.command("nhatky", access=Access.ADMIN, help_key="help.nhatky")
async def audit_log(event: Inbound, ctx: Context) -> None:
    """The latest entries of the audit log written in the organiser acted for."""
    acting = _acting(ctx)
    entries = ctx.session.exec(scoped.audit_entries(ctx.admin_scope, limit=AUDIT_SHOWN)).all()
    if not entries:
        ctx.say("organisers.audit.none", name=acting.name)
        return
    lines = [t("organisers.audit.title", name=acting.name, count=len(entries))]
    for entry in entries:
        actor = ctx.session.get(Member, entry.actor_id) if entry.actor_id else None
        lines.append(
            t(
                "organisers.audit.line",
                at=entry.at.astimezone(ctx.settings.tz).strftime("%d/%m %H:%M"),
                actor=actor.display_name if actor else entry.actor,
                action=entry.action,
                target=f"{entry.target_type or ''} {entry.target_id or ''}".strip(),
                outcome="" if entry.outcome == "ok" else f" ({entry.outcome})",
            )
        )
    ctx.reply("\n".join(lines))
