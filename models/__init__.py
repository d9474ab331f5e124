"""SQLModel tables, one module per aggregate. Importing this package registers them all on
`SQLModel.metadata` (Alembic's env.py relies on it). Data access lives in `domain/`."""

from models.audit import AuditLog
from models.awards import AwardRecord, EligibilityOverride
from models.broadcasts import Broadcast, BroadcastRecipient
from models.campaigns import Campaign, CampaignParticipant, Deadline, ReminderLog
from models.conversation import ConversationState, OfferedChoice, ProcessedUpdate
from models.council import (
    CouncilBallot,
    CouncilItem,
    CouncilMember,
    CouncilReminder,
    CouncilRound,
    CouncilVoteMark,
    ScoreCard,
    ScoreLine,
    ScoringSheet,
)
from models.organisers import Organiser, OrganiserMember
from models.reports import Attachment, Nomination, Report, ReportVersion
from models.units import Invite, Member, Unit
from models.web import LoginToken

__all__ = [
    "Attachment",
    "AuditLog",
    "AwardRecord",
    "Broadcast",
    "BroadcastRecipient",
    "Campaign",
    "CampaignParticipant",
    "ConversationState",
    "CouncilBallot",
    "CouncilItem",
    "CouncilMember",
    "CouncilReminder",
    "CouncilRound",
    "CouncilVoteMark",
    "Deadline",
    "EligibilityOverride",
    "Invite",
    "LoginToken",
    "Member",
    "Nomination",
    "OfferedChoice",
    "Organiser",
    "OrganiserMember",
    "ProcessedUpdate",
    "ReminderLog",
    "Report",
    "ReportVersion",
    "ScoreCard",
    "ScoreLine",
    "ScoringSheet",
    "Unit",
]
