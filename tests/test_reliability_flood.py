"""Flood control over HTTP (fake Bot API, TelegramPoller, the real PTB bot): a user sending 50
messages a second is slowed down with one polite message, and another user's replies keep
coming about as fast as without the flood.

The latency bound is a behavioural guarantee, not a benchmark: generous (five times the
no-flood figure, at least half a second), so a slow machine passes and a bot that made others
wait behind the flood (a second or more) fails.
"""

from __future__ import annotations

import asyncio
import statistics
import time

import pytest

from bot.catalog import t
from bot.channels.text import html_to_plain
from tests.fakes.telegram_api import FakeTelegram
from tests.utils.waiting import eventually

SPAMMER, OTHER = 7001, 7002
FLOOD_TEXT = html_to_plain(t("core.flood"))


async def round_trip(api: FakeTelegram, chat: int, text: str) -> float:
    """Seconds from a message reaching the server to the bot's answer reaching it."""
    count = len(api.sent[str(chat)])
    started = time.monotonic()
    api.push_text(chat, text)
    await api.wait_for(chat, count=count + 1, timeout=10)
    return time.monotonic() - started


async def flood(api: FakeTelegram, *, per_second: int, count: int) -> int:
    """`count` messages at about `per_second` (a loaded machine sends them more slowly: the
    flood lasts longer, it is no smaller)."""
    for sent in range(count):
        api.push_text(SPAMMER, f"tin {sent}")
        await asyncio.sleep(1 / per_second)  # the sender's pace, not a synchronisation
    return count


# The flood limit is measured, not Telegram's one message a second per chat: the other user
# writes every 0.2 s and the flooder's answers would otherwise be spaced a second apart.
@pytest.mark.bot_chat_spacing(0)
async def test_a_flooding_user_is_slowed_down_and_others_are_not(
    telegram_api: FakeTelegram, telegram_bot
) -> None:
    api = telegram_api
    _, core = telegram_bot
    limit = core.flood.limit  # the production default: 20 messages in 10 s
    await round_trip(api, OTHER, "/trogiup")  # warm up connections and caches
    # The other user writes like a person (a few messages, well under the flood limit).
    baseline = statistics.median([await round_trip(api, OTHER, "/trogiup") for _ in range(4)])

    spam = asyncio.create_task(flood(api, per_second=50, count=75))
    await eventually(lambda: api.sent[str(SPAMMER)], what="the flood under way")
    during = []
    while not spam.done():
        during.append(await round_trip(api, OTHER, "/trogiup"))
        await asyncio.sleep(0.2)  # a person's pace between messages
    sent = await spam
    # The poller confirms an update only once the core handled it: the whole flood is done.
    await eventually(lambda: api.unconfirmed == 0, what="every update of the flood handled")

    texts = [html_to_plain(text) for text in api.texts(SPAMMER)]
    assert sent > 3 * limit
    assert texts.count(FLOOD_TEXT) == 1, texts[-3:]
    assert len(texts) <= limit + 1
    assert len(during) >= 3
    bound = max(0.5, 5 * baseline)
    assert max(during) < bound, f"baseline {baseline:.3f}s, during the flood {during}"
