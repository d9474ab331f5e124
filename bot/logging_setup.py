"""Logging set-up: one format, and neither secrets nor personal data in any record.

HTTP client libraries log request URLs, and Bot API URLs carry the token; at DEBUG,
python-telegram-bot logs every call's parameters and answer — the texts officers typed and the
bot sent, users' names, phone numbers. Every record is scrubbed where it is made (a record
factory, so every handler sees the scrubbed record, whatever the level and whoever added the
handler): bot tokens and the configured secrets become `***`; the values of name, text and
phone fields in logged payloads become `«…»`; anything shaped like a Vietnamese phone number
becomes `0*********`. Ids (user, chat, update) stay: they are what an operator needs to follow
a problem, and say nothing by themselves.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable

# Telegram tokens look like 123456789:AA…; Zalo's are `bot_id:secret` with a bot id of up to
# 19 digits. Scrub any such string even when it is not one we know of (a token pasted by
# mistake into a message), also inside a URL path where it follows "/bot".
_TOKEN_SHAPE = re.compile(r"(?<![0-9])\d{6,20}:[A-Za-z0-9_-]{20,}(?![A-Za-z0-9_-])")

# Fields of Bot API payloads (Telegram's and Zalo's) that carry personal data or what people
# wrote, as they appear in a logged dict (Python repr or JSON): 'first_name': 'Mai'.
_PERSONAL_KEYS = (
    "first_name|last_name|full_name|username|display_name|account_name|name|title|"
    "phone_number|phone|text|caption|vcard|address|email"
)
_PERSONAL_FIELD = re.compile(
    rf"""(?P<key>(?P<q>['"])(?:{_PERSONAL_KEYS})(?P=q)\s*:\s*)"""
    r"""(?P<value>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
)
# Vietnamese phone numbers: 0 or +84, then 8–10 more digits, spaces, dots or dashes between.
_PHONE_SHAPE = re.compile(r"(?<![\w+])(?:\+84|0)(?:[ .-]?\d){8,10}(?![\d])")


class RedactingFilter(logging.Filter):
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # Longest first: a shorter secret inside a longer one (a webhook secret that happens
        # to be part of the token) must not break the longer one before it is replaced.
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        text = _TOKEN_SHAPE.sub("***", text)
        text = _PERSONAL_FIELD.sub(lambda m: f"{m['key']}{m['q']}«…»{m['q']}", text)
        return _PHONE_SHAPE.sub("0*********", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.redact(message)
        if record.exc_info and record.exc_text is None:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if clean != message:
            record.msg, record.args = clean, None
        return True


_factory_installed: RedactingFilter | None = None


def _install_record_factory(redacting: RedactingFilter) -> None:
    """Scrub every record as it is made (only records that pass the level check are made)."""
    global _factory_installed
    if _factory_installed is not None:
        _factory_installed.secrets = redacting.secrets  # set up again: the new secrets
        return
    previous: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()

    def make_record(*args: object, **kwargs: object) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        redacting.filter(record)
        return record

    logging.setLogRecordFactory(make_record)
    _factory_installed = redacting


def setup_logging(level: str, secrets: Iterable[str] = ()) -> None:
    redacting = RedactingFilter(secrets)
    _install_record_factory(redacting)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(redacting)  # records made before set-up, or by another factory
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request URL (which holds the token) at INFO; keep it quiet.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # Alembic talks at INFO on every start ("Context impl SQLiteImpl", each revision applied):
    # noise in every CLI command's output; its warnings and errors still show.
    logging.getLogger("alembic").setLevel(logging.WARNING)
