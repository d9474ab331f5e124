"""Broadcasts (thông báo): who receives one, sending it to all of them, and what came of it.

`select_recipients` turns an audience — every approved officer, one bloc (khối thi đua), or
the units still missing a deadline — into plain recipients (no ORM rows), so the sending can
run outside any database transaction. Members who blocked the bot, and members a platform
will not let the bot write to now (Zalo's reply window, `Hub.can_reach`), are set aside and
reported instead of being sent to. The sending itself is bot/broadcasts.py (through the
delivery service); `mark_unreachable` records the members whose platform refused for good
(HTTP 403: the user blocked the bot). No texts, no catalog, no platform here.

A broadcast survives a crash. `record_broadcast` writes it and every recipient (`pending`) in
the admin's confirming transaction; while sending, the run's ledger (`write_ledger`) switches each recipient to
`sending` just before its send and records the outcomes, one transaction for the senders that
arrive together (as the reminder scheduler does), so a crash leaves the unsent ones `pending`
and at most one per concurrent sender `sending` (outcome unknown: never resent, counted in the
summary). At start-up `claim_unfinished` takes over, with one conditional UPDATE, the
broadcasts whose sender has not written since before this process started; a second process
doing the same finds them taken. A run that finds its broadcast taken over stops sending and
leaves the summary to the new owner.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple, Protocol

import sqlalchemy as sa
from sqlmodel import Session, col, select

from domain import scope as scoped
from domain.campaigns import missing_units
from domain.scope import Scope
from models.base import rowcount, table_of
from models.broadcasts import Broadcast, BroadcastRecipient, BroadcastStatus, RecipientStatus
from models.units import Member, MemberStatus, Unit

log = logging.getLogger(__name__)


class AudienceKind:
    ALL = "all"  # every approved officer of an active unit
    BLOC = "bloc"  # the officers of one bloc's active units
    MISSING = "missing"  # the officers of units that have not handed in a deadline's report


@dataclass(frozen=True, slots=True)
class Audience:
    kind: str
    bloc: str | None = None
    deadline_id: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "bloc": self.bloc, "deadline_id": self.deadline_id}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Audience:
        deadline_id = data.get("deadline_id")
        bloc = data.get("bloc")
        return cls(
            kind=str(data["kind"]),
            bloc=str(bloc) if bloc is not None else None,
            deadline_id=int(deadline_id) if isinstance(deadline_id, int | str) else None,
        )


@dataclass(frozen=True, slots=True)
class Recipient:
    member_id: int
    channel: str
    chat_id: str
    name: str
    unit_id: int
    unit_name: str


@dataclass(slots=True)
class Selection:
    recipients: list[Recipient]
    units: int  # units those recipients belong to
    skipped_unreachable: int  # members who blocked the bot and have not written since
    # Members the platform does not let the bot write to now (silent too long on Zalo).
    out_of_window: list[Recipient] = field(default_factory=list)


class Chat(NamedTuple):
    """Where the admin who sent a broadcast reads its progress and summary."""

    channel: str
    chat_id: str


class HasChat(Protocol):
    @property
    def channel(self) -> str: ...
    @property
    def chat_id(self) -> str: ...


# "May the bot write to this member now?" — Hub.can_reach, with the time bound in.
Reachable = Callable[[Member], bool]


def _reachable(member: Member) -> bool:
    """Blocked once, skipped — unless the user wrote to the bot since (they unblocked it)."""
    if member.unreachable_at is None:
        return True
    return member.last_seen_at is not None and member.last_seen_at > member.unreachable_at


def audience_units(audience: Audience, *, scope: Scope, session: Session) -> list[Unit]:
    """The scope's units the audience names (a deadline of another organiser names none)."""
    if audience.kind == AudienceKind.MISSING:
        deadline = scoped.deadline(audience.deadline_id, scope=scope, session=session)
        return missing_units(session, deadline) if deadline is not None else []
    query = scoped.units(scope).where(Unit.active == True)  # noqa: E712
    if audience.kind == AudienceKind.BLOC:
        query = query.where(Unit.bloc == audience.bloc)
    elif audience.kind != AudienceKind.ALL:
        raise ValueError(f"unknown audience {audience.kind!r}")
    return list(session.exec(query.order_by(col(Unit.code))).all())


