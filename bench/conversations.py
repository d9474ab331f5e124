"""Benchmark: N simulated officers each fill a multi-step report at once, over HTTP, against
the real python-telegram-bot Application and core. Prints figures; it is not a test.

    uv run python bench/conversations.py --users 200
    uv run python bench/conversations.py --users 200 --units 10000
    uv run python bench/conversations.py --users 200 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test [--processes 2]

The driver (this process) runs one fake Bot API server (tests/fakes/telegram_api.py) per bot
process and the simulated users; each bot process (spawned) runs the real PTB Application
long-polling its fake server and the core, as in production. All bot processes share one
database: a fresh SQLite file, or a fresh schema in the PostgreSQL database given, dropped
afterwards. Every user is a registered officer of a unit and goes through the flow's steps as
fast as the bot answers (each step waits for the answer to the previous one); users are spread
over the processes as a load balancer would.

Figures: updates handled per second (all processes, first message to last answer); handling
latency p50/p95/p99, measured inside the bot process around `core.process`: from the update
reaching the core to its answers sent. TelegramPoller hands the core 8 updates at a time, as in
production, so this includes sharing the process with up to 7 other updates, not waiting for
a turn among the N; the latency a user sees (update pushed to the fake server → answer
received) includes that wait and long polling; CPU per update of the bot processes and
of the driver; Bot API calls per update; peak RSS per bot process. Telegram's limit of about
30 messages/s per bot is lifted: the bot is measured, not Telegram.

Telegram's limit of about one message a second per chat can be put on the fake servers with
`--chat-limit 1` (each send to a chat sooner than that after the previous one is answered 429,
counted in the figures); `--think 2` makes each user wait that many seconds before each step,
as a person reads and types. The bot's own per-chat spacing (TELEGRAM_CHAT_SPACING_SECONDS) is
its default (1 s) with `--chat-limit`, and lifted (0) without, as the overall limit is;
`--bot-chat-spacing` sets it either way, to compare.

Options: `--rounds` (reports per user),
`--json`, `--profile PATH` (cProfile each bot process). `--flow` picks what users do:
`report` (default) is the real achievement report of handlers/reports.py
(forms/bao-cao-thanh-tich.yaml: /baocao, twelve questions, the review, «Nộp báo cáo»; 14 or
17 updates per user, see `ReportFlow`); `survey` is a 10-question report-like flow registered by
the benchmark itself (a button choice, eight typed numbers, a confirm button; a database write
per answer), kept to compare with earlier figures.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import multiprocessing
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Protocol

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: make the project (and tests.fakes) importable

import sqlalchemy as sa  # noqa: E402
from pydantic import SecretStr  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from sqlmodel import Session  # noqa: E402

from bot.access import Access  # noqa: E402
from bot.channels.platforms import telegram_polling  # noqa: E402
from bot.context import Context  # noqa: E402
from bot.db import create_db_engine, upgrade  # noqa: E402
from bot.errors import InputError  # noqa: E402
from bot.events import Button, Inbound  # noqa: E402
from bot.router import Router, make_payload, split_payload  # noqa: E402
from bot.runtime import build_core  # noqa: E402
from bot.settings import Settings  # noqa: E402
from domain import audit  # noqa: E402
from models.units import Member, MemberStatus, Role, Unit  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram, SentMessage  # noqa: E402

FIRST_USER_ID = 700_000_000
T0 = "2026-03-02T01:00:00+00:00"


# --- what users do -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Step:
    """One thing a user does: type `text`, or press the button whose label contains `press`."""

    text: str | None = None
    press: str | None = None
    # Messages the bot sends in answer (the user waits for all of them before the next step).
    replies: int = 1
    # A fragment of the last answer that shows the step worked (checked once, at the end).
    expect: str | None = None


class BenchFlow(Protocol):
    """A conversation the simulated users go through.

    `ReportFlow` is the real report flow (handlers/reports.py): its `install` does nothing
    (build_router already routes it), its `seed` creates a campaign with an open deadline asking
    for the form, and its `steps` answer that form's questions.
    """

    name: str

    def install(self, router: Router) -> None:
        """Routes the flow needs that the bot does not have (in each bot process)."""

    def seed(self, session: Session, *, now: Any) -> None:
        """Rows the flow needs besides units and members (once, before the processes start)."""

    def steps(self, user_id: int) -> list[Step]:
        """What one user sends, in order, to fill one report."""
        ...


SURVEY = "bench_survey"
PERIODS = ["Quý I", "Quý II", "Quý III", "Quý IV"]
NUMBER_QUESTIONS = [
    "Số hộ đạt danh hiệu Gia đình văn hóa?",
    "Số thôn, tổ dân phố văn hóa?",
    "Số buổi tuyên truyền đã tổ chức?",
    "Số người tham gia hiến máu?",
    "Số mét đường giao thông nông thôn làm mới?",
    "Số hộ thoát nghèo trong kỳ?",
    "Số mô hình, điển hình tiên tiến?",
    "Số tiền vận động ủng hộ (triệu đồng)?",
]


class SurveyFlow:
    """A report-like flow of 10 questions: pick the period (button), eight numbers (typed, bad
    input re-asked), confirm (button). Every answer is written to the database as it comes."""

    name = "survey"

    def install(self, router: Router) -> None:
        router.include(_survey_router())

    def seed(self, session: Session, *, now: Any) -> None:
        return None

    def steps(self, user_id: int) -> list[Step]:
        numbers = [Step(text=str((user_id * 7 + n) % 500)) for n in range(len(NUMBER_QUESTIONS))]
        return [
            Step(text="/baocaothu"),
            Step(press=PERIODS[user_id % 4]),
            *numbers,
            Step(press="Nộp", expect="Đã nộp báo cáo"),
        ]


def _survey_router() -> Router:
    router = Router()

    def ask_number(ctx: Context, index: int) -> None:
        ctx.goto(f"n{index}")
        ctx.ask(f"Câu {index + 2}/10. {NUMBER_QUESTIONS[index]}")

    def record_answer(ctx: Context, question: str, value: object) -> None:
        ctx.data["answers"][question] = value
        audit.record(
            ctx.session,
            now=ctx.now(),
            action="bench.answer",
            actor=ctx.member,
            target_type="question",
            target_id=question,
            detail={"value": value},
        )

    @router.command("baocaothu", access=Access.OFFICER)
    async def start(event: Inbound, ctx: Context) -> None:
        assert ctx.member is not None and ctx.member.unit_id is not None
        unit = ctx.session.get(Unit, ctx.member.unit_id)
        ctx.begin(SURVEY, "period", {"answers": {}})
        buttons = [[Button(p, make_payload("bt", "period", i)) for i, p in enumerate(PERIODS)]]
        ctx.ask(f"Báo cáo của {unit.name if unit else ''}. Câu 1/10. Kỳ báo cáo?", buttons)

    @router.button("bt", access=Access.OFFICER)
    async def pressed(event: Inbound, ctx: Context) -> None:
        _, (question, value) = split_payload(event.payload or "")
        if ctx.flow != SURVEY or ctx.step != question:
            ctx.say("core.stale_button")
            return
        if question == "period":
            record_answer(ctx, "period", PERIODS[int(value)])
            ask_number(ctx, 0)
            return
        record_answer(ctx, "confirm", value)
        total = sum(v for v in ctx.data["answers"].values() if isinstance(v, int))
        ctx.reply(f"Đã nộp báo cáo {ctx.data['answers']['period']}: tổng các số {total}.")
        ctx.end()

    @router.flow(SURVEY, access=Access.OFFICER)
    async def typed(event: Inbound, ctx: Context) -> None:
        step = ctx.step or ""
        if not step.startswith("n"):
            raise InputError("core.not_understood")
        text = event.text.strip()
        if not text.isdigit():
            raise InputError("core.not_understood", example="12")
        index = int(step[1:])
        record_answer(ctx, step, int(text))
        if index + 1 < len(NUMBER_QUESTIONS):
            ask_number(ctx, index + 1)
        else:
            ctx.goto("confirm")
            ctx.ask("Câu 10/10. Nộp báo cáo?", [[Button("Nộp", make_payload("bt", "confirm", 1))]])

    return router


class ReportFlow:
    """The real achievement report (handlers/reports.py, forms/bao-cao-thanh-tich.yaml): /baocao,
    every question answered as an officer would — typed text, numbers and a date; the
    self-assessment by button; the optional amount typed by every other user and skipped with
    «Bỏ qua» by the others; one model (two typed answers, then «Xong») added by every third user
    and the list skipped by the others; the signed scan skipped (no upload) — then the review
    and «Nộp báo cáo». Seeded: one active campaign for all units with one open deadline asking
    for the form (due in 30 days, real time: the bot processes run on the real clock)."""

    name = "report"
    CHOICES = (
        "Hoàn thành xuất sắc nhiệm vụ",
        "Hoàn thành tốt nhiệm vụ",
        "Hoàn thành nhiệm vụ",
        "Không hoàn thành nhiệm vụ",
    )

    def install(self, router: Router) -> None:
        return None  # build_router already routes /baocao and its buttons

    def seed(self, session: Session, *, now: Any) -> None:
        from datetime import UTC, datetime, timedelta

        from models.campaigns import Campaign, CampaignStatus, Deadline, DeadlineKind

        real_now = datetime.now(UTC)
        campaign = Campaign(
            document_number="353/KH-UBND",
            name="Đợt thi đua chào mừng Đại hội",
            issuing_body="UBND huyện Tam Đường",
            starts_on=real_now.date(),
            ends_on=(real_now + timedelta(days=90)).date(),
            status=CampaignStatus.ACTIVE,
            participants="all",
            created_at=real_now,
            activated_at=real_now,
        )
        session.add(campaign)
        session.flush()
        session.add(
            Deadline(
                campaign_id=campaign.id,
                kind=DeadlineKind.FINAL,
                title="Báo cáo thành tích đợt 1",
                due_at=real_now + timedelta(days=30),
                form_code="bao-cao-thanh-tich",
                reminder_policy={},
                created_at=real_now,
                updated_at=real_now,
            )
        )

    def steps(self, user_id: int) -> list[Step]:
        total = 5 + user_id % 40
        steps = [
            # The start notice and question 1, joined in one Telegram message (bot.hub.coalesce).
            Step(text="/baocao"),
            Step(text=f"Thu ngân sách đạt {100 + user_id % 20}% kế hoạch; {total} chỉ tiêu"),
            Step(text=str(total)),
            Step(text=str(total - user_id % 5)),
            Step(press=self.CHOICES[user_id % 4]),
        ]
        if user_id % 2:
            steps.append(Step(text=f"{user_id % 1000}.{user_id % 900 + 100},5"))
        else:
            steps.append(Step(press="Bỏ qua"))
        if user_id % 3 == 0:
            steps += [
                Step(press="Thêm mục"),
                Step(text=f"Mô hình trồng chè VietGAP thôn {user_id % 97}"),
                Step(text="15 hộ tham gia, năng suất tăng 20%"),
                Step(press="Xong"),
            ]
        else:
            steps.append(Step(press="Bỏ qua"))
        # The report is signed on a day already past (a future signing date is refused).
        signed = date.today() - timedelta(days=1 + user_id % 60)
        steps += [
            Step(text="Giải ngân vốn còn chậm do thiếu mặt bằng"),
            Step(text=f"Xã miền núi, {5 + user_id % 20} thôn, {3000 + user_id % 9000} nhân khẩu"),
            Step(press="Bỏ qua"),  # part I: duties as the law gives them
            Step(press="Bỏ qua"),  # part III: past awards come from the award history
            Step(text=signed.strftime("%d/%m/%Y")),
            Step(press="Bỏ qua"),  # the signed scan: no upload in the benchmark
            Step(press="Nộp báo cáo", expect="Mã biên nhận"),
        ]
        return steps


FLOWS: dict[str, BenchFlow] = {"report": ReportFlow(), "survey": SurveyFlow()}


# --- the fake Telegram, with waiting per chat ---------------------------------------------------
class BenchTelegram(FakeTelegram):
    """FakeTelegram that wakes only the user a message was sent to (the shared event of the
    test fake would wake every waiting user on every message: O(users) per message)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self._waiters: dict[str, list[tuple[int, asyncio.Future[None]]]] = defaultdict(list)

    def _record(self, method: str, chat_id: str, **fields: Any) -> SentMessage:
        message = super()._record(method, chat_id, **fields)
        key = str(chat_id)
        count = len(self.sent[key])
        waiting = self._waiters.get(key)
        if waiting:
            ready = [(n, f) for n, f in waiting if n <= count]
            self._waiters[key] = [(n, f) for n, f in waiting if n > count]
            for _, future in ready:
                if not future.done():
                    future.set_result(None)
        return message

    async def until(self, chat_id: int, count: int, timeout: float = 60.0) -> None:
        key = str(chat_id)
        if len(self.sent[key]) >= count:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters[key].append((count, future))
        await asyncio.wait_for(future, timeout)


