"""Errors with a home: `InputError` is bad user input, turned by the core into a short
Vietnamese reply (what is wrong, an example) followed by the same question again. Raised by
domain rules and handlers alike; bot/errors.py re-exports them."""

from __future__ import annotations

from typing import Any


class InputError(Exception):
    """The user's answer cannot be used. `key` names the catalog text; `params` fill it."""

    def __init__(self, key: str, /, example: str | None = None, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.example = example
        self.params: dict[str, Any] = params


class ConcurrentUpdate(Exception):
    """Another process changed the same row first; the whole update is handled again."""
