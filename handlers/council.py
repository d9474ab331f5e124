"""The council in the chat: /hoidong (admins grant and remove seats on the Hội đồng Thi đua –
Khen thưởng, with confirmation) and /binhxet (admins open, close and confirm a review round;
council members vote Đồng ý / Không đồng ý, or ask for the nominee's files, one nominee at a
time, and may change their vote until the round closes).

Each organiser has its own council: /hoidong works on the seats of the organiser the admin
acts for, a round is voted by the seats of its campaign's organiser, and the council's routes
show a member only the councils they sit on (`council_gate`, `bot.access.council_scope`).
Rules and the ballot store are in `domain.council`; who may do what in `bot.access`. Every
button re-checks rights; a vote button pressed by someone the round was not opened for is
refused and audited. Nothing here shows who voted how on a secret ballot.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.access import (
    ACT_AS,
    Access,
    acting_scope,
    admin_scope,
    can_run_council,
    can_vote,
    council_refusal,
    council_scope,
    in_scope,
    refuse_in_update,
)
from bot.catalog import Raw, t
from bot.context import Compose, Context
from bot.db import in_transaction
from bot.delivery import DeliveryService
from bot.errors import InputError
from bot.events import Address, Button, Delivery, Inbound, Outbound, OutboundFile
from bot.router import Router, make_payload, split_payload
from bot.settings import Settings
from domain import council
from domain import scope as scoped
from domain.dates import ParseError, parse_date, parse_time
from domain.members import audit_refusal
from domain.reports import reachable, unit_officers
from domain.scope import Scope
from domain.text import shorten
from handlers.admin_common import say_out_of_scope
from models.campaigns import Campaign
from models.council import (
    Choice,
    CouncilItem,
    CouncilMember,
    CouncilRole,
    CouncilRound,
    RoundStatus,
)
from models.reports import Nomination, Report
from models.units import Member, Unit

router = Router()
log = logging.getLogger(__name__)

FLOW_ADD = "council_add"
STEP_SEARCH = "search"
FLOW_OPEN = "council_open"
STEP_CLOSES = "closes"
MAX_FILES_SHOWN = 5
CLOSING_CHOICES = (24, 48, 72)


# --- helpers ----------------------------------------------------------------------------------
def _when(ctx: Context, moment: datetime) -> str:
    return moment.astimezone(ctx.settings.tz).strftime("%H:%M %d/%m/%Y")


def _role(role: str) -> str:
    return t(f"council.role_{role.replace('-', '_')}")


def _award(code: str) -> str:
    return council.award_labels().get(code, code)


def refuse(ctx: Context, route: str, key: str = "council.not_allowed") -> None:
    """Refuse a council or scoring action (a forged or replayed button) and audit it."""
    audit_refusal(ctx.session, member=ctx.member, event=ctx.event, route=route, now=ctx.now())
    ctx.say(key)


def council_gate(ctx: Context, route: str) -> Scope | None:
    """Routes of `Access.COUNCIL`: admins and council members pass with the organisers whose
    council business they may see (`bot.access.council_scope`); anyone else is refused (the
    same refusal as the other access levels) and audited."""
    member = ctx.member
    member_id = member.id if member else None
    seat = council.seat_of(ctx.session, member_id=member_id)
    key = council_refusal(member, seat)
    found = council_scope(
        member, council.seat_organisers(ctx.session, member_id=member_id), session=ctx.session
    )
    if key is None and found is None:
        # An admin of several organisers who has not chosen one, and no seat: ask, as the
        # admin routes do, instead of refusing.
        choices = admin_scope(member, session=ctx.session)
        if isinstance(choices, list) and choices:
            buttons = [[Button(o.name, make_payload(ACT_AS, o.id))] for o in choices]
            ctx.reply(t("organisers.pick_first"), buttons)
            return None
    if key is not None or found is None:
        refuse(ctx, route, key or "access.council_only")
        return None
    return found


def id_part(part: str) -> int | None:
    """A button payload part as an id, or None."""
    return int(part) if part.isdigit() and len(part) < 12 else None


def button_parts(event: Inbound) -> tuple[int | None, list[str]]:
    """A council or scoring button's payload: its first part as an id (None when it is not
    one) and all its parts."""
    _, parts = split_payload(event.payload or "")
    return (id_part(parts[0]) if parts else None), parts


def _rule_text(rule: council.VoteRule, *, admin: bool = False) -> str:
    """The rule in words; for the admin opening a round, a warning when its share is still
    to be checked against the decree in force (`verify` in the data)."""
    return t(
        "council.rule_line",
        kind=t("council.secret" if rule.secret else "council.open"),
        share=rule.share,
        comparison=t(f"council.cmp_{rule.comparison}"),
        of=t(f"council.of_{rule.of}"),
        quorum=rule.quorum,
    ) + (t("council.rule_verify") if admin and rule.verify else "")


# --- /hoidong: seats ----------------------------------------------------------------------------
@router.command("hoidong", access=Access.ADMIN, help_key="council.help_hoidong")
async def list_seats(event: Inbound, ctx: Context) -> None:
    rows = council.seats(ctx.session, organiser_id=ctx.admin_scope.organiser_id)
    lines = [t("council.seats_title", count=len(rows))]
    buttons = [[Button(t("council.button_add"), make_payload("hd", "add"))]]
    for index, (seat, member) in enumerate(rows, start=1):
        line = t("council.seat_line", index=index, name=member.display_name, role=_role(seat.role))
        campaign = ctx.session.get(Campaign, seat.campaign_id) if seat.campaign_id else None
        if campaign is not None:
            line += t("council_seats.only_for", campaign=campaign.name)
        lines.append(line)
        buttons.append(
            [
                Button(
                    t("council.button_remove", name=member.display_name[:30]),
                    make_payload("hd", "rm", seat.id),
                )
            ]
        )
    if not rows:
        lines.append(t("council.seats_empty"))
    ctx.reply("\n".join(lines), buttons)


@router.button("hd", access=Access.ADMIN)
async def seat_button(event: Inbound, ctx: Context) -> None:
    _, parts = split_payload(event.payload or "")
    action = parts[0] if parts else ""
    assert ctx.member is not None
    if action == "add":
        ctx.begin(FLOW_ADD, STEP_SEARCH)
        ctx.ask(t("council.ask_search"))
        return
    if action == "pick" and len(parts) == 2 and (member_id := id_part(parts[1])):
        member = _seatable(ctx, member_id)
        if member is None:
            ctx.say("council.gone")
            return
        ctx.end()
        buttons = [
            [Button(_role(role), make_payload("hd", "role", member_id, role))]
            for role in CouncilRole.ALL
        ]
        ctx.ask(t("council.ask_role", name=member.display_name), buttons)
        return
    if action == "role" and len(parts) == 3 and (member_id := id_part(parts[1])):
        member = _seatable(ctx, member_id)
        if member is None or parts[2] not in CouncilRole.ALL:
            ctx.say("council.gone")
            return
        # A seat for every campaign of the organiser, or for one of its campaigns only.
        campaigns = council.active_campaigns(ctx.session, scope=ctx.admin_scope)
        ctx.ask(
            t("council.confirm_add", name=member.display_name, role=_role(parts[2]))
            + (t("council_seats.or_one_campaign") if campaigns else ""),
            [
                [
                    Button(
                        t("council.button_confirm"),
                        make_payload("hd", "addok", member_id, parts[2]),
                    ),
                    Button(t("council.button_cancel"), make_payload("hd", "no")),
                ],
                *(
                    [
                        Button(
                            t("council_seats.button_only_for", campaign=c.name),
                            make_payload("hd", "addok", member_id, parts[2], c.id),
                        )
                    ]
                    for c in campaigns
                ),
            ],
        )
        return
    if action == "addok" and len(parts) in (3, 4) and (member_id := id_part(parts[1])):
        member = _seatable(ctx, member_id)
        campaign_id = id_part(parts[3]) if len(parts) == 4 else None
        campaign = in_scope(ctx, "campaign", campaign_id) if campaign_id else None
        if member is None or (campaign_id and campaign is None):
            ctx.say("council.gone")
            return
        try:
            council.add_seat(
                ctx.session,
                member=member,
                role=parts[2],
                organiser_id=ctx.admin_scope.organiser_id,
                campaign_id=campaign.id if campaign else None,
                actor=ctx.member,
                now=ctx.now(),
            )
        except council.CouncilError as exc:
            ctx.say(f"council.error_{exc.reason}")
            return
        ctx.say("council.added", name=member.display_name, role=_role(parts[2]))
        if member.id != ctx.member.id:
            ctx.tell(member, "council.added_notice", role=_role(parts[2]))
        return
    if action == "rm" and len(parts) == 2 and (seat_id := id_part(parts[1])):
        seat = _scoped_seat(ctx, seat_id)
        member = ctx.session.get(Member, seat.member_id) if seat else None
        if seat is None or member is None or not seat.active:
            return
        ctx.ask(
            t("council.confirm_remove", name=member.display_name),
            [
                [
                    Button(t("council.button_confirm"), make_payload("hd", "rmok", seat_id)),
                    Button(t("council.button_cancel"), make_payload("hd", "no")),
                ]
            ],
        )
        return
    if action == "rmok" and len(parts) == 2 and (seat_id := id_part(parts[1])):
        seat = _scoped_seat(ctx, seat_id)
        member = ctx.session.get(Member, seat.member_id) if seat else None
        if seat is None or member is None:
            return
        try:
            council.remove_seat(ctx.session, seat=seat, actor=ctx.member, now=ctx.now())
        except council.CouncilError as exc:
            ctx.say(f"council.error_{exc.reason}")
            return
        ctx.say("council.removed", name=member.display_name)
        return
    if action == "no":
        ctx.end()
        ctx.say("council.cancelled")
        return
    ctx.say("council.gone")


def _seatable(ctx: Context, member_id: int) -> Member | None:
    """A person the admin's organiser may seat (`domain.council.may_seat`), or None: the
    caller answers as for a missing one; someone of another organiser is audited."""
    member = ctx.session.get(Member, member_id)
    if not council.may_seat(ctx.session, member=member, scope=ctx.admin_scope):
        refuse_in_update(ctx, "member", member_id)
        return None
    return member


def _scoped_seat(ctx: Context, seat_id: int) -> CouncilMember | None:
    """A seat on the council of the organiser the admin acts for; another's is refused (and
    audited when it exists), a missing one is gone — the same answer either way."""
    seat = council.seat(ctx.session, seat_id=seat_id, organiser_id=ctx.admin_scope.organiser_id)
    if seat is None:
        say_out_of_scope(ctx, "council_member", seat_id)
    return seat


@router.flow(FLOW_ADD, access=Access.ADMIN)
async def seat_search(event: Inbound, ctx: Context) -> None:
    query = (event.text or "").strip()[:100]
    if len(query) < 2:
        raise InputError("council.search_short", example="Nguyễn Văn An")
    found = council.seat_candidates(ctx.session, query, scope=ctx.admin_scope)
    if not found:
        raise InputError("council.search_none", example="0912345678")
    buttons = [[Button(m.display_name[:40], make_payload("hd", "pick", m.id))] for m in found]
    ctx.ask(t("council.search_results", count=len(found)), buttons)


# --- /binhxet ---------------------------------------------------------------------------------
@router.command("binhxet", access=Access.COUNCIL, help_key="council.help_binhxet")
async def binhxet(event: Inbound, ctx: Context) -> None:
    member = ctx.member
    assert member is not None
    scope = council_gate(ctx, "/binhxet")
    if scope is None:
        return
    just_closed = set()
    for due in council.due_rounds(ctx.session, now=ctx.now()):
        if not scope.covers(due.organiser_id):
            continue
        # Its time is over and the periodic job has not closed it yet: close it now.
        council.close_round(ctx.session, round_=due, now=ctx.now(), how="time")
        _announce_closed(ctx, due)
        just_closed.add(due.id)
    rounds = council.active_rounds(ctx.session, organiser_ids=scope.organiser_ids)
    voting = [r for r in rounds if r.status == RoundStatus.OPEN and can_vote(member, r.electorate)]
    for round_ in voting:
        _ballot_list(ctx, round_, member)
    acting = acting_scope(member, session=ctx.session)
    if can_run_council(member) and acting is not None:
        for round_ in rounds:
            if round_.id not in just_closed and acting.covers(round_.organiser_id):
                _admin_panel(ctx, round_)
        ctx.reply(
            t("council.admin_new_hint"),
            [[Button(t("council.button_new_round"), make_payload("cr", 0, "new"))]],
        )
    elif not voting:
        ctx.say("council.nothing_open")


def _ballot_list(ctx: Context, round_: CouncilRound, member: Member) -> None:
    """The member's ballot: every nominee with whether they have voted, a button each."""
    campaign = ctx.session.get(Campaign, round_.campaign_id)
    done = council.voted_items(ctx.session, round_id=round_.id or 0, member_id=member.id or 0)
    lines = [
        t(
            "council.ballot_title",
            campaign=campaign.name if campaign else "",
            closes=_when(ctx, round_.closes_at),
        )
    ]
    buttons = []
    for item in council.items_of(ctx.session, round_.id or 0):
        mine = council.own_choice(ctx.session, round_=round_, item=item, member=member)
        state = t(f"council.choice_{mine}") if mine else t("council.not_voted")
        lines.append(
            t(
                "council.ballot_line",
                index=item.position,
                name=item.nominee_name,
                award=_award(item.award),
                state=state,
            )
        )
        mark = "✅" if item.id in done else "▫️"
        buttons.append(
            [
                Button(
                    f"{mark} {item.position}. {item.nominee_name[:36]}", make_payload("cv", item.id)
                )
            ]
        )
    ctx.reply("\n".join(lines), buttons)


