"""Writing the audit log: one call per admin action or refused attempt.

A transaction opened by another door than the chat (the web desk) says so once with
`via(session, "qua web")`; every row written in it then carries `detail["via"]`, so the same
domain functions serve both doors without a parameter threaded through each of them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from models.audit import AuditLog
from models.units import Member

_VIA = "audit_via"
_ORGANISER = "audit_organiser"


def via(session: Session, label: str) -> None:
    """Mark every audit row written in this session as done through `label` ("qua web")."""
    session.info[_VIA] = label


def within(session: Session, organiser_id: int) -> None:
    """Rows written in this session without naming an organiser belong to `organiser_id` (the
    one a web desk admin acts for): its admins read them in /nhatky and on the desk."""
    session.info[_ORGANISER] = organiser_id


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
        detail={**(detail or {}), **({"via": session.info[_VIA]} if _VIA in session.info else {})},
        organiser_id=organiser_id if organiser_id is not None else session.info.get(_ORGANISER),
    )
    session.add(entry)
    return entry
