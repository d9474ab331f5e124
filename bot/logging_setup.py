"""Logging set-up: one format, and secrets (bot tokens) scrubbed from every record.

HTTP client libraries log request URLs, and Bot API URLs carry the token; the redacting filter
sits on the root handlers so nothing written to the log contains it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

# Telegram tokens look like 123456789:AA…; Zalo's are `bot_id:secret` with a bot id of up to
# 19 digits. Scrub any such string even when it is not one we know of (a token pasted by
# mistake into a message), also inside a URL path where it follows "/bot".
_TOKEN_SHAPE = re.compile(r"(?<![0-9])\d{6,20}:[A-Za-z0-9_-]{20,}(?![A-Za-z0-9_-])")


class RedactingFilter(logging.Filter):
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return _TOKEN_SHAPE.sub("***", text)

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


def setup_logging(level: str, secrets: Iterable[str] = ()) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(secrets))
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
