"""A report conversation left half-way by the code before the report filler was declared
(`bot.steps`): its state held raw keys ("n", "pos", "hist", "ret", "sel") and positions as
lists (`["q", group, index, sub]`). The declared flow reads it into `ReportChat` and goes on as
the old code would have; what it stores afterwards is the typed shape."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from bot.context import PROMPT_KEY
from domain.forms import REVIEW, UNKNOWN, Place, Position
from models.conversation import ConversationState
from models.reports import Report
from tests.utils.reports import ReportWorld, report_world
from tests.utils.scenario import TestBot

GROUP = "de_nghi"
ENTRY = {
    "doi_tuong": "individual",
    "ho_ten": "Lò Thị Mai",
    "chuc_vu": "Phó Chủ tịch UBND xã",
    "don_vi": "UBND xã Bình Lư",
    "hinh_thuc": "Giấy khen",
    "thanh_tich": "Hoàn thành xuất sắc nhiệm vụ",
    "minh_chung": None,
}


def _old_state(world: ReportWorld, report_id: int) -> dict[str, Any]:
    """Editing entry 1 from the group's menu, at its 4th question (đơn vị), as the old code
    saved it: back to the menu when the entry is done, the review and the menu behind."""
    return {
        "report_id": report_id,
        "deadline_id": world.deadline_id,
        "form": "de-nghi-khen-thuong",
        "n": 7,
        "hist": [["review"], ["menu", GROUP]],
        "mode": "edit",
        "ret": ["menu", GROUP],
        "pos": ["q", GROUP, 0, "don_vi"],
        PROMPT_KEY: {
            "text": "Đơn vị công tác?",
            "buttons": [[["↩ Giữ nguyên", "rpa:7:keep"]]],
            "accepts_text": True,
        },
    }


async def _left_by_the_old_code(bot: TestBot) -> tuple[ReportWorld, dict[str, Any]]:
    world = report_world(bot, "de-nghi-khen-thuong")
    await world.officer.says("/baocao")
    await world.officer.says("/huy")
    report_id = world.report().id
    assert report_id is not None
    with bot.db() as db:  # one complete entry
        report = db.get(Report, report_id)
        assert report is not None
        report.answers = {GROUP: [dict(ENTRY)]}
        report.revision += 1
        db.commit()
    old = _old_state(world, report_id)
    _store_state(bot, world, old)
    return world, old


def _store_state(bot: TestBot, world: ReportWorld, data: dict[str, Any]) -> None:
    with bot.db() as db:
        state = db.exec(
            select(ConversationState).where(ConversationState.chat_id == world.officer.user_id)
        ).one()
        state.flow, state.step, state.data = "report", "question", dict(data)
        db.add(state)
        db.commit()


def _stored(bot: TestBot, world: ReportWorld) -> dict[str, Any]:
    with bot.db() as db:
        return (
            db.exec(
                select(ConversationState).where(ConversationState.chat_id == world.officer.user_id)
            )
            .one()
            .data
        )


async def test_an_old_edit_of_an_entry_goes_on_and_returns_to_the_menu(bot: TestBot) -> None:
    world, _ = await _left_by_the_old_code(bot)
    officer = world.officer
    # The button shown by the old code still answers (its serial was "n").
    await officer.presses_payload("rpa:7:keep")
    assert "mục 1, câu 5/7" in officer.last_reply  # edit mode walks on: hình thức
    stored = _stored(bot, world)
    assert "pos" not in stored and "n" not in stored and "hist" not in stored
    assert stored["at"] == {"kind": "question", "field": GROUP, "entry": 0, "sub": "hinh_thuc"}
    assert stored["back_to"] == {"kind": "menu", "field": GROUP}
    assert stored["serial"] == 8 and stored["mode"] == "edit"
    await officer.presses("Giữ nguyên")
    await officer.presses("Giữ nguyên")
    assert "mục 1, câu 7/7" in officer.last_reply
    await officer.says("/boqua")
    # The end of the entry goes back where the old code was to return: the group's menu.
    assert "🗑 Xoá mục 1" in officer.buttons and "1 mục" in officer.last_reply
    await officer.presses("Xong")
    assert "Xem lại" in officer.last_reply
    assert world.report().answers[GROUP][0]["ho_ten"] == "Lò Thị Mai"


async def test_quaylai_walks_back_through_the_old_history(bot: TestBot) -> None:
    world, _ = await _left_by_the_old_code(bot)
    officer = world.officer
    await officer.says("UBND xã Bình Lư")
    assert "mục 1, câu 5/7" in officer.last_reply
    await officer.says("/quaylai")
    assert "mục 1, câu 4/7" in officer.last_reply and "Đang có: UBND xã Bình Lư" in (
        officer.last_reply
    )
    await officer.says("/quaylai")  # the places the old code had been: the menu, the review
    assert "🗑 Xoá mục 1" in officer.buttons
    await officer.says("/quaylai")
    assert "Xem lại" in officer.last_reply
    await officer.says("/quaylai")
    assert "câu đầu tiên" in officer.new_text


async def test_an_old_stale_button_and_an_old_position_that_went_away(bot: TestBot) -> None:
    world, old = await _left_by_the_old_code(bot)
    officer = world.officer
    await officer.presses_payload("rpa:6:keep")  # older than the screen the old code showed
    assert "Nút đó thuộc câu hỏi cũ" in officer.new_text
    assert _stored(bot, world)["pos"] == ["q", GROUP, 0, "don_vi"]  # nothing moved
    _store_state(bot, world, {**old, "pos": ["q", GROUP, 3, "don_vi"]})  # no 4th entry
    await officer.says("UBND xã Bình Lư")
    assert "không còn nữa" in officer.new_text and "Ghi chú" in officer.last_reply


def test_old_positions_are_read_into_typed_ones() -> None:
    read = Position.from_state
    assert read(["q", "ho_ten"]) == Position.question("ho_ten")
    assert read(["q", GROUP, 2, "don_vi"]) == Position(Place.QUESTION, GROUP, 2, "don_vi")
    assert read(["more", GROUP]) == Position.more(GROUP)
    assert read(["menu", GROUP]) == Position.menu(GROUP)
    assert read(["review"]) == REVIEW
    # What no longer makes sense moves the chat on; what is no position at all is dropped.
    assert read(["q", GROUP, 2]) == UNKNOWN and read(["q", GROUP, "x", "y"]) == UNKNOWN
    assert read({"kind": "sideways"}) == UNKNOWN
    assert read(None) is None and read("review") is None
    for position in (Position.question(GROUP, 0, "ho_ten"), Position.more(GROUP), REVIEW):
        assert read(position.to_state()) == position


async def test_old_ticks_of_a_multi_choice_question_are_kept(bot: TestBot) -> None:
    """Half-way through ticking (the old "sel"): «Xong» stores what was ticked."""
    world = report_world(bot)
    officer = world.officer
    await officer.says("/baocao")
    await officer.presses("Tập thể lao động tiên tiến")
    await officer.says("25")
    await officer.says("3")
    report_id = world.report().id
    assert report_id is not None and "Câu 4/7" in officer.last_reply
    ticked = "Thi đua đẩy mạnh chuyển đổi số"
    old = {
        "report_id": report_id,
        "deadline_id": world.deadline_id,
        "form": "dang-ky-thi-dua",
        "n": 4,
        "hist": [["q", "danh_hieu_tap_the"], ["q", "so_lao_dong_tien_tien"]],
        "mode": "fill",
        "pos": ["q", "phong_trao"],
        "sel": [ticked],
        PROMPT_KEY: {"text": "Phong trào?", "buttons": [], "accepts_text": False},
    }
    _store_state(bot, world, old)
    await officer.presses_payload("rpa:4:done")
    assert "Câu 5/7" in officer.last_reply
    assert world.report().answers["phong_trao"] == [ticked]
