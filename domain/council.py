"""The council's work (Hội đồng Thi đua – Khen thưởng): seats (on one organiser's council, for
all its campaigns or one), review rounds (đợt bình xét),
votes, the tally against the rules of refdata/council_rules.yaml, reminders to vote, and the
context of the meeting minutes (biên bản) and the submission (tờ trình).

Plain functions taking `session` keyword-only and the time passed in. How ballots are stored
so a secret vote cannot be read back is argued in `models.council`; this module keeps to it:
no function here returns who voted how on a secret item, except `own_choice`, which answers
the voter about their own ballot while the round is open.
This module never sends anything; handlers and the council job do.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from domain import audit
from domain import scope as scoped
from domain.awards import AWARD_LISTS, record_award
from domain.documents import BLANK, Office, date_parts
from domain.scope import Scope
from domain.text import fold
from domain.yamlfile import load_yaml
from models.awards import AwardRecord
from models.base import rowcount
from models.campaigns import Campaign, CampaignStatus, Deadline
from models.council import (
    Choice,
    CouncilBallot,
    CouncilItem,
    CouncilMember,
    CouncilReminder,
    CouncilReminderStatus,
    CouncilRole,
    CouncilRound,
    CouncilVoteMark,
    RoundStatus,
)
from models.reports import Attachment, Nomination, Report, ReportStatus
from models.units import Member, MemberStatus, Unit

MINUTES_TEMPLATE = "bien-ban-hop-hoi-dong.docx"
REFDATA_DIR = Path(__file__).resolve().parent.parent / "refdata"
# Reminders to members who have not voted on every nominee, before the round closes.
REMINDER_SLOTS: tuple[tuple[str, timedelta], ...] = (
    ("before-24h", timedelta(hours=24)),
    ("before-2h", timedelta(hours=2)),
)


class CouncilError(Exception):
    """A rule of the council refused the action; `reason` is a catalog key suffix."""

    def __init__(self, reason: str, **params: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.params = params


# --- rules ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class VoteRule:
    """How the council decides on one title (from refdata/council_rules.yaml)."""

    award: str
    voted: bool
    secret: bool = True
    share: str = "1/2"
    comparison: str = "more_than"  # at_least (≥) | more_than (>)
    of: str = "all_members"  # all_members | present
    quorum: str = "2/3"
    source: str = ""
    # True while the share and quorum could not be checked against the decree in force: the
    # admin is told so when opening a round (refdata/council_rules.yaml says why).
    verify: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_dict(data: dict[str, Any]) -> VoteRule:
        return VoteRule(**{k: data[k] for k in VoteRule.__slots__ if k in data})


def _fraction(text: str, where: str) -> Fraction:
    try:
        value = Fraction(str(text).strip())
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"{where}: '{text}' không phải tỷ lệ dạng tử/mẫu") from None
    if not 0 < value <= 1:
        raise ValueError(f"{where}: tỷ lệ {text} phải trong (0, 1]")
    return value


def parse_rules(data: dict[str, Any], *, where: str = "council_rules") -> dict[str, VoteRule]:
    default_quorum = str(data.get("default_quorum", "2/3"))
    rules: dict[str, VoteRule] = {}
    for raw in data.get("rules") or ():
        award = str(raw["award"])
        if award in rules:
            raise ValueError(f"{where}: {award} lặp lại")
        rule = VoteRule(
            award=award,
            voted=bool(raw.get("voted", True)),
            secret=bool(raw.get("secret", True)),
            share=str(raw.get("share", "1/2")),
            comparison=str(raw.get("comparison", "more_than")),
            of=str(raw.get("of", "all_members")),
            quorum=str(raw.get("quorum", default_quorum)),
            source=" ".join(str(raw.get("source", "")).split()),
            verify=bool(raw.get("verify", False)),
        )
        if rule.voted:
            _fraction(rule.share, f"{where}/{award}/share")
            _fraction(rule.quorum, f"{where}/{award}/quorum")
            if rule.comparison not in ("at_least", "more_than"):
                raise ValueError(f"{where}/{award}: comparison {rule.comparison}")
            if rule.of not in ("all_members", "present"):
                raise ValueError(f"{where}/{award}: of {rule.of}")
            if not rule.source:
                raise ValueError(f"{where}/{award}: thiếu căn cứ (source)")
        rules[award] = rule
    return rules


@cache
def load_rules(path: Path | None = None) -> dict[str, VoteRule]:
    source = path or REFDATA_DIR / "council_rules.yaml"
    return parse_rules(load_yaml(source.read_text(encoding="utf-8")) or {}, where=str(source))


@cache
def award_labels(path: Path | None = None) -> dict[str, str]:
    """Award code → label, from refdata/awards.yaml."""
    source = path or REFDATA_DIR / "awards.yaml"
    data = load_yaml(source.read_text(encoding="utf-8")) or {}
    # Only the lists of titles and forms of commendation: the file also holds issuers,
    # movements, eligibility rules and template references (domain.awards).
    return {str(i["code"]): str(i["label"]) for name in AWARD_LISTS for i in data.get(name) or ()}


def award_code(text: str) -> str | None:
    """The code of an award written as its label (nominations store labels) or its code."""
    wanted = fold(text)
    for code, label in award_labels().items():
        if wanted in (fold(code), fold(label)):
            return code
    return None


def required_yes(rule: VoteRule, *, base: int) -> int:
    """The fewest yes votes that pass `rule` when the share is taken of `base` people."""
    share = Fraction(rule.share)
    needed = share * base
    if rule.comparison == "at_least":
        return int(-(-needed // 1))  # ceil
    return int(needed // 1) + 1


def quorum_needed(rule: VoteRule, *, members: int) -> int:
    return int(-(-(Fraction(rule.quorum) * members) // 1))


# --- seats ------------------------------------------------------------------------------------
_ACTIVE_SEAT = select(CouncilMember).where(
    CouncilMember.member_id == sa.bindparam("c_member"), col(CouncilMember.active).is_(True)
)


def seat_of(session: Session, *, member_id: int | None) -> CouncilMember | None:
    """One active seat of the member on any organiser's council, if any (whether they may
    use the council's commands at all; what they see is `seat_organisers`)."""
    if member_id is None:
        return None
    return session.exec(_ACTIVE_SEAT, params={"c_member": member_id}).first()