# --- one bot process ------------------------------------------------------------------------------
@dataclass
class WorkerConfig:
    index: int
    database_url: str
    schema: str | None
    flow: str
    base_url: str
    token: str
    log_level: str
    profile: str | None = None
    chat_spacing: float | None = None


@dataclass
class WorkerResult:
    index: int
    updates: int
    handling_ms: list[float] = field(default_factory=list)
    cpu_seconds: float = 0.0
    rss_mb: float = 0.0


async def _run_worker(config: WorkerConfig, ready: Any, stop: Any) -> WorkerResult:
    import logging

    logging.basicConfig(level=config.log_level)
    engine = create_db_engine(config.database_url, schema=config.schema)
    settings = Settings(
        _env_file=None,
        database_url=config.database_url,
        telegram_bot_token=SecretStr(config.token),
        telegram_base_url=config.base_url,
        flood_max_per_window=1_000_000,
        # Telegram allows about 30 messages/s per bot; the fake does not, and the bot is measured.
        telegram_max_messages_per_second=0,
        **(
            {"telegram_chat_spacing_seconds": config.chat_spacing}
            if config.chat_spacing is not None
            else {}
        ),
    )
    core = build_core(settings, engine=engine, migrate=False)
    FLOWS[config.flow].install(core.router)
    handling_ms: list[float] = []
    process = core.process

    async def timed_process(event: Inbound, **options: Any) -> Any:
        began = time.perf_counter()
        try:
            return await process(event, **options)
        finally:
            handling_ms.append((time.perf_counter() - began) * 1000)

    core.process = timed_process  # type: ignore[method-assign]
    # Updates come in as in production: TelegramPoller long-polling the fake server.
    async with telegram_polling(settings, core):
        ready.put(config.index)
        cpu_before = time.process_time()
        await asyncio.get_running_loop().run_in_executor(None, stop.wait)
        cpu_seconds = time.process_time() - cpu_before
    engine.dispose()
    return WorkerResult(
        index=config.index,
        updates=len(handling_ms),
        handling_ms=handling_ms,
        cpu_seconds=cpu_seconds,
        rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )


def worker_main(config: WorkerConfig, ready: Any, stop: Any, results: Any) -> None:
    """A bot process: the PTB Application long-polling its fake server, and the core."""
    if config.profile:
        import cProfile

        profiler = cProfile.Profile()
        result = profiler.runcall(asyncio.run, _run_worker(config, ready, stop))
        profiler.dump_stats(f"{config.profile}.{config.index}")
    else:
        result = asyncio.run(_run_worker(config, ready, stop))
    results.put(asdict(result))


# --- the simulated officers ----------------------------------------------------------------------
async def officers(
    flow: BenchFlow,
    servers: list[BenchTelegram],
    users: list[int],
    rounds: int,
    think: float = 0.0,
) -> tuple[list[float], float, int]:
    """Every user fills `rounds` reports as fast as the bot answers (after `think` seconds
    before each step); user i talks to the bot process behind servers[i % len(servers)].
    Returns latencies seen, seconds, completed."""
    seen_ms: list[float] = []

    async def officer(user_id: int, fake: BenchTelegram) -> None:
        steps = flow.steps(user_id)
        name = f"Cán bộ {user_id}"
        for _ in range(rounds):
            for step in steps:
                if think:
                    await asyncio.sleep(think)
                before = len(fake.sent[str(user_id)])
                pushed = time.perf_counter()
                if step.press is not None:
                    fake.press(user_id, step.press, name=name)
                else:
                    fake.push_text(user_id, step.text or "", name=name)
                await fake.until(user_id, before + step.replies)
                seen_ms.append((time.perf_counter() - pushed) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(officer(u, servers[n % len(servers)]) for n, u in enumerate(users)))
    elapsed = time.perf_counter() - started
    expect = next((s.expect for s in reversed(flow.steps(users[0])) if s.expect), None)
    failed = [
        (u, servers[n % len(servers)])
        for n, u in enumerate(users)
        if expect is not None
        and expect not in (servers[n % len(servers)].sent[str(u)][-1].text or "")
    ]
    if failed:
        # Show what went wrong for one of them: the flow's steps no longer match the bot.
        user_id, fake = failed[0]
        print(f"user {user_id} did not finish; what the bot sent:", file=sys.stderr)
        for message in fake.sent[str(user_id)]:
            labels = [label for label, _ in message.buttons]
            print(f"  {message.text!r} {labels or ''}", file=sys.stderr)
    return seen_ms, elapsed, len(users) - len(failed)


