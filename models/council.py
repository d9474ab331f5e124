"""The emulation-commendation council (Hội đồng Thi đua – Khen thưởng), its review rounds and
ballots, and bloc scoring (chấm điểm khối thi đua).

`CouncilMember` grants the council role to a `Member` on one organiser's council (a commune's
council does not vote on the province's nominees), optionally for one campaign only
(`campaign_id`, NULL = every campaign of the organiser). Rows made without naming an organiser
belong to the default one, as everywhere (migration 0023 moved existing seats there).
A `CouncilRound` (đợt bình xét) asks the council to vote on `CouncilItem`s — one nominee for one
title each — under the rules copied from refdata/council_rules.yaml when the round opened.

Secrecy of secret ballots (bỏ phiếu kín) — why the tables look like this:
- *Who has voted* (`CouncilVoteMark`: member, item, no choice) is kept apart from *what was
  voted* (`CouncilBallot`: item, choice, no member). Reminders, the quorum and "everyone voted"
  need the first; the tally needs only the second.
- A member may change a secret vote until the round closes, so the bot must find that member's
  ballot again. A secret ballot row is keyed by HMAC-SHA256(round secret, member id, item id):
  the key names nobody and cannot be reversed without the secret. Ballot rows carry no time and
  no member id; the primary key is that opaque key, not a sequence, so row ids do not tell the
  order of voting (which the audit log's "voted" entries could otherwise be matched against).
- At closing, the counts are written to `CouncilItem` (yes/no/voters), every ballot row of the
  round is deleted and the round secret is wiped (`CouncilRound.ballot_secret = NULL`). From then
  on the database holds only counts: nobody — admins, a database dump, a backup — can read back
  who voted how.
- The honest limit: while a round is open, whoever can read the database or the running
  process (a DBA, the bot's code) holds the round secret and could recompute the key of each
  member and link ballots to voters. No query path, message or export of the bot does so;
  only the voter sees their own choice. Deleted rows may linger below the bot: SQLite pages are
  overwritten (`secure_delete` at closing), PostgreSQL dead tuples stay until VACUUM and in WAL
  archives and backups taken while the round was open. Open votes (bỏ phiếu công khai) are recorded by name
  (`CouncilBallot.member_id`) and kept after closing.

This module holds tables only; rules live in `domain.council` and `domain.scoring`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import json_field, utc_field
from models.organisers import DEFAULT_ORGANISER_ID


class CouncilRole:
    CHAIR = "chu-tich"  # Chủ tịch Hội đồng
    VICE_CHAIR = "pho-chu-tich"  # Phó Chủ tịch
    MEMBER = "uy-vien"  # Ủy viên
    SECRETARY = "thu-ky"  # Thư ký: keeps the minutes, does not vote

    VOTING = (CHAIR, VICE_CHAIR, MEMBER)
    ALL = (CHAIR, VICE_CHAIR, MEMBER, SECRETARY)


class CouncilMember(SQLModel, table=True):
    """A member's seat on the council (thành viên Hội đồng TĐKT)."""

    __tablename__ = "council_member"

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    role: str = Field(default=CouncilRole.MEMBER, max_length=16)
    # The council of this office; NULL campaign = every campaign of the organiser.
    organiser_id: int = Field(default=DEFAULT_ORGANISER_ID, foreign_key="organiser.id", index=True)
    campaign_id: int | None = Field(default=None, foreign_key="campaign.id")
    active: bool = Field(default=True, index=True)
    added_at: datetime = utc_field()
    added_by_id: int | None = Field(default=None, foreign_key="member.id")
    removed_at: datetime | None = utc_field(nullable=True)
    removed_by_id: int | None = Field(default=None, foreign_key="member.id")


class RoundStatus(StrEnum):
    OPEN = "open"  # members vote
    CLOSED = "closed"  # tallied, waiting for the admin's confirmation
    CONFIRMED = "confirmed"  # result sent to units
    CANCELLED = "cancelled"


class CouncilRound(SQLModel, table=True):
    """A review round (đợt bình xét) of a campaign's nominations by the council."""

    __tablename__ = "council_round"

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    # The campaign's organiser: only its seats vote (the electorate below).
    organiser_id: int = Field(default=DEFAULT_ORGANISER_ID, foreign_key="organiser.id", index=True)
    status: str = Field(default=RoundStatus.OPEN, max_length=16, index=True)
    opened_at: datetime = utc_field()
    closes_at: datetime = utc_field(index=True)
    closed_at: datetime | None = utc_field(nullable=True)
    confirmed_at: datetime | None = utc_field(nullable=True)
    opened_by_id: int | None = Field(default=None, foreign_key="member.id")
    confirmed_by_id: int | None = Field(default=None, foreign_key="member.id")
    # The rules per title as read from refdata/council_rules.yaml at opening (with sources):
    # later edits of the file do not change a running round.
    rules: dict[str, Any] = json_field()
    # Voting members at opening (council_member ids): "all members" means these.
    electorate: list[int] = json_field()
    # HMAC key of secret ballots; NULL once the round is closed (see the module docstring).
    ballot_secret: str | None = Field(default=None, max_length=64)
    # How the round closed: "time", "all_voted" or "admin".
    closed_how: str | None = Field(default=None, max_length=16)
    # Voters who took part (voted on at least one item), counted at closing.
    present: int = 0