def seat_organisers(session: Session, *, member_id: int | None) -> list[int]:
    """The organisers on whose council the member holds an active seat."""
    if member_id is None:
        return []
    return sorted(
        {
            seat.organiser_id
            for seat in session.exec(_ACTIVE_SEAT, params={"c_member": member_id}).all()
        }
    )


def seats(session: Session, *, organiser_id: int) -> list[tuple[CouncilMember, Member]]:
    """The active seats of one organiser's council."""
    rows = session.exec(
        select(CouncilMember, Member)
        .join(Member, col(Member.id) == CouncilMember.member_id)
        .where(col(CouncilMember.active).is_(True), CouncilMember.organiser_id == organiser_id)
        .order_by(col(CouncilMember.id))
    ).all()
    return [(seat, member) for seat, member in rows]


def seat(session: Session, *, seat_id: int | None, organiser_id: int) -> CouncilMember | None:
    """A seat of one organiser's council by id; None when missing or another's."""
    row = session.get(CouncilMember, seat_id) if seat_id is not None else None
    return row if row is not None and row.organiser_id == organiser_id else None


def seat_campaign_ids(session: Session, *, seat: CouncilMember) -> list[int]:
    """The campaigns a seat sits on: the one it was given for (`campaign_id`), and every
    campaign with a review round whose electorate holds the seat's member (a seat for every
    campaign votes on each round opened while it was held). A non-voting seat for every
    campaign (the secretary) names no campaign until a round lists it."""
    found = {seat.campaign_id} if seat.campaign_id is not None else set()
    for campaign_id, electorate in session.exec(
        select(CouncilRound.campaign_id, CouncilRound.electorate).where(
            CouncilRound.organiser_id == seat.organiser_id
        )
    ).all():
        if seat.member_id in (electorate or []):
            found.add(campaign_id)
    return sorted(found)


def voting_member_ids(
    session: Session, *, organiser_id: int, campaign_id: int | None = None
) -> list[int]:
    """Members who vote in a round of `campaign_id`: voting roles on the council of the
    campaign's organiser, approved, and seated for every campaign or for that one."""
    return [
        member.id
        for seat, member in seats(session, organiser_id=organiser_id)
        if seat.role in CouncilRole.VOTING
        and member.status == MemberStatus.APPROVED
        and member.id is not None
        and seat.campaign_id in (None, campaign_id)
    ]


def may_seat(session: Session, *, member: Member | None, scope: Scope) -> bool:
    """Whether the organiser may seat `member` on its council: an approved officer of one of
    its units, one of its admins, or someone who belongs to no office yet (no unit, no admin
    rights, no seat elsewhere — a leader who registered only to sit on the council)."""
    if member is None or member.id is None or member.status != MemberStatus.APPROVED:
        return False
    if scoped.member(member.id, scope=scope, session=session) is not None:
        return True
    if member.unit_id is not None or scoped.admin_organiser_ids(member, session=session):
        return False
    return all(scope.covers(o) for o in seat_organisers(session, member_id=member.id))