# --- the database --------------------------------------------------------------------------------
def prepare_database(args: argparse.Namespace, workdir: Path) -> tuple[str, str | None]:
    """A fresh, migrated database: an SQLite file, or a schema of its own on PostgreSQL."""
    if not args.database_url:
        url = f"sqlite:///{workdir / 'bench.db'}"
        schema = None
    else:
        url = args.database_url
        schema = f"bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        admin = sa.create_engine(url)
        with admin.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        admin.dispose()
    engine = create_db_engine(url, schema=schema)
    upgrade(engine)
    seed(engine, args)
    engine.dispose()
    return url, schema


def drop_database(url: str, schema: str | None) -> None:
    if schema is None:
        return
    admin = sa.create_engine(url)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    admin.dispose()


def seed(engine: Engine, args: argparse.Namespace) -> None:
    """Units (--units, at least one per user) and every simulated user as their officer."""
    from datetime import datetime

    now = datetime.fromisoformat(T0)
    units = max(args.units, args.users)
    unit_rows = [
        {
            "code": f"DV-{n:05d}",
            "name": f"Xã Thử Nghiệm {n}",
            "search_key": f"dv-{n:05d} xa thu nghiem {n}",
            "kind": "xa",
            "bloc": f"Khối {n % 20}",
            "active": True,
            "created_at": now,
        }
        for n in range(1, units + 1)
    ]
    with Session(engine) as session:
        session.execute(sa.insert(Unit.__table__), unit_rows)
        ids = session.execute(sa.select(Unit.__table__.c.id).order_by("id")).scalars().all()
        member_rows = [
            {
                "channel": "telegram",
                "user_id": str(FIRST_USER_ID + n),
                "chat_id": str(FIRST_USER_ID + n),
                "display_name": f"Cán bộ {n}",
                "role": Role.OFFICER,
                "unit_id": ids[n],
                "status": MemberStatus.APPROVED,
                "created_at": now,
                "updated_at": now,
            }
            for n in range(args.users)
        ]
        session.execute(sa.insert(Member.__table__), member_rows)
        FLOWS[args.flow].seed(session, now=now)
        session.commit()