class CouncilItem(SQLModel, table=True):
    """One nominee (người/tập thể được đề nghị) for one title in a round."""

    __tablename__ = "council_item"

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="council_round.id", index=True)
    position: int = 0
    nomination_id: int | None = Field(default=None, foreign_key="nomination.id")
    report_id: int | None = Field(default=None, foreign_key="report.id")
    unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    nominee_type: str = Field(default="individual", max_length=16)
    nominee_name: str = Field(max_length=200)
    award: str = Field(max_length=120)  # award code (refdata/awards.yaml)
    secret: bool = True
    # Filled at closing: counts only.
    yes: int | None = None
    no: int | None = None
    voters: int | None = None
    passed: bool | None = None
    # The award decision once it arrives (số quyết định), recorded by the admin.
    decision_number: str | None = Field(default=None, max_length=64)


class CouncilVoteMark(SQLModel, table=True):
    """That a member has voted on an item — never what they chose."""

    __tablename__ = "council_vote_mark"
    __table_args__ = (sa.UniqueConstraint("item_id", "member_id", name="uq_council_vote_mark"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="council_round.id", index=True)
    item_id: int = Field(foreign_key="council_item.id")
    member_id: int = Field(foreign_key="member.id")
    at: datetime = utc_field()


class Choice:
    YES = "yes"  # Đồng ý
    NO = "no"  # Không đồng ý
    ALL = (YES, NO)


class CouncilBallot(SQLModel, table=True):
    """A ballot. Secret: `key` is an HMAC naming nobody, `member_id` NULL, deleted at closing.
    Open: `key` is "m<member id>", `member_id` set, kept."""

    __tablename__ = "council_ballot"

    key: str = Field(primary_key=True, max_length=80)
    item_id: int = Field(foreign_key="council_item.id", index=True)
    choice: str = Field(max_length=8)
    member_id: int | None = Field(default=None, foreign_key="member.id")


class CouncilReminderStatus(StrEnum):
    CLAIMED = "claimed"  # committed before the send: never sent twice
    SENT = "sent"
    SKIPPED = "skipped"  # out of the platform's reply window (Zalo): recorded, never sent late


class CouncilReminder(SQLModel, table=True):
    """A reminder to vote: claimed (unique key committed) before it is sent, so never twice."""

    __tablename__ = "council_reminder"
    __table_args__ = (
        sa.UniqueConstraint("round_id", "member_id", "slot", name="uq_council_reminder"),
    )

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="council_round.id", index=True)
    member_id: int = Field(foreign_key="member.id")
    slot: str = Field(max_length=32)
    status: str = Field(default=CouncilReminderStatus.CLAIMED, max_length=16)
    claimed_at: datetime = utc_field()
    sent_at: datetime | None = utc_field(nullable=True)


# --- bloc scoring -------------------------------------------------------------------------------
class ScoringSheet(SQLModel, table=True):
    """A scoring table (refdata/scoring/<table>.yaml) attached to a campaign for one bloc."""

    __tablename__ = "scoring_sheet"
    __table_args__ = (sa.UniqueConstraint("campaign_id", "bloc", name="uq_scoring_sheet_bloc"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    bloc: str = Field(max_length=120)
    table_code: str = Field(max_length=64)
    # The table as it was when attached (criteria, maxima, tie-break, proposals).
    table: dict[str, Any] = json_field()
    created_at: datetime = utc_field()
    created_by_id: int | None = Field(default=None, foreign_key="member.id")


class ScoreCardStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class ScoreCard(SQLModel, table=True):
    """A unit's self-assessment (tự chấm điểm) on a sheet."""

    __tablename__ = "score_card"
    __table_args__ = (sa.UniqueConstraint("sheet_id", "unit_id", name="uq_score_card_unit"),)

    id: int | None = Field(default=None, primary_key=True)
    sheet_id: int = Field(foreign_key="scoring_sheet.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    status: str = Field(default=ScoreCardStatus.DRAFT, max_length=16)
    submitted_at: datetime | None = utc_field(nullable=True)
    submitted_by_id: int | None = Field(default=None, foreign_key="member.id")
    updated_at: datetime = utc_field()


class ScoreLine(SQLModel, table=True):
    """Points for one criterion (or bonus/penalty item) of a card: the unit's and the review's."""

    __tablename__ = "score_line"
    __table_args__ = (sa.UniqueConstraint("card_id", "criterion", name="uq_score_line"),)

    id: int | None = Field(default=None, primary_key=True)
    card_id: int = Field(foreign_key="score_card.id", index=True)
    criterion: str = Field(max_length=64)
    # Hundredths of a point: exact sums, no float drift in a ranking.
    self_centi: int = 0
    evidence: list[int] = json_field()  # attachment ids
    adjusted_centi: int | None = None
    adjust_reason: str | None = Field(default=None, max_length=1000)
    adjusted_by_id: int | None = Field(default=None, foreign_key="member.id")
    adjusted_at: datetime | None = utc_field(nullable=True)