def seat_candidates(session: Session, query: str, *, scope: Scope, limit: int = 8) -> list[Member]:
    """People the organiser may seat (`may_seat`) whose name or phone matches `query` and who
    have no seat on its council yet."""
    wanted = fold(query)
    taken = {seat.member_id for seat, _ in seats(session, organiser_id=scope.organiser_id)}
    found: list[Member] = []
    for member in session.exec(
        select(Member).where(Member.status == MemberStatus.APPROVED).order_by(col(Member.id))
    ).all():
        if member.id in taken:
            continue
        if (
            wanted
            and wanted not in fold(member.display_name)
            and wanted not in (member.phone or "")
        ):
            continue
        if not may_seat(session, member=member, scope=scope):
            continue
        found.append(member)
        if len(found) >= limit:
            break
    return found


def add_seat(
    session: Session,
    *,
    member: Member,
    role: str,
    organiser_id: int,
    actor: Member,
    now: datetime,
    campaign_id: int | None = None,
) -> CouncilMember:
    """Seat `member` on the council of `organiser_id` (for one campaign, or all of them)."""
    if role not in CouncilRole.ALL:
        raise CouncilError("bad_role")
    if member.status != MemberStatus.APPROVED:
        raise CouncilError("not_approved")
    if any(s.member_id == member.id for s, _ in seats(session, organiser_id=organiser_id)):
        raise CouncilError("already_member")
    seat = CouncilMember(
        member_id=member.id,  # type: ignore[arg-type]  # a stored row: its id is set
        role=role,
        organiser_id=organiser_id,
        campaign_id=campaign_id,
        added_at=now,
        added_by_id=actor.id,
        active=True,
    )
    session.add(seat)
    session.flush()
    audit.record(
        session,
        now=now,
        action="council.member_add",
        actor=actor,
        target_type="member",
        target_id=member.id,
        detail={"role": role, "seat": seat.id, "campaign": campaign_id},
        organiser_id=organiser_id,
    )
    return seat


def remove_seat(session: Session, *, seat: CouncilMember, actor: Member, now: datetime) -> None:
    if not seat.active:
        raise CouncilError("already_removed")
    seat.active = False
    seat.removed_at = now
    seat.removed_by_id = actor.id
    session.add(seat)
    audit.record(
        session,
        now=now,
        action="council.member_remove",
        actor=actor,
        target_type="member",
        target_id=seat.member_id,
        detail={"seat": seat.id},
        organiser_id=seat.organiser_id,
    )


# --- opening a round --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Candidate:
    """A nomination the council may vote on."""

    nomination: Nomination
    report: Report
    unit: Unit
    award: str  # code
    rule: VoteRule


def candidates(
    session: Session, *, campaign: Campaign, rules: dict[str, VoteRule] | None = None
) -> list[Candidate]:
    """Nominations of the campaign's accepted reports (checked by an admin) for titles the
    council votes on. Titles the rules do not vote on, or do not know, are left out."""
    rules = rules if rules is not None else load_rules()
    rows = session.exec(
        select(Nomination, Report, Unit)
        .join(Report, col(Report.id) == Nomination.report_id)
        .join(Deadline, col(Deadline.id) == Report.deadline_id)
        .join(Unit, col(Unit.id) == Report.unit_id)
        .where(Deadline.campaign_id == campaign.id, Report.status == ReportStatus.ACCEPTED)
        .order_by(col(Unit.code), col(Nomination.position), col(Nomination.id))
    ).all()
    found: list[Candidate] = []
    for nomination, report, unit in rows:
        code = award_code(nomination.award)
        rule = rules.get(code or "")
        if code is None or rule is None or not rule.voted:
            continue
        found.append(Candidate(nomination, report, unit, code, rule))
    return found


def open_round_of(session: Session, *, campaign_id: int) -> CouncilRound | None:
    return session.exec(
        select(CouncilRound)
        .where(
            CouncilRound.campaign_id == campaign_id,
            col(CouncilRound.status).in_([RoundStatus.OPEN, RoundStatus.CLOSED]),
        )
        .order_by(col(CouncilRound.id).desc())
    ).first()


def rounds_of(session: Session, *, campaign_id: int) -> list[CouncilRound]:
    """Every review round of a campaign, newest first (the web desk's council page)."""
    return list(
        session.exec(
            select(CouncilRound)
            .where(CouncilRound.campaign_id == campaign_id)
            .order_by(col(CouncilRound.id).desc())
        ).all()
    )