def _admin_panel(ctx: Context, round_: CouncilRound) -> None:
    campaign = ctx.session.get(Campaign, round_.campaign_id)
    name = campaign.name if campaign else ""
    if round_.status == RoundStatus.OPEN:
        counts = council.turnout(ctx.session, round_=round_)
        total = len(council.items_of(ctx.session, round_.id or 0))
        finished = sum(1 for n in counts.values() if n >= total)
        pending = [
            ctx.session.get(Member, m) for m in council.pending_voters(ctx.session, round_=round_)
        ]
        ctx.reply(
            t(
                "council.panel_open",
                campaign=name,
                closes=_when(ctx, round_.closes_at),
                done=finished,
                members=len(counts),
                pending=", ".join(m.display_name for m in pending if m) or "—",
            ),
            [
                [
                    Button(t("council.button_remind"), make_payload("cr", round_.id, "remind")),
                    Button(t("council.button_close"), make_payload("cr", round_.id, "close")),
                ]
            ],
        )
    else:
        ctx.reply(
            Raw(result_text(ctx.session, round_)),
            [
                [
                    Button(
                        t("council.button_confirm_result"), make_payload("cr", round_.id, "confirm")
                    )
                ]
            ],
        )


def result_text(session: Session, round_: CouncilRound) -> str:
    """The tally of a closed round: counts per nominee against the rule, the quorum."""
    campaign = session.get(Campaign, round_.campaign_id)
    results = council.results(session, round_=round_)
    members = len(round_.electorate or [])
    lines = [
        t(
            "council.result_title",
            campaign=campaign.name if campaign else "",
            present=round_.present,
            members=members,
        )
    ]
    if results and not all(r.quorum_met for r in results):
        lines.append(t("council.quorum_missed", needed=max(r.quorum_needed for r in results)))
    for result in results:
        item = result.item
        lines.append(
            t(
                "council.result_line",
                index=item.position,
                name=item.nominee_name,
                award=_award(item.award),
                yes=item.yes or 0,
                no=item.no or 0,
                needed=result.needed,
                verdict=t("council.passed" if item.passed else "council.failed"),
            )
        )
        if not item.secret:
            votes = council.open_votes(session, item=item)
            if votes:
                lines.append(
                    t(
                        "council.open_votes",
                        votes=", ".join(
                            f"{m.display_name}: {t('council.choice_' + c)}" for m, c in votes
                        ),
                    )
                )
    return "\n".join(lines)


