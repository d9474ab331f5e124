"""The audit log (nhật ký): who did what to what, when, and whether it was allowed.

Rows are only ever appended. Admin actions and refused attempts are written here by
`domain.audit.record`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from models.base import json_field, utc_field


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = utc_field(index=True)
    actor_id: int | None = Field(default=None, foreign_key="member.id")
    # channel:user_id, kept even when the actor is not (or no longer) a member.
    actor: str = Field(max_length=100)
    action: str = Field(max_length=64, index=True)
    target_type: str | None = Field(default=None, max_length=32)
    target_id: str | None = Field(default=None, max_length=64)
    outcome: str = Field(default="ok", max_length=16)
    detail: dict[str, Any] = json_field()
    # The organiser the action was done in (None: not tied to one, e.g. a refused stranger).
    organiser_id: int | None = Field(default=None, foreign_key="organiser.id", index=True)
