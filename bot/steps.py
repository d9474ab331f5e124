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
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from bot.access import Access
from bot.context import PROMPT_KEY, Context
from bot.errors import InputError
from bot.events import Inbound
from bot.router import Router

D = TypeVar("D")


@dataclass(frozen=True, slots=True)
class Step(Generic[D]):
    name: str
    ask: Callable[[Context, D], None]
    # Takes a typed answer into the data (raises InputError to ask again); returns False to stay
    # on the step (it answered itself, e.g. offered choices). None: the step is answered by
    # buttons only and typed text gets `typed_refusal`.
    take: Callable[[Context, D, Inbound], bool | None] | None = None
    optional: bool = False
    # What /boqua leaves in the data (optional steps only).
    skip: Callable[[D], None] | None = None


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
        self._fields = {f.name for f in dataclasses.fields(data_type)}

    # --- data ---------------------------------------------------------------------------------
    def data(self, ctx: Context) -> D:
        """The flow's data, read tolerantly from the conversation state."""
        stored = {self.legacy.get(key, key): value for key, value in ctx.data.items()}
        known = {key: value for key, value in stored.items() if key in self._fields}
        return self.data_type(**known)

    def save(self, ctx: Context, data: D) -> None:
        prompt = ctx.data.get(PROMPT_KEY)
        values: dict[str, Any] = {
            f.name: getattr(data, f.name)
            for f in dataclasses.fields(data)  # type: ignore[arg-type]  # checked in __init__
        }
        ctx.data.clear()
        ctx.data.update(values)
        if prompt is not None:
            ctx.data[PROMPT_KEY] = prompt

    # --- moving ---------------------------------------------------------------------------------
    def start(self, ctx: Context, data: D | None = None, *, at: str | None = None) -> None:
        ctx.begin(self.name, at or self.steps[0].name)
        self.save(ctx, data if data is not None else self.data_type())
        self.ask(ctx)

    def current(self, ctx: Context) -> Step[D]:
        return self.steps[self.index.get(ctx.step or "", 0)]

    def ask(self, ctx: Context, data: D | None = None) -> None:
        data = self.data(ctx) if data is None else data
        self.current(ctx).ask(ctx, data)
        self.save(ctx, data)

    def advance(self, ctx: Context, data: D) -> None:
        """Store `data`, go to the next step and ask it (past the last one: `finish`)."""
        position = self.index.get(ctx.step or "", 0)
        if position == len(self.steps) - 1 and self.finish is not None:
            self.save(ctx, data)
            self.finish(ctx, data)
            return
        ctx.goto(self.steps[min(position + 1, len(self.steps) - 1)].name)
        self.save(ctx, data)
        self.ask(ctx, data)

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
            step = self.current(ctx)
            if event.attachment is not None and self.file_refusal is not None:
                raise InputError(self.file_refusal)
            if step.take is None:
                raise InputError(self.typed_refusal)
            data = self.data(ctx)
            if step.take(ctx, data, event) is False:
                if ctx.flow == self.name:  # still in the flow (the step did not end it)
                    self.save(ctx, data)
                return
            self.advance(ctx, data)

        @router.flow_command(self.name, "boqua")
        async def on_skip(event: Inbound, ctx: Context) -> None:
            step = self.current(ctx)
            if not step.optional:
                raise InputError(self.required_key)
            data = self.data(ctx)
            if step.skip is not None:
                step.skip(data)
            self.advance(ctx, data)

        @router.flow_command(self.name, "quaylai")
        async def on_back(event: Inbound, ctx: Context) -> None:
            position = self.index.get(ctx.step or "", 0)
            ctx.goto(self.steps[max(0, position - 1)].name)
            self.ask(ctx)
