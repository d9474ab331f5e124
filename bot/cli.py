"""The `thidua-bot` command: run the bot on Telegram and/or Zalo, try it in a console, manage
the database.

    thidua-bot console [--user-id 1] [--name "Nguyễn Văn A"]
    thidua-bot run [--webhook]   # Telegram, Zalo or both: whichever tokens are set
    thidua-bot web               # the office's web desk alone, on 127.0.0.1:LISTEN_PORT
    thidua-bot db upgrade
    thidua-bot units import FILE
    thidua-bot plan parse FILE [--text]
    thidua-bot export --campaign 353/KH-UBND --out report.xlsx
    thidua-bot dossier --campaign 353/KH-UBND --out hoso.zip
    thidua-bot awards import FILE

Settings come from the environment and `.env` (see .env.example). Start-up problems (a bad
setting, no token) end with one line saying what to fix, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from sqlmodel import Session

    from domain.scope import Scope

log = logging.getLogger("thidua")
Command = Callable[[argparse.Namespace, Settings], int]


class StartupError(Exception):
    """A problem the operator must fix; printed as one line."""


_OS_REASONS = {
    errno.ENOENT: "không có tệp hoặc thư mục này",
    errno.EACCES: "không có quyền truy cập",
    errno.EPERM: "không có quyền truy cập",
    errno.EISDIR: "đây là thư mục, không phải tệp",
    errno.ENOTDIR: "một phần của đường dẫn không phải thư mục",
    errno.ENOSPC: "ổ đĩa đã đầy",
    errno.EROFS: "ổ đĩa chỉ cho đọc",
}


def os_reason(exc: OSError) -> str:
    """An operating-system error in Vietnamese (the OS's own text is English)."""
    return _OS_REASONS.get(exc.errno or 0, f"lỗi hệ thống (mã {exc.errno})")


def _read_input(path: Path) -> bytes:
    """A file named on the command line, or a one-line reason in Vietnamese."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise StartupError(f"Không đọc được tệp {path}: {os_reason(exc)}.") from None


def _write_output(out: Path, data: bytes) -> None:
    """Write a file the command made (its folder too), or a one-line reason in Vietnamese."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
    except OSError as exc:
        raise StartupError(f"Không ghi được tệp {out}: {os_reason(exc)}.") from None


def _cmd_console(args: argparse.Namespace, settings: Settings) -> int:
    from bot.channels.console import ConsoleChannel, run_console
    from bot.console_demo import demo_offer, load_console_demo
    from bot.runtime import build_core, build_scheduler

    core = build_core(settings)
    channel = ConsoleChannel(
        user_id=str(args.user_id),
        display_name=args.name,
        spool_dir=Path(settings.storage_dir).parent / "console",
    )
    core.hub.register(channel)
    scheduler = build_scheduler(core)
    note = demo_offer(core.engine)

    async def demo() -> str:
        return await asyncio.to_thread(
            load_console_demo, core.engine, channel, settings=settings, clock=core.clock
        )

    async def main() -> None:
        scheduler.start()  # reminders, digest, council rounds, resuming broadcasts
        try:
            await run_console(channel, core.process, note=note, demo=demo if note else None)
            await core.wait_background()  # let a broadcast under way finish before exiting
        finally:
            await scheduler.stop()

    asyncio.run(main())
    return 0


def _cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.serve import enabled_channels, serve, webhook_settings_error

    if not enabled_channels(settings):
        raise StartupError(
            "Chưa có token của kênh nào. Ghi vào tệp .env TELEGRAM_BOT_TOKEN=… (bot Telegram tạo "
            "với @BotFather) và/hoặc ZALO_BOT_TOKEN=… (bot Zalo tạo tại "
            "https://zalo.me/s/botcreator/), xem .env.example. Muốn thử không cần token: "
            "uv run thidua-bot console"
        )
    problem = webhook_settings_error(settings) if args.webhook else None
    if problem:
        raise StartupError(problem)
    from telegram.error import InvalidToken, NetworkError

    from bot.channels.zalo import ZaloStartupError
    from bot.runtime import build_core

    core = build_core(settings)
    try:
        asyncio.run(serve(settings, core, webhook=args.webhook))
    except ZaloStartupError as exc:
        raise StartupError(str(exc)) from None
    except InvalidToken:
        # PTB's message repeats the token; ours must not.
        raise StartupError(
            "Telegram từ chối TELEGRAM_BOT_TOKEN (sai hoặc đã bị thu hồi). Lấy token từ "
            "@BotFather rồi sửa tệp .env."
        ) from None
    except NetworkError as exc:
        raise StartupError(
            f"Không kết nối được Telegram Bot API khi khởi động ({exc.message}). Kiểm tra mạng "
            "và TELEGRAM_BASE_URL rồi chạy lại."
        ) from None
    return 0


def _cmd_web(args: argparse.Namespace, settings: Settings) -> int:
    """The web desk alone, on this machine only: a local try on the embedded database. Log in
    with a link from /web (e.g. in `thidua-bot console` on the same database)."""
    from bot.runtime import build_core
    from bot.serve import enabled_channels
    from bot.web.desk import Desk
    from bot.web.server import serving

    settings = settings.model_copy(update={"listen_host": "127.0.0.1"})
    core = build_core(settings)

    async def main() -> None:
        # Reminders queued here ("Nhắc ngay") are sent by the bot process (`run`).
        desk = Desk(core, channels=enabled_channels(settings))
        async with serving(
            [], engine=core.engine, host="127.0.0.1", port=settings.listen_port, desk=desk
        ) as server:
            print(
                f"Trang quản lý: http://127.0.0.1:{server.port}/ — đăng nhập bằng đường dẫn "
                "lệnh /web gửi trong chat (thử: uv run thidua-bot console --user-id <mã quản trị>). "
                "Ctrl+C để dừng.",
                flush=True,
            )
            await asyncio.Event().wait()

    try:
        asyncio.run(main())
    except OSError as exc:
        raise StartupError(
            f"Không mở được cổng {settings.listen_port} ({exc.strerror or exc}). Đặt LISTEN_PORT "
            "khác trong .env."
        ) from None
    return 0


def _cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from bot.db import create_db_engine, current_revision, upgrade

    engine = create_db_engine(settings.database_url)
    upgrade(engine)
    print(f"Cơ sở dữ liệu đã ở phiên bản {current_revision(engine)}.")
    return 0


def _cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    from bot.backup import BackupError, backup

    try:
        print(backup(settings.database_url, Path(args.out), overwrite=args.force))
    except BackupError as exc:
        raise StartupError(str(exc)) from None
    except OSError as exc:
        raise StartupError(f"Không ghi được bản sao lưu {args.out}: {os_reason(exc)}.") from None
    return 0


def _cmd_units_import(args: argparse.Namespace, settings: Settings) -> int:
    """The same import as /nhapdonvi: all rows or none, the result printed."""
    from sqlmodel import Session

    from bot.channels.text import html_to_plain
    from bot.clock import SystemClock
    from bot.db import create_db_engine, upgrade
    from bot.runtime import render_import_result
    from domain.units import import_units, record_import

    content = _read_input(Path(args.file))
    engine = create_db_engine(settings.database_url)
    upgrade(engine)
    now = SystemClock().now()
    with Session(engine, expire_on_commit=False) as session:
        scope = _organiser_scope(args, session)
        result = import_units(session, content, scope=scope, now=now)
        record_import(session, result, scope=scope, now=now, actor_label="cli")
        session.commit()
    print(html_to_plain(render_import_result(result)))
    return 0 if result.ok else 1


def _organiser_scope(args: argparse.Namespace, session: Session) -> Scope:
    """The organiser named by --coquan (its code), else the default one."""
    from domain.organisers import find_by_code
    from domain.scope import DEFAULT_SCOPE
    from domain.scope import Scope as OrganiserScope

    code = getattr(args, "coquan", "")
    if not code:
        return DEFAULT_SCOPE
    organiser = find_by_code(code, session=session)
    if organiser is None or organiser.id is None:
        raise StartupError(f"Không có cơ quan tổ chức mã {code}.")
    return OrganiserScope.of(organiser.id)


def _cmd_plan_parse(args: argparse.Namespace, settings: Settings) -> int:
    """What /nhapkehoach would propose for a plan file, printed as plain text."""
    from bot.catalog import t
    from bot.channels.text import html_to_plain
    from bot.clock import SystemClock
    from bot.runtime import PLAN_MAX_MB as MAX_MB
    from bot.runtime import render_proposal
    from domain.plan_parser import MAX_FILE_BYTES, PlanFileError, extract_text, parse_plan

    path = Path(args.file)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise PlanFileError("too_large")
        text = extract_text(path.read_bytes(), path.name)
    except OSError as exc:
        message = t("plans.cli.cannot_read", path=path, reason=os_reason(exc))
        print(html_to_plain(message), file=sys.stderr)
        return 1
    except PlanFileError as exc:
        print(html_to_plain(t(f"plans.file.{exc.reason}", max_mb=MAX_MB)), file=sys.stderr)
        return 1
    if args.text:
        return _print_to_pipe(text)
    today = SystemClock().now().astimezone(settings.tz).date()
    proposal = parse_plan(text, today=today)
    if not proposal.is_useful():
        print(html_to_plain(t("plans.nothing_found")), file=sys.stderr)
        return 1
    return _print_to_pipe(html_to_plain(render_proposal(proposal, today=today, footer=False)))


def _print_to_pipe(text: str) -> int:
    """Print, and end quietly when the reader went away (`plan parse FILE | head`)."""
    import os

    try:
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:
        # Python flushes stdout again at exit: point it at /dev/null so that flush is silent.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    return 0


def _cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from sqlmodel import Session

    from bot.catalog import t
    from bot.runtime import build_core
    from domain.dates import format_size
    from domain.export import ExportTexts, export_campaign, find_campaign

    core = build_core(settings)
    # The same forms the running bot uses, if the runtime loaded them; else columns follow
    # the stored answers.
    forms = core.services.forms
    with Session(core.engine) as session:
        campaign = find_campaign(
            args.campaign, scope=_organiser_scope(args, session), session=session
        )
        if campaign is None:
            raise StartupError(f"Không tìm thấy đợt thi đua {args.campaign}.")
        data = export_campaign(
            campaign,
            session=session,
            forms=forms,
            texts=ExportTexts.from_catalog(t),
            default_zone=settings.tz,
            now=core.clock.now(),
        )
    out = Path(args.out)
    _write_output(out, data)
    print(f"Đã ghi {out} ({campaign.document_number}, {format_size(len(data))}).")
    return 0


def _cmd_dossier(args: argparse.Namespace, settings: Settings) -> int:
    """The same ZIP as /hoso, written to a file, with progress on stderr."""
    from sqlmodel import Session

    from bot.clock import SystemClock
    from bot.runtime import build_core, dossier_texts
    from domain.dates import format_size
    from domain.dossier import build_dossier
    from domain.export import find_campaign

    core = build_core(settings)
    today = SystemClock().now().astimezone(settings.tz).date()

    def progress(done: int, total: int) -> None:
        print(f"{done}/{total} đơn vị", file=sys.stderr)

    with Session(core.engine) as session:
        campaign = find_campaign(
            args.campaign, scope=_organiser_scope(args, session), session=session
        )
        if campaign is None:
            raise StartupError(f"Không tìm thấy đợt thi đua {args.campaign}.")
        data = build_dossier(
            session,
            campaign=campaign,
            forms=core.services.forms,
            office=settings.office(),
            texts=dossier_texts(),
            storage_dir=Path(settings.storage_dir),
            today=today,
            zone=settings.tz,
            templates_dir=settings.templates_dir,
            progress=progress,
        )
        number = campaign.document_number
    out = Path(args.out)
    _write_output(out, data)
    print(f"Đã ghi {out} (hồ sơ {number}, {format_size(len(data))}).")
    return 0


def _cmd_awards_import(args: argparse.Namespace, settings: Settings) -> int:
    """Award history from CSV/XLSX: all rows or none, every bad row named."""
    from sqlmodel import Session

    from bot.channels.text import html_to_plain
    from bot.clock import SystemClock
    from bot.db import create_db_engine, upgrade
    from bot.runtime import render_award_import
    from domain.awards import import_awards, record_import

    content = _read_input(Path(args.file))
    engine = create_db_engine(settings.database_url)
    upgrade(engine)
    now = SystemClock().now()
    with Session(engine, expire_on_commit=False) as session:
        result = import_awards(session, content, now=now)
        if not result.ok:
            session.rollback()
        record_import(session, result, now=now, actor_label="cli")
        session.commit()
    print(html_to_plain(render_award_import(result)))
    return 0 if result.ok else 1


def _cmd_awards_decide(args: argparse.Namespace, settings: Settings) -> int:
    """Record a campaign's decided results (every nomination handed in) in the history."""
    from sqlmodel import Session

    from bot.clock import SystemClock
    from bot.db import create_db_engine, upgrade
    from domain import audit
    from domain.dates import ParseError, parse_date
    from domain.dossier import campaign_year, record_results
    from domain.export import deadlines_of, find_campaign

    try:
        decided_on = parse_date(args.date) if args.date else None
    except ParseError:
        raise StartupError(
            f"Ngày quyết định '{args.date}' không đọc được (ví dụ 15/01/2027)."
        ) from None
    engine = create_db_engine(settings.database_url)
    upgrade(engine)
    now = SystemClock().now()
    with Session(engine, expire_on_commit=False) as session:
        campaign = find_campaign(
            args.campaign, scope=_organiser_scope(args, session), session=session
        )
        if campaign is None:
            raise StartupError(f"Không tìm thấy đợt thi đua {args.campaign}.")
        year = args.year or campaign_year(
            campaign, deadlines_of(campaign, session=session), settings.tz
        )
        count = record_results(
            session,
            campaign=campaign,
            year=year,
            decision_number=args.decision,
            decision_date=decided_on,
            issuer=args.issuer,
            now=now,
        )
        audit.record(
            session,
            now=now,
            action="award.decide",
            actor_label="cli",
            target_type="campaign",
            target_id=campaign.id,
            detail={"decision": args.decision, "year": year, "records": count},
        )
        session.commit()
    print(f"Đã ghi {count} khen thưởng năm {year} (quyết định {args.decision}) vào lịch sử.")
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

    run = sub.add_parser(
        "run", help="chạy bot trên Telegram và/hoặc Zalo (cần TELEGRAM_BOT_TOKEN, ZALO_BOT_TOKEN)"
    )
    run.add_argument(
        "--webhook",
        action="store_true",
        help="nhận cập nhật qua webhook (WEBHOOK_URL, WEBHOOK_SECRET, ZALO_WEBHOOK_URL, "
        "ZALO_WEBHOOK_SECRET, LISTEN_HOST, LISTEN_PORT) thay cho long polling",
    )
    run.set_defaults(func=_cmd_run)

    web = sub.add_parser("web", help="chỉ chạy trang quản lý trên máy này (127.0.0.1:LISTEN_PORT)")
    web.set_defaults(func=_cmd_web)

    db = sub.add_parser("db", help="quản lý cơ sở dữ liệu")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="LỆNH")
    db_sub.add_parser("upgrade", help="áp dụng các migration còn thiếu").set_defaults(
        func=_cmd_db_upgrade
    )

    backup = sub.add_parser("backup", help="sao lưu cơ sở dữ liệu khi bot đang chạy")
    backup.add_argument(
        "--out", required=True, help="tệp sao lưu, ví dụ backup/thidua-2026-11-25.db"
    )
    backup.add_argument("--force", action="store_true", help="ghi đè tệp sao lưu đã có cùng tên")
    backup.set_defaults(func=_cmd_backup)
    units = sub.add_parser("units", help="quản lý danh sách đơn vị")
    units_sub = units.add_subparsers(dest="units_command", required=True, metavar="LỆNH")
    units_import = units_sub.add_parser(
        "import", help="nhập đơn vị từ tệp CSV/XLSX (cột ma, ten, loai, khoi), như /nhapdonvi"
    )
    units_import.add_argument("file", help="đường dẫn tệp, ví dụ samples/don-vi-tam-duong.csv")
    units_import.add_argument(
        "--coquan", default="", help="mã cơ quan tổ chức nhận các đơn vị (mặc định: cơ quan gốc)"
    )
    units_import.set_defaults(func=_cmd_units_import)
    plan = sub.add_parser("plan", help="đọc tệp kế hoạch (.docx, .pdf, .txt)")
    plan_sub = plan.add_subparsers(dest="plan_command", required=True, metavar="LỆNH")
    parse = plan_sub.add_parser("parse", help="in ra những gì đọc được từ tệp kế hoạch")
    parse.add_argument("file", metavar="TỆP", help="đường dẫn tệp kế hoạch")
    parse.add_argument("--text", action="store_true", help="chỉ in phần chữ lấy ra từ tệp")
    parse.set_defaults(func=_cmd_plan_parse)

    export = sub.add_parser("export", help="xuất Excel số liệu một đợt thi đua")
    export.add_argument("--campaign", required=True, help="số kế hoạch, ví dụ 353/KH-UBND")
    export.add_argument("--out", required=True, help="tệp .xlsx sẽ ghi, ví dụ report.xlsx")
    export.add_argument(
        "--coquan", default="", help="mã cơ quan tổ chức của đợt (mặc định: cơ quan gốc)"
    )
    export.set_defaults(func=_cmd_export)

    dossier = sub.add_parser(
        "dossier", help="lập hồ sơ thi đua (ZIP: báo cáo Word, bản ký, danh sách, tờ trình)"
    )
    dossier.add_argument("--campaign", required=True, help="số kế hoạch, ví dụ 353/KH-UBND")
    dossier.add_argument("--out", required=True, help="tệp .zip sẽ ghi, ví dụ hoso.zip")
    dossier.set_defaults(func=_cmd_dossier)

    award = sub.add_parser("awards", help="lịch sử khen thưởng của đơn vị, cá nhân")
    award_sub = award.add_subparsers(dest="awards_command", required=True, metavar="LỆNH")
    award_import = award_sub.add_parser(
        "import",
        help="nhập từ CSV/XLSX (cột ma_don_vi, ho_ten, nam, danh_hieu, so_quyet_dinh, "
        "ngay_quyet_dinh, co_quan); sai một dòng thì không nhập dòng nào",
    )
    award_import.add_argument("file", help="đường dẫn tệp, ví dụ lich-su-khen-thuong.csv")
    award_import.set_defaults(func=_cmd_awards_import)
    decide = award_sub.add_parser(
        "decide",
        help="ghi kết quả đã quyết định của một đợt vào lịch sử: mọi đề nghị đã nộp "
        "(bỏ đề nghị không được khen khỏi báo cáo trước khi chạy)",
    )
    decide.add_argument("--campaign", required=True, help="số kế hoạch, ví dụ 353/KH-UBND")
    decide.add_argument("--decision", required=True, help="số quyết định, ví dụ 125/QĐ-UBND")
    decide.add_argument("--date", default="", help="ngày quyết định, ví dụ 15/01/2027")
    decide.add_argument("--issuer", default="", help="người, cơ quan quyết định")
    decide.add_argument("--year", type=int, default=None, help="năm khen (mặc định năm của đợt)")
    decide.set_defaults(func=_cmd_awards_decide)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    from bot.logging_setup import RedactingFilter, setup_logging

    secrets = [
        secret.get_secret_value()
        for secret in (
            settings.telegram_bot_token,
            settings.zalo_bot_token,
            settings.webhook_secret,
            settings.zalo_webhook_secret,
            settings.session_secret,
        )
        if secret is not None
    ]
    setup_logging("WARNING" if args.command == "console" else settings.log_level, secrets=secrets)
    from bot.db import DatabaseNotWritable, leave_if_not_writable
    from domain.documents import TemplateError
    from domain.forms import FormError

    try:
        code = int(args.func(args, settings) or 0)
    except (StartupError, FormError, TemplateError, DatabaseNotWritable) as exc:
        print(RedactingFilter(secrets).redact(str(exc)), file=sys.stderr)
        code = 2
    except KeyboardInterrupt:
        code = 130
    except Exception:
        # Through logging, so the traceback passes the filter that scrubs tokens.
        log.exception("thidua-bot dừng vì lỗi không lường trước")
        code = 1
    # Database files made read-only while the bot ran: closing its connections would crash.
    leave_if_not_writable(settings.database_url, code or 1)
    return code


if __name__ == "__main__":
    sys.exit(main())