@router.button("cr", access=Access.ADMIN)
async def round_button(event: Inbound, ctx: Context) -> None:
    _, parts = split_payload(event.payload or "")
    assert ctx.member is not None
    if len(parts) < 2 or id_part(parts[0]) is None:
        ctx.say("council.gone")
        return
    target, action = int(parts[0]), parts[1]
    if action == "new":
        _pick_campaign(ctx)
        return
    if action == "camp":
        _show_candidates(ctx, target)
        return
    if action in ("when", "open") and len(parts) == 3 and (epoch := id_part(parts[2])):
        campaign = in_scope(ctx, "campaign", target)
        if campaign is None:
            ctx.say("council.gone")
            return
        closes = datetime.fromtimestamp(epoch, tz=ctx.now().tzinfo)
        if action == "when":
            _confirm_open(ctx, campaign, closes)
        else:
            _open(ctx, campaign, closes)
        return
    round_ = _scoped_round(ctx, target)
    if round_ is None:
        ctx.say("council.gone")
        return
    if action == "remind":
        if round_.status != RoundStatus.OPEN:
            ctx.say("council.error_round_closed")
            return
        slot = f"manual-{ctx.now():%Y%m%d%H%M}"
        claimed = council.claim_reminders(ctx.session, now=ctx.now(), slot=slot, round_id=round_.id)
        for found_round, member, _row in claimed:
            ctx.notify_member(
                member,
                functools.partial(
                    reminder_message, ctx.session, found_round, member, ctx.settings.tz
                ),
            )
        council.mark_reminded(
            ctx.session, reminder_ids=[r.id for _, _, r in claimed if r.id], now=ctx.now()
        )
        ctx.say("council.reminded", count=len(claimed))
        return
    if action == "close":
        if round_.status != RoundStatus.OPEN:
            ctx.say("council.error_round_closed")
            return
        council.close_round(ctx.session, round_=round_, now=ctx.now(), how="admin")
        _announce_closed(ctx, round_)
        return
    if action == "confirm":
        try:
            council.confirm_round(ctx.session, round_=round_, actor=ctx.member, now=ctx.now())
        except council.CouncilError as exc:
            ctx.say(f"council.error_{exc.reason}")
            return
        units = _send_results_to_units(ctx, round_)
        ctx.reply(
            t("council.confirmed", units=units),
            [[Button(t("council.button_documents"), make_payload("cr", round_.id, "docs"))]],
        )
        _send_documents(ctx, round_)
        return
    if action == "docs":
        if round_.status != RoundStatus.CONFIRMED:
            ctx.say("council.documents_not_confirmed")
            return
        _send_documents(ctx, round_)
        return
    ctx.say("council.gone")


