"""Declared conversation steps (bot/steps.py): the flow's data is a dataclass read back
tolerantly from the conversation state, and a conversation left half-way by the code before
the upgrade (raw dict keys) goes on."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import select

from bot.clock import ManualClock
from bot.context import PROMPT_KEY, Context
from bot.events import Inbound
from bot.services import Services
from bot.steps import Flow, Step
from models.conversation import ConversationState
from models.units import Unit
from tests.utils.factories import T0
from tests.utils.scenario import TestBot
from tests.utils.units import admin_of


@dataclass(slots=True)
class Draft:
    title: str = ""
    tags: list[str] = field(default_factory=list)


def _context(data: dict[str, object], step: str = "title") -> Context:
    state = ConversationState(channel="memory", chat_id="1", flow="demo", step=step, data=data)
    event = Inbound(channel="memory", chat_id="1", user_id="1", text="x")
    return Context(
        event=event,
        session=None,  # type: ignore[arg-type]  # not touched by these steps
        member=None,
        state=state,
        settings=None,  # type: ignore[arg-type]  # not touched by these steps
        clock=ManualClock(T0),
        services=Services(),
    )


def _flow() -> Flow[Draft]:
    def ask(ctx: Context, draft: Draft) -> None:
        ctx.ask(f"title? now {draft.title!r}")

    return Flow("demo", Draft, [Step("title", ask), Step("tags", ask)], legacy={"ttl": "title"})


def test_data_is_read_tolerantly_and_saved_with_the_prompt() -> None:
    flow = _flow()
    # Written by an older version: a renamed key, a key no longer used, a field missing.
    ctx = _context({"ttl": "Báo cáo quý", "old_position": ["q", 3], PROMPT_KEY: {"text": "?"}})
    draft = flow.data(ctx)
    assert draft == Draft(title="Báo cáo quý", tags=[])
    draft.tags.append("khối xã")
    flow.save(ctx, draft)
    assert ctx.data == {"title": "Báo cáo quý", "tags": ["khối xã"], PROMPT_KEY: {"text": "?"}}


def test_advancing_asks_the_next_step_with_the_data() -> None:
    flow = _flow()
    ctx = _context({"title": "Sơ kết"})
    flow.advance(ctx, flow.data(ctx))
    assert ctx.step == "tags"
    assert ctx.replies[-1].text == "title? now 'Sơ kết'"


async def test_a_unit_wizard_left_half_way_before_the_upgrade_goes_on(bot: TestBot) -> None:
    """The state the hand-written /themdonvi wizard saved (its own dict keys) is continued by
    the declared one: /boqua on the optional bloc, then the confirmation creates the unit."""
    admin = admin_of(bot)
    await admin.says("/trogiup")  # the admin's member row exists
    with bot.db() as db:
        db.add(
            ConversationState(
                channel=bot.channel.name,
                chat_id=admin.user_id,
                flow="unit_add",
                step="bloc",
                data={
                    "code": "XA-MOI",
                    "name": "Xã Mới",
                    "kind": "xa",
                    "blocs": [],
                    PROMPT_KEY: {"text": "Khối?", "buttons": [], "accepts_text": True},
                },
                version=1,
                updated_at=bot.core.clock.now(),
            )
        )
        db.commit()
    await admin.says("/boqua")
    assert "Mã: XA-MOI" in admin.last_reply and "Tên: Xã Mới" in admin.last_reply
    await admin.presses("Xác nhận")
    assert "Đã thêm Xã Mới" in admin.last_reply
    with bot.db() as db:
        unit = db.exec(select(Unit).where(Unit.code == "XA-MOI")).one()
    assert (unit.name, unit.kind, unit.bloc) == ("Xã Mới", "xa", None)
