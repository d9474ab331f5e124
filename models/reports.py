"""Reports (báo cáo) a unit submits for a deadline, their versions, nominations and files.

There is one `Report` per (unit, deadline), shared by the unit's officers. Answers are a JSON
object keyed by form field id rather than a row per answer: forms are data that change between
campaigns, the whole answer set is read and written together, and validation happens against
the form in `domain.forms`, not in the schema. What must be queried across units — nominations
(đề nghị khen thưởng) and files — gets rows of its own. Every submission is kept as a
`ReportVersion`, so an amendment never loses what was sent before.

`Report.answers` is the shared working copy, saved answer by answer (a key with value null is
an optional question skipped; a missing key, one not reached yet). What the unit handed in is
the latest `ReportVersion` (`domain.reports.submitted_answers`): the two differ while an
amendment is being prepared. `Nomination` rows are rebuilt from the submitted answers.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import json_field, utc_field


class ReportStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    ACCEPTED = "accepted"
    REOPENED = "reopened"


class Report(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("unit_id", "deadline_id", name="uq_report_unit"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    deadline_id: int = Field(foreign_key="deadline.id", index=True)
    status: str = Field(default=ReportStatus.DRAFT, max_length=16, index=True)
    # Number of the last submitted version; 0 while never submitted.
    version: int = 0
    answers: dict[str, Any] = json_field()
    reference: str | None = Field(default=None, max_length=32)
    submitted_at: datetime | None = utc_field(nullable=True)
    submitted_by_id: int | None = Field(default=None, foreign_key="member.id")
    on_time: bool | None = None
    return_reason: str | None = Field(default=None, max_length=1000)
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()
    # Bumped on every write; a writer holding an older value retries (no lost update).
    revision: int = 0


class ReportVersion(SQLModel, table=True):
    __tablename__ = "report_version"
    __table_args__ = (sa.UniqueConstraint("report_id", "version", name="uq_report_version"),)

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", index=True)
    version: int
    answers: dict[str, Any] = json_field()
    submitted_at: datetime = utc_field()
    submitted_by_id: int | None = Field(default=None, foreign_key="member.id")
    on_time: bool = True


class Nomination(SQLModel, table=True):
    """One entry of a nomination report: who is proposed for which form of commendation."""

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", index=True)
    position: int = 0
    nominee_type: str = Field(default="individual", max_length=16)  # individual | collective
    full_name: str = Field(max_length=200)
    job_title: str = Field(default="", max_length=200)
    unit_name: str = Field(default="", max_length=200)
    award: str = Field(default="", max_length=120)
    summary: str = Field(default="", max_length=4000)


class Attachment(SQLModel, table=True):
    """A file an officer sent for a report field, kept by its channel id and on local disk."""

    id: int | None = Field(default=None, primary_key=True)
    report_id: int | None = Field(default=None, foreign_key="report.id", index=True)
    field_id: str = Field(default="", max_length=64)
    channel: str = Field(max_length=32)
    file_id: str = Field(max_length=256)
    file_unique_id: str | None = Field(default=None, max_length=128)
    file_name: str = Field(default="", max_length=255)
    mime_type: str = Field(default="", max_length=120)
    size: int = 0
    sha256: str | None = Field(default=None, max_length=64)
    # Path relative to STORAGE_DIR, a generated name: nothing from the user reaches the disk.
    stored_path: str | None = Field(default=None, max_length=255)
    uploaded_by_id: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = utc_field()
    meta: dict[str, Any] = json_field()