def _scoped_round(ctx: Context, round_id: int | None) -> CouncilRound | None:
    """A round of a campaign of the organiser the admin acts for (another's is refused and
    audited, as any id of another organiser)."""
    round_ = ctx.session.get(CouncilRound, round_id) if round_id else None
    if round_ is None or in_scope(ctx, "campaign", round_.campaign_id) is None:
        return None
    return round_


def _scoped_item(ctx: Context, item_id: object) -> CouncilItem | None:
    item = ctx.session.get(CouncilItem, item_id) if isinstance(item_id, int) else None
    return item if item is not None and _scoped_round(ctx, item.round_id) else None


def _pick_campaign(ctx: Context) -> None:
    ask_campaign(ctx, "council.pick_campaign", lambda c: make_payload("cr", c.id, "camp"))


def ask_campaign(ctx: Context, question: str, payload: Callable[[Campaign], str]) -> None:
    """Ask an admin to pick one of their organiser's active campaigns (a round, a sheet)."""
    campaigns = council.active_campaigns(ctx.session, scope=ctx.admin_scope)
    if not campaigns:
        ctx.say("council.no_campaigns")
        return
    ctx.ask(
        t(question),
        [[Button(f"{c.document_number} — {c.name}"[:60], payload(c))] for c in campaigns],
    )


