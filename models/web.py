"""Logging in to the web desk from the chat (đăng nhập trang quản lý).

A `LoginToken` is the one-time link `/web` gives an admin: only a SHA-256 hash of the token is
stored (a copied database cannot be used to log in), it expires after minutes and is spent by
its first use. Sessions themselves live in a signed cookie, not here; `Member.web_generation`
ends them all at once ("/web thoat").
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.base import utc_field


class LoginToken(SQLModel, table=True):
    __tablename__ = "login_token"

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    created_at: datetime = utc_field(index=True)
    expires_at: datetime = utc_field()
    used_at: datetime | None = utc_field(nullable=True)
