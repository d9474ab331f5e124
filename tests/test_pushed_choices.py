"""A reminder's «Làm báo cáo» stays usable after later questions (issue 17): on channels that
number the choices (Zalo, the console), choices of messages the bot sends on its own are marked
with letters that no later question reuses, and typing the letter still chooses them; numbers
keep meaning the conversation's latest question."""

from __future__ import annotations

import io
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.channels.choices import (
    PUSHED_MARKERS,
    DbChoiceStore,
    MemoryChoiceStore,
    Offer,
    record_sent,
    resolve,
)
from bot.channels.console import ConsoleChannel
from bot.clock import ManualClock
from bot.events import Button, Inbound, Outbound
from bot.runtime import build_core
from tests.fakes.zalo_api import FakeZalo
from tests.utils.factories import make_campaign, make_deadline, make_member, make_unit
from tests.utils.http import until
from tests.utils.reminders import local, scheduler_for

OFFICER = "6ede9afa66b88fe6d6a9"
REMIND = Outbound("Nhắc hạn nộp: Báo cáo sơ kết", [[Button("📝 Làm báo cáo", "rp:7")]])


def _question(update_id: str) -> tuple[Outbound, Inbound]:
    buttons = [[Button("Xã", "k:xa")], [Button("Trường", "k:tr")]]
    return Outbound("Loại đơn vị?", buttons), Inbound("zalo", "1", "1", update_id=update_id)


def _stores(engine: Engine, clock: ManualClock) -> list[MemoryChoiceStore | DbChoiceStore]:
    return [MemoryChoiceStore(), DbChoiceStore(engine, clock, "zalo")]


def test_a_pushed_choice_outlives_later_questions_and_numbers_stay_the_conversations(
    engine: Engine, clock: ManualClock
) -> None:
    for store in _stores(engine, clock):
        assert record_sent(store, "1", REMIND, None) == ["A"]
        question, update = _question("u1")
        assert record_sent(store, "1", question, update) == ["1", "2"]
        record_sent(store, "1", Outbound("Đã lưu"), Inbound("zalo", "1", "1", update_id="u2"))
        assert resolve(store, "1", "a") == Button("📝 Làm báo cáo", "rp:7")
        assert resolve(store, "1", "#A") == Button("📝 Làm báo cáo", "rp:7")
        assert resolve(store, "1", "1") is None  # the question was answered: numbers ended
        assert resolve(store, "1", "B") is None and resolve(store, "1", "ab") is None
        # A pushed message in the middle of a question leaves the question's numbers alone.
        record_sent(store, "1", question, Inbound("zalo", "1", "1", update_id="u3"))
        notice = Outbound("Đăng ký mới", [[Button("Duyệt", "ok:3"), Button("Từ chối", "no:3")]])
        assert record_sent(store, "1", notice, None) == ["B", "C"]
        assert resolve(store, "1", "2") == Button("Trường", "k:tr")
        assert resolve(store, "1", "c") == Button("Từ chối", "no:3")
        assert resolve(store, "1", "A") == Button("📝 Làm báo cáo", "rp:7")


def test_letters_come_round_and_forget_only_the_oldest(engine: Engine, clock: ManualClock) -> None:
    for store in _stores(engine, clock):
        for number in range(len(PUSHED_MARKERS) + 1):
            record_sent(
                store, "2", Outbound("x", [[Button(f"Việc {number}", f"v:{number}")]]), None
            )
        assert resolve(store, "2", "A") == Button(f"Việc {len(PUSHED_MARKERS)}", "v:19")
        assert resolve(store, "2", "B") == Button("Việc 1", "v:1")
        store.clear("2")  # the conversation's numbers only
        assert resolve(store, "2", "B") == Button("Việc 1", "v:1")
        assert store.load("2") is None


async def test_a_reminders_choice_works_after_a_later_numbered_question_on_zalo(
    zalo_api: FakeZalo, zalo_bot, clock: ManualClock
) -> None:
    _, core = zalo_bot
    core.flood.limit = 10_000
    with Session(core.engine, expire_on_commit=False) as db:
        unit = make_unit(db, "Xã Bình Lư")
        make_member(db, OFFICER, unit=unit, channel="zalo", name="Lò Văn Tâm")
        campaign = make_campaign(db)
        make_deadline(db, campaign, due_at=local(2026, 3, 12, 17), title="Báo cáo sơ kết")
        make_deadline(db, campaign, due_at=local(2026, 5, 29, 17), title="Báo cáo tổng kết")
        db.commit()
    api = zalo_api
    clock.set(local(2026, 3, 5, 8))
    # Zalo lets a bot write only for a while after the person's last message.
    await until(api, OFFICER, "Lò Văn Tâm", lambda: api.push_text(OFFICER, "/start"))
    before = len(api.sent[OFFICER])
    assert (await scheduler_for(core).tick()).reminders.sent == 1
    reminder = await api.wait_for_text(OFFICER, "Nhắc hạn nộp: Báo cáo sơ kết", after=before)
    [(marker, label)] = reminder.choices
    assert "Làm báo cáo" in label
    assert "bấm" not in reminder.text.lower()  # worded for a chat without buttons

    # A later message offers numbered choices: which report to open.
    listing = await until(api, OFFICER, "tổng kết", lambda: api.push_text(OFFICER, "/baocao"))
    assert len(listing.choices) >= 2
    assert marker not in [m for m, _ in listing.choices]  # the reminder's own mark
    # The reminder's choice still opens its report, not the listing's choice of that mark.
    after = len(api.sent[OFFICER])
    await until(api, OFFICER, "Câu 1/", lambda: api.push_text(OFFICER, marker.lower()))
    opened = "\n".join(api.texts(OFFICER)[after:])
    assert "Báo cáo sơ kết" in opened and "tổng kết" not in opened


async def test_the_console_letters_a_notice_from_another_terminal(tmp_path: Path) -> None:
    def console(user_id: str, name: str) -> ConsoleChannel:
        return ConsoleChannel(
            user_id=user_id, display_name=name, spool_dir=tmp_path / "c", out=io.StringIO()
        )

    admin, officer = console("1", "Admin"), console("2", "Cán bộ")
    await admin.send("2", REMIND)  # a reminder from the scheduler of another terminal
    officer.drain_spool()
    assert "  A. 📝 Làm báo cáo" in officer.out.getvalue()
    question, _ = _question("")
    await officer.send("2", question, Inbound("console", "2", "2"))
    assert "  1. Xã" in officer.out.getvalue()
    assert officer.to_inbound("1").payload == "k:xa"  # type: ignore[union-attr]
    assert officer.to_inbound("a").payload == "rp:7"  # type: ignore[union-attr]


async def test_over_the_console_core_a_pushed_notice_keeps_its_letter(
    tmp_path: Path, settings, engine: Engine, clock: ManualClock
) -> None:
    core = build_core(settings, engine=engine, clock=clock, migrate=False)
    channel = ConsoleChannel(
        user_id="1", display_name="Lò Văn Tâm", spool_dir=tmp_path / "c", out=io.StringIO()
    )
    core.hub.register(channel)
    await channel.send("1", REMIND)  # pushed: no update answered
    await core.process(channel.to_inbound("/trogiup"))  # type: ignore[arg-type]
    assert channel.to_inbound("A").payload == "rp:7"  # type: ignore[union-attr]
    assert Offer(()).resolve("A") is None