def _show_candidates(ctx: Context, campaign_id: int) -> None:
    campaign = in_scope(ctx, "campaign", campaign_id)
    if campaign is None:
        ctx.say("council.gone")
        return
    found = council.candidates(ctx.session, campaign=campaign)
    if not found:
        ctx.say("council.error_no_candidates")
        return
    lines = [t("council.candidates_title", campaign=campaign.name, count=len(found))]
    for index, candidate in enumerate(found, start=1):
        lines.append(
            t(
                "council.candidate_line",
                index=index,
                name=candidate.nomination.full_name,
                unit=candidate.unit.name,
                award=_award(candidate.award),
            )
        )
    for code in sorted({c.award for c in found}):
        rule = council.load_rules()[code]
        lines.append(
            t(
                "council.rule_for",
                award=_award(code),
                rule=Raw(_rule_text(rule, admin=True)),
                source=rule.source,
            )
        )
    ctx.reply("\n".join(lines))
    ctx.begin(FLOW_OPEN, STEP_CLOSES, {"campaign": campaign_id})
    ctx.ask(
        t("council.ask_closes"),
        [
            [
                Button(
                    t("council.button_hours", hours=h),
                    make_payload("cr", campaign_id, "when", _epoch(ctx.now() + timedelta(hours=h))),
                )
                for h in CLOSING_CHOICES
            ]
        ],
        accepts_text=True,
    )


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


_WHEN = re.compile(r"^\s*(\S+)\s+(\S+)\s*$")


@router.flow(FLOW_OPEN, access=Access.ADMIN)
async def closes_answer(event: Inbound, ctx: Context) -> None:
    """A closing time typed as `17:00 10/3/2026` (or the date first)."""
    text = (event.text or "").strip()[:40]
    match = _WHEN.match(text)
    example = (ctx.now() + timedelta(days=2)).astimezone(ctx.settings.tz).strftime("17:00 %d/%m/%Y")
    if not match:
        raise InputError("council.bad_closes", example=example)
    first, second = match[1], match[2]
    try:
        try:
            at, day = parse_time(first), parse_date(second, default_year=ctx.now().year)
        except ParseError:
            at, day = parse_time(second), parse_date(first, default_year=ctx.now().year)
    except ParseError:
        raise InputError("council.bad_closes", example=example) from None
    closes = datetime.combine(day, at, tzinfo=ctx.settings.tz)
    if closes <= ctx.now():
        raise InputError("council.closes_past", example=example)
    campaign = in_scope(ctx, "campaign", ctx.data.get("campaign"))
    if campaign is None:
        ctx.end()
        ctx.say("council.gone")
        return
    _confirm_open(ctx, campaign, closes)


def _confirm_open(ctx: Context, campaign: Campaign, closes: datetime) -> None:
    ctx.end()
    ctx.ask(
        t("council.confirm_open", closes=_when(ctx, closes)),
        [
            [
                Button(
                    t("council.button_confirm"),
                    make_payload("cr", campaign.id, "open", _epoch(closes)),
                ),
                Button(t("council.button_cancel"), make_payload("hd", "no")),
            ]
        ],
    )