def active_rounds(session: Session, *, organiser_ids: Iterable[int]) -> list[CouncilRound]:
    """Rounds of these organisers open or waiting for confirmation, newest first."""
    return list(
        session.exec(
            select(CouncilRound)
            .where(
                col(CouncilRound.status).in_([RoundStatus.OPEN, RoundStatus.CLOSED]),
                col(CouncilRound.organiser_id).in_(list(organiser_ids)),
            )
            .order_by(col(CouncilRound.id).desc())
        ).all()
    )


def open_round(
    session: Session,
    *,
    campaign: Campaign,
    closes_at: datetime,
    actor: Member,
    now: datetime,
    rules: dict[str, VoteRule] | None = None,
) -> CouncilRound:
    rules = rules if rules is not None else load_rules()
    if closes_at <= now:
        raise CouncilError("closes_in_past")
    if open_round_of(session, campaign_id=campaign.id or 0) is not None:
        raise CouncilError("round_exists")
    electorate = voting_member_ids(
        session, organiser_id=campaign.organiser_id, campaign_id=campaign.id
    )
    if not electorate:
        raise CouncilError("no_members")
    found = candidates(session, campaign=campaign, rules=rules)
    if not found:
        raise CouncilError("no_candidates")
    used = {c.award for c in found}
    round_ = CouncilRound(
        campaign_id=campaign.id,  # type: ignore[arg-type]  # a stored row: its id is set
        organiser_id=campaign.organiser_id,
        status=RoundStatus.OPEN,
        opened_at=now,
        closes_at=closes_at,
        opened_by_id=actor.id,
        rules={code: rules[code].as_dict() for code in sorted(used)},
        electorate=electorate,
        ballot_secret=secrets.token_hex(32),
    )
    session.add(round_)
    session.flush()
    for position, candidate in enumerate(found, start=1):
        session.add(
            CouncilItem(
                round_id=round_.id,  # type: ignore[arg-type]  # a stored row: its id is set
                position=position,
                nomination_id=candidate.nomination.id,
                report_id=candidate.report.id,
                unit_id=candidate.unit.id,
                nominee_type=candidate.nomination.nominee_type,
                nominee_name=candidate.nomination.full_name,
                award=candidate.award,
                secret=candidate.rule.secret,
            )
        )
    session.flush()
    audit.record(
        session,
        now=now,
        action="council.round_open",
        actor=actor,
        target_type="council_round",
        target_id=round_.id,
        detail={
            "campaign": campaign.id,
            "items": len(found),
            "members": len(electorate),
            "closes_at": closes_at.isoformat(),
        },
        organiser_id=campaign.organiser_id,
    )
    return round_


def active_campaigns(session: Session, *, scope: Scope) -> list[Campaign]:
    """The scope's active campaigns (an admin reviews their own organiser's nominations)."""
    return list(
        session.exec(
            scoped.campaigns(scope)
            .where(Campaign.status == CampaignStatus.ACTIVE)
            .order_by(col(Campaign.id))
        ).all()
    )


def report_files(session: Session, *, report_id: int) -> list[Attachment]:
    """The files of a nominee's report, for "Cần xem thêm hồ sơ"."""
    return list(
        session.exec(
            select(Attachment).where(Attachment.report_id == report_id).order_by(col(Attachment.id))
        ).all()
    )


def items_of(session: Session, round_id: int) -> list[CouncilItem]:
    return list(
        session.exec(
            select(CouncilItem)
            .where(CouncilItem.round_id == round_id)
            .order_by(col(CouncilItem.position), col(CouncilItem.id))
        ).all()
    )


def rule_of(round_: CouncilRound, item: CouncilItem) -> VoteRule:
    return VoteRule.from_dict(round_.rules[item.award])


# --- voting -----------------------------------------------------------------------------------
def _ballot_key(round_: CouncilRound, item: CouncilItem, member_id: int) -> str:
    if not item.secret:
        return f"o{item.id}:{member_id}"
    if not round_.ballot_secret:
        raise CouncilError("round_closed")
    message = f"{round_.id}:{item.id}:{member_id}".encode()
    return hmac.new(bytes.fromhex(round_.ballot_secret), message, hashlib.sha256).hexdigest()


def may_vote(round_: CouncilRound, member: Member | None) -> bool:
    return (
        member is not None
        and member.status == MemberStatus.APPROVED
        and member.id in (round_.electorate or [])
    )