# --- running and reporting -----------------------------------------------------------------------
def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def drive(args: argparse.Namespace, url: str, schema: str | None) -> dict[str, Any]:
    """Start the fake servers and the bot processes, let the users loose, gather figures."""
    servers = [
        BenchTelegram(chat_rate_limit=args.chat_limit or None) for _ in range(args.processes)
    ]
    for index, server in enumerate(servers):
        # One bot, one sequence of update ids: the servers stand for Telegram delivering
        # different updates to different processes, so their ids must not repeat.
        server._update_ids = itertools.count(1 + index * 1_000_000_000)
        await server.start()
    context = multiprocessing.get_context("spawn")
    ready, results_queue, stop = context.Queue(), context.Queue(), context.Event()
    processes = []
    for index, server in enumerate(servers):
        config = WorkerConfig(
            index=index,
            database_url=url,
            schema=schema,
            flow=args.flow,
            base_url=server.base_url,
            token=server.token,
            log_level=args.log_level,
            profile=args.profile,
            chat_spacing=(
                args.bot_chat_spacing
                if args.bot_chat_spacing is not None
                else (None if args.chat_limit else 0.0)
            ),
        )
        process = context.Process(target=worker_main, args=(config, ready, stop, results_queue))
        process.start()
        processes.append(process)
    loop = asyncio.get_running_loop()
    try:
        for _ in processes:
            await loop.run_in_executor(None, ready.get, True, 120)
        users = [FIRST_USER_ID + n for n in range(args.users)]
        driver_cpu = time.process_time()
        seen_ms, elapsed, completed = await officers(
            FLOWS[args.flow], servers, users, args.rounds, args.think
        )
        driver_cpu = time.process_time() - driver_cpu
    finally:
        stop.set()
    results = [
        WorkerResult(**await loop.run_in_executor(None, results_queue.get, True, 120))
        for _ in processes
    ]
    for process in processes:
        process.join(timeout=30)
    for server in servers:
        await server.stop()
    apologies = sum(
        1
        for server in servers
        for messages in server.sent.values()
        for m in messages
        if "Xin lỗi" in (m.text or "")
    )
    handling = [ms for r in results for ms in r.handling_ms]
    updates = sum(r.updates for r in results)
    calls: dict[str, int] = defaultdict(int)
    for server in servers:
        for method in server.calls:
            calls[method] += 1
    return {
        "flow": args.flow,
        "database": "postgresql" if args.database_url else "sqlite",
        "processes": args.processes,
        "users": args.users,
        "units": max(args.units, args.users),
        "rounds": args.rounds,
        "updates": updates,
        "seconds": round(elapsed, 2),
        "updates_per_second": round(updates / elapsed, 1),
        "handling_ms": {
            "p50": round(percentile(handling, 0.50), 1),
            "p95": round(percentile(handling, 0.95), 1),
            "p99": round(percentile(handling, 0.99), 1),
            "mean": round(statistics.fmean(handling), 1),
        },
        "user_seen_ms": {
            "p50": round(percentile(seen_ms, 0.50), 1),
            "p95": round(percentile(seen_ms, 0.95), 1),
            "p99": round(percentile(seen_ms, 0.99), 1),
        },
        # CPU time per update: what the throughput would be on an otherwise idle core.
        "bot_cpu_ms_per_update": round(1000 * sum(r.cpu_seconds for r in results) / updates, 2),
        "driver_cpu_ms_per_update": round(1000 * driver_cpu / updates, 2),
        "api_calls_per_update": {m: round(n / updates, 2) for m, n in sorted(calls.items())},
        "reports_completed": f"{completed}/{args.users}",
        "apologies": apologies,
        "chat_limit": args.chat_limit,
        "think_seconds": args.think,
        "answered_429": sum(server.throttled for server in servers),
        "answered_429_per_chat": sum(server.chat_throttled for server in servers),
        "peak_rss_mb_per_process": [round(r.rss_mb, 1) for r in results],
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="thidua-bench-"))
    url, schema = prepare_database(args, workdir)
    try:
        return asyncio.run(drive(args, url, schema))
    finally:
        drop_database(url, schema)
        shutil.rmtree(workdir, ignore_errors=True)