def _open(ctx: Context, campaign: Campaign, closes: datetime) -> None:
    assert ctx.member is not None
    ctx.end()
    try:
        round_ = council.open_round(
            ctx.session, campaign=campaign, closes_at=closes, actor=ctx.member, now=ctx.now()
        )
    except council.CouncilError as exc:
        ctx.say(f"council.error_{exc.reason}")
        return
    items = council.items_of(ctx.session, round_.id or 0)
    ctx.say(
        "council.opened",
        count=len(items),
        members=len(round_.electorate),
        closes=_when(ctx, closes),
    )
    when = _when(ctx, closes)

    def invite() -> Outbound:
        return Outbound(
            t("council.invite", campaign=campaign.name, count=len(items), closes=when),
            [[Button(t("council.button_vote"), make_payload("cv", items[0].id))]],
        )

    for member_id in round_.electorate:
        member = ctx.session.get(Member, member_id)
        if member is None:
            continue
        ctx.notify_member(member, invite)


# --- voting -----------------------------------------------------------------------------------
def _voter_item(
    ctx: Context, item_id: int | None, route: str
) -> tuple[CouncilRound, CouncilItem] | None:
    """The item and its round if this member may vote on it. Someone the round was not opened
    for (a forged or replayed button) is refused and audited; an id that does not exist is
    simply gone."""
    if council_gate(ctx, route) is None:
        return None
    item = ctx.session.get(CouncilItem, item_id) if item_id else None
    round_ = ctx.session.get(CouncilRound, item.round_id) if item else None
    if item is None or round_ is None:
        ctx.say("council.gone")
        return None
    if not can_vote(ctx.member, round_.electorate):
        refuse(ctx, route)
        return None
    if round_.status != RoundStatus.OPEN or ctx.now() >= round_.closes_at:
        ctx.say("council.error_round_closed")
        return None
    return round_, item


def _item_card(ctx: Context, round_: CouncilRound, item: CouncilItem) -> None:
    assert ctx.member is not None
    unit = ctx.session.get(Unit, item.unit_id) if item.unit_id else None
    nomination = ctx.session.get(Nomination, item.nomination_id) if item.nomination_id else None
    mine = council.own_choice(ctx.session, round_=round_, item=item, member=ctx.member)
    ctx.reply(
        t(
            "council.item_card",
            index=item.position,
            name=item.nominee_name,
            unit=unit.name if unit else "",
            award=_award(item.award),
            summary=(nomination.summary if nomination else "")[:1500] or "—",
            rule=Raw(_rule_text(council.rule_of(round_, item))),
            state=t(f"council.choice_{mine}") if mine else t("council.not_voted"),
        ),
        [
            [
                Button(t("council.button_yes"), make_payload("cb", item.id, Choice.YES)),
                Button(t("council.button_no"), make_payload("cb", item.id, Choice.NO)),
            ],
            [Button(t("council.button_files"), make_payload("cf", item.id))],
        ],
    )


@router.button("cv", access=Access.COUNCIL)
async def show_item(event: Inbound, ctx: Context) -> None:
    item_id, _parts = button_parts(event)
    found = _voter_item(ctx, item_id, "cv")
    if found:
        _item_card(ctx, *found)


@router.button("cb", access=Access.COUNCIL)
async def vote(event: Inbound, ctx: Context) -> None:
    item_id, parts = button_parts(event)
    found = _voter_item(ctx, item_id, "cb")
    if not found:
        return
    if len(parts) != 2 or parts[1] not in Choice.ALL:
        refuse(ctx, "cb")  # a choice no button offers
        return
    round_, item = found
    assert ctx.member is not None
    changed = council.cast_vote(
        ctx.session, round_=round_, item=item, member=ctx.member, choice=parts[1], now=ctx.now()
    )
    ctx.say(
        "council.vote_changed" if changed else "council.vote_recorded",
        name=item.nominee_name,
        choice=t(f"council.choice_{parts[1]}"),
        closes=_when(ctx, round_.closes_at),
    )
    if council.everyone_voted(ctx.session, round_=round_):
        council.close_round(ctx.session, round_=round_, now=ctx.now(), how="all_voted")
        ctx.say("council.all_voted")
        _announce_closed(ctx, round_)
        return
    done = council.voted_items(ctx.session, round_id=round_.id or 0, member_id=ctx.member.id or 0)
    following = [i for i in council.items_of(ctx.session, round_.id or 0) if i.id not in done]
    if following:
        _item_card(ctx, round_, following[0])
    else:
        ctx.say("council.you_are_done", closes=_when(ctx, round_.closes_at))


