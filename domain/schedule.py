"""When reminders fall due (lịch nhắc): the working-day calendar with public holidays and
Saturdays worked in exchange, a deadline's reminder policy (quiet hours, days before, overdue
repeats) and its slots.

Slots. Each reminder of a deadline is a slot named by its kind and the due date it was computed
for, e.g. `before-7d@20260316`, `due@20260316`, `overdue-2@20260316`; an admin's "Nhắc ngay" is
`manual@2026031409` (keyed by the local hour). Editing the due date gives new slot names, so the
reminders move with it; editing anything else keeps them.

"Still relevant" (what is caught up after down-time). At each tick only the latest slot that has
fallen due is considered — an older missed one is superseded by it, so a unit never gets two
reminders at once. It is sent (once) when: the campaign is active; the slot fell due after the
campaign was activated and the deadline created; it fell due less than `catchup_hours` ago
(48 h by default); a before-deadline or due-day slot only while the deadline has not passed; and
not during quiet hours (it then waits for their end). So a bot that was down over a weekend
sends Friday's reminder on Monday morning, but a bot down for a week does not send reminders
about a deadline long past: the next scheduled slot, if any, goes at its time.

The delivery log that makes each reminder go once is `domain.ledger`; the admins' digest is
`domain.digest`. This module must not send, render messages or read the clock.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from domain.yamlfile import load_yaml
from models.campaigns import Campaign, CampaignStatus, Deadline

log = logging.getLogger("thidua.reminders")

HOLIDAYS_FILE = Path(__file__).resolve().parent.parent / "refdata" / "holidays.yaml"


# --- calendar -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class WorkCalendar:
    """Working days: Monday–Friday minus public holidays, plus Saturdays worked in exchange."""

    holidays: frozenset[date] = frozenset()
    working_days: frozenset[date] = frozenset()

    def is_day_off(self, day: date) -> bool:
        if day in self.working_days:
            return False
        return day.weekday() >= 5 or day in self.holidays

    def previous_working_day(self, day: date) -> date:
        for _ in range(366):
            if not self.is_day_off(day):
                return day
            day -= timedelta(days=1)
        return day

    def next_working_day(self, day: date) -> date:
        for _ in range(366):
            if not self.is_day_off(day):
                return day
            day += timedelta(days=1)
        return day


def _dates(entries: Iterable[Any]) -> dict[date, str]:
    result: dict[date, str] = {}
    for entry in entries or []:
        if isinstance(entry, dict):
            day, name = entry.get("date"), str(entry.get("name") or "")
        else:
            day, name = entry, ""
        if isinstance(day, str):
            day = date.fromisoformat(day)
        if not isinstance(day, date):
            raise ValueError(f"ngày không hợp lệ trong danh sách ngày nghỉ: {entry!r}")
        result[day] = name
    return result


@cache
def load_calendar(path: Path | None = None) -> WorkCalendar:
    """The calendar from `refdata/holidays.yaml` (or HOLIDAYS_FILE)."""
    data = load_yaml((path or HOLIDAYS_FILE).read_text(encoding="utf-8")) or {}
    holidays = _dates(data.get("holidays") or [])
    working = _dates(data.get("working_days") or [])
    return WorkCalendar(frozenset(holidays), frozenset(working))


# --- policy ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Policy:
    """When a deadline's reminders go. Stored on the deadline as overrides of the defaults."""

    enabled: bool = True
    before_days: tuple[int, ...] = (7, 3, 1)
    on_due_day: bool = True
    send_at: time = time(8, 0)
    overdue_every_days: int = 2
    overdue_max: int = 3
    quiet_start: time = time(21, 0)
    quiet_end: time = time(7, 0)
    # Weekends and holidays move a before-deadline reminder to the previous working day and an
    # overdue one to the next.
    shift_days_off: bool = True
    catchup_hours: int = 48

    def is_quiet(self, local: datetime) -> bool:
        moment = local.time()
        if self.quiet_start == self.quiet_end:
            return False
        if self.quiet_start > self.quiet_end:  # over midnight, e.g. 21:00–07:00
            return moment >= self.quiet_start or moment < self.quiet_end
        return self.quiet_start <= moment < self.quiet_end

    def after_quiet(self, local: datetime) -> datetime:
        """`local` itself, or the end of the quiet hours it falls in."""
        if not self.is_quiet(local):
            return local
        release = local.replace(
            hour=self.quiet_end.hour, minute=self.quiet_end.minute, second=0, microsecond=0
        )
        if release <= local:
            release += timedelta(days=1)
        return release


DEFAULT_POLICY = Policy()
_TIME_FIELDS = ("send_at", "quiet_start", "quiet_end")


def _parse_hhmm(value: object, fallback: time) -> time:
    try:
        hour, minute = str(value).split(":")
        return time(int(hour), int(minute))
    except (ValueError, TypeError):
        return fallback


def policy_from_overrides(overrides: dict[str, Any] | None) -> Policy:
    """The policy for stored overrides; unknown keys and bad values fall back to defaults."""
    policy = DEFAULT_POLICY
    for key, value in (overrides or {}).items():
        default = getattr(DEFAULT_POLICY, key, None)
        if default is None or key.startswith("_"):
            continue
        try:
            if key in _TIME_FIELDS:
                changes: dict[str, Any] = {key: _parse_hhmm(value, default)}
                policy = replace(policy, **changes)
            elif key == "before_days":
                days = sorted({int(d) for d in value if 0 < int(d) <= 365}, reverse=True)
                policy = replace(policy, before_days=tuple(days))
            elif isinstance(default, bool):
                changes = {key: bool(value)}
                policy = replace(policy, **changes)
            else:
                changes = {key: max(0, int(value))}
                policy = replace(policy, **changes)
        except (TypeError, ValueError):
            log.warning("reminder policy: ignoring bad %s=%r", key, value)
    if policy.overdue_every_days < 1:
        policy = replace(policy, overdue_every_days=1)
    return policy


