"""Small helpers the campaign and deadline conversations share: buttons, cleaned answers,
dates typed the Vietnamese way, ids from button payloads. No route lives here.
"""

from __future__ import annotations

from datetime import date

from bot.access import in_scope
from bot.catalog import t
from bot.context import Context
from bot.errors import InputError
from bot.events import Button
from bot.router import make_payload
from domain.dates import ParseError, format_date, parse_date, relative_day
from domain.text import clean_text
from models.campaigns import Campaign, Deadline

CAMPAIGN = "dot"  # button prefix for campaign actions
DEADLINE = "han"  # button prefix for deadline actions
STEP_CONFIRM = "confirm"  # the last step of both wizards


def btn(label_key: str, prefix: str, *parts: object, **params: object) -> Button:
    """A button; labels are plain text, so parameters must be passed as `Raw` (not escaped)."""
    return Button(t(label_key, **params), make_payload(prefix, *parts))


def clean_answer(text: str, limit: int, key: str, example: str) -> str:
    value = clean_text(text, max_length=limit, multiline=False)
    if not value:
        raise InputError(key, example=example)
    return value


def parse_day(text: str, ctx: Context, example: str = "25/4/2019") -> date:
    today = ctx.now().astimezone(ctx.settings.tz).date()
    try:
        return relative_day(text, today) or parse_date(text, default_year=today.year)
    except ParseError as exc:
        raise InputError(f"campaigns.date_{exc.reason}", example=example) from None


def fmt_date(value: date | None) -> str:
    return format_date(value) if value else t("campaigns.none")


def campaign_from(ctx: Context, raw: str | None) -> Campaign | None:
    if not raw or not raw.isdigit():
        return None
    return in_scope(ctx, "campaign", int(raw))


def deadline_from(ctx: Context, raw: str | None) -> Deadline | None:
    if not raw or not raw.isdigit():
        return None
    return in_scope(ctx, "deadline", int(raw))