@router.button("cf", access=Access.COUNCIL)
async def show_files(event: Inbound, ctx: Context) -> None:
    """ "Cần xem thêm hồ sơ": the nominee's report summary and its files."""
    item_id, _parts = button_parts(event)
    found = _voter_item(ctx, item_id, "cf")
    if not found:
        return
    round_, item = found
    report = ctx.session.get(Report, item.report_id) if item.report_id else None
    nomination = ctx.session.get(Nomination, item.nomination_id) if item.nomination_id else None
    ctx.say(
        "council.files_title",
        name=item.nominee_name,
        job=(nomination.job_title if nomination else "") or "—",
        summary=(nomination.summary if nomination else "") or "—",
        reference=(report.reference if report else "") or "—",
    )
    files = council.report_files(ctx.session, report_id=report.id) if report and report.id else []
    sent = 0
    for attachment in files[:MAX_FILES_SHOWN]:
        path = Path(ctx.settings.storage_dir) / (attachment.stored_path or "")
        if attachment.stored_path and path.is_file():
            ctx.reply(document=OutboundFile(attachment.file_name, path.read_bytes()))
            sent += 1
    if not sent:
        ctx.say("council.no_files")
    _item_card(ctx, round_, item)


# --- closing, results -------------------------------------------------------------------------
def _announce_closed(ctx: Context, round_: CouncilRound) -> None:
    tally = functools.partial(_tally, ctx.session, round_)
    for admin in _round_admins(ctx.session, round_):
        if ctx.member is not None and admin.id == ctx.member.id:
            ctx.replies.append(tally())
        else:
            ctx.notify_member(admin, tally)


def _tally(session: Session, round_: CouncilRound) -> Outbound:
    """The result of a closed round with the confirm button, for an admin."""
    buttons = [
        [Button(t("council.button_confirm_result"), make_payload("cr", round_.id, "confirm"))]
    ]
    return Outbound(Raw(result_text(session, round_)), buttons)


def closed_messages(session: Session, round_: CouncilRound) -> list[tuple[Member, Compose]]:
    """What a closing by time sends: the tally to every admin, with the confirm button; each
    built by the caller in the wording of that admin's channel."""
    tally = functools.partial(_tally, session, round_)
    return [(admin, tally) for admin in _round_admins(session, round_)]


def _round_admins(session: Session, round_: CouncilRound) -> list[Member]:
    """The admins of the organiser whose campaign the round reviews (domain.scope)."""
    campaign = session.get(Campaign, round_.campaign_id)
    if campaign is None:
        return []
    return reachable(scoped.admins_of(campaign.organiser_id, session=session))


def reminder_message(
    session: Session, round_: CouncilRound, member: Member, tz: tzinfo
) -> Outbound:
    campaign = session.get(Campaign, round_.campaign_id)
    closes = round_.closes_at.astimezone(tz).strftime("%H:%M %d/%m/%Y")
    done = council.voted_items(session, round_id=round_.id or 0, member_id=member.id or 0)
    items = council.items_of(session, round_.id or 0)
    following = [i for i in items if i.id not in done]
    first = (following or items)[0]
    return Outbound(
        t(
            "council.reminder",
            campaign=campaign.name if campaign else "",
            left=len(following),
            closes=closes,
        ),
        [[Button(t("council.button_vote"), make_payload("cv", first.id))]],
    )


def _send_results_to_units(ctx: Context, round_: CouncilRound) -> int:
    """Each nominee's unit learns its own nominees' results (counts, passed or not)."""
    by_unit: dict[int, list[council.ItemResult]] = {}
    for result in council.results(ctx.session, round_=round_):
        if result.item.unit_id is not None:
            by_unit.setdefault(result.item.unit_id, []).append(result)
    campaign = ctx.session.get(Campaign, round_.campaign_id)
    for unit_id, found in by_unit.items():
        for officer in reachable(unit_officers(ctx.session, unit_id)):
            ctx.notify_member(officer, functools.partial(_unit_results, campaign, found))
    return len(by_unit)


def _unit_results(campaign: Campaign | None, found: list[council.ItemResult]) -> Outbound:
    lines = [t("council.unit_result_title", campaign=campaign.name if campaign else "")]
    for result in found:
        lines.append(
            t(
                "council.unit_result_line",
                name=result.item.nominee_name,
                award=_award(result.item.award),
                yes=result.item.yes or 0,
                members=result.members,
                verdict=t("council.passed" if result.item.passed else "council.failed"),
            )
        )
    return Outbound("\n".join(lines))


# --- the biên bản and the tờ trình ---------------------------------------------------------------
def _send_documents(ctx: Context, round_: CouncilRound) -> None:
    """After the update commits: render the council's biên bản and the tờ trình of those who
    passed in a worker thread and send them to the admin who asked. A channel that cannot send
    files says so and points to the web desk or the CLI (its own wording)."""
    engine = ctx.session.get_bind()
    assert isinstance(engine, Engine)
    address = Address(ctx.event.channel, ctx.event.chat_id)
    delivery, settings, clock = ctx.services.delivery, ctx.settings, ctx.clock
    campaign_id = round_.campaign_id
    ctx.defer(
        lambda: send_documents(delivery, engine, settings, address, campaign_id, now=clock.now())
    )