def select_recipients(
    audience: Audience, *, scope: Scope, session: Session, reachable: Reachable | None = None
) -> Selection:
    """The approved members of the audience's units, each once, reachable ones only."""
    found = audience_units(audience, scope=scope, session=session)
    units = {u.id: u for u in found if u.id is not None}
    if not units:
        return Selection([], 0, 0)
    members = session.exec(
        select(Member)
        .where(col(Member.unit_id).in_(list(units)), Member.status == MemberStatus.APPROVED)
        .order_by(col(Member.unit_id), col(Member.id))
    ).all()
    recipients: list[Recipient] = []
    out_of_window: list[Recipient] = []
    skipped = 0
    for member in members:
        if not _reachable(member):
            skipped += 1
            continue
        assert member.id is not None and member.unit_id is not None
        recipient = Recipient(
            member_id=member.id,
            channel=member.channel,
            chat_id=member.chat_id,
            name=member.display_name,
            unit_id=member.unit_id,
            unit_name=units[member.unit_id].name,
        )
        if reachable is not None and not reachable(member):
            out_of_window.append(recipient)
        else:
            recipients.append(recipient)
    unit_count = len({r.unit_id for r in recipients})
    return Selection(recipients, unit_count, skipped, out_of_window)


@dataclass(frozen=True, slots=True)
class Failure:
    recipient: Recipient
    reason: str
    permanent: bool


def mark_unreachable(member_ids: Sequence[int], *, session: Session, now: datetime) -> int:
    """Record members the platform refused for good; they are skipped from now on."""
    if not member_ids:
        return 0
    members = session.exec(select(Member).where(col(Member.id).in_(list(member_ids)))).all()
    for member in members:
        member.unreachable_at = now
        member.updated_at = now
    return len(members)


# --- persisted broadcasts: resumed after a crash, nothing sent twice ------------------------
def record_broadcast(
    selection: Selection,
    *,
    session: Session,
    admin: HasChat,
    actor_id: int | None,
    text: str,
    audience: Audience,
    owner: str,
    now: datetime,
    organiser_id: int,
) -> int:
    """Write a broadcast and its recipients (`pending`; those out of the reply window
    `skipped`, to be named in the summary), owned by the run `owner`. The caller commits."""
    broadcast = Broadcast(
        organiser_id=organiser_id,
        actor_id=actor_id,
        admin_channel=admin.channel,
        admin_chat_id=admin.chat_id,
        text=text,
        audience=audience.as_dict(),
        owner=owner,
        heartbeat_at=now,
        created_at=now,
    )
    session.add(broadcast)
    session.flush()
    assert broadcast.id is not None
    rows = [(r, RecipientStatus.PENDING) for r in selection.recipients]
    rows += [(r, RecipientStatus.SKIPPED) for r in selection.out_of_window]
    session.add_all(
        BroadcastRecipient(
            broadcast_id=broadcast.id, member_id=r.member_id, unit_id=r.unit_id, status=status
        )
        for r, status in rows
    )
    return broadcast.id


def claim_unfinished(session: Session, *, before: datetime, now: datetime, owner: str) -> list[int]:
    """Take over, for the run `owner`, the unfinished broadcasts whose sender has not written
    since `before` (this process's start: that sender died). One conditional UPDATE: a second
    process claiming at the same time finds them written `now` and takes none. The caller
    commits, then resumes the ids returned."""
    table = table_of(Broadcast)
    rows = session.execute(
        sa.update(table)
        .where(table.c.status == BroadcastStatus.SENDING, table.c.heartbeat_at < before)
        .values(owner=owner, heartbeat_at=now, resumed=table.c.resumed + 1)
        .returning(table.c.id)
    ).all()
    return sorted(row[0] for row in rows)


@dataclass(slots=True)
class Plan:
    """What a run of a broadcast has to do: the recipients still `pending`, and where the
    broadcast stands (`done` counts the sent, failed and unknown ones of earlier runs)."""

    broadcast_id: int
    admin: Chat
    actor_id: int | None
    text: str
    resumed: int
    pending: list[Recipient]
    total: int
    done: int
    unknown: int


@dataclass(slots=True)
class BroadcastReport:
    """Where a broadcast ended, over all its runs: the admin's summary."""

    total: int  # everyone it was to be sent to (not those out of the reply window)
    sent: int
    failures: list[Failure]
    unknown: list[Recipient]  # left `sending` by a crash: may or may not have arrived
    out_of_window: list[Recipient]
    resumed: int

    @property
    def blocked(self) -> int:
        return sum(1 for f in self.failures if f.permanent)

    def reasons(self) -> Counter[str]:
        return Counter(f.reason for f in self.failures)


def _rows(session: Session, broadcast_id: int) -> list[tuple[BroadcastRecipient, Recipient]]:
    rows = session.exec(
        select(BroadcastRecipient, Member, Unit)
        .join(Member, col(Member.id) == BroadcastRecipient.member_id)
        .join(Unit, col(Unit.id) == BroadcastRecipient.unit_id)
        .where(BroadcastRecipient.broadcast_id == broadcast_id)
        .order_by(col(BroadcastRecipient.id))
    ).all()
    return [
        (row, Recipient(row.member_id, m.channel, m.chat_id, m.display_name, u.id or 0, u.name))
        for row, m, u in rows
    ]


