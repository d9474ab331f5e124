"""What a channel that takes updates by webhook hands to the process's one web server.

Each such channel contributes an `Endpoint` — the path its platform posts to and an `accept`
coroutine that checks the call (its secret header) and hands the update to the core, returning
the HTTP status to answer (`bot.channels.telegram_webhook` for Telegram,
`ZaloChannel.accept_webhook` for Zalo). The server itself is `bot.web` (which also serves
`/healthz` and the office's web desk); it knows endpoints, never a platform.

An update is handled inside the request and the status goes back only once the core committed
it: a platform that re-delivers an unacknowledged update (Telegram does) gets it handled once,
by whichever process of the fleet receives it (the core's `ProcessedUpdate` claim).

No business rules here, and nothing that knows a channel or a handler.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.engine import Engine

log = logging.getLogger("thidua.webhook")

HEALTH_PATH = "/healthz"
# Updates are a few kilobytes; anything much larger is not from a messaging platform.
MAX_BODY_BYTES = 1024 * 1024
HEALTH_TIMEOUT_SECONDS = 5.0


def webhook_path(url: str) -> str:
    """The path a webhook URL is served on here: its path part ("/" if none)."""
    path = urlsplit(url).path.rstrip("/")
    return path or "/"


def check_database(engine: Engine) -> None:
    """Raise unless the database answers a trivial query (blocking; run it in a thread)."""
    with engine.connect() as connection:
        connection.execute(sa.text("SELECT 1"))


def has_secret(
    given: str | None, expected: str, *, refused: str, remote: str, logger: logging.Logger
) -> bool:
    """Whether a webhook call carries the secret (compared in constant time). A refusal is
    logged once as "<refused> (reason) from <ip>", never with the header's value: a near-miss
    may be the secret with a typo."""
    if expected and given and hmac.compare_digest(given.encode(), expected.encode()):
        return True
    reason = "no secret header" if not given else "wrong secret header"
    logger.warning("%s (%s) from %s", refused, reason, remote)
    return False


@dataclass(frozen=True)
class WebhookCall:
    """One POST as a channel sees it. `headers` is case-insensitive."""

    headers: Mapping[str, str]
    body: bytes
    remote_ip: str


@dataclass(frozen=True)
class Endpoint:
    """A channel's webhook: where its platform posts, and what handles a call (→ HTTP status)."""

    path: str
    accept: Callable[[WebhookCall], Awaitable[int]]