def cast_vote(
    session: Session,
    *,
    round_: CouncilRound,
    item: CouncilItem,
    member: Member,
    choice: str,
    now: datetime,
) -> bool:
    """Record or change `member`'s vote on `item`; True when it changed an earlier vote.

    Raises CouncilError when the round is not open, its time is over, the member is not in
    the round's electorate or the item is not in the round."""
    if choice not in Choice.ALL:
        raise CouncilError("bad_choice")
    if item.round_id != round_.id:
        raise CouncilError("not_in_round")
    if round_.status != RoundStatus.OPEN or now >= round_.closes_at:
        raise CouncilError("round_closed")
    if not may_vote(round_, member):
        raise CouncilError("not_a_voter")
    assert member.id is not None and item.id is not None
    _hold_open(session, round_)
    key = _ballot_key(round_, item, member.id)
    ballot = session.get(CouncilBallot, key)
    changed = ballot is not None
    if ballot is None:
        session.add(
            CouncilBallot(
                key=key,
                item_id=item.id,
                choice=choice,
                member_id=None if item.secret else member.id,
            )
        )
        session.add(
            CouncilVoteMark(round_id=round_.id, item_id=item.id, member_id=member.id, at=now)
        )
    else:
        ballot.choice = choice
        session.add(ballot)
    session.flush()
    # The audit log says that the member voted; the choice only for an open vote.
    audit.record(
        session,
        now=now,
        action="council.vote_change" if changed else "council.vote",
        actor=member,
        target_type="council_item",
        target_id=item.id,
        detail={} if item.secret else {"choice": choice},
        organiser_id=round_.organiser_id,
    )
    return changed


def _hold_open(session: Session, round_: CouncilRound) -> None:
    """Lock the round row while it is open: a vote and the closing never interleave (on
    PostgreSQL the closing's UPDATE waits for the vote's transaction, or the vote sees the
    round closed), so no ballot is written after the tally deleted the secret ones."""
    held = session.execute(
        sa.update(CouncilRound)
        .where(col(CouncilRound.id) == round_.id, col(CouncilRound.status) == RoundStatus.OPEN)
        .values(present=CouncilRound.present)
    )
    if rowcount(held) != 1:
        raise CouncilError("round_closed")


def own_choice(
    session: Session, *, round_: CouncilRound, item: CouncilItem, member: Member
) -> str | None:
    """The voter's own current choice on `item` while the round is open (shown to them only)."""
    if round_.status != RoundStatus.OPEN or member.id is None:
        return None
    ballot = session.get(CouncilBallot, _ballot_key(round_, item, member.id))
    return ballot.choice if ballot else None


def voted_items(session: Session, *, round_id: int, member_id: int) -> set[int]:
    return set(
        session.exec(
            select(CouncilVoteMark.item_id).where(
                CouncilVoteMark.round_id == round_id, CouncilVoteMark.member_id == member_id
            )
        ).all()
    )


def turnout(session: Session, *, round_: CouncilRound) -> dict[int, int]:
    """Member id → how many items they voted on (whether, never how)."""
    counts = dict.fromkeys(round_.electorate or [], 0)
    rows = session.exec(
        select(CouncilVoteMark.member_id, sa.func.count())
        .where(CouncilVoteMark.round_id == round_.id)
        .group_by(col(CouncilVoteMark.member_id))
    ).all()
    for member_id, count in rows:
        if member_id in counts:
            counts[member_id] = int(count)
    return counts


def pending_voters(session: Session, *, round_: CouncilRound) -> list[int]:
    """Members of the electorate who have not voted on every item."""
    total = len(items_of(session, round_.id or 0))
    return [m for m, n in turnout(session, round_=round_).items() if n < total]


def everyone_voted(session: Session, *, round_: CouncilRound) -> bool:
    return not pending_voters(session, round_=round_)


# --- closing and the result -------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ItemResult:
    item: CouncilItem
    rule: VoteRule
    members: int  # voting members of the round
    present: int  # members who took part in the round
    quorum_needed: int
    quorum_met: bool
    base: int
    needed: int

    @property
    def passed(self) -> bool:
        return bool(self.item.passed)


