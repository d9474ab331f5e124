"""Bloc scoring in the chat: /chamdiem (admins attach a scoring table to a campaign for a bloc;
officers score their unit criterion by criterion, each bounded by its maximum, with evidence
files, and submit), /xephang (admins and council members see the ranking per bloc with the
titles proposed for the top units and review a unit's card, adjusting a line with a reason the
unit is told; an officer sees only their own unit's card).

Rules are in `domain.scoring`; access in `bot.access`. Every button re-checks rights.
"""

from __future__ import annotations

from pathlib import Path

from bot.access import (
    Access,
    acting_scope,
    can_act_for_unit,
    can_run_council,
    can_see_tallies,
    council_scope,
    in_scope,
)
from bot.catalog import Raw, t
from bot.context import Context
from bot.errors import InputError
from bot.events import Button, Inbound, OutboundFile
from bot.router import Router, make_payload, split_payload
from bot.storage import FileRejected, receive_file
from domain import council, scoring
from domain.campaigns import blocs
from domain.reports import reachable, unit_officers
from domain.scope import Scope
from handlers.council import ask_campaign, button_parts, council_gate, id_part, refuse
from models.campaigns import Campaign
from models.council import ScoreCard, ScoringSheet
from models.reports import Attachment
from models.units import Unit

router = Router()

FLOW_SCORE = "scoring"
STEP_POINTS = "points"
STEP_EVIDENCE = "evidence"
FLOW_ADJUST = "score_adjust"
STEP_ADJ_POINTS = "points"
STEP_ADJ_REASON = "reason"
EVIDENCE_KINDS = ("pdf", "docx", "xlsx", "jpg", "png")
MAX_EVIDENCE_SHOWN = 10


def _refuse(ctx: Context, route: str) -> None:
    refuse(ctx, route, "scoring.not_allowed")


def _pts(centi: int) -> str:
    return scoring.centi_text(centi)


def _active_sheets(ctx: Context, scope: Scope | None) -> list[tuple[ScoringSheet, Campaign]]:
    if scope is None:
        return []
    return scoring.active_sheets(ctx.session, organiser_ids=scope.organiser_ids)


def _unit_sheets(ctx: Context, unit: Unit) -> list[tuple[ScoringSheet, Campaign]]:
    """Sheets of the unit's bloc in the campaigns of the unit's own organiser."""
    return [
        (s, c)
        for s, c in scoring.active_sheets(ctx.session, organiser_ids=[unit.organiser_id])
        if s.bloc == unit.bloc
    ]


# --- /chamdiem --------------------------------------------------------------------------------
@router.command("chamdiem", access=Access.MEMBER, help_key="scoring.help_chamdiem")
async def chamdiem(event: Inbound, ctx: Context) -> None:
    member = ctx.member
    assert member is not None
    acting = acting_scope(member, session=ctx.session)
    if can_run_council(member) and acting is not None:
        sheets = _active_sheets(ctx, acting)
        lines = [t("scoring.sheets_title")]
        lines += [
            t("scoring.sheet_line", campaign=c.name, bloc=s.bloc, table=s.table.get("title", ""))
            for s, c in sheets
        ] or [t("scoring.no_sheets")]
        ctx.reply(
            "\n".join(lines), [[Button(t("scoring.button_attach"), make_payload("sa", "new"))]]
        )
    unit = ctx.session.get(Unit, member.unit_id) if member.unit_id else None
    if unit is None:
        if not can_run_council(member):
            ctx.say("access.no_unit")
        return
    mine = _unit_sheets(ctx, unit)
    if not mine:
        ctx.say("scoring.none_for_unit", unit=unit.name)
        return
    ctx.reply(
        t("scoring.pick_sheet", unit=unit.name),
        [[Button(f"{c.name} — {s.bloc}"[:60], make_payload("ss", s.id))] for s, c in mine],
    )


