"""Telegram polish: one update's note and question go out as one message on channels that count
messages per chat, and nothing is joined where it would lose something."""

from __future__ import annotations

from bot.events import Address, Button, Delivery, Outbound, OutboundFile
from bot.hub import coalesce

TG, ZALO = Address("telegram", "1"), Address("zalo", "1")


def _joins(channel: str) -> bool:
    return channel == "telegram"


def test_a_note_and_the_question_after_it_become_one_message() -> None:
    note = Delivery(TG, Outbound("Không có lựa chọn đó."))
    question = Delivery(TG, Outbound("Câu 1/7 · Danh hiệu", [[Button("Tiên tiến", "c:0")]]))
    [joined] = coalesce([note, question], _joins)
    assert joined.message.text == "Không có lựa chọn đó.\n\nCâu 1/7 · Danh hiệu"
    assert joined.message.buttons == question.message.buttons


def test_nothing_is_joined_where_it_would_lose_something() -> None:
    note = Delivery(TG, Outbound("Đây là tệp:"))
    document = Delivery(TG, Outbound("", document=OutboundFile("x.xlsx", b"PK")))
    edit = Delivery(TG, Outbound("đã gửi 3/4", edit_message_id="9"))
    with_buttons = Delivery(TG, Outbound("Chọn:", [[Button("A", "a")]]))
    after_buttons = Delivery(TG, Outbound("Thêm một dòng"))
    assert len(coalesce([note, document], _joins)) == 2
    assert len(coalesce([note, edit], _joins)) == 2
    assert len(coalesce([with_buttons, after_buttons], _joins)) == 2  # buttons stay last
    assert (
        len(coalesce([Delivery(ZALO, Outbound("a")), Delivery(ZALO, Outbound("b"))], _joins)) == 2
    )
    other_chat = Delivery(Address("telegram", "2"), Outbound("b"))
    assert len(coalesce([note, other_chat], _joins)) == 2
    long = Delivery(TG, Outbound("x" * 3000))
    assert len(coalesce([long, Delivery(TG, Outbound("y" * 1000))], _joins)) == 2
