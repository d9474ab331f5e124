"""Declared conversation steps (bot/steps.py): the flow's data is a dataclass read back
tolerantly from the conversation state, and a conversation left half-way by the code before
the upgrade (raw dict keys) goes on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlmodel import select

from bot.access import Access
from bot.clock import ManualClock
from bot.context import PROMPT_KEY, Context
from bot.events import Inbound
from bot.router import Router
from bot.services import Services
from bot.steps import TRANSIENT, Flow, Step
from domain.schedule import policy_of
from models.campaigns import Campaign, CampaignParticipant, Deadline
from models.conversation import ConversationState
from models.units import Unit
from tests.utils.factories import T0, make_campaign, make_unit
from tests.utils.scenario import Person, TestBot
from tests.utils.units import admin_of


@dataclass(slots=True)
class Draft:
    title: str = ""
    tags: list[str] = field(default_factory=list)


def _context(data: dict[str, object], step: str = "title", flow: str = "demo") -> Context:
    state = ConversationState(channel="memory", chat_id="1", flow=flow, step=step, data=data)
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


@dataclass(frozen=True, slots=True)
class Spot:
    """A typed value in a flow's data (like a report's position)."""

    name: str

    def to_state(self) -> dict[str, str]:
        return {"spot": self.name}

    @classmethod
    def from_state(cls, raw: object) -> Spot | None:
        if isinstance(raw, dict) and isinstance(raw.get("spot"), str):
            return cls(raw["spot"])
        return cls(raw) if isinstance(raw, str) else None  # the older shape: a bare name


@dataclass(slots=True)
class Walk:
    at: Spot = Spot("hall")
    trail: list[Spot] = field(default_factory=list)
    back_to: Spot | None = None
    loaded: str = field(default="", metadata=TRANSIENT)


NEXT_ROOM = {"hall": "kitchen", "kitchen": "garden"}


def _walk() -> Flow[Walk]:
    """Dynamic steps: one kind of step, where it stands in the data, moved by the hooks."""

    def load(ctx: Context, walk: Walk) -> bool:
        walk.loaded = "loaded"
        return True

    def following(ctx: Context, walk: Walk) -> str:
        walk.trail.append(walk.at)
        walk.at = Spot(NEXT_ROOM[walk.at.name])
        return "room"

    def previous(ctx: Context, walk: Walk) -> str | None:
        if not walk.trail:
            return None
        walk.at = walk.trail.pop()
        return "room"

    def ask(ctx: Context, walk: Walk) -> None:
        ctx.ask(f"in the {walk.at.name} ({walk.loaded})")

    return Flow(
        "walk",
        Walk,
        [Step("room", ask, lambda ctx, walk, event: None)],
        load=load,
        following=following,
        previous=previous,
        first_key="reports.first_question",
    )


def test_typed_values_are_stored_through_their_class_and_transient_fields_never() -> None:
    flow = _walk()
    old = {"at": "kitchen", "trail": ["hall", {"spot": "porch"}, 3], "loaded": "stale"}
    ctx = _context(old, step="room", flow="walk")
    walk = flow.data(ctx)
    assert walk == Walk(at=Spot("kitchen"), trail=[Spot("hall"), Spot("porch")])
    assert walk.loaded == ""
    walk.loaded, walk.back_to = "loaded", Spot("hall")
    flow.save(ctx, walk)
    assert ctx.data == {
        "at": {"spot": "kitchen"},
        "trail": [{"spot": "hall"}, {"spot": "porch"}],
        "back_to": {"spot": "hall"},
    }
    ctx.data["at"] = 42  # unreadable: the field's default
    assert flow.data(ctx).at == Spot("hall")


async def test_dynamic_steps_move_by_the_data_and_go_back_the_way_they_came() -> None:
    router = Router()
    flow = _walk()
    flow.register(router, access=Access.PUBLIC)
    route = router.flows["walk"]
    assert route.handler is not None
    ctx = _context({}, step="room", flow="walk")
    flow.start(ctx, Walk(), at="room")
    assert ctx.replies[-1].text == "in the hall ()"  # `load` runs on answers and commands
    await route.handler(ctx.event, ctx)
    await route.handler(ctx.event, ctx)
    assert ctx.replies[-1].text == "in the garden (loaded)"
    assert flow.data(ctx).trail == [Spot("hall"), Spot("kitchen")]
    await route.commands["quaylai"](ctx.event, ctx)
    await route.commands["quaylai"](ctx.event, ctx)
    assert ctx.replies[-1].text == "in the hall (loaded)"
    await route.commands["quaylai"](ctx.event, ctx)
    assert [r.text for r in ctx.replies[-2:]] == ["Đây là câu đầu tiên.", "in the hall (loaded)"]
    assert ctx.step == "room" and flow.data(ctx).at == Spot("hall")


async def admin_left_half_way(
    bot: TestBot, flow: str, step: str, data: dict[str, object]
) -> Person:
    """The admin, whose conversation is as the hand-written wizard of `flow` saved it at
    `step` before the upgrade."""
    admin = admin_of(bot)
    await admin.says("/trogiup")  # the admin's member row exists
    with bot.db() as db:
        state = ConversationState(
            channel=bot.channel.name,
            chat_id=admin.user_id,
            flow=flow,
            step=step,
            data=data,
            version=1,
            updated_at=bot.core.clock.now(),
        )
        db.add(state)
        db.commit()
    return admin


async def test_a_unit_wizard_left_half_way_before_the_upgrade_goes_on(bot: TestBot) -> None:
    """The state the hand-written /themdonvi wizard saved (its own dict keys) is continued by
    the declared one: /boqua on the optional bloc, then the confirmation creates the unit."""
    admin = await admin_left_half_way(
        bot,
        "unit_add",
        "bloc",
        {
            "code": "XA-MOI",
            "name": "Xã Mới",
            "kind": "xa",
            "blocs": [],
            PROMPT_KEY: {"text": "Khối?", "buttons": [], "accepts_text": True},
        },
    )
    await admin.says("/boqua")
    assert "Mã: XA-MOI" in admin.last_reply and "Tên: Xã Mới" in admin.last_reply
    await admin.presses("Xác nhận")
    assert "Đã thêm Xã Mới" in admin.last_reply
    with bot.db() as db:
        unit = db.exec(select(Unit).where(Unit.code == "XA-MOI")).one()
    assert (unit.name, unit.kind, unit.bloc) == ("Xã Mới", "xa", None)


async def test_a_campaign_wizard_left_in_the_bloc_picker_before_the_upgrade_goes_on(
    bot: TestBot,
) -> None:
    """/dotmoi's hand-written wizard saved its raw dict (dates as ISO text, the bloc buttons by
    index): the declared flow reads it as a `CampaignDraft`; /quaylai from the picker goes back
    to the end date as it did, and the campaign is saved with the blocs chosen."""
    with bot.db() as db:
        make_unit(db, "Phòng Giáo dục", bloc="Khối cơ quan")
        make_unit(db, "Xã Bình Lư", bloc="Khối xã, thị trấn")
        db.commit()
    admin = await admin_left_half_way(
        bot,
        "campaign_new",
        "blocs",
        {
            "number": "353/KH-UBND",
            "name": "Đợt thi đua đặc biệt",
            "starts_on": "2019-05-01",
            "ends_on": "2019-09-30",
            "mode": "blocs",
            "bloc_options": ["Khối cơ quan", "Khối xã, thị trấn"],
            "blocs": ["Khối cơ quan"],
            PROMPT_KEY: {"text": "Chọn khối", "buttons": [], "accepts_text": False},
        },
    )
    await admin.says("/quaylai")
    assert "kết thúc ngày nào" in admin.last_reply
    await admin.says("30/9/2019")
    await admin.presses("Chọn khối")
    await admin.presses("Khối cơ quan")
    await admin.presses("Xong")
    assert "353/KH-UBND" in admin.last_reply and "Đợt thi đua đặc biệt" in admin.last_reply
    assert "khối thi đua: Khối cơ quan" in admin.last_reply
    await admin.presses("Lưu nháp")
    assert "Đã lưu nháp đợt thi đua Đợt thi đua đặc biệt" in admin.last_reply
    with bot.db() as db:
        campaign = db.exec(select(Campaign)).one()
        blocs = [r.bloc for r in db.exec(select(CampaignParticipant)).all()]
    assert (campaign.document_number, campaign.starts_on) == ("353/KH-UBND", date(2019, 5, 1))
    assert blocs == ["Khối cơ quan"]


async def test_a_deadline_wizard_left_at_a_custom_policy_before_the_upgrade_goes_on(
    bot: TestBot,
) -> None:
    """/hanmoi's hand-written wizard saved its raw dict half-way through a custom reminder
    policy: the declared flow reads it as a `DeadlineDraft`; /quaylai from the policy's
    sub-questions goes back to the form as it did, and the deadline is saved with the policy."""
    with bot.db() as db:
        campaign_id = make_campaign(db, number="353/KH-UBND").id
        db.commit()
    old = {
        "campaign_id": campaign_id,
        "kind": "preliminary",
        "title": "Báo cáo sơ kết",
        "due_date": "2026-06-30",
        "due_time": "16:30:00",
        "form": "bao-cao-thanh-tich",
        PROMPT_KEY: {"text": "Nhắc trước?", "buttons": [], "accepts_text": True},
    }
    admin = await admin_left_half_way(bot, "deadline_new", "policy_before", old)
    await admin.says("/quaylai")
    assert "biểu mẫu nào" in admin.last_reply
    with bot.db() as db:  # the old state again, as it was saved
        state = db.exec(select(ConversationState)).one()
        state.step, state.data = "policy_before", dict(old)
        db.add(state)
        db.commit()
    await admin.says("7, 1")
    assert "tối đa mấy lần" in admin.last_reply
    await admin.presses("2")
    assert "Báo cáo sơ kết" in admin.last_reply and "16:30" in admin.last_reply
    await admin.presses("Lưu")
    assert "Đã thêm hạn nộp Báo cáo sơ kết" in admin.last_reply
    with bot.db() as db:
        deadline = db.exec(select(Deadline)).one()
    policy = policy_of(deadline)
    assert (policy.before_days, policy.overdue_max) == ((7, 1), 2)
    assert deadline.form_code == "bao-cao-thanh-tich"
