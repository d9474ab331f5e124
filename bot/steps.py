"""Declared conversation steps: a flow is an ordered list of named steps, each with the question
it asks and how it takes a typed answer, over a typed data object (a dataclass per flow).

`/boqua` (skip an optional step), `/quaylai` (back one step) come for free once the flow is
registered on a router; `/huy` is the core's own (leave any flow). The data object is stored in
the conversation state field by field (`ConversationState.data`, JSON) and read back
tolerantly: unknown keys are ignored and missing ones take the field's default, so a
conversation half-way through when the bot is upgraded goes on (a renamed key is listed in
`legacy`). Buttons stay ordinary button routes: they read the data with `flow.data(ctx)`,
change it, and call `flow.advance(ctx, data)`.

    ADD = Flow("unit_add", UnitDraft, [Step("code", ask_code, take_code), ...])
    ADD.register(router, access=Access.ADMIN)
    ADD.start(ctx)                       # from the command that opens the flow

A field of the data may hold a typed value rather than plain JSON (a position in a report
form): its class has `to_state()` and a classmethod `from_state(raw)` (which reads older
shapes too, or returns None for what it cannot read), and the field is declared as that class,
`that class | None` or `list[that class]`. A field marked `TRANSIENT` is never stored: what one
update loaded for the steps (the report being filled).

Dynamic steps: a flow whose steps repeat over something its data describes (the report filler
walks the questions of a form, the entries of its groups, a group's menu and the review)
declares one `Step` per kind of screen and says how to move between them with three hooks:
`load` re-checks what the data points at before every typed answer, /boqua and /quaylai
(buttons call it themselves);
`following` picks the step after the current one (placing the data where it goes, e.g. the
next unanswered question); `previous` picks where /quaylai goes (None: nowhere further back).
Without them the steps follow each other in the declared order.
"""

from __future__ import annotations

import dataclasses
import inspect
import types
import typing
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from bot.access import Access
from bot.context import PROMPT_KEY, Context
from bot.errors import InputError
from bot.events import Inbound
from bot.router import Router

D = TypeVar("D")
# `field(metadata=TRANSIENT)`: a field of the flow's data that is never stored.
TRANSIENT: Mapping[str, bool] = types.MappingProxyType({"transient": True})
Decode = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Step(Generic[D]):
    name: str
    ask: Callable[[Context, D], None]
    # Takes a typed answer into the data (raises InputError to ask again); returns False to stay
    # on the step (it answered itself, e.g. offered choices). None: the step is answered by
    # buttons only and typed text gets `typed_refusal`. It may be async (a file to receive).
    take: Callable[[Context, D, Inbound], bool | Awaitable[bool | None] | None] | None = None
    # Whether /boqua may skip the step; a function when it depends on the data (a question
    # of a form that is not required).
    optional: bool | Callable[[Context, D], bool] = False
    # What /boqua does to the data (optional steps only); may raise InputError.
    skip: Callable[[Context, D], None] | None = None
    # What /boqua answers on this step when it is not optional (default: the flow's).
    required_key: str | None = None
    # Where /quaylai goes from here when not to the step before: a picker opened from a step
    # (choosing blocs after "participants") goes back as that step would.
    back: str | None = None