def load_plan(session: Session, broadcast_id: int) -> Plan:
    broadcast = session.get(Broadcast, broadcast_id)
    assert broadcast is not None and broadcast.id is not None
    rows = [(row.status, r) for row, r in _rows(session, broadcast_id)]
    counted = [s for s, _ in rows if s != RecipientStatus.SKIPPED]
    pending = [r for s, r in rows if s == RecipientStatus.PENDING]
    return Plan(
        broadcast_id=broadcast.id,
        admin=Chat(broadcast.admin_channel, broadcast.admin_chat_id),
        actor_id=broadcast.actor_id,
        text=broadcast.text,
        resumed=broadcast.resumed,
        pending=pending,
        total=len(counted),
        done=len(counted) - len(pending),
        unknown=counted.count(RecipientStatus.SENDING),
    )


def finish_broadcast(
    session: Session, broadcast_id: int, *, owner: str, now: datetime
) -> BroadcastReport | None:
    """Mark the broadcast done and say how it went; None when another run took it over (that
    run reports). The caller commits."""
    table = table_of(Broadcast)
    done = session.execute(
        sa.update(table)
        .where(
            table.c.id == broadcast_id,
            table.c.owner == owner,
            table.c.status == BroadcastStatus.SENDING,
        )
        .values(status=BroadcastStatus.DONE, finished_at=now, heartbeat_at=now)
    )
    if not rowcount(done):
        return None
    broadcast = session.get(Broadcast, broadcast_id)
    assert broadcast is not None
    report = BroadcastReport(0, 0, [], [], [], broadcast.resumed)
    for row, recipient in _rows(session, broadcast_id):
        if row.status == RecipientStatus.SKIPPED:
            report.out_of_window.append(recipient)
            continue
        report.total += 1
        if row.status == RecipientStatus.SENT:
            report.sent += 1
        elif row.status == RecipientStatus.FAILED:
            report.failures.append(Failure(recipient, row.error or "", row.permanent))
        else:  # `sending` (a crash), or `pending` left by a run that stopped on an error
            report.unknown.append(recipient)
    return report


# One recipient's outcome: (recipient, platform message id, failure or None when sent).
RecipientOutcome = tuple[Recipient, str | None, "Failure | None"]


def write_ledger(
    session: Session,
    broadcast_id: int,
    *,
    owner: str,
    outcomes: Sequence[RecipientOutcome],
    member_ids: Sequence[int],
    now: datetime,
) -> tuple[bool, set[int]]:
    """One write of a broadcast's delivery ledger: the run `owner` proves it still owns the
    broadcast (its heartbeat), records `outcomes` and marks `member_ids` `sending`. Returns
    (still owned, the members now marked). The caller commits."""
    broadcasts = table_of(Broadcast)
    # First statement a write: SQLite takes its lock at once (no stale read to upgrade).
    owned = rowcount(
        session.execute(
            sa.update(broadcasts)
            .where(
                broadcasts.c.id == broadcast_id,
                broadcasts.c.owner == owner,
                broadcasts.c.status == BroadcastStatus.SENDING,
            )
            .values(heartbeat_at=now)
        )
    )
    _record_outcomes(session, broadcast_id, outcomes, now=now)
    if not owned:
        return False, set()
    if not member_ids:
        return True, set()
    table = table_of(BroadcastRecipient)
    rows = session.execute(
        sa.update(table)
        .where(
            table.c.broadcast_id == broadcast_id,
            col(table.c.member_id).in_(list(member_ids)),
            table.c.status == RecipientStatus.PENDING,
        )
        .values(status=RecipientStatus.SENDING)
        .returning(table.c.member_id)
    ).all()
    return True, {row[0] for row in rows}


def _record_outcomes(
    session: Session,
    broadcast_id: int,
    outcomes: Sequence[RecipientOutcome],
    *,
    now: datetime,
) -> None:
    """Only rows still `sending` are touched: a late write cannot overwrite another run's."""
    if not outcomes:
        return
    table = table_of(BroadcastRecipient)
    session.execute(
        sa.update(table)
        .where(
            table.c.broadcast_id == broadcast_id,
            table.c.member_id == sa.bindparam("b_member_id"),
            table.c.status == RecipientStatus.SENDING,
        )
        .values(
            status=sa.bindparam("b_status"),
            sent_at=sa.bindparam("b_sent_at"),
            message_id=sa.bindparam("b_message_id"),
            error=sa.bindparam("b_error"),
            permanent=sa.bindparam("b_permanent"),
        ),
        [
            {
                "b_member_id": recipient.member_id,
                "b_status": RecipientStatus.FAILED if failure else RecipientStatus.SENT,
                "b_sent_at": None if failure else now,
                "b_message_id": message_id,
                "b_error": failure.reason[:500] if failure else None,
                "b_permanent": bool(failure and failure.permanent),
            }
            for recipient, message_id, failure in outcomes
        ],
    )
    blocked = [f.recipient.member_id for _, _, f in outcomes if f is not None and f.permanent]
    mark_unreachable(blocked, session=session, now=now)
