"""The errors handlers raise, re-exported for bot/ and handlers/: they live in `domain.errors`
because domain rules raise them too and domain/ must not import bot/."""

from domain.errors import ConcurrentUpdate, InputError

__all__ = ["ConcurrentUpdate", "InputError"]
