"""The `thidua-bot` command: run the bot on Telegram, try it in a console, manage the database.

    thidua-bot console [--user-id 1] [--name "Nguyễn Văn A"]
    thidua-bot run
    thidua-bot db upgrade

Settings come from the environment and `.env` (see .env.example). Start-up problems (a bad
setting, no token) end with one line saying what to fix, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Sequence

from bot.settings import Settings, SettingsError, load_settings

log = logging.getLogger("thidua")
Command = Callable[[argparse.Namespace, Settings], int]


class StartupError(Exception):
    """A problem the operator must fix; printed as one line."""


def _cmd_console(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from bot.channels.console import ConsoleChannel, run_console
    from bot.runtime import build_core, build_scheduler

    core = build_core(settings)
    channel = ConsoleChannel(
        user_id=str(args.user_id),
        display_name=args.name,
        spool_dir=Path(settings.storage_dir).parent / "console",
    )
    core.hub.register(channel)
    scheduler = build_scheduler(core)

    async def main() -> None:
        scheduler.start()
        try:
            await run_console(channel, core.process)
        finally:
            scheduler.shutdown()

    asyncio.run(main())
    return 0


def _cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    if settings.telegram_bot_token is None or not settings.telegram_bot_token.get_secret_value():
        raise StartupError(
            "Chưa có TELEGRAM_BOT_TOKEN. Tạo bot với @BotFather rồi ghi vào tệp .env một dòng "
            "TELEGRAM_BOT_TOKEN=123456:ABC... (xem .env.example). Muốn thử không cần token: "
            "uv run thidua-bot console"
        )
    from telegram import Update
    from telegram.ext import Application

    from bot.channels.telegram import build_application
    from bot.runtime import build_core, build_scheduler

    core = build_core(settings)
    application = build_application(settings, core)
    scheduler = build_scheduler(core)

    async def start_scheduler(_: Application) -> None:
        scheduler.start()

    async def stop_scheduler(_: Application) -> None:
        scheduler.shutdown()

    application.post_init = start_scheduler
    application.post_shutdown = stop_scheduler
    log.info("thidua-bot đang chạy trên Telegram (long polling)")
    application.run_polling(allowed_updates=Update.ALL_TYPES)
    return 0


def _cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from bot.db import create_db_engine, current_revision, upgrade

    engine = create_db_engine(settings.database_url)
    upgrade(engine)
    print(f"Cơ sở dữ liệu đã ở phiên bản {current_revision(engine)}.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="thidua-bot", description="Chatbot điều hành phong trào thi đua – khen thưởng."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="LỆNH")

    console = sub.add_parser("console", help="thử bot trong terminal (không cần token)")
    console.add_argument("--user-id", default="1", help="mã người dùng của bạn (mặc định 1)")
    console.add_argument("--name", default="Người dùng thử", help="tên hiển thị")
    console.set_defaults(func=_cmd_console)

    run = sub.add_parser("run", help="chạy bot trên Telegram (cần TELEGRAM_BOT_TOKEN)")
    run.set_defaults(func=_cmd_run)

    db = sub.add_parser("db", help="quản lý cơ sở dữ liệu")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="LỆNH")
    db_sub.add_parser("upgrade", help="áp dụng các migration còn thiếu").set_defaults(
        func=_cmd_db_upgrade
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    from bot.logging_setup import setup_logging

    token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else ""
    setup_logging("WARNING" if args.command == "console" else settings.log_level, secrets=[token])
    try:
        return int(args.func(args, settings) or 0)
    except StartupError as exc:
        print(exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