@router.button("sa", access=Access.ADMIN)
async def attach_button(event: Inbound, ctx: Context) -> None:
    """Attach a table: campaign → bloc → table → confirm. Blocs and tables go by index."""
    _, parts = button_parts(event)
    assert ctx.member is not None
    numbers = [id_part(p) for p in parts[1:]]
    if not parts or any(n is None for n in numbers):
        ctx.say("council.gone")
        return
    action, ids = parts[0], [n for n in numbers if n is not None]
    all_blocs = blocs(ctx.session, scope=ctx.admin_scope)
    tables = sorted(scoring.load_tables())
    if action == "new":
        ask_campaign(ctx, "scoring.pick_campaign", lambda c: make_payload("sa", "camp", c.id))
        return
    campaign = in_scope(ctx, "campaign", ids[0]) if ids else None
    if campaign is None:
        ctx.say("council.gone")
        return
    if action == "camp":
        if not all_blocs:
            ctx.say("scoring.no_blocs")
            return
        ctx.ask(
            t("scoring.pick_bloc"),
            [
                [Button(b[:60], make_payload("sa", "bloc", campaign.id, i))]
                for i, b in enumerate(all_blocs)
            ],
        )
        return
    if len(ids) < 2 or ids[1] >= len(all_blocs):
        ctx.say("council.gone")
        return
    bloc = all_blocs[ids[1]]
    if action == "bloc":
        ctx.ask(
            t("scoring.pick_table", bloc=bloc),
            [
                [
                    Button(
                        scoring.load_tables()[code][0].title[:60],
                        make_payload("sa", "tbl", campaign.id, ids[1], i),
                    )
                ]
                for i, code in enumerate(tables)
            ],
        )
        return
    if len(ids) < 3 or ids[2] >= len(tables):
        ctx.say("council.gone")
        return
    table = scoring.load_tables()[tables[ids[2]]][0]
    if action == "tbl":
        ctx.ask(
            t("scoring.confirm_attach", table=table.title, campaign=campaign.name, bloc=bloc),
            [
                [
                    Button(
                        t("council.button_confirm"),
                        make_payload("sa", "ok", campaign.id, ids[1], ids[2]),
                    ),
                    Button(t("council.button_cancel"), make_payload("hd", "no")),
                ]
            ],
        )
        return
    if action == "ok":
        try:
            scoring.attach_table(
                ctx.session,
                campaign=campaign,
                bloc=bloc,
                table_code=table.code,
                actor=ctx.member,
                now=ctx.now(),
            )
        except scoring.ScoringError as exc:
            ctx.say(f"scoring.error_{exc.reason}")
            return
        ctx.say("scoring.attached", table=table.title, bloc=bloc)
        return
    ctx.say("council.gone")


def _own_card(ctx: Context, sheet_id: int | None) -> tuple[ScoringSheet, ScoreCard] | None:
    """The member's unit's card on a sheet of its bloc; anything else refused and audited."""
    member = ctx.member
    sheet = ctx.session.get(ScoringSheet, sheet_id) if sheet_id else None
    unit = ctx.session.get(Unit, member.unit_id) if member and member.unit_id else None
    if sheet is None:
        ctx.say("council.gone")
        return None
    if (
        unit is None
        or sheet.id not in {s.id for s, _ in _unit_sheets(ctx, unit)}
        or not can_act_for_unit(member, unit.id or 0, session=ctx.session)
    ):
        _refuse(ctx, "ss")
        return None
    return sheet, scoring.card_for(ctx.session, sheet=sheet, unit=unit, now=ctx.now())


@router.button("ss", access=Access.OFFICER)
async def start_scoring(event: Inbound, ctx: Context) -> None:
    found = _own_card(ctx, button_parts(event)[0])
    if not found:
        return
    sheet, card = found
    ctx.begin(FLOW_SCORE, STEP_POINTS, {"sheet": sheet.id, "card": card.id, "i": 0})
    _ask_points(ctx, sheet, card)


def _ask_points(ctx: Context, sheet: ScoringSheet, card: ScoreCard) -> None:
    table = scoring.table_of(sheet)
    index = int(ctx.data["i"])
    criterion = table.criteria[index]
    current = scoring.lines_of(ctx.session, card=card).get(criterion.code)
    buttons = []
    if current is not None:
        buttons.append(
            [
                Button(
                    t("scoring.button_keep", points=_pts(current.self_centi)),
                    make_payload("sk", "keep"),
                )
            ]
        )
    if criterion.kind != "criterion":
        buttons.append([Button(t("scoring.button_zero"), make_payload("sk", "zero"))])
    ctx.goto(STEP_POINTS)
    ctx.ask(
        t(
            f"scoring.ask_{criterion.kind}",
            index=index + 1,
            count=len(table.criteria),
            label=criterion.label,
            max=_pts(criterion.max_centi),
            evidence=criterion.evidence or "—",
        ),
        buttons,
        accepts_text=True,
    )


