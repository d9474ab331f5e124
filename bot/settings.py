"""Runtime settings (cấu hình), read once at start-up from the environment and `.env`.

Every setting is documented in `.env.example`. Modules never read `os.environ` themselves:
the one `Settings` object is built by the CLI and passed down. A bad value stops start-up
with a one-line message naming the setting (see `load_settings`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

if TYPE_CHECKING:
    from domain.documents import Office


class SettingsError(Exception):
    """A setting has a value the bot cannot use; the message names it."""


_WEBHOOK_SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,256}")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: SecretStr | None = None
    telegram_base_url: str | None = None
    database_url: str = "sqlite:///data/thidua.db"
    # Entries are user ids on Telegram (and the console), or `channel:user_id` for other channels.
    admin_ids: Annotated[list[str], NoDecode] = Field(default_factory=list)
    timezone: str = "Asia/Ho_Chi_Minh"
    log_level: str = "INFO"
    storage_dir: Path = Path("data/files")
    forms_dir: Path | None = None
    # Word templates of the dossier (templates/*.docx and templates.yaml); default: the shipped
    # ones. The issuing office's name, the body above it and the place printed on documents
    # ("<place>, ngày … tháng … năm …"), and whom a tờ trình is addressed to: what the default
    # organiser prints where its own row is blank (domain.organisers.office_of).
    templates_dir: Path | None = None
    organiser_name: str = Field(default="Cơ quan tổ chức thi đua", min_length=2, max_length=200)
    organiser_parent: str = Field(default="", max_length=200)
    signing_place: str = Field(default="", max_length=100)
    dossier_recipient: str = Field(default="Chủ tịch Ủy ban nhân dân", max_length=200)
    flood_max_per_window: int = Field(default=20, ge=1)
    flood_window_seconds: float = Field(default=10.0, gt=0)
    # The bot's @username for invite links when the Telegram channel cannot tell (console).
    bot_username: str | None = None
    # Zalo Bot Platform (docs/zalo.md). The token is `bot_id:secret`, from Zalo Bot Creator.
    zalo_bot_token: SecretStr | None = None
    zalo_base_url: str = "https://bot-api.zaloplatforms.com"
    # Webhook mode on Zalo: the public HTTPS address Zalo posts to (its path is served on the
    # same LISTEN_HOST:LISTEN_PORT as Telegram's) and the secret Zalo sends back in a header.
    zalo_webhook_url: str | None = None
    zalo_webhook_secret: SecretStr | None = None
    # Hours after a user's last message during which the bot may write to them on Zalo;
    # 0 = any time. Not documented by Zalo: 48 assumes the Zalo OA rule until verified.
    zalo_reply_window_hours: float = Field(default=48.0, ge=0)
    # Webhook mode (`thidua-bot run --webhook`): the public HTTPS address Telegram posts to, the
    # secret it sends back in every request's header, and where this process listens (behind
    # nginx, which terminates TLS).
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    listen_host: str = "127.0.0.1"
    listen_port: int = Field(default=8080, ge=1, le=65535)
    # Web desk (bot/web): the address people open (login links and file links start with it;
    # empty = http://LISTEN_HOST:LISTEN_PORT) and the key that signs session cookies and file
    # links (empty = a random key per start: everyone logs in again after a restart, and the
    # processes of a fleet would not recognise each other's cookies).
    public_url: str | None = None
    session_secret: SecretStr | None = None
    # Reminders (bot/scheduler.py): how often the scheduler looks for reminders due, the
    # smallest gap between two reminders to one chat, how many sends run at once, when the
    # admins' daily digest goes, and the holiday list (default refdata/holidays.yaml).
    reminder_tick_seconds: float = Field(default=30.0, ge=5, le=600)
    reminder_chat_spacing_seconds: float = Field(default=1.0, ge=0, le=60)
    reminder_concurrency: int = Field(default=8, ge=1, le=256)
    digest_time: str = "08:00"
    holidays_file: Path | None = None
    # Telegram allows about 30 messages/s overall; sends are spaced evenly under this. 0 = no
    # limit in the bot (a local Bot API server, benchmarks).
    telegram_max_messages_per_second: float = Field(default=29.0, ge=0)
    # ... and about one a second to one chat: requests to a chat (answers, pushed messages,
    # edits) are spaced this far apart, except the first message of an answer. 0 = no spacing.
    telegram_chat_spacing_seconds: float = Field(default=1.0, ge=0, le=60)

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_admin_ids(cls, value: object) -> list[str]:
        if value is None or value == "":
            return []
        items = value.split(",") if isinstance(value, str) else list(cast(Iterable[object], value))
        result: list[str] = []
        for raw in items:
            item = str(raw).strip()
            if not item:
                continue
            channel, _, user_id = item.rpartition(":")
            if not user_id or (not channel and not user_id.lstrip("-").isdigit()):
                raise ValueError(
                    f"'{item}' không phải mã người dùng (ví dụ: 123456789 hoặc zalo:abc123)"
                )
            result.append(item)
        return result

    @field_validator("telegram_base_url")
    @classmethod
    def _check_telegram_base_url(cls, value: str | None) -> str | None:
        """The server address without `/bot`: both "http://host:port" and the Bot API
        convention "http://host:port/bot" are accepted (the channel adds `/bot<token>`)."""
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        example = "ví dụ: http://127.0.0.1:8081 hoặc http://127.0.0.1:8081/bot"
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError(f"cần địa chỉ bắt đầu bằng http:// hoặc https:// ({example})")
        path = parts.path.rstrip("/")
        last = path.rpartition("/")[2]
        if last.startswith("bot") and last != "bot":
            # Never echo the value: it may hold the token.
            raise ValueError(
                f"đừng ghi token vào địa chỉ; token để ở TELEGRAM_BOT_TOKEN ({example})"
            )
        if parts.query or parts.fragment:
            raise ValueError(f"địa chỉ không được có phần ?… hay #… ({example})")
        path = path.removesuffix("/bot")
        return urlunsplit((parts.scheme, parts.netloc, path, "", ""))

    @field_validator("zalo_base_url")
    @classmethod
    def _default_zalo_base_url(cls, value: str) -> str:
        # An empty ZALO_BASE_URL= line in .env means "the official server".
        return value.strip().rstrip("/") or "https://bot-api.zaloplatforms.com"

    @field_validator("zalo_webhook_secret")
    @classmethod
    def _check_zalo_webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if not 8 <= len(value.get_secret_value()) <= 256:
            raise ValueError("phải dài từ 8 đến 256 ký tự (quy định của Zalo)")
        return value

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"múi giờ '{value}' không tồn tại (ví dụ: Asia/Ho_Chi_Minh)") from exc
        return value

    @field_validator("digest_time")
    @classmethod
    def _check_digest_time(cls, value: str) -> str:
        hour, _, minute = value.strip().partition(":")
        if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
            raise ValueError(f"'{value}' không phải giờ hợp lệ (ví dụ: 08:00)")
        return f"{int(hour):02d}:{int(minute):02d}"

    @field_validator("holidays_file", mode="before")
    @classmethod
    def _check_holidays_file(cls, value: object) -> Path | None:
        if value is None or str(value).strip() == "":
            return None
        path = Path(str(value))
        if not path.is_file():
            raise ValueError(f"không tìm thấy tệp {path}")
        return path

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("phải là DEBUG, INFO, WARNING hoặc ERROR")
        return level

    @field_validator("webhook_url", "zalo_webhook_url")
    @classmethod
    def _check_webhook_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme not in {"https", "http"} or not parts.hostname:
            example = "zalo" if info.field_name == "zalo_webhook_url" else "telegram"
            raise ValueError(
                f"'{value}' không phải địa chỉ web (ví dụ: https://bot.example.gov.vn/{example})"
            )
        return value

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str | None) -> str | None:
        if not value or not value.strip():
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in {"https", "http"} or not parts.hostname:
            raise ValueError(
                f"'{value}' không phải địa chỉ web (ví dụ: https://bot.example.gov.vn)"
            )
        return value.strip().rstrip("/")

    @field_validator("session_secret")
    @classmethod
    def _check_session_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if len(value.get_secret_value()) < 32:
            raise ValueError("phải dài ít nhất 32 ký tự (ví dụ tạo bằng: openssl rand -hex 32)")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _check_webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        # Telegram accepts 1–256 characters A-Z, a-z, 0-9, _ and - as secret_token.
        if not _WEBHOOK_SECRET_SHAPE.fullmatch(value.get_secret_value()):
            raise ValueError("chỉ gồm chữ không dấu, chữ số, _ và -, tối đa 256 ký tự")
        return value

    def office(self) -> Office:
        """The deployment's issuing office: the default organiser's documents fall back to it
        (`domain.dossier.issuer` resolves the campaign's organiser)."""
        from domain.documents import Office

        return Office(
            name=self.organiser_name.strip(),
            parent=self.organiser_parent.strip(),
            place=self.signing_place.strip(),
            recipient=self.dossier_recipient.strip(),
        )

    @property
    def web_base_url(self) -> str:
        """Where people reach the web desk: PUBLIC_URL, else this process's own address."""
        return self.public_url or f"http://{self.listen_host}:{self.listen_port}"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_configured_admin(self, channel: str, user_id: str) -> bool:
        """True when ADMIN_IDS names this user (bare ids mean Telegram and the console)."""
        for item in self.admin_ids:
            prefix, _, uid = item.rpartition(":")
            if uid != user_id:
                continue
            if prefix == channel or (not prefix and channel in {"telegram", "console"}):
                return True
        return False


def load_settings(**overrides: object) -> Settings:
    """Build the settings or raise `SettingsError` with one line naming the bad setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]  # overrides come from the CLI as strings; pydantic converts them
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]).upper() if error["loc"] else "?"
        message = str(error["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"Cấu hình sai ở {name}: {message}") from None