def policy_overrides(policy: Policy) -> dict[str, Any]:
    """What differs from the defaults, as JSON for Deadline.reminder_policy."""
    result: dict[str, Any] = {}
    for key in Policy.__slots__:
        value = getattr(policy, key)
        if value == getattr(DEFAULT_POLICY, key):
            continue
        if isinstance(value, time):
            value = value.strftime("%H:%M")
        elif isinstance(value, tuple):
            value = list(value)
        result[key] = value
    return result


def policy_of(deadline: Deadline) -> Policy:
    return policy_from_overrides(deadline.reminder_policy)


# --- slots ----------------------------------------------------------------------------------
class SlotKind:
    BEFORE = "before"
    DUE = "due"
    OVERDUE = "overdue"
    MANUAL = "manual"


@dataclass(frozen=True, slots=True)
class Slot:
    key: str
    kind: str
    fire_at: datetime  # UTC


def _stamp(due_at: datetime, tz: ZoneInfo) -> str:
    return due_at.astimezone(tz).strftime("%Y%m%d")


def manual_slot_key(now: datetime, tz: ZoneInfo) -> str:
    return f"{SlotKind.MANUAL}@{now.astimezone(tz):%Y%m%d%H}"


def slot_kind(key: str) -> str:
    return key.split("@", 1)[0].split("-", 1)[0]


def schedule(
    due_at: datetime, policy: Policy, *, tz: ZoneInfo, calendar: WorkCalendar
) -> list[Slot]:
    """Every reminder of a deadline, in order. Two that land on the same day are merged into
    the one closer to the deadline (a long holiday such as Tết can pull 7-, 3- and 1-day
    reminders onto one working day: the units get one message, saying the real time left)."""
    if not policy.enabled:
        return []
    due_local = due_at.astimezone(tz)
    stamp = _stamp(due_at, tz)
    planned: list[tuple[str, str, date]] = []
    for days in policy.before_days:
        day = due_local.date() - timedelta(days=days)
        if policy.shift_days_off:
            day = calendar.previous_working_day(day)
        planned.append((f"{SlotKind.BEFORE}-{days}d", SlotKind.BEFORE, day))
    if policy.on_due_day:
        # A deadline on a Sunday or a holiday: its due-day reminder goes on the working day
        # before, as the schedule text promises (nobody reads a reminder on their day off).
        day = due_local.date()
        if policy.shift_days_off:
            day = calendar.previous_working_day(day)
        planned.append((SlotKind.DUE, SlotKind.DUE, day))
    for index in range(1, policy.overdue_max + 1):
        day = due_local.date() + timedelta(days=index * policy.overdue_every_days)
        if policy.shift_days_off:
            day = calendar.next_working_day(day)
        planned.append((f"{SlotKind.OVERDUE}-{index}", SlotKind.OVERDUE, day))
    by_day: dict[date, Slot] = {}
    for name, kind, day in planned:
        local = policy.after_quiet(datetime.combine(day, policy.send_at, tzinfo=tz))
        fire_at = local.astimezone(UTC)
        if kind != SlotKind.OVERDUE and fire_at >= due_at:
            continue  # a reminder before the deadline that would come after it
        if kind == SlotKind.OVERDUE and fire_at <= due_at:
            continue
        # Later entries are closer to (or further past) the deadline: they win a shared day.
        by_day[local.date()] = Slot(f"{name}@{stamp}", kind, fire_at)
    return sorted(by_day.values(), key=lambda s: s.fire_at)


def _anchor(deadline: Deadline, campaign: Campaign) -> datetime:
    """Reminders that fell due before this were never owed (the deadline or the campaign's
    activation came later)."""
    moments = [deadline.created_at]
    if campaign.activated_at is not None:
        moments.append(campaign.activated_at)
    return max(moments)


def current_slot(
    deadline: Deadline, campaign: Campaign, *, now: datetime, calendar: WorkCalendar
) -> Slot | None:
    """The scheduled reminder to send now, if any (see "still relevant" above)."""
    if campaign.status != CampaignStatus.ACTIVE:
        return None
    policy = policy_of(deadline)
    tz = ZoneInfo(campaign.timezone)
    fallen = [
        s for s in schedule(deadline.due_at, policy, tz=tz, calendar=calendar) if s.fire_at <= now
    ]
    if not fallen:
        return None
    latest = fallen[-1]
    if irrelevance(latest, deadline, campaign, policy, now) is not None:
        return None
    if policy.is_quiet(now.astimezone(tz)):
        return None
    return latest


def irrelevance(
    slot: Slot, deadline: Deadline, campaign: Campaign, policy: Policy, now: datetime
) -> str | None:
    """Why a slot that fell due is no longer worth sending, or None when it still is."""
    if slot.fire_at < _anchor(deadline, campaign):
        return "before_activation"
    if now - slot.fire_at > timedelta(hours=policy.catchup_hours):
        return "too_late"
    if slot.kind in (SlotKind.BEFORE, SlotKind.DUE) and now >= deadline.due_at:
        return "deadline_passed"
    return None