def _ask_evidence(ctx: Context, sheet: ScoringSheet, received: bool = False) -> None:
    ctx.goto(STEP_EVIDENCE)
    ctx.ask(
        t("scoring.evidence_received" if received else "scoring.ask_evidence"),
        [[Button(t("scoring.button_next"), make_payload("sk", "next"))]],
    )


def _flow_card(ctx: Context) -> tuple[ScoringSheet, ScoreCard] | None:
    sheet = ctx.session.get(ScoringSheet, ctx.data.get("sheet"))
    card = ctx.session.get(ScoreCard, ctx.data.get("card"))
    if (
        sheet is None
        or card is None
        or not can_act_for_unit(ctx.member, card.unit_id, session=ctx.session)
    ):
        ctx.end()
        _refuse(ctx, "flow:scoring")
        return None
    return sheet, card


@router.flow(FLOW_SCORE, access=Access.OFFICER)
async def scoring_answer(event: Inbound, ctx: Context) -> None:
    found = _flow_card(ctx)
    if not found:
        return
    sheet, card = found
    criterion = scoring.table_of(sheet).criteria[int(ctx.data["i"])]
    if ctx.step == STEP_EVIDENCE:
        if event.attachment is None:
            raise InputError("scoring.send_a_file")
        try:
            row = await receive_file(
                ctx,
                event.attachment,
                accept=EVIDENCE_KINDS,
                report_id=None,
                field_id=f"score:{criterion.code}",
            )
        except FileRejected as exc:
            raise InputError(f"scoring.file_{exc.reason}") from None
        scoring.add_evidence(
            ctx.session, card=card, criterion=criterion.code, attachment_id=row.id or 0
        )
        _ask_evidence(ctx, sheet, received=True)
        return
    text = (event.text or "").strip()
    try:
        scoring.set_self_score(
            ctx.session,
            sheet=sheet,
            card=card,
            criterion=criterion.code,
            points=text,
            now=ctx.now(),
        )
    except scoring.ScoringError as exc:
        raise InputError(
            f"scoring.error_{exc.reason}", example=_pts(criterion.max_centi // 2), **exc.params
        ) from None
    _ask_evidence(ctx, sheet)


def _advance(ctx: Context, sheet: ScoringSheet, card: ScoreCard) -> None:
    table = scoring.table_of(sheet)
    ctx.data["i"] = int(ctx.data["i"]) + 1
    if ctx.data["i"] < len(table.criteria):
        _ask_points(ctx, sheet, card)
        return
    ctx.end()
    ctx.reply(
        Raw(_card_text(ctx, sheet, card)),
        [[Button(t("scoring.button_submit"), make_payload("sp", card.id))]],
    )


@router.button("sk", access=Access.OFFICER)
async def scoring_step_button(event: Inbound, ctx: Context) -> None:
    _, parts = split_payload(event.payload or "")
    if ctx.flow != FLOW_SCORE or not parts:
        ctx.say("scoring.stale")
        return
    found = _flow_card(ctx)
    if not found:
        return
    sheet, card = found
    criterion = scoring.table_of(sheet).criteria[int(ctx.data["i"])]
    if parts[0] == "next" and ctx.step == STEP_EVIDENCE:
        _advance(ctx, sheet, card)
    elif parts[0] == "keep" and ctx.step == STEP_POINTS:
        _ask_evidence(ctx, sheet)
    elif parts[0] == "zero" and ctx.step == STEP_POINTS:
        scoring.set_self_score(
            ctx.session, sheet=sheet, card=card, criterion=criterion.code, points="0", now=ctx.now()
        )
        _advance(ctx, sheet, card)
    else:
        ctx.say("scoring.stale")


@router.button("sp", access=Access.OFFICER)
async def submit_button(event: Inbound, ctx: Context) -> None:
    card_id, _parts = button_parts(event)
    card = ctx.session.get(ScoreCard, card_id)
    if card is None:
        ctx.say("council.gone")
        return
    if not can_act_for_unit(ctx.member, card.unit_id, session=ctx.session):
        _refuse(ctx, "sp")
        return
    sheet = ctx.session.get(ScoringSheet, card.sheet_id)
    assert sheet is not None and ctx.member is not None
    try:
        scoring.submit_card(ctx.session, sheet=sheet, card=card, by=ctx.member, now=ctx.now())
    except scoring.ScoringError as exc:
        ctx.say(f"scoring.error_{exc.reason}", None, **exc.params)
        return
    ctx.say(
        "scoring.submitted", total=_pts(scoring.card_total(ctx.session, sheet=sheet, card=card))
    )


def _card_text(ctx: Context, sheet: ScoringSheet, card: ScoreCard) -> str:
    """A unit's card: each line with its points, the review's adjustment and its reason."""
    table = scoring.table_of(sheet)
    unit = ctx.session.get(Unit, card.unit_id)
    lines_by = scoring.lines_of(ctx.session, card=card)
    out = [
        t(
            "scoring.card_title",
            unit=unit.name if unit else "",
            bloc=sheet.bloc,
            status=t(f"scoring.status_{card.status}"),
        )
    ]
    for criterion in table.criteria:
        line = lines_by.get(criterion.code)
        if line is None:
            out.append(
                t("scoring.card_line_empty", label=criterion.label, max=_pts(criterion.max_centi))
            )
            continue
        out.append(
            t(
                "scoring.card_line",
                label=criterion.label,
                points=_pts(line.self_centi),
                max=_pts(criterion.max_centi),
                files=len(line.evidence or []),
                sign="−" if criterion.kind == "penalty" else "",
            )
        )
        if line.adjusted_centi is not None:
            out.append(
                t(
                    "scoring.card_adjusted",
                    points=_pts(line.adjusted_centi),
                    reason=line.adjust_reason or "",
                )
            )
    out.append(
        t("scoring.card_total", total=_pts(scoring.card_total(ctx.session, sheet=sheet, card=card)))
    )
    return "\n".join(out)


# --- /xephang, review ---------------------------------------------------------------------------
@router.command("xephang", access=Access.MEMBER, help_key="scoring.help_xephang")
async def xephang(event: Inbound, ctx: Context) -> None:
    member = ctx.member
    assert member is not None
    seat = council.seat_of(ctx.session, member_id=member.id)
    if can_see_tallies(member, seat):
        seated = council.seat_organisers(ctx.session, member_id=member.id)
        sheets = _active_sheets(ctx, council_scope(member, seated, session=ctx.session))
        if not sheets:
            ctx.say("scoring.no_sheets")
        for sheet, campaign in sheets:
            _ranking_message(ctx, sheet, campaign)
        return
    # An officer sees only their own unit's card: never another unit's score or rank.
    unit = ctx.session.get(Unit, member.unit_id) if member.unit_id else None
    cards = []
    if unit is not None:
        for sheet, _campaign in _unit_sheets(ctx, unit):
            card = scoring.existing_card(ctx.session, sheet_id=sheet.id or 0, unit_id=unit.id or 0)
            if card is not None:
                cards.append((sheet, card))
    if not cards:
        ctx.say("scoring.no_card")
        return
    for sheet, card in cards:
        ctx.reply(Raw(_card_text(ctx, sheet, card)))


def _ranking_message(ctx: Context, sheet: ScoringSheet, campaign: Campaign) -> None:
    rows = scoring.ranking(ctx.session, sheet=sheet)
    labels = council.award_labels()
    table = scoring.table_of(sheet)
    out = [t("scoring.ranking_title", campaign=campaign.name, bloc=sheet.bloc)]
    if not rows:
        out.append(t("scoring.ranking_empty"))
    for row in rows:
        out.append(
            t(
                "scoring.ranking_line",
                rank=row.rank,
                unit=row.unit.name,
                total=_pts(row.total),
                tie=t("scoring.tie_mark") if row.tied else "",
                proposed=t("scoring.proposed", award=labels.get(row.proposed, row.proposed))
                if row.proposed
                else "",
            )
        )
    if any(r.tied for r in rows):
        names = [_criterion_label(table, k) for k in table.tie_break]
        out.append(t("scoring.tie_rule", rule="; ".join(names) or "—"))
    ctx.reply(
        "\n".join(out),
        [
            [
                Button(
                    t("scoring.button_review", unit=r.unit.name[:30]), make_payload("sr", r.card.id)
                )
            ]
            for r in rows
        ],
    )


def _reviewable(
    ctx: Context, card_id: int | None, route: str
) -> tuple[ScoringSheet, ScoreCard] | None:
    scope = council_gate(ctx, route)
    if scope is None:
        return None
    card = ctx.session.get(ScoreCard, card_id) if card_id else None
    sheet = ctx.session.get(ScoringSheet, card.sheet_id) if card else None
    campaign = ctx.session.get(Campaign, sheet.campaign_id) if sheet else None
    if card is None or sheet is None or campaign is None:
        ctx.say("council.gone")
        return None
    if not scope.covers(campaign.organiser_id):
        # Another organiser's card: the same answer as a missing one, written down.
        refuse(ctx, route, "council.gone")
        return None
    return sheet, card


@router.button("sr", access=Access.COUNCIL)
async def review_card(event: Inbound, ctx: Context) -> None:
    found = _reviewable(ctx, button_parts(event)[0], "sr")
    if not found:
        return
    sheet, card = found
    table = scoring.table_of(sheet)
    buttons = [
        [Button(t("scoring.button_adjust", label=c.label[:40]), make_payload("sj", card.id, i))]
        for i, c in enumerate(table.criteria)
    ]
    buttons.append([Button(t("scoring.button_evidence"), make_payload("se", card.id))])
    ctx.reply(Raw(_card_text(ctx, sheet, card)), buttons)


@router.button("se", access=Access.COUNCIL)
async def evidence_files(event: Inbound, ctx: Context) -> None:
    """The card's evidence files, for the review."""
    found = _reviewable(ctx, button_parts(event)[0], "se")
    if not found:
        return
    _sheet, card = found
    ids = [i for line in scoring.lines_of(ctx.session, card=card).values() for i in line.evidence]
    sent = 0
    for attachment_id in ids[:MAX_EVIDENCE_SHOWN]:
        attachment = ctx.session.get(Attachment, attachment_id)
        path = (
            Path(ctx.settings.storage_dir) / (attachment.stored_path or "") if attachment else None
        )
        if attachment is not None and path is not None and path.is_file():
            ctx.reply(document=OutboundFile(attachment.file_name, path.read_bytes()))
            sent += 1
    if not sent:
        ctx.say("scoring.no_evidence")


@router.button("sj", access=Access.COUNCIL)
async def adjust_start(event: Inbound, ctx: Context) -> None:
    card_id, parts = button_parts(event)
    found = _reviewable(ctx, card_id, "sj")
    index = id_part(parts[1]) if len(parts) > 1 else None
    if not found:
        return
    sheet, card = found
    table = scoring.table_of(sheet)
    if index is None or index >= len(table.criteria):
        _refuse(ctx, "sj")
        return
    criterion = table.criteria[index]
    ctx.begin(FLOW_ADJUST, STEP_ADJ_POINTS, {"card": card.id, "i": index})
    ctx.ask(t("scoring.ask_adjust", label=criterion.label, max=_pts(criterion.max_centi)))


@router.flow(FLOW_ADJUST, access=Access.COUNCIL)
async def adjust_answer(event: Inbound, ctx: Context) -> None:
    found = _reviewable(ctx, ctx.data.get("card"), "flow:score_adjust")
    if not found:
        ctx.end()
        return
    sheet, card = found
    criterion = scoring.table_of(sheet).criteria[int(ctx.data["i"])]
    text = (event.text or "").strip()
    if ctx.step == STEP_ADJ_POINTS:
        try:
            centi = scoring.to_centi(text)
        except ValueError:
            raise InputError(
                "scoring.error_not_a_number", example="12,5", max=_pts(criterion.max_centi)
            ) from None
        if not 0 <= centi <= criterion.max_centi:
            raise InputError(
                "scoring.error_out_of_bounds", example="12,5", max=_pts(criterion.max_centi)
            )
        ctx.data["points"] = text
        ctx.goto(STEP_ADJ_REASON)
        ctx.ask(t("scoring.ask_reason"))
        return
    assert ctx.member is not None
    try:
        line = scoring.adjust_line(
            ctx.session,
            sheet=sheet,
            card=card,
            criterion=criterion.code,
            points=ctx.data["points"],
            reason=text,
            actor=ctx.member,
            now=ctx.now(),
        )
    except scoring.ScoringError as exc:
        raise InputError(
            f"scoring.error_{exc.reason}", example="Thiếu minh chứng chỉ tiêu thu ngân sách"
        ) from None
    ctx.end()
    ctx.say("scoring.adjusted", label=criterion.label, points=_pts(line.adjusted_centi or 0))
    total = _pts(scoring.card_total(ctx.session, sheet=sheet, card=card))
    for officer in reachable(unit_officers(ctx.session, card.unit_id)):
        ctx.tell(
            officer,
            "scoring.adjust_notice",
            label=criterion.label,
            before=_pts(line.self_centi),
            after=_pts(line.adjusted_centi or 0),
            reason=line.adjust_reason or "",
            total=total,
        )


def _criterion_label(table: scoring.ScoringTable, key: str) -> str:
    criterion = table.criterion(key)
    return criterion.label if criterion is not None else t("scoring.tie_submitted")