def close_round(session: Session, *, round_: CouncilRound, now: datetime, how: str) -> None:
    """Tally every item, then delete the secret ballots and wipe the round's secret."""
    if round_.status != RoundStatus.OPEN:
        raise CouncilError("round_closed")
    # Claim the closing: a second process (or a vote racing the job) sees it closed.
    claimed = session.execute(
        sa.update(CouncilRound)
        .where(col(CouncilRound.id) == round_.id, col(CouncilRound.status) == RoundStatus.OPEN)
        .values(status=RoundStatus.CLOSED)
    )
    if rowcount(claimed) != 1:
        raise CouncilError("round_closed")
    members = len(round_.electorate or [])
    present = int(
        session.exec(
            select(sa.func.count(sa.distinct(col(CouncilVoteMark.member_id)))).where(
                CouncilVoteMark.round_id == round_.id
            )
        ).one()
    )
    items = items_of(session, round_.id or 0)
    for item in items:
        counts = dict(
            session.exec(
                select(CouncilBallot.choice, sa.func.count())
                .where(CouncilBallot.item_id == item.id)
                .group_by(col(CouncilBallot.choice))
            ).all()
        )
        item.yes = int(counts.get(Choice.YES, 0))
        item.no = int(counts.get(Choice.NO, 0))
        item.voters = item.yes + item.no
        rule = rule_of(round_, item)
        quorum_met = present >= quorum_needed(rule, members=members)
        base = members if rule.of == "all_members" else item.voters
        item.passed = quorum_met and base > 0 and item.yes >= required_yes(rule, base=base)
        session.add(item)
    secret_ids = [i.id for i in items if i.secret]
    if secret_ids and session.get_bind().dialect.name == "sqlite":
        # Overwrite the deleted ballots' bytes instead of leaving them in free pages.
        session.execute(sa.text("PRAGMA secure_delete = ON"))
    if secret_ids:
        session.execute(sa.delete(CouncilBallot).where(col(CouncilBallot.item_id).in_(secret_ids)))
    round_.ballot_secret = None
    round_.status = RoundStatus.CLOSED
    round_.closed_at = now
    round_.closed_how = how
    round_.present = present
    session.add(round_)
    session.flush()
    audit.record(
        session,
        now=now,
        action="council.round_close",
        target_type="council_round",
        target_id=round_.id,
        detail={"how": how, "present": present, "members": members},
        organiser_id=round_.organiser_id,
    )


def results(session: Session, *, round_: CouncilRound) -> list[ItemResult]:
    """The tally of a closed round, item by item (counts only)."""
    members = len(round_.electorate or [])
    found: list[ItemResult] = []
    for item in items_of(session, round_.id or 0):
        rule = rule_of(round_, item)
        needed_quorum = quorum_needed(rule, members=members)
        base = members if rule.of == "all_members" else int(item.voters or 0)
        found.append(
            ItemResult(
                item=item,
                rule=rule,
                members=members,
                present=round_.present,
                quorum_needed=needed_quorum,
                quorum_met=round_.present >= needed_quorum,
                base=base,
                needed=required_yes(rule, base=base) if base else 0,
            )
        )
    return found


def open_votes(session: Session, *, item: CouncilItem) -> list[tuple[Member, str]]:
    """Who voted how on an open (not secret) item; [] for a secret one."""
    if item.secret:
        return []
    rows = session.exec(
        select(Member, CouncilBallot.choice)
        .join(CouncilBallot, col(CouncilBallot.member_id) == Member.id)
        .where(CouncilBallot.item_id == item.id)
        .order_by(col(Member.display_name))
    ).all()
    return [(member, choice) for member, choice in rows]


def confirm_round(session: Session, *, round_: CouncilRound, actor: Member, now: datetime) -> None:
    if round_.status != RoundStatus.CLOSED:
        raise CouncilError("not_closed")
    round_.status = RoundStatus.CONFIRMED
    round_.confirmed_at = now
    round_.confirmed_by_id = actor.id
    session.add(round_)
    audit.record(
        session,
        now=now,
        action="council.round_confirm",
        actor=actor,
        target_type="council_round",
        target_id=round_.id,
        detail={"passed": [i.id for i in items_of(session, round_.id or 0) if i.passed]},
        organiser_id=round_.organiser_id,
    )


def record_decision(
    session: Session,
    *,
    item: CouncilItem,
    number: str,
    actor: Member,
    now: datetime,
    decided_on: date | None = None,
    zone: ZoneInfo | None = None,
) -> AwardRecord | None:
    """The award decision (số quyết định, and its date when known) for a nominee who passed,
    written to the award history (`domain.awards.record_award`: per unit or person, year,
    title, decision, issuer) so that eligibility checks of later campaigns count it. The year
    is the campaign's (`domain.dossier.campaign_year`). Recording it again updates the row."""
    from domain.dossier import campaign_year
    from domain.export import deadlines_of

    if not item.passed:
        raise CouncilError("not_passed")
    item.decision_number = number.strip()[:64]
    session.add(item)
    record: AwardRecord | None = None
    round_ = session.get(CouncilRound, item.round_id)
    campaign = session.get(Campaign, round_.campaign_id) if round_ else None
    unit = session.get(Unit, item.unit_id) if item.unit_id else None
    if campaign is not None and unit is not None:
        year = campaign_year(
            campaign, deadlines_of(campaign, session=session), zone or ZoneInfo("UTC")
        )
        # A collective named like its unit is the unit's own award; anyone else is a person
        # of the unit (the dossier's `record_results` reads nominations the same way).
        own = item.nominee_type == "collective" and fold(item.nominee_name) == fold(unit.name)
        record = record_award(
            session,
            unit_id=unit.id or 0,
            person="" if own else item.nominee_name,
            year=year,
            award=item.award,
            decision_number=item.decision_number,
            decision_date=decided_on,
            campaign_id=campaign.id,
            source="campaign",
            now=now,
        )
    audit.record(
        session,
        now=now,
        action="council.decision",
        actor=actor,
        target_type="council_item",
        target_id=item.id,
        detail={
            "number": item.decision_number,
            "date": decided_on.isoformat() if decided_on else None,
            "award_record": record.id if record else None,
        },
        organiser_id=round_.organiser_id if round_ else None,
    )
    return record