class Flow(Generic[D]):
    def __init__(
        self,
        name: str,
        data_type: type[D],
        steps: Sequence[Step[D]],
        *,
        required_key: str = "core.step_required",
        typed_refusal: str = "core.use_buttons",
        file_refusal: str | None = None,
        legacy: Mapping[str, str] | None = None,
        finish: Callable[[Context, D], None] | None = None,
        load: Callable[[Context, D], bool] | None = None,
        following: Callable[[Context, D], str] | None = None,
        previous: Callable[[Context, D], str | None] | None = None,
        first_key: str | None = None,
    ) -> None:
        if not dataclasses.is_dataclass(data_type):
            raise TypeError(f"flow {name}: its data must be a dataclass")
        self.name = name
        self.data_type = data_type
        self.steps = list(steps)
        self.index = {step.name: i for i, step in enumerate(self.steps)}
        self.required_key = required_key
        self.typed_refusal = typed_refusal
        self.file_refusal = file_refusal  # a file sent where text is wanted (None: take it)
        self.legacy = dict(legacy or {})
        # Called when the last step is done (answered or skipped); it ends the flow. Without
        # it the last step is answered by buttons (a confirmation).
        self.finish = finish
        # Dynamic steps (see the module's docstring); `first_key` is said when `previous`
        # finds nowhere to go back to.
        self.load = load
        self.following = following
        self.previous = previous
        self.first_key = first_key
        hints = typing.get_type_hints(data_type)
        self._fields: dict[str, Decode | None] = {
            f.name: _decoder(hints[f.name])
            for f in dataclasses.fields(data_type)
            if not f.metadata.get("transient")
        }

    # --- data ---------------------------------------------------------------------------------
    def data(self, ctx: Context) -> D:
        """The flow's data, read tolerantly from the conversation state."""
        stored = {self.legacy.get(key, key): value for key, value in ctx.data.items()}
        known: dict[str, Any] = {}
        for key, value in stored.items():
            if key in self._fields:
                decode = self._fields[key]
                known[key] = value if decode is None else decode(value)
        # A typed value it could not read takes the field's default.
        return self.data_type(**{k: v for k, v in known.items() if v is not _UNREADABLE})

    def save(self, ctx: Context, data: D) -> None:
        prompt = ctx.data.get(PROMPT_KEY)
        values = {name: _encode(getattr(data, name)) for name in self._fields}
        ctx.data.clear()
        ctx.data.update(values)
        if prompt is not None:
            ctx.data[PROMPT_KEY] = prompt

    # --- moving ---------------------------------------------------------------------------------
    def start(self, ctx: Context, data: D | None = None, *, at: str | None = None) -> None:
        data = data if data is not None else self.data_type()
        ctx.begin(self.name, at or self.steps[0].name)
        self.save(ctx, data)
        self.ask(ctx, data)

    def current(self, ctx: Context) -> Step[D]:
        return self.steps[self.index.get(ctx.step or "", 0)]

    def ask(self, ctx: Context, data: D | None = None) -> None:
        data = self.data(ctx) if data is None else data
        self.current(ctx).ask(ctx, data)
        self.save(ctx, data)

    def advance(self, ctx: Context, data: D) -> None:
        """Store `data`, go to the next step and ask it (past the last one: `finish`)."""
        if self.following is not None:
            self.goto(ctx, self.following(ctx, data), data)
            return
        position = self.index.get(ctx.step or "", 0)
        if position == len(self.steps) - 1 and self.finish is not None:
            self.save(ctx, data)
            self.finish(ctx, data)
            return
        ctx.goto(self.steps[min(position + 1, len(self.steps) - 1)].name)
        self.save(ctx, data)
        self.ask(ctx, data)

    def skip(self, ctx: Context, data: D) -> None:
        """What /boqua does (a «Bỏ qua» button too): past an optional step, else refused."""
        step = self.current(ctx)
        optional = step.optional(ctx, data) if callable(step.optional) else step.optional
        if not optional:
            raise InputError(step.required_key or self.required_key)
        if step.skip is not None:
            step.skip(ctx, data)
        self.advance(ctx, data)

    def goto(self, ctx: Context, step: str, data: D | None = None) -> None:
        ctx.goto(step)
        self.ask(ctx, data)

    def in_step(self, ctx: Context, step: str) -> bool:
        """For buttons: is the chat at `step` of this flow? Says so when it is not."""
        if ctx.flow == self.name and ctx.step == step:
            return True
        ctx.say("core.stale_button")
        return False

    # --- routes ---------------------------------------------------------------------------------
    def register(self, router: Router, *, access: Access) -> None:
        """Typed answers, /boqua and /quaylai for this flow."""

        @router.flow(self.name, access=access)
        async def on_answer(event: Inbound, ctx: Context) -> None:
            if event.attachment is not None and self.file_refusal is not None:
                raise InputError(self.file_refusal)
            data = self.data(ctx)
            if self.load is not None and not self.load(ctx, data):
                return
            step = self.current(ctx)
            if step.take is None:
                raise InputError(self.typed_refusal)
            taken = step.take(ctx, data, event)
            if inspect.isawaitable(taken):
                taken = await taken
            if taken is False:
                if ctx.flow == self.name:  # still in the flow (the step did not end it)
                    self.save(ctx, data)
                return
            self.advance(ctx, data)

        @router.flow_command(self.name, "boqua")
        async def on_skip(event: Inbound, ctx: Context) -> None:
            data = self.data(ctx)
            if self.load is not None and not self.load(ctx, data):
                return
            self.skip(ctx, data)

        @router.flow_command(self.name, "quaylai")
        async def on_back(event: Inbound, ctx: Context) -> None:
            data = self.data(ctx)
            if self.load is not None and not self.load(ctx, data):
                return
            step = self.current(ctx)
            if self.previous is not None:
                back = self.previous(ctx, data)
                if back is None:
                    # Nowhere further back: say so and ask the same question again.
                    self.save(ctx, data)
                    ctx.say(self.first_key or "core.stale_button")
                    prompt = ctx.last_prompt()
                    if prompt is not None:
                        ctx.replies.append(prompt)
                    return
                ctx.goto(back)
            elif step.back is not None:
                ctx.goto(step.back)
            else:
                position = self.index.get(ctx.step or "", 0)
                ctx.goto(self.steps[max(0, position - 1)].name)
            self.ask(ctx, data)


# --- typed values in the stored data ------------------------------------------------------------
_UNREADABLE = object()


def _encode(value: Any) -> Any:
    if hasattr(value, "to_state"):
        return value.to_state()
    if isinstance(value, list):
        return [_encode(item) for item in value]
    return value


def _decoder(hint: Any) -> Decode | None:
    """How to read a field's stored value back: None for plain JSON; for a class with
    `from_state` (alone, `| None`, or in a `list[...]`), through it."""
    args = typing.get_args(hint)
    if hasattr(hint, "from_state"):
        read: Callable[[Any], Any] = hint.from_state
        return lambda raw: _or_unreadable(read(raw))
    if typing.get_origin(hint) is list and args and hasattr(args[0], "from_state"):
        item: Callable[[Any], Any] = args[0].from_state
        return lambda raw: (
            [v for v in map(item, raw) if v is not None] if isinstance(raw, list) else _UNREADABLE
        )
    typed = [a for a in args if a is not type(None)]
    if type(None) in args and len(typed) == 1 and hasattr(typed[0], "from_state"):
        inner: Callable[[Any], Any] = typed[0].from_state
        return lambda raw: None if raw is None else _or_unreadable(inner(raw))
    return None


def _or_unreadable(value: Any) -> Any:
    return _UNREADABLE if value is None else value