async def send_documents(
    delivery: DeliveryService,
    engine: Engine,
    settings: Settings,
    address: Address,
    campaign_id: int,
    *,
    now: datetime,
) -> None:
    from domain import dossier as docs
    from handlers.dossier import dossier_texts

    office, texts, zone = settings.office(), dossier_texts(), settings.tz

    def work(session: Session) -> tuple[str, list[tuple[str, bytes]]]:
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        files = docs.council_files(
            session,
            campaign=campaign,
            office=office,
            texts=texts,
            today=now.astimezone(zone).date(),
            zone=zone,
            templates_dir=settings.templates_dir,
        )
        return campaign.document_number, files

    try:
        number, files = await asyncio.to_thread(
            in_transaction, engine, work, commit=False, what="council documents"
        )
    except Exception:
        log.exception("council documents of campaign %s could not be built", campaign_id)
        await delivery.push(Delivery(address, Outbound(t("council.documents_failed"))), pace=False)
        return
    if not files:
        await delivery.push(
            Delivery(address, Outbound(t("council.documents_not_confirmed"))), pace=False
        )
    for name, data in files:
        caption = t("council.document_caption", file=name, number=number)
        document = OutboundFile(name, data, caption=caption)
        await delivery.push(Delivery(address, Outbound(document=document)), pace=False)


# --- /quyetdinh: the award decision ---------------------------------------------------------------
FLOW_DECISION = "council_decision"
STEP_NUMBER = "number"
_DECISION = re.compile(r"^[0-9A-Za-zĐđ/.\- ]{1,64}$")


@router.command("quyetdinh", access=Access.ADMIN, help_key="council.help_quyetdinh")
async def decisions(event: Inbound, ctx: Context) -> None:
    """Nominees who passed and wait for their award decision (số quyết định khen thưởng)."""
    waiting = council.passed_without_decision(ctx.session, scope=ctx.admin_scope)
    if not waiting:
        ctx.say("council.no_decisions_waiting")
        return
    ctx.reply(
        t("council.decisions_title", count=len(waiting)),
        [
            [
                Button(
                    shorten(f"{item.nominee_name} — {_award(item.award)}", 60),
                    make_payload("qd", item.id),
                )
            ]
            for item in waiting[:20]
        ],
    )


@router.button("qd", access=Access.ADMIN)
async def decision_button(event: Inbound, ctx: Context) -> None:
    item = _scoped_item(ctx, button_parts(event)[0])
    if item is None:
        ctx.say("council.gone")
        return
    if not item.passed:
        refuse(ctx, "qd")
        return
    ctx.begin(FLOW_DECISION, STEP_NUMBER, {"item": item.id})
    ctx.ask(t("council.ask_decision", name=item.nominee_name, award=_award(item.award)))


def _decision_parts(text: str) -> tuple[str, date | None]:
    """ "125/QĐ-UBND ngày 20/12/2026" → the number and the date; the date is optional, and a
    date that does not read is refused rather than dropped."""
    words = " ".join(text.split())[:200]
    match = re.match(r"^(.*?)\s+ng[aà]y\s+(.+)$", words, flags=re.IGNORECASE)
    if match is None:
        return words, None
    try:
        return match.group(1), parse_date(match.group(2))
    except ParseError:
        raise InputError("council.bad_decision", example="125/QĐ-UBND ngày 20/12/2026") from None


@router.flow(FLOW_DECISION, access=Access.ADMIN)
async def decision_answer(event: Inbound, ctx: Context) -> None:
    number, decided_on = _decision_parts(event.text or "")
    if not _DECISION.match(number):
        raise InputError("council.bad_decision", example="125/QĐ-UBND ngày 20/12/2026")
    item = _scoped_item(ctx, ctx.data.get("item"))
    assert ctx.member is not None
    ctx.end()
    if item is None:
        ctx.say("council.gone")
        return
    try:
        council.record_decision(
            ctx.session,
            item=item,
            number=number,
            actor=ctx.member,
            now=ctx.now(),
            decided_on=decided_on,
            zone=ctx.settings.tz,
        )
    except council.CouncilError as exc:
        ctx.say(f"council.error_{exc.reason}")
        return
    ctx.say("council.decision_recorded", name=item.nominee_name, number=number)
    for officer in reachable(unit_officers(ctx.session, item.unit_id or 0)):
        ctx.tell(
            officer,
            "council.decision_notice",
            name=item.nominee_name,
            award=_award(item.award),
            number=number,
        )