def due_rounds(session: Session, *, now: datetime) -> list[CouncilRound]:
    return list(
        session.exec(
            select(CouncilRound).where(
                CouncilRound.status == RoundStatus.OPEN, col(CouncilRound.closes_at) <= now
            )
        ).all()
    )


# --- reminders --------------------------------------------------------------------------------
def claim_reminders(
    session: Session, *, now: datetime, slot: str | None = None, round_id: int | None = None
) -> list[tuple[CouncilRound, Member, CouncilReminder]]:
    """Claim the reminders due now to members who have not voted on everything.

    Scheduled slots fall due `REMINDER_SLOTS` before closing; `slot` forces a manual one (an
    admin's "Nhắc ngay") for `round_id`. The unique (round, member, slot) row is the claim:
    the caller commits before sending, so no reminder goes twice."""
    query = select(CouncilRound).where(
        CouncilRound.status == RoundStatus.OPEN, col(CouncilRound.closes_at) > now
    )
    if round_id is not None:
        query = query.where(CouncilRound.id == round_id)
    claimed: list[tuple[CouncilRound, Member, CouncilReminder]] = []
    for round_ in session.exec(query).all():
        if slot is not None:
            due = [slot]
        else:
            # A slot that fell before the round opened is not due: the invitation just went.
            due = [
                key
                for key, before in REMINDER_SLOTS
                if round_.opened_at < round_.closes_at - before <= now
            ]
            due = due[-1:]  # only the latest slot that fell due: no burst after a long outage
        if not due:
            continue
        for member_id in pending_voters(session, round_=round_):
            exists = session.exec(
                select(CouncilReminder.id).where(
                    CouncilReminder.round_id == round_.id,
                    CouncilReminder.member_id == member_id,
                    CouncilReminder.slot == due[0],
                )
            ).first()
            member = session.get(Member, member_id)
            if exists is not None or member is None or member.unreachable_at is not None:
                continue
            row = CouncilReminder(
                round_id=round_.id,  # type: ignore[arg-type]  # a stored row: its id is set
                member_id=member_id,
                slot=due[0],
                claimed_at=now,
            )
            session.add(row)
            session.flush()
            claimed.append((round_, member, row))
    return claimed


def mark_reminded(session: Session, *, reminder_ids: Sequence[int], now: datetime) -> None:
    if reminder_ids:
        session.execute(
            sa.update(CouncilReminder)
            .where(col(CouncilReminder.id).in_(list(reminder_ids)))
            .values(status=CouncilReminderStatus.SENT, sent_at=now)
        )


