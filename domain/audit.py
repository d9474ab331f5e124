"""Writing the audit log: one call per admin action or refused attempt."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from models.audit import AuditLog
from models.units import Member


def record(
    session: Session,
    *,
    now: datetime,
    action: str,
    actor: Member | None = None,
    actor_label: str | None = None,
    target_type: str | None = None,
    target_id: object = None,
    outcome: str = "ok",
    detail: dict[str, Any] | None = None,
    organiser_id: int | None = None,
) -> AuditLog:
    """Append one entry; `organiser_id` is the organiser it happened in (its admins read it)."""
    entry = AuditLog(
        at=now,
        actor_id=actor.id if actor else None,
        actor=actor_label or (f"{actor.channel}:{actor.user_id}" if actor else "system"),
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        outcome=outcome,
        detail=detail or {},
        organiser_id=organiser_id,
    )
    session.add(entry)
    return entry
