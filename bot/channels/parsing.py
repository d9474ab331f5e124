"""Parsing what users type into a command and its arguments, the same way on every channel."""

from __future__ import annotations

import re
import unicodedata

_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,64})(?:@[A-Za-z0-9_]+)?(?:\s+(.*))?$", re.DOTALL)


def parse_command(text: str) -> tuple[str | None, str]:
    """('baocao', 'args…') for '/baocao args…' (also '/BaoCao@thidua_bot'); (None, '') else."""
    stripped = unicodedata.normalize("NFC", text).strip()
    match = _COMMAND.match(stripped)
    if not match:
        return None, ""
    return match.group(1).lower(), (match.group(2) or "").strip()