# --- minutes and submission -------------------------------------------------------------------
def minutes_context(
    session: Session,
    *,
    round_: CouncilRound,
    zone: tzinfo = UTC,
    role_label: Callable[[str], str] = str,
    office: Office | None = None,
) -> dict[str, Any]:
    """The context of the meeting minutes (biên bản họp Hội đồng, MINUTES_TEMPLATE): members
    and who took part, the rule of each title with its legal source, the tally of each nominee
    against its rule, the quorum, the list of those who passed, the chair and the secretary. A
    plain dict of str, int, bool, lists and dicts (as a Word template renderer wants), times
    shown in `zone`, roles worded by `role_label`, the heading from `office`. Counts only:
    nothing says who voted how on a secret item."""
    campaign = session.get(Campaign, round_.campaign_id)
    labels = award_labels()
    council_seats = seats(session, organiser_id=round_.organiser_id)
    people = {m.id: (seat, m) for seat, m in council_seats}
    took_part = set(
        session.exec(
            select(CouncilVoteMark.member_id).where(CouncilVoteMark.round_id == round_.id)
        ).all()
    )
    members = []
    for member_id in round_.electorate or []:
        seat, member = people.get(member_id, (None, session.get(Member, member_id)))
        members.append(
            {
                "name": member.display_name if member else "",
                "role": role_label(seat.role if seat else CouncilRole.MEMBER),
                "present": member_id in took_part,
            }
        )
    found = results(session, round_=round_)
    rows = []
    for result in found:
        item = result.item
        unit = session.get(Unit, item.unit_id) if item.unit_id else None
        rows.append(
            {
                "position": item.position,
                "name": item.nominee_name,
                "nominee_type": item.nominee_type,
                "unit": unit.name if unit else "",
                "award": labels.get(item.award, item.award),
                "secret": item.secret,
                "yes": item.yes or 0,
                "no": item.no or 0,
                "voters": item.voters or 0,
                "needed": result.needed,
                "share": result.rule.share,
                "of_all_members": result.rule.of == "all_members",
                "source": result.rule.source,
                "passed": bool(item.passed),
                "decision_number": item.decision_number or "",
            }
        )
    closed = (round_.closed_at or round_.closes_at).astimezone(zone)
    office = office or Office(name="")
    rules: dict[str, dict[str, Any]] = {}
    for result in found:
        rule = result.rule
        rules.setdefault(
            result.item.award,
            {
                "award": labels.get(result.item.award, result.item.award),
                "secret": rule.secret,
                "share": rule.share,
                "at_least": rule.comparison != "more_than",
                "of_all_members": rule.of == "all_members",
                "quorum": rule.quorum,
                "source": " ".join(rule.source.split()),
            },
        )
    by_role: dict[str, list[str]] = {}
    for seat, member in council_seats:
        if seat.campaign_id in (None, round_.campaign_id):
            by_role.setdefault(seat.role, []).append(member.display_name)
    present = [m for m in members if m["present"]]
    absent = [m for m in members if not m["present"]]
    return {
        "parent_body": office.parent.upper(),
        "issuing_unit": office.name,
        "place": office.place or BLANK,
        **date_parts(closed.date()),
        "present_members": present,
        "absent_members": absent,
        "members_absent": len(absent),
        "rules": list(rules.values()),
        "quorum_needed": max((r.quorum_needed for r in found), default=0),
        "chair_name": ", ".join(by_role.get(CouncilRole.CHAIR, [])),
        "secretary_name": ", ".join(by_role.get(CouncilRole.SECRETARY, [])),
        "campaign": campaign.name if campaign else "",
        "campaign_number": campaign.document_number if campaign else "",
        "opened_at": round_.opened_at.astimezone(zone).strftime("%H:%M %d/%m/%Y"),
        "closed_at": closed.strftime("%H:%M %d/%m/%Y"),
        "members_total": len(round_.electorate or []),
        "members_present": round_.present,
        "quorum_met": all(r.quorum_met for r in found),
        "members": members,
        "items": rows,
        "passed": [row for row in rows if row["passed"]],
    }


def submission_context(
    session: Session, *, round_: CouncilRound, zone: tzinfo = UTC
) -> dict[str, Any]:
    """The council's part of the submission (tờ trình): only those who passed, with their
    votes and the totals of collectives and individuals, for the dossier's template."""
    minutes = minutes_context(session, round_=round_, zone=zone)
    passed = minutes["passed"]
    return {
        "campaign": minutes["campaign"],
        "campaign_number": minutes["campaign_number"],
        "council_closed_at": minutes["closed_at"],
        "members_total": minutes["members_total"],
        "members_present": minutes["members_present"],
        "rows": passed,
        "total_collectives": sum(1 for r in passed if r["nominee_type"] == "collective"),
        "total_individuals": sum(1 for r in passed if r["nominee_type"] != "collective"),
    }


def confirmed_round_of(session: Session, *, campaign_id: int) -> CouncilRound | None:
    """The campaign's latest round whose result the admin confirmed, if any."""
    return session.exec(
        select(CouncilRound)
        .where(
            CouncilRound.campaign_id == campaign_id,
            CouncilRound.status == RoundStatus.CONFIRMED,
        )
        .order_by(col(CouncilRound.confirmed_at).desc(), col(CouncilRound.id).desc())
    ).first()


def passed_without_decision(session: Session, *, scope: Scope) -> list[CouncilItem]:
    """Nominees a confirmed round of the scope passed whose award decision is not recorded
    yet."""
    return list(
        session.exec(
            select(CouncilItem)
            .join(CouncilRound, col(CouncilRound.id) == CouncilItem.round_id)
            .where(
                col(CouncilRound.organiser_id).in_(scope.organiser_ids),
                CouncilRound.status == RoundStatus.CONFIRMED,
                col(CouncilItem.passed).is_(True),
                col(CouncilItem.decision_number).is_(None),
            )
            .order_by(col(CouncilItem.id))
        ).all()
    )
