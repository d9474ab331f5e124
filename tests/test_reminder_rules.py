"""Reminder timing without a database: the default policy, weekends and holidays (Tết), quiet
hours, policy overrides and the per-chat pacing of sends."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from bot.delivery import ChatPacer
from domain.schedule import (
    DEFAULT_POLICY,
    Policy,
    WorkCalendar,
    load_calendar,
    policy_from_overrides,
    policy_overrides,
    schedule,
)
from tests.utils.reminders import HANOI, local


def _plan(due: datetime, policy: Policy = DEFAULT_POLICY, calendar=None) -> list[str]:
    calendar = calendar or load_calendar()
    return [
        f"{s.key.split('@')[0]} {s.fire_at.astimezone(HANOI):%a %d/%m %H:%M}"
        for s in schedule(due.astimezone(UTC), policy, tz=HANOI, calendar=calendar)
    ]


def test_default_policy_on_a_plain_week() -> None:
    # Due Thursday 19/3/2026 17:00: 7, 3, 1 days before and the due day at 08:00, then every
    # 2 days. The first overdue day is a Saturday → Monday 23, where the second one falls too:
    # the two merge into one reminder.
    assert _plan(local(2026, 3, 19, 17)) == [
        "before-7d Thu 12/03 08:00",
        "before-3d Mon 16/03 08:00",
        "before-1d Wed 18/03 08:00",
        "due Thu 19/03 08:00",
        "overdue-2 Mon 23/03 08:00",
        "overdue-3 Wed 25/03 08:00",
    ]


def test_weekend_moves_a_reminder_to_friday_and_merges_two_on_one_day() -> None:
    # Due Monday 16/3: 1 day before is Sunday → Friday 13, where the 3-day reminder already is;
    # the units get one message that day (the one closer to the deadline).
    assert _plan(local(2026, 3, 16, 17)) == [
        "before-7d Mon 09/03 08:00",
        "before-1d Fri 13/03 08:00",
        "due Mon 16/03 08:00",
        "overdue-1 Wed 18/03 08:00",
        "overdue-2 Fri 20/03 08:00",
        "overdue-3 Mon 23/03 08:00",  # Sunday 22 → Monday
    ]


def test_tet_holidays_pull_reminders_before_the_break() -> None:
    # Tết Bính Ngọ: 16–20/2/2026 off (with the weekends 14–22/2). Due Monday 23/2 17:00:
    # the 7-, 3- and 1-day reminders all fall in the break → one reminder on Friday 13/2.
    assert _plan(local(2026, 2, 23, 17))[:2] == [
        "before-1d Fri 13/02 08:00",
        "due Mon 23/02 08:00",
    ]


def test_public_holiday_and_worked_saturday_from_the_list() -> None:
    calendar = load_calendar()
    assert calendar.is_day_off(local(2026, 4, 30).date())  # 30/4, a Thursday
    assert calendar.is_day_off(local(2026, 9, 2).date())
    assert not calendar.is_day_off(local(2026, 1, 10).date())  # Saturday worked for 2/1
    assert calendar.is_day_off(local(2027, 4, 16).date())  # Giỗ Tổ 2027
    # Due Monday 4/5/2026: 7 days before is Monday 27/4 (Giỗ Tổ, moved from Sunday) → Friday
    # 24/4; 3 days before is Friday 1/5 and 1 day before a Sunday: both go to Wednesday 29/4
    # (30/4 is a holiday too), as one reminder.
    assert _plan(local(2026, 5, 4, 17))[:3] == [
        "before-7d Fri 24/04 08:00",
        "before-1d Wed 29/04 08:00",
        "due Mon 04/05 08:00",
    ]


def test_holiday_list_is_configurable(tmp_path) -> None:
    path = tmp_path / "ngay-nghi.yaml"
    path.write_text(
        "holidays:\n  - {date: 2026-03-13, name: Ngày nghỉ của tỉnh}\n", encoding="utf-8"
    )
    calendar = load_calendar(path)
    assert calendar.is_day_off(local(2026, 3, 13).date())
    assert "before-1d Thu 12/03 08:00" in _plan(local(2026, 3, 16, 17), calendar=calendar)
    # Without weekends or holidays everything stays where the policy puts it.
    plain = _plan(
        local(2026, 3, 16, 17), policy=Policy(shift_days_off=False), calendar=WorkCalendar()
    )
    assert "before-1d Sun 15/03 08:00" in plain


def test_quiet_hours_make_a_late_reminder_wait_for_seven() -> None:
    policy = Policy(send_at=time(22, 0))
    plan = _plan(local(2026, 3, 19, 17), policy=policy)
    assert plan[0] == "before-7d Fri 13/03 07:00"  # Thursday 22:00 waits until 07:00
    assert policy.is_quiet(local(2026, 3, 12, 21, 0)) and policy.is_quiet(local(2026, 3, 13, 6, 59))
    assert not policy.is_quiet(local(2026, 3, 13, 7, 0))
    assert policy.after_quiet(local(2026, 3, 12, 23, 30)) == local(2026, 3, 13, 7, 0)
    assert policy.after_quiet(local(2026, 3, 13, 3, 0)) == local(2026, 3, 13, 7, 0)


def test_deadline_before_eight_has_no_due_day_reminder_after_it() -> None:
    plan = _plan(local(2026, 3, 19, 7, 30))
    assert not any(line.startswith("due ") for line in plan)


def test_policy_overrides_round_trip_and_bad_values_fall_back() -> None:
    policy = Policy(before_days=(10, 5), overdue_max=1)
    stored = policy_overrides(policy)
    assert stored == {"before_days": [10, 5], "overdue_max": 1}
    assert policy_from_overrides(stored) == policy
    assert policy_from_overrides({}) == DEFAULT_POLICY
    odd = policy_from_overrides({"send_at": "9h", "overdue_max": "x", "nonsense": 1})
    assert odd.send_at == time(8, 0) and odd.overdue_max == 3
    assert _plan(local(2026, 3, 19, 17), policy=Policy(enabled=False)) == []


async def test_pacer_spaces_sends_to_one_chat_and_not_others() -> None:
    now = [100.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    pacer = ChatPacer(1.0, monotonic=lambda: now[0], sleep=sleep)
    await pacer.wait(("telegram", "1"))
    await pacer.wait(("telegram", "2"))
    assert slept == []
    await pacer.wait(("telegram", "1"))
    assert slept == [1.0]
    now[0] += 5
    await pacer.wait(("telegram", "1"))
    assert slept == [1.0]
    assert timedelta(seconds=sum(slept)) == timedelta(seconds=1)


async def test_pacer_lets_through_a_channel_that_spaces_its_own_chats() -> None:
    """Telegram's outlet spaces every request to a chat itself (`Hub.spaces_chats`): pushed
    sends there are not paced a second time; other channels still are."""
    now = [100.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    pacer = ChatPacer(
        1.0,
        spaced_elsewhere=lambda channel: channel == "telegram",
        monotonic=lambda: now[0],
        sleep=sleep,
    )
    for _ in range(3):
        await pacer.wait(("telegram", "1"))
    assert slept == []
    await pacer.wait(("zalo", "1"))
    await pacer.wait(("zalo", "1"))
    assert slept == [1.0]
