"""The key that signs the desk's session cookies and file links: SESSION_SECRET, or one random
key per process when it is unset (a local try; everyone logs in again after a restart).

Each use derives its own serializer (a different salt), so a cookie can never pass for a file
link or the other way round.
"""

from __future__ import annotations

import logging
import secrets

from itsdangerous import URLSafeSerializer

from bot.settings import Settings

log = logging.getLogger("thidua.web")

_PROCESS_KEY = secrets.token_urlsafe(32)
_warned = False


def signing_key(settings: Settings) -> str:
    global _warned
    if settings.session_secret is not None:
        return settings.session_secret.get_secret_value()
    if not _warned:
        _warned = True
        log.warning("SESSION_SECRET chưa đặt: dùng khoá tạm, khởi động lại là phải đăng nhập lại")
    return _PROCESS_KEY


def serializer(settings: Settings, purpose: str) -> URLSafeSerializer:
    return URLSafeSerializer(signing_key(settings), salt=f"thidua-{purpose}")