def print_report(figures: dict[str, Any]) -> None:
    h, s = figures["handling_ms"], figures["user_seen_ms"]
    print(
        f"flow={figures['flow']} database={figures['database']} processes={figures['processes']} "
        f"users={figures['users']} "
        f"units={figures['units']} rounds={figures['rounds']}"
    )
    print(
        f"  {figures['updates']} updates in {figures['seconds']} s → "
        f"{figures['updates_per_second']} updates/s"
    )
    print(
        f"  handling latency ms: p50 {h['p50']}  p95 {h['p95']}  p99 {h['p99']}  (mean {h['mean']})"
    )
    print(f"  latency a user sees ms: p50 {s['p50']}  p95 {s['p95']}  p99 {s['p99']}")
    print(
        f"  CPU ms per update: bot processes {figures['bot_cpu_ms_per_update']}, "
        f"fake Telegram + users {figures['driver_cpu_ms_per_update']}"
    )
    calls = ", ".join(f"{m} {n}" for m, n in figures["api_calls_per_update"].items())
    print(f"  Bot API calls per update: {calls}")
    print(
        f"  reports completed {figures['reports_completed']}, apologies {figures['apologies']}, "
        f"peak RSS MB per process {figures['peak_rss_mb_per_process']}"
    )
    print(
        f"  per-chat limit {figures['chat_limit'] or 'none'}/s, think {figures['think_seconds']} s: "
        f"{figures['answered_429']} × 429 ({figures['answered_429_per_chat']} per chat)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=200, help="simulated officers (50, 200, 1000)")
    parser.add_argument("--flow", choices=sorted(FLOWS), default="report")
    parser.add_argument("--rounds", type=int, default=1, help="reports each user fills in a row")
    parser.add_argument(
        "--database-url", default=None, help="PostgreSQL URL (default: a fresh SQLite file)"
    )
    parser.add_argument("--processes", type=int, default=1, help="bot processes sharing the DB")
    parser.add_argument(
        "--units", type=int, default=0, help="units registered beforehand (at least --users)"
    )
    parser.add_argument(
        "--chat-limit",
        type=float,
        default=0.0,
        help="messages/s per chat the fake servers allow before answering 429 (0 = no limit)",
    )
    parser.add_argument(
        "--think", type=float, default=0.0, help="seconds each user waits before each step"
    )
    parser.add_argument(
        "--bot-chat-spacing",
        type=float,
        default=None,
        help="the bot's TELEGRAM_CHAT_SPACING_SECONDS (default: 1 with --chat-limit, else 0)",
    )
    parser.add_argument("--log-level", default="WARNING")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--profile", metavar="PATH", help="cProfile each process into PATH.<n> (pstats)"
    )
    args = parser.parse_args(argv)
    if args.flow == "report" and args.rounds > 1:
        parser.error("the report flow is one report per user (a second /baocao opens the review)")
    if args.processes > 1 and not args.database_url:
        parser.error("several processes need PostgreSQL (--database-url)")
    figures = run(args)
    if args.json:
        print(json.dumps(figures, ensure_ascii=False))
    else:
        print_report(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
