"""Award history (lịch sử khen thưởng) and the admin's overrides of eligibility rules.

An `AwardRecord` is one title or form of commendation already received — by a unit (no
person) or by a person of that unit — with its year, decision and issuer. Records come from
an imported CSV/XLSX (`thidua-bot awards import`) or are recorded when a campaign's results
are decided; they pre-fill part III of the achievement reports and feed the eligibility checks
of nominations (domain/awards.py). An `EligibilityOverride` is an admin's decision to let a
nomination through although a rule refused it, with the reason, kept for the audit.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import utc_field


class AwardRecord(SQLModel, table=True):
    __tablename__ = "award_record"
    __table_args__ = (
        sa.UniqueConstraint("unit_id", "person_key", "year", "award", name="uq_award_record"),
    )

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    # Empty for the unit itself (a collective); else the person's name as written.
    person_name: str = Field(default="", max_length=120)
    # The name folded (no diacritics, lower case, single spaces): what matching compares.
    person_key: str = Field(default="", max_length=120, index=True)
    year: int
    # The code of refdata/awards.yaml when the title is known there, else the label itself.
    award: str = Field(max_length=200)
    award_label: str = Field(max_length=200)
    decision_number: str = Field(default="", max_length=80)
    decision_date: date | None = None
    issuer: str = Field(default="", max_length=200)
    campaign_id: int | None = Field(default=None, foreign_key="campaign.id")
    source: str = Field(default="import", max_length=16)  # import | campaign
    created_at: datetime = utc_field()


class EligibilityOverride(SQLModel, table=True):
    __tablename__ = "eligibility_override"
    __table_args__ = (
        sa.UniqueConstraint(
            "report_id", "nominee_key", "award", "rule", name="uq_eligibility_override"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", index=True)
    nominee_key: str = Field(max_length=200)
    award: str = Field(max_length=200)
    rule: str = Field(max_length=64)
    reason: str = Field(max_length=1000)
    actor_id: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = utc_field()
