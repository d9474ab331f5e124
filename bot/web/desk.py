"""The office's web desk (trang quản lý): campaigns, a dashboard per campaign, reports with their
answers, versions and files, exports (the XLSX; the dossier ZIP as a background job with a
progress page), plan upload, units and officers, the audit log — and the council's pages
(nominations, review rounds with counts, bloc rankings), the only ones a council member sees.

One small view function per page, each reading through the same domain functions as the chat
(`domain.campaigns.unit_status` for a cell, `domain.progress.deadline_progress` for the bars,
`domain.reports.accept_report`/`return_report`/`reopen_report` for the decisions,
`domain.reminders.queue_manual` for "Nhắc ngay", `domain.export.export_campaign` for the XLSX,
`domain.units.import_units` for an import, `domain.dossier.build_dossier` for the ZIP,
`domain.plans.create_campaign_from_plan` for a plan, `domain.council.results`/`open_votes` and
`domain.scoring.campaign_rankings` for the council) and deciding access through `bot.access`
only.

Logging in: `/web` in the chat gives a one-time link (`domain.web_login`); opening it shows a
button (so a chat app's link preview cannot spend it), pressing it sets a signed, HttpOnly,
SameSite cookie carrying the member, their session generation, an expiry and the CSRF token
every form posts back. Each request re-reads the member: "/web thoat", a removal or a lost
admin role ends the session at once.

Database work runs in a worker thread inside the core's one-transaction-at-a-time turn
(`BotCore.database_turn`), never on the event loop; every audit row written by a desk
transaction says "qua web" (`domain.audit.via`).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote, urlencode, urlsplit

from itsdangerous import BadSignature
from sqlmodel import Session, col, select
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from bot import access
from bot.catalog import t
from bot.db import outside_update
from bot.events import Address, Button, Delivery, Outbound
from bot.plan_reader import basis_line, plan_description, read_plan
from bot.router import make_payload
from bot.web.jobs import Job, JobKey, Jobs
from bot.web.keys import serializer
from bot.web.links import (
    DOSSIER,
    FILE_LINK_PATH,
    PUBLISHED,
    FileLink,
    FileOut,
    LinkError,
    file_resolver,
    read_file_token,
    read_kept,
    read_published,
    register_file_kind,
)
from domain import audit, council, scoring
from domain import scope as scoped
from domain.campaigns import (
    UnitStatus,
    deadlines_of,
    list_campaigns,
    participating_units,
    reports_by_unit,
    unit_status,
)
from domain.chart import BarRow, render_stacked_bars
from domain.dossier import (
    build_dossier,
    dossier_root,
    now_local,
    participant_ids,
    waiting_for_scan_by_deadline,
)
from domain.export import ExportTexts, export_campaign, export_file_name, text_value
from domain.ledger import queue_manual
from domain.organisers import office_words
from domain.plan_parser import (
    CONFIRM_FLAGS,
    PlanFileError,
    PlanProposal,
    ProposedDeadline,
    deadline_flags,
)
from domain.plan_parser import MAX_FILE_BYTES as PLAN_MAX_BYTES
from domain.plans import PlanNotReady, check_ready, create_campaign_from_plan
from domain.progress import Category, deadline_progress, focus_deadline
from domain.reports import (
    ReportError,
    accept_report,
    has_unsent_changes,
    reopen_report,
    report_with_context,
    return_report,
    unit_officers,
)
from domain.scope import Scope
from domain.text import clean_text, fold, matches
from domain.units import MAX_FILE_BYTES as UNIT_FILE_MAX
from domain.units import blocs as unit_blocs
from domain.units import import_units, members_by_unit, record_import, search_units, unit_kinds
from domain.web_login import LoginError, consume_login_token
from models.audit import AuditLog
from models.campaigns import Campaign, CampaignStatus, Deadline
from models.council import CouncilRound, RoundStatus
from models.reports import Attachment, Report, ReportStatus, ReportVersion
from models.units import Member, Unit

if TYPE_CHECKING:
    from bot.core import BotCore

log = logging.getLogger("thidua.web")

T = TypeVar("T")

HERE = Path(__file__).resolve().parent
COOKIE = "thidua_desk"
SESSION_TTL = timedelta(hours=8)
VIA_WEB = "qua web"
AUDIT_PAGE = 200
# A province has thousands of units: the page lists this many, a search narrows the rest.
UNITS_SHOWN = 300
# What a browser may show inline; any other stored type is sent as a download.
INLINE_TYPES = {"image/png", "image/jpeg", "application/pdf"}
# A matrix cell's own state beside `UnitStatus`: handed in, signed scan missing (thiếu bản ký).
SCAN_MISSING = "scan_missing"
# Plan upload: the chat's limit and file types; the signed proposal a review page posts back.
PLAN_FILE_MAX = PLAN_MAX_BYTES
PLAN_SUFFIXES = ("docx", "pdf", "txt")
PLAN_TOKEN_MAX = 256 * 1024
PLAN_FORM_FIELDS = 400
# Prefixes of the desk's own pages: a webhook path must not fall under one of them.
PREFIXES = (
    "/login",
    "/logout",
    "/campaigns",
    "/reports",
    "/units",
    "/audit",
    "/plans",
    "/static",
)


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking: the member behind the session cookie, the session's CSRF token, and
    what they may see (`bot.access.web_access`, re-read on every request): an admin's
    organiser, or a council member's campaigns."""

    member: Member
    csrf: str
    rights: access.WebAccess

    @property
    def scope(self) -> Scope:
        """The organiser of an office page. A council member has none: any page that asks
        answers 404, like one that does not exist (`_page` refuses them before that)."""
        if self.rights.scope is None:
            raise _not_found()
        return self.rights.scope

    @property
    def is_office(self) -> bool:
        return self.rights.is_office


class Refused(Exception):
    """A page cannot be shown: the status and a short Vietnamese explanation."""

    def __init__(self, status: int, title: str, text: str = "") -> None:
        super().__init__(title)
        self.status = status
        self.title = title
        self.text = text


def _not_found() -> Refused:
    # An object the viewer may not see answers exactly like one that does not exist.
    return Refused(HTTPStatus.NOT_FOUND, "Không tìm thấy", "Trang hoặc mục này không tồn tại.")


@dataclass(slots=True)
class Bar:
    label: str
    counts: list[tuple[str, str, int, float]]  # (category, label, count, percent)
    submitted: int
    total: int


@dataclass(slots=True)
class Cell:
    deadline: Deadline
    report: Report | None
    status: str
    label: str


@dataclass(slots=True)
class MatrixRow:
    unit: Unit
    cells: list[Cell] = field(default_factory=list)


@dataclass(slots=True)
class AnswerRow:
    label: str
    shown: str
    before: str | None
    changed: bool
    attachment_id: int | None = None
    entries: list[list[tuple[str, str]]] = field(default_factory=list)


@dataclass(slots=True)
class CouncilNominee:
    name: str
    job: str
    unit: str
    award: str
    secret: bool
    summary: str


@dataclass(slots=True)
class ItemView:
    position: int
    name: str
    award: str
    secret: bool
    yes: int | None = None
    no: int | None = None
    needed: int = 0
    passed: bool = False
    votes: list[tuple[str, str]] = field(default_factory=list)  # open votes only
    decision: str = ""


@dataclass(slots=True)
class RoundView:
    round: CouncilRound
    label: str
    members: int
    finished: int = 0
    items: list[ItemView] = field(default_factory=list)
    quorum_needed: int = 0
    quorum_met: bool = True


@dataclass(slots=True)
class RankLine:
    rank: int
    unit: str
    code: str
    total: str
    tied: bool
    proposed: str


@dataclass(slots=True)
class PlanRow:
    deadline: ProposedDeadline
    kind: str
    flags: list[str]
    kept: bool


class Desk:
    """The desk's routes over one core (its engine, clock, forms and channels)."""

    def __init__(self, core: BotCore, *, channels: Sequence[str] | None = None) -> None:
        self.core = core
        self.settings = core.settings
        # Channels reminders may go to: this process's, or (the desk served alone) the ones
        # the bot process serves — it sends the queued reminders.
        self._channels = list(channels) if channels is not None else None
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))
        self.templates.env.filters["when"] = self._when
        self.templates.env.filters["size"] = _size
        self.templates.env.globals["status_label"] = _status_label
        self._cookies = serializer(self.settings, "session")
        self._flashes = serializer(self.settings, "flash")
        self._plans = serializer(self.settings, "plan")
        self._deliveries: set[asyncio.Task[None]] = set()
        self.jobs = Jobs(Path(self.settings.storage_dir) / "web-jobs")
        # How often a running job's page reloads itself (a meta refresh): often enough to see
        # progress, rarely enough not to load a small server; the browser test shortens it.
        self.job_refresh_seconds = 3
        register_file_kind("attachment", self._attachment_file)
        register_file_kind("export", self._export_file)
        register_file_kind("chart", self._chart_file)
        register_file_kind(DOSSIER, self._dossier_file)

    # --- plumbing -----------------------------------------------------------------------------
    def reserved_prefixes(self) -> tuple[str, ...]:
        return (*PREFIXES, FILE_LINK_PATH)

    def routes(self) -> list[BaseRoute]:
        page = self._page
        return [
            Route("/", page(self.campaigns_page, office=False)),
            Route("/login/{token}", self.login_page, methods=["GET"]),
            Route("/login/{token}", self.login, methods=["POST"]),
            Route("/logout", page(self.logout, post=True, office=False), methods=["POST"]),
            Route("/campaigns/{campaign_id:int}", page(self.dashboard)),
            Route(
                "/campaigns/{campaign_id:int}/remind",
                page(self.remind, post=True),
                methods=["POST"],
            ),
            Route("/campaigns/{campaign_id:int}/export.xlsx", page(self.export)),
            Route("/campaigns/{campaign_id:int}/council", page(self.council_page, office=False)),
            Route("/campaigns/{campaign_id:int}/rankings", page(self.rankings_page, office=False)),
            *self.job_routes(),
            Route("/plans", page(self.plans_page)),
            Route(
                "/plans/read",
                page(self.plans_read, post=True, limit=PLAN_FILE_MAX),
                methods=["POST"],
            ),
            Route(
                "/plans/create",
                page(self.plans_create, post=True, fields=PLAN_FORM_FIELDS),
                methods=["POST"],
            ),
            Route("/reports/{report_id:int}", page(self.report_page)),
            Route(
                "/reports/{report_id:int}/{action:str}",
                page(self.decide, post=True),
                methods=["POST"],
            ),
            Route("/reports/{report_id:int}/files/{attachment_id:int}", page(self.attachment)),
            Route("/units", page(self.units_page)),
            Route("/units/import", page(self.units_import, post=True), methods=["POST"]),
            Route("/audit", page(self.audit_page)),
            Route(FILE_LINK_PATH + "/{token:str}", self.file_link),
            Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
        ]

    def now(self) -> datetime:
        return self.core.clock.now()

    def channels(self) -> list[str]:
        return self.core.hub.channels or list(self._channels or [])

    def _flash(self, request: Request, key: str) -> str:
        raw = request.query_params.get(key, "")
        if not raw or len(raw) > 4096:
            return ""
        try:
            text = self._flashes.loads(raw)
        except BadSignature:
            return ""
        return text if isinstance(text, str) else ""

    def _when(self, moment: datetime | None) -> str:
        if moment is None:
            return ""
        return moment.astimezone(self.settings.tz).strftime("%H:%M %d/%m/%Y")

    async def db(
        self, work: Callable[[Session], T], *, write: bool = False, scope: Scope | None = None
    ) -> T:
        """`work` in a transaction of its own, in a worker thread, in the core's turn; audit
        rows it writes belong to `scope`'s organiser (the viewer's) unless they name one."""

        def marked(session: Session) -> T:
            audit.via(session, VIA_WEB)
            if scope is not None:
                audit.within(session, scope.organiser_id)
            return work(session)

        return await outside_update(
            self.core.engine, marked, commit=write, what="web desk", turn=self.core.database_turn
        )

    def render(
        self, request: Request, name: str, context: dict[str, Any], status: int = 200
    ) -> Response:
        response = self.templates.TemplateResponse(request, name, context, status_code=status)
        # Pages show people's data and carry the session's CSRF token: never cached.
        response.headers["cache-control"] = "no-store"
        return response

    def _message(self, request: Request, refused: Refused, viewer: Viewer | None) -> Response:
        context = {"title": refused.title, "text": refused.text, "viewer": viewer}
        return self.render(request, "message.html", context, refused.status)

    def _page(
        self,
        view: Callable[..., Any],
        *,
        post: bool = False,
        office: bool = True,
        limit: int = UNIT_FILE_MAX,
        fields: int = 20,
    ) -> Callable[[Request], Any]:
        """A view for logged-in desk users: the session checked, on a POST the CSRF token
        too; a `Refused` becomes its page. `office` pages (every unit's data) are the
        organiser's admins' only: a council member gets 404 there, as for a missing page."""

        async def endpoint(request: Request) -> Response:
            viewer = await self._viewer(request)
            if viewer is None:
                refused = Refused(
                    HTTPStatus.UNAUTHORIZED,
                    "Cần đăng nhập",
                    "Gõ /web trong cuộc trò chuyện với bot để nhận đường dẫn đăng nhập "
                    "(dành cho quản trị viên và thành viên Hội đồng Thi đua – Khen thưởng).",
                )
                return self._message(request, refused, None)
            try:
                if office and not viewer.is_office:
                    raise _not_found()
                if post:
                    _check_origin(request)
                    form = await self._form(request, limit, fields)
                    given = str(form.get("csrf", ""))
                    if not hmac.compare_digest(given.encode(), viewer.csrf.encode()):
                        raise Refused(
                            HTTPStatus.FORBIDDEN,
                            "Yêu cầu không hợp lệ",
                            "Biểu mẫu đã cũ hoặc không đến từ trang này. Tải lại trang rồi thử lại.",
                        )
                    request.state.form = form
                response: Response = await view(request, viewer)
            except Refused as refused:
                return self._message(request, refused, viewer)
            if "cache-control" not in response.headers:
                response.headers["cache-control"] = "no-store"
            return response

        return endpoint

    async def _form(self, request: Request, limit: int = UNIT_FILE_MAX, fields: int = 20) -> Any:
        """The posted form, refused past `limit` bytes of file (declared length, before
        reading) and `fields` fields."""
        declared = request.headers.get("content-length", "")
        if not declared.isdigit():
            raise Refused(HTTPStatus.LENGTH_REQUIRED, "Yêu cầu không hợp lệ")
        if int(declared) > limit + 64 * 1024:
            raise Refused(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                "Tệp quá lớn",
                f"Tệp tối đa {limit // (1024 * 1024)} MB.",
            )
        return await request.form(max_files=1, max_fields=fields)

    async def _viewer(self, request: Request) -> Viewer | None:
        raw = request.cookies.get(COOKIE)
        if not raw or len(raw) > 1024:
            return None
        try:
            data = self._cookies.loads(raw)
        except BadSignature:
            return None
        if not (
            isinstance(data, dict)
            and all(isinstance(data.get(k), int) for k in ("m", "g", "e"))
            and isinstance(data.get("c"), str)
        ):
            return None
        if self.now().timestamp() >= data["e"]:
            return None

        def work(session: Session) -> tuple[Member, access.WebAccess] | None:
            member = session.get(Member, data["m"])
            if member is None or member.web_generation != data["g"]:
                return None
            rights = access.web_access(member, session=session)
            return None if rights is None else (member, rights)

        found = await self.db(work)
        if found is None:
            return None
        return Viewer(found[0], data["c"], found[1])

    def _redirect(self, path: str, **params: object) -> Response:
        """303 to `path`; `msg`/`err` (the outcome to show there) are signed, so a link made
        elsewhere cannot put words of its own on a desk page."""
        for key in ("msg", "err"):
            if params.get(key):
                params[key] = self._flashes.dumps(str(params[key]))
        query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
        return RedirectResponse(path + (f"?{query}" if query else ""), HTTPStatus.SEE_OTHER)

    def _deliver(self, deliveries: list[Delivery]) -> None:
        """Push after the commit (`bot.delivery`), in the background (a platform's retries must
        not hold the page); `wait_deliveries` waits for them (tests)."""
        reachable = set(self.core.hub.channels)
        ready = [d for d in deliveries if d.address.channel in reachable]
        if len(ready) < len(deliveries):
            log.warning(
                "web desk: %d message(s) not sent, their channel is not served by this process",
                len(deliveries) - len(ready),
            )
        if not ready:
            return
        task = asyncio.create_task(self._send(ready), name="web-notify")
        self._deliveries.add(task)
        task.add_done_callback(self._deliveries.discard)

    async def _send(self, deliveries: list[Delivery]) -> None:
        """Notices to officers are pushed messages: the delivery service's pacing and retries."""
        for delivery in deliveries:
            outcome = await self.core.services.delivery.push(delivery)
            if not outcome.sent:
                log.error(
                    "web desk: notice to %s:%s %s: %s",
                    delivery.address.channel,
                    delivery.address.chat_id,
                    outcome.status,
                    outcome.reason,
                )

    async def wait_deliveries(self) -> None:
        while self._deliveries:
            await asyncio.gather(*self._deliveries, return_exceptions=True)

    # --- login --------------------------------------------------------------------------------
    async def login_page(self, request: Request) -> Response:
        """The link from the chat: a button, so that a link preview fetching it spends nothing."""
        token = request.path_params["token"]
        return self.render(request, "login.html", {"token": token, "viewer": None})

    async def login(self, request: Request) -> Response:
        token = request.path_params["token"]
        now = self.now()
        try:
            _check_origin(request)
        except Refused as refused:
            return self._message(request, refused, None)

        def work(session: Session) -> Member:
            try:
                login = consume_login_token(session, token=token, now=now)
            except LoginError as exc:
                session.commit()  # nothing written; keep the transaction short
                raise Refused(HTTPStatus.GONE, *_LOGIN_REFUSALS[exc.reason]) from None
            rights = access.web_access(login.member, session=session)
            if rights is None:
                audit.record(
                    session,
                    now=now,
                    action="web.login",
                    actor=login.member,
                    outcome="refused",
                )
                session.commit()
                raise Refused(HTTPStatus.FORBIDDEN, *_LOGIN_REFUSALS["refused"])
            audit.record(
                session,
                now=now,
                action="web.login",
                actor=login.member,
                organiser_id=rights.audit_organiser_id,
            )
            session.commit()
            return login.member

        try:
            member = await self.db(work)
        except Refused as refused:
            return self._message(request, refused, None)
        payload = {
            "m": member.id,
            "g": member.web_generation,
            "e": int((now + SESSION_TTL).timestamp()),
            "c": secrets.token_urlsafe(24),
        }
        response = RedirectResponse("/", HTTPStatus.SEE_OTHER)
        response.set_cookie(
            COOKIE,
            self._cookies.dumps(payload),
            max_age=int(SESSION_TTL.total_seconds()),
            httponly=True,
            samesite="lax",
            secure=self.settings.web_base_url.startswith("https://"),
            path="/",
        )
        return response

    async def logout(self, request: Request, viewer: Viewer) -> Response:
        now = self.now()
        await self.db(
            lambda s: audit.record(
                s,
                now=now,
                action="web.logout",
                actor=viewer.member,
                organiser_id=viewer.rights.audit_organiser_id,
            ),
            write=True,
        )
        response = self.render(
            request,
            "message.html",
            {
                "title": "Đã đăng xuất",
                "text": "Gõ /web trong chat để đăng nhập lại.",
                "viewer": None,
            },
        )
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax")
        return response

    # --- campaigns ----------------------------------------------------------------------------
    async def campaigns_page(self, request: Request, viewer: Viewer) -> Response:
        if not viewer.is_office:
            return await self.council_campaigns_page(request, viewer)

        def work(session: Session) -> list[tuple[Campaign, int, int]]:
            rows = []
            for campaign in list_campaigns(session, scope=viewer.scope, include_closed=20):
                rows.append(
                    (
                        campaign,
                        len(deadlines_of(session, campaign)),
                        len(participating_units(session, campaign)),
                    )
                )
            return rows

        rows = await self.db(work)
        return self.render(
            request,
            "campaigns.html",
            {"viewer": viewer, "rows": rows, "title": "Các đợt thi đua"},
        )

    async def dashboard(self, request: Request, viewer: Viewer) -> Response:
        campaign_id = request.path_params["campaign_id"]
        params = request.query_params
        query = clean_text(params.get("q", ""), max_length=100, multiline=False)
        bloc = params.get("bloc", "")
        status = params.get("status", "")
        wanted = params.get("deadline", "")
        now = self.now()

        def work(session: Session) -> dict[str, Any]:
            campaign = scoped.campaign(campaign_id, scope=viewer.scope, session=session)
            if campaign is None:
                raise _not_found()
            deadlines = deadlines_of(session, campaign)
            units = participating_units(session, campaign)
            reports = {d.id: reports_by_unit(session, d) for d in deadlines}
            # Handed in without the signed, stamped scan yet: /tiendo's rule, the one truth
            # (`domain.scans.signed_scan_among`), read for the whole campaign in two queries.
            waiting = waiting_for_scan_by_deadline(session, deadlines)
            unscanned = {d.id: {u.id for u, _ in waiting.get(d.id or 0, [])} for d in deadlines}
            focus = next((d for d in deadlines if str(d.id) == wanted), None)
            focus = focus or focus_deadline(deadlines, now=now)
            progress = deadline_progress(focus, session=session, now=now) if focus else None
            rows: list[MatrixRow] = []
            for unit in units:
                if query and not matches(query, unit.name, unit.code):
                    continue
                if bloc and (unit.bloc or "") != bloc:
                    continue
                row = MatrixRow(unit)
                for deadline in deadlines:
                    report = reports[deadline.id].get(unit.id)  # type: ignore[arg-type]  # stored rows: ids set
                    state: str = unit_status(report, deadline, now)
                    label = _status_label(state)
                    if unit.id in unscanned[deadline.id]:
                        state, label = SCAN_MISSING, t("webdesk.scan_missing")
                    row.cells.append(Cell(deadline, report, state, label))
                if status and focus is not None:
                    cell = row.cells[deadlines.index(focus)]
                    if cell.status != status:
                        continue
                rows.append(row)
            return {
                "campaign": campaign,
                "deadlines": deadlines,
                "focus": focus,
                "progress": progress,
                "bars": _bars(progress) if progress else [],
                "rows": rows,
                "unit_count": len(units),
                "blocs": sorted({u.bloc for u in units if u.bloc}, key=fold),
                "active": campaign.status == CampaignStatus.ACTIVE,
                "scan_missing": len(unscanned[focus.id]) if focus else 0,
            }

        data = await self._read_only(work, "dashboard (web)")
        data.update(
            viewer=viewer,
            title=data["campaign"].name,
            q=query,
            bloc=bloc,
            status=status,
            statuses=_status_choices(),
            categories=[(c, _category_label(c)) for c in Category.ALL],
            flash=self._flash(request, "msg"),
        )
        return self.render(request, "dashboard.html", data)

    async def remind(self, request: Request, viewer: Viewer) -> Response:
        """ "Nhắc ngay": what the chat's button does (domain.reminders.queue_manual, audited)."""
        if not access.can_decide_reports(viewer.member):
            raise _not_found()
        campaign_id = request.path_params["campaign_id"]
        raw = str(request.state.form.get("deadline_id", ""))
        now = self.now()
        channels = self.channels()

        def work(session: Session) -> str:
            deadline = (
                scoped.deadline(int(raw), scope=viewer.scope, session=session)
                if raw.isdigit()
                else None
            )
            if deadline is None or deadline.campaign_id != campaign_id:
                raise _not_found()
            campaign = scoped.campaign(campaign_id, scope=viewer.scope, session=session)
            assert campaign is not None
            if campaign.status != CampaignStatus.ACTIVE:
                return f"Đợt thi đua chưa kích hoạt hoặc đã đóng: không nhắc «{deadline.title}»."
            queued = queue_manual(session, deadline, now=now, channels=channels)
            audit.record(
                session,
                now=now,
                action="reminder.manual",
                actor=viewer.member,
                target_type="deadline",
                target_id=deadline.id,
                detail={
                    "missing_units": queued.missing_units,
                    "queued_members": queued.queued_members,
                    "covered_members": queued.covered_members,
                },
            )
            session.commit()
            if queued.missing_units == 0:
                return f"Mọi đơn vị đã nộp «{deadline.title}»: không cần nhắc."
            text = (
                f"Đã xếp lịch nhắc «{deadline.title}» cho {queued.queued_members} cán bộ của "
                f"{queued.queued_units} đơn vị."
            )
            if queued.covered_members:
                text += (
                    f" {queued.covered_members} cán bộ vừa được nhắc gần đây nên không nhắc lại."
                )
            if queued.units_without_officer:
                text += f" {queued.units_without_officer} đơn vị chưa có cán bộ nhận tin."
            return text

        message = await self.db(work, scope=viewer.scope)
        scheduler = self.core.services.reminders
        if scheduler is not None:
            scheduler.wake()
        return self._redirect(f"/campaigns/{campaign_id}", deadline=raw, msg=message)

    async def export(self, request: Request, viewer: Viewer) -> Response:
        campaign_id = request.path_params["campaign_id"]
        out = await self._build_export(campaign_id, viewer.member, viewer.scope)
        if out is None:
            raise _not_found()
        return _file_response(out, inline=False)

    async def _build_export(
        self, campaign_id: int, actor: Member | None, scope: Scope
    ) -> FileOut | None:
        """The campaign's workbook, only of a campaign of `scope` (the viewer's, or the
        organiser a signed link was made for). Built in a read-only transaction in a worker
        thread, outside the core's write turn (a province's takes seconds); then audited."""
        now = self.now()
        forms = self._forms()

        def work(session: Session) -> FileOut | None:
            campaign = scoped.campaign(campaign_id, scope=scope, session=session)
            if campaign is None:
                return None
            data = export_campaign(
                campaign,
                session=session,
                forms=forms,
                texts=ExportTexts.from_catalog(t),
                default_zone=self.settings.tz,
                now=now,
            )
            name = export_file_name(campaign, now.astimezone(self.settings.tz).date())
            return FileOut(data, name, _XLSX, organiser_id=campaign.organiser_id)

        out = await self._read_only(work, "export (web)")
        if out is None:
            return None
        await self.db(
            lambda session: audit.record(
                session,
                now=now,
                action="admin.export",
                actor=actor,
                actor_label=None if actor else "link",
                target_type="campaign",
                target_id=campaign_id,
                detail={"bytes": len(out.content)},
                organiser_id=out.organiser_id,
            ),
            write=True,
        )
        return out

    def _forms(self) -> Mapping[str, Any]:
        return self.core.services.forms

    # --- reports ------------------------------------------------------------------------------
    async def report_page(self, request: Request, viewer: Viewer) -> Response:
        report_id = request.path_params["report_id"]
        wanted = request.query_params.get("v", "")
        forms = self._forms()
        now = self.now()

        def work(session: Session) -> dict[str, Any]:
            found = _report_in_scope(session, report_id, viewer)
            if found is None:
                raise _not_found()
            report, deadline, unit = found
            campaign = session.get(Campaign, deadline.campaign_id)
            versions = list(
                session.exec(
                    select(ReportVersion)
                    .where(ReportVersion.report_id == report.id)
                    .order_by(col(ReportVersion.version))
                ).all()
            )
            chosen = next((v for v in versions if str(v.version) == wanted), None)
            chosen = chosen or (versions[-1] if versions else None)
            before = None
            if chosen is not None:
                earlier = [v for v in versions if v.version < chosen.version]
                before = earlier[-1] if earlier else None
            answers = chosen.answers if chosen else (report.answers or {})
            form = forms.get(deadline.form_code)
            texts = ExportTexts.from_catalog(t)
            rows = _answer_rows(form, answers, before.answers if before else None, texts)
            attachments = list(
                session.exec(
                    select(Attachment)
                    .where(Attachment.report_id == report.id)
                    .order_by(col(Attachment.id))
                ).all()
            )
            history = list(
                session.exec(
                    select(AuditLog)
                    .where(AuditLog.target_type == "report", AuditLog.target_id == str(report.id))
                    .order_by(col(AuditLog.at).desc())
                    .limit(20)
                ).all()
            )
            return {
                "report": report,
                "deadline": deadline,
                "unit": unit,
                "campaign": campaign,
                "versions": versions,
                "chosen": chosen,
                "before": before,
                "rows": rows,
                "attachments": attachments,
                "history": history,
                "state": unit_status(report, deadline, now),
                "unsent": has_unsent_changes(session, report),
                "can_decide": access.can_decide_reports(viewer.member),
                "can_accept": report.status == ReportStatus.SUBMITTED,
                "can_return": report.status in (ReportStatus.SUBMITTED, ReportStatus.ACCEPTED),
                "can_reopen": report.version > 0
                and report.status not in (ReportStatus.REOPENED, ReportStatus.RETURNED),
            }

        data = await self.db(work)
        data.update(
            viewer=viewer,
            title=f"{data['unit'].name} — {data['deadline'].title}",
            flash=self._flash(request, "msg"),
            error=self._flash(request, "err"),
        )
        return self.render(request, "report.html", data)

    async def decide(self, request: Request, viewer: Viewer) -> Response:
        """Duyệt / Trả lại / Mở lại: the chat's domain functions, the chat's notices."""
        action = request.path_params["action"]
        if action not in ("accept", "return", "reopen"):
            raise _not_found()
        if not access.can_decide_reports(viewer.member):
            raise _not_found()
        report_id = request.path_params["report_id"]
        reason = clean_text(str(request.state.form.get("reason", "")), max_length=1000)
        back = f"/reports/{report_id}"
        if action == "return" and len(reason) < 3:
            return self._redirect(back, err="Hãy ghi lý do trả lại (ví dụ: Thiếu số liệu ở câu 3).")
        now = self.now()
        member = viewer.member

        def work(session: Session) -> tuple[bool, str, list[Delivery]]:
            found = _report_in_scope(session, report_id, viewer)
            if found is None:
                raise _not_found()
            report, deadline, unit = found
            campaign = session.get(Campaign, deadline.campaign_id)
            words = office_words(session, organiser_id=campaign.organiser_id) if campaign else {}

            def notice() -> Outbound:
                """The chat's notice, built in each officer's wording (as the chat does)."""
                open_button = [[Button(t("reports.button.open"), make_payload("rp", deadline.id))]]
                if action == "accept":
                    text = t(
                        "reports.officer_accepted",
                        title=deadline.title,
                        reference=report.reference or "",
                    )
                    buttons: list[list[Button]] = []
                    by = "accepted_by"
                elif action == "return":
                    text = t("reports.officer_returned", title=deadline.title, reason=reason)
                    buttons, by = open_button, "returned_by"
                else:
                    text = t("reports.officer_reopened", title=deadline.title)
                    buttons, by = open_button, "reopened_by"
                return Outbound(text + "\n" + t(f"office_names.{by}", **words), buttons)

            try:
                if action == "accept":
                    accept_report(session, report=report, admin=member, now=now)
                    done = "Đã duyệt báo cáo."
                elif action == "return":
                    return_report(session, report=report, admin=member, reason=reason, now=now)
                    done = "Đã trả lại báo cáo; cán bộ của đơn vị đã được báo kèm lý do."
                else:
                    reopen_report(session, report=report, admin=member, now=now)
                    done = "Đã mở lại báo cáo để đơn vị sửa."
            except ReportError as exc:
                session.rollback()
                refusal = _DECISION_REFUSALS.get(exc.reason, "Không làm được với báo cáo này.")
                return False, refusal, []
            officers = unit_officers(session, unit.id)  # type: ignore[arg-type]  # a stored unit
            session.commit()
            deliveries = []
            for officer in officers:
                with self.core.hub.worded_for(officer.channel):
                    deliveries.append(Delivery(Address(officer.channel, officer.chat_id), notice()))
            return True, done, deliveries

        ok, message, deliveries = await self.db(work, scope=viewer.scope)
        self._deliver(deliveries)
        return self._redirect(back, **{"msg" if ok else "err": message})

    async def attachment(self, request: Request, viewer: Viewer) -> Response:
        report_id = request.path_params["report_id"]
        attachment_id = request.path_params["attachment_id"]

        def work(session: Session) -> Attachment | None:
            row = session.get(Attachment, attachment_id)
            report = scoped.report(report_id, scope=viewer.scope, session=session)
            if row is None or report is None or row.report_id != report.id:
                return None
            allowed = access.can_open_unit_file(
                viewer.member, report.unit_id, scope=viewer.scope, session=session
            )
            return row if allowed else None

        found = await self.db(work)
        if found is None:
            raise _not_found()
        out = await asyncio.to_thread(self._read_stored, found)
        if out is None:
            raise _not_found()
        download = request.query_params.get("download") == "1"
        return _file_response(out, inline=not download)

    def _read_stored(self, row: Attachment) -> FileOut | None:
        """The stored bytes of an attachment; a path that leaves STORAGE_DIR is refused."""
        if not row.stored_path:
            return None
        root = Path(self.settings.storage_dir).resolve()
        target = (root / row.stored_path).resolve()
        if not target.is_relative_to(root) or not target.is_file():
            log.warning("attachment %s: stored path outside storage or missing", row.id)
            return None
        name = row.file_name or target.name
        return FileOut(target.read_bytes(), name, row.mime_type or "application/octet-stream")

    async def _attachment_file(self, core: BotCore, link: FileLink) -> FileOut | None:
        """A report's stored file, only when the report is of the link's organiser (and unit)."""
        scope = _link_scope(link)

        def work(session: Session) -> tuple[Attachment, Report] | None:
            row = session.get(Attachment, link.ident)
            report = scoped.report(row.report_id, scope=scope, session=session) if row else None
            if row is None or report is None:
                return None
            if link.unit_id is not None and report.unit_id != link.unit_id:
                return None
            return row, report

        found = await self.db(work)
        if found is None:
            return None
        row, report = found
        out = await asyncio.to_thread(self._read_stored, row)
        if out is None:
            return None
        return replace(out, organiser_id=link.organiser_id, unit_id=report.unit_id)

    async def _export_file(self, core: BotCore, link: FileLink) -> FileOut | None:
        return await self._build_export(link.ident or 0, None, _link_scope(link))

    async def _chart_file(self, core: BotCore, link: FileLink) -> FileOut | None:
        """The progress chart of the link's deadline (a PNG per bloc, like /tiendo's), for a
        chat that can show a photo URL but not receive an upload."""
        now = self.now()
        ident = link.ident or 0
        scope = _link_scope(link)

        def work(session: Session) -> Any:
            deadline = scoped.deadline(ident, scope=scope, session=session)
            return deadline_progress(deadline, session=session, now=now) if deadline else None

        progress = await self.db(work)
        if progress is None:
            return None
        rows = [
            BarRow(name or _plain("admin.no_bloc"), c.values(), f"{c.submitted}/{c.total}")
            for name, c in progress.by_bloc.items()
        ]
        counts = progress.total
        segments = [_plain(f"admin.segment.{c}", count=counts.get(c)) for c in Category.ALL]
        title = _plain(
            "admin.chart_title",
            id=progress.deadline.id,
            title=progress.deadline.title,
            campaign=progress.campaign.document_number,
        )
        png = await asyncio.to_thread(
            render_stacked_bars,
            rows,
            segments=segments,
            title=title,
            empty_text=_plain("admin.chart_empty"),
            axis_label=_plain("admin.chart_axis"),
        )
        return FileOut(
            png, f"tien-do-{ident}.png", "image/png", organiser_id=progress.campaign.organiser_id
        )

    async def _dossier_file(self, core: BotCore, link: FileLink) -> FileOut | None:
        """A campaign's dossier ZIP as /hoso built it and kept it for the link
        (`bot.web.links.keep_for_link`), only when the campaign is the link's organiser's."""
        scope = _link_scope(link)

        def work(session: Session) -> Campaign | None:
            return scoped.campaign(link.ident or 0, scope=scope, session=session)

        campaign = await self.db(work)
        if campaign is None:
            return None
        data = await asyncio.to_thread(read_kept, self.settings, link)
        if data is None:
            return None
        name = f"{dossier_root(campaign)}.zip"
        return FileOut(data, name, "application/zip", organiser_id=campaign.organiser_id)

    # --- file links ---------------------------------------------------------------------------
    async def file_link(self, request: Request) -> Response:
        """GET /f/<token>: the one file a signed link names, until it expires."""
        now = self.now()
        try:
            link = read_file_token(self.settings, request.path_params["token"], now=now)
        except LinkError as exc:
            refused = (
                Refused(HTTPStatus.GONE, "Đường dẫn đã hết hạn", "Xin đường dẫn mới trong chat.")
                if exc.reason == "expired"
                else Refused(HTTPStatus.FORBIDDEN, "Đường dẫn không hợp lệ")
            )
            return self._message(request, refused, None)
        kind, ident = link.kind, link.ident if link.ident is not None else link.digest
        if link.kind == PUBLISHED:
            out = await asyncio.to_thread(read_published, self.settings, link)
        else:
            resolver = file_resolver(link.kind)
            out = None
            if resolver is not None and link.ident is not None:
                out = await resolver(self.core, link)
        if out is not None and not link.owns(out):
            # Found, but not the organiser's (or unit's) the link was made for: a resolver
            # that looked outside the link's scope. Refused like a missing file, and audited.
            log.error("file link %s:%s: not the link's organiser/unit", link.kind, link.ident)
            out = None
        if out is None:
            return self._message(request, _not_found(), None)
        remote = request.client.host if request.client else "?"
        await self.db(
            lambda session: audit.record(
                session,
                now=now,
                action="web.file_link",
                actor_label=f"link:{remote}",
                target_type=kind,
                target_id=ident,
                detail={"bytes": len(out.content)},
                organiser_id=out.organiser_id,
            ),
            write=True,
        )
        return _file_response(out, inline=out.mime_type in INLINE_TYPES)

    # --- long exports as background jobs: the dossier ZIP, the XLSX ----------------------------
    # kind -> (path under /campaigns/<id>/, download suffix, page heading, audit action).
    JOB_KINDS: Mapping[str, tuple[str, str, str, str]] = {
        "dossier": ("dossier", ".zip", "Hồ sơ thi đua (ZIP)", "dossier.build"),
        "xlsx": ("excel", ".xlsx", "Bảng tổng hợp Excel (XLSX)", "admin.export"),
    }

    def job_routes(self) -> list[BaseRoute]:
        """GET the job's page, POST to start it, GET `<path><suffix>` for the finished file."""
        routes: list[BaseRoute] = []
        for kind, (path, suffix, _, _) in self.JOB_KINDS.items():
            base = f"/campaigns/{{campaign_id:int}}/{path}"
            routes += [
                Route(base, self._page(partial(self.job_page, kind=kind))),
                Route(
                    base,
                    self._page(partial(self.job_start, kind=kind), post=True),
                    methods=["POST"],
                ),
                Route(base + suffix, self._page(partial(self.job_download, kind=kind))),
            ]
        return routes

    async def _office_campaign(self, viewer: Viewer, campaign_id: int) -> Campaign:
        found = await self.db(
            lambda session: scoped.campaign(campaign_id, scope=viewer.scope, session=session)
        )
        if found is None:
            raise _not_found()
        return found

    def _job_key(self, viewer: Viewer, campaign_id: int, kind: str) -> JobKey:
        # One job per viewer, campaign and kind; the finished file is that viewer's only.
        return JobKey(viewer.member.id or 0, campaign_id, kind)

    async def job_page(self, request: Request, viewer: Viewer, *, kind: str) -> Response:
        """A job's progress: a button to start it, then (refreshing itself every few seconds,
        a meta refresh — no script) how far it got, then the download."""
        campaign_id = request.path_params["campaign_id"]
        campaign = await self._office_campaign(viewer, campaign_id)
        path, suffix, heading, _ = self.JOB_KINDS[kind]
        job = self.jobs.get(self._job_key(viewer, campaign_id, kind))
        context: dict[str, Any] = {
            "viewer": viewer,
            "title": f"{heading} — {campaign.name}",
            "heading": heading,
            "kind": kind,
            "base": f"/campaigns/{campaign_id}/{path}",
            "suffix": suffix,
            "campaign": campaign,
            "job": job,
            "refresh": self.job_refresh_seconds if job is not None and job.running else 0,
            "flash": self._flash(request, "msg"),
            "error": self._flash(request, "err"),
        }
        if job is not None and job.running:
            context["progress"] = (
                t("webdesk.job.running", done=job.done, total=job.total)
                if job.total
                else t("webdesk.job.starting")
            )
        return self.render(request, "job.html", context)

    async def job_start(self, request: Request, viewer: Viewer, *, kind: str) -> Response:
        """Start the job unless this viewer's one runs already; audited "qua web" (the chat's
        action: `dossier.build` as /hoso, `admin.export` as /xuat)."""
        campaign_id = request.path_params["campaign_id"]
        campaign = await self._office_campaign(viewer, campaign_id)
        path, _, _, action = self.JOB_KINDS[kind]
        back = f"/campaigns/{campaign_id}/{path}"
        key = self._job_key(viewer, campaign_id, kind)
        running = self.jobs.get(key)
        if running is not None and running.running:
            return self._redirect(back)
        now = self.now()
        build = self._build_dossier if kind == "dossier" else self._build_workbook
        job = self.jobs.start(key, lambda job: build(campaign_id, job), now=now)
        if job is None:
            return self._redirect(back, err=_plain("webdesk.job.busy", count=self.jobs.running()))
        await self.db(
            lambda session: audit.record(
                session,
                now=now,
                action=action,
                actor=viewer.member,
                target_type="campaign",
                target_id=campaign.id,
                detail={"job": kind},
            ),
            write=True,
            scope=viewer.scope,
        )
        return self._redirect(back)

    def _read_only(self, work: Callable[[Session], T], what: str) -> Awaitable[T]:
        """`work` in a read-only transaction in a worker thread: never the event loop, nor the
        core's write turn (chat updates go on while a province's file is built)."""
        return outside_update(self.core.engine, work, commit=False, what=what)

    async def _build_dossier(self, campaign_id: int, job: Job) -> FileOut:
        """The ZIP /hoso and `thidua-bot dossier` build (`domain.dossier.build_dossier`); the
        domain's progress callback moves the job's counts."""
        settings = self.settings
        texts_of = self.core.services.dossier_texts
        if texts_of is None:
            raise RuntimeError("no dossier texts: build the core with build_core")
        texts, forms, office = texts_of(), self._forms(), settings.office()
        today = now_local(self.now(), settings.tz)

        def progress(done: int, total: int) -> None:
            job.done, job.total = done, total

        def work(session: Session) -> FileOut:
            campaign = session.get(Campaign, campaign_id)
            assert campaign is not None
            job.total = len(participant_ids(session, campaign))
            data = build_dossier(
                session,
                campaign=campaign,
                forms=forms,
                office=office,
                texts=texts,
                storage_dir=Path(settings.storage_dir),
                today=today,
                zone=settings.tz,
                templates_dir=settings.templates_dir,
                progress=progress,
            )
            return FileOut(data, f"{dossier_root(campaign)}.zip", "application/zip")

        return await self._read_only(work, "dossier (web)")

    async def _build_workbook(self, campaign_id: int, job: Job) -> FileOut:
        """The workbook /xuat sends (`domain.export.export_campaign`); one step, no counts."""
        now, forms, zone = self.now(), self._forms(), self.settings.tz

        def work(session: Session) -> FileOut:
            campaign = session.get(Campaign, campaign_id)
            assert campaign is not None
            data = export_campaign(
                campaign,
                session=session,
                forms=forms,
                texts=ExportTexts.from_catalog(t),
                default_zone=zone,
                now=now,
            )
            name = export_file_name(campaign, now.astimezone(zone).date())
            return FileOut(data, name, _XLSX, organiser_id=campaign.organiser_id)

        return await self._read_only(work, "export (web)")

    async def job_download(self, request: Request, viewer: Viewer, *, kind: str) -> Response:
        """The finished file of this viewer's own job (another viewer's is not theirs)."""
        campaign_id = request.path_params["campaign_id"]
        campaign = await self._office_campaign(viewer, campaign_id)
        job = self.jobs.get(self._job_key(viewer, campaign_id, kind))
        out = await asyncio.to_thread(self.jobs.read, job) if job is not None else None
        if out is None:
            return self._redirect(f"/campaigns/{campaign_id}/{self.JOB_KINDS[kind][0]}")
        now = self.now()
        await self.db(
            lambda session: audit.record(
                session,
                now=now,
                action=f"{kind}.download",
                actor=viewer.member,
                target_type="campaign",
                target_id=campaign.id,
                detail={"bytes": len(out.content)},
            ),
            write=True,
            scope=viewer.scope,
        )
        return _file_response(out, inline=False)

    # --- plan upload: /nhapkehoach on the web ---------------------------------------------------
    async def plans_page(self, request: Request, viewer: Viewer) -> Response:
        """Upload a plan document (.docx, .pdf, .txt): what /nhapkehoach takes in the chat, for
        admins whose chat cannot send a document (Zalo)."""
        return self._plans_render(request, viewer, {})

    def _plans_render(
        self, request: Request, viewer: Viewer, context: dict[str, Any], status: int = 200
    ) -> Response:
        context.setdefault("proposal", None)
        context.setdefault("error", "")
        context.update(viewer=viewer, title="Nhập kế hoạch", max_mb=PLAN_FILE_MAX // 2**20)
        return self.render(request, "plans.html", context, status)

    async def plans_read(self, request: Request, viewer: Viewer) -> Response:
        """Read the uploaded plan as the chat does (`bot.plan_reader.read_plan`: size, type and
        zip-bomb checks, the parser in a child process bounded in time and memory) and show
        the proposal; nothing is created yet."""
        upload = request.state.form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return self._plans_render(
                request, viewer, {"error": _plain("webdesk.plan.no_file")}, 422
            )
        name = upload.filename
        if name.lower().rpartition(".")[2] not in PLAN_SUFFIXES:
            return self._plans_render(
                request, viewer, {"error": _plain("webdesk.plan.bad_type")}, 422
            )
        content = await upload.read(PLAN_FILE_MAX + 1)
        today = now_local(self.now(), self.settings.tz)
        try:
            if len(content) > PLAN_FILE_MAX:
                raise PlanFileError("too_large")
            proposal = await read_plan(content, name, today=today)
        except PlanFileError as exc:
            error = _plain(f"plans.file.{exc.reason}", max_mb=PLAN_FILE_MAX // 2**20)
            return self._plans_render(request, viewer, {"error": error}, 422)
        if not proposal.is_useful():
            error = _plain("plans.nothing_found")
            return self._plans_render(request, viewer, {"error": error}, 422)
        return self._plans_render(request, viewer, self._proposal_context(viewer, proposal))

    def _proposal_context(
        self, viewer: Viewer, proposal: PlanProposal, kept: set[int] | None = None
    ) -> dict[str, Any]:
        today = now_local(self.now(), self.settings.tz)
        rows = [
            PlanRow(
                d,
                _plain(f"plans.kind.{d.kind}"),
                [
                    _plain(f"plans.flag.{f}", year=d.due_on.year).strip()
                    for f in deadline_flags(d, issued_on=proposal.issued_on, today=today)
                ],
                kept is None or d.no in kept,
            )
            for d in proposal.deadlines
        ]
        token = self._plans.dumps({"m": viewer.member.id, "p": proposal.to_dict()})
        return {
            "proposal": proposal,
            "rows": rows,
            "token": token,
            "basis": [_strip_tags(basis_line(b)) for b in proposal.basis],
            "flagged": any(
                CONFIRM_FLAGS & set(deadline_flags(d, issued_on=proposal.issued_on, today=today))
                for d in proposal.deadlines
            ),
        }

    async def plans_create(self, request: Request, viewer: Viewer) -> Response:
        """Create the draft campaign (`domain.plans.create_campaign_from_plan`, as the chat's
        "Tạo đợt thi đua"), with the deadlines the admin kept and the number and name as
        corrected on the page; audited "qua web"."""
        form = request.state.form
        scope = viewer.scope
        try:
            data = self._plans.loads(str(form.get("proposal", ""))[:PLAN_TOKEN_MAX])
        except BadSignature:
            data = None
        if not isinstance(data, dict) or data.get("m") != viewer.member.id:
            return self._plans_render(request, viewer, {"error": _plain("webdesk.plan.stale")}, 422)
        proposal = PlanProposal.from_dict(data["p"])
        found = len(proposal.deadlines)
        kept = {int(v) for v in form.getlist("keep") if str(v).isdigit()}
        proposal.deadlines = [d for d in proposal.deadlines if d.no in kept]
        number = clean_text(str(form.get("number", "")), max_length=64, multiline=False)
        title = clean_text(str(form.get("name", "")), max_length=300, multiline=False)
        proposal.document_number = number or None
        proposal.title = title or None
        today = now_local(self.now(), self.settings.tz)
        flagged = [
            d
            for d in proposal.deadlines
            if CONFIRM_FLAGS & set(deadline_flags(d, issued_on=proposal.issued_on, today=today))
        ]
        now = self.now()
        timezone = self.settings.timezone

        def work(session: Session) -> Campaign | str:
            try:
                check_ready(session, proposal, scope=scope)
                if flagged and form.get("confirm") != "1":
                    return _plain("webdesk.plan.confirm_flags", count=len(flagged))
                campaign = create_campaign_from_plan(
                    session,
                    proposal=proposal,
                    scope=scope,
                    actor=viewer.member,
                    now=now,
                    timezone=timezone,
                    description=plan_description(proposal),
                    dropped=found - len(proposal.deadlines),
                )
            except PlanNotReady as exc:
                same = exc.campaign
                params: dict[str, Any] = (
                    {"number": same.document_number, "name": same.name, "id": same.id}
                    if same
                    else {}
                )
                return _plain(f"webdesk.plan.{exc.reason}", **params)
            session.commit()
            return campaign

        outcome = await self.db(work, scope=scope)
        if isinstance(outcome, str):
            # The whole proposal again (dropped deadlines unticked), so nothing is lost.
            context = self._proposal_context(viewer, PlanProposal.from_dict(data["p"]), kept)
            context["proposal"].document_number = proposal.document_number
            context["proposal"].title = proposal.title
            context["error"] = outcome
            return self._plans_render(request, viewer, context, 422)
        message = _plain(
            "plans.created",
            name=outcome.name,
            number=outcome.document_number,
            id=outcome.id,
            count=len(proposal.deadlines),
        )
        return self._redirect(f"/campaigns/{outcome.id}", msg=message)

    # --- the council: nominations, review rounds, bloc rankings -------------------------------
    async def council_campaigns_page(self, request: Request, viewer: Viewer) -> Response:
        """A council member's home: the campaigns they sit on (`access.web_access`)."""

        def work(session: Session) -> list[tuple[Campaign, str]]:
            rows = []
            for campaign_id in sorted(viewer.rights.council_campaigns):
                campaign = access.web_council_campaign(viewer.rights, campaign_id, session=session)
                if campaign is None:
                    continue
                rounds = council.rounds_of(session, campaign_id=campaign_id)
                rows.append((campaign, _round_label(rounds[0], self.now()) if rounds else ""))
            return rows

        rows = await self._read_only(work, "council campaigns (web)")
        return self.render(
            request,
            "council_campaigns.html",
            {"viewer": viewer, "rows": rows, "title": "Các đợt bình xét"},
        )

    async def council_page(self, request: Request, viewer: Viewer) -> Response:
        """Nominations the council votes on and each review round: while a round is open only
        who has finished voting, counted; once closed the counts per nominee (the chat's
        `council.results`) and, for open votes only, who voted how (`council.open_votes`).
        No secret ballot is ever read here (they are deleted at closing anyway)."""
        campaign_id = request.path_params["campaign_id"]
        now = self.now()

        def work(session: Session) -> dict[str, Any]:
            campaign = access.web_council_campaign(viewer.rights, campaign_id, session=session)
            if campaign is None:
                raise _not_found()
            labels = council.award_labels()
            nominations = [
                CouncilNominee(
                    name=c.nomination.full_name,
                    job=c.nomination.job_title,
                    unit=c.unit.name,
                    award=labels.get(c.award, c.award),
                    secret=c.rule.secret,
                    summary=c.nomination.summary,
                )
                for c in council.candidates(session, campaign=campaign)
            ]
            rounds = [
                self._round_view(session, round_, labels, now)
                for round_ in council.rounds_of(session, campaign_id=campaign_id)
            ]
            return {"campaign": campaign, "nominations": nominations, "rounds": rounds}

        data = await self._read_only(work, "council (web)")
        data.update(viewer=viewer, title=f"Bình xét — {data['campaign'].name}")
        return self.render(request, "council.html", data)

    @staticmethod
    def _round_view(
        session: Session, round_: CouncilRound, labels: Mapping[str, str], now: datetime
    ) -> RoundView:
        items = council.items_of(session, round_.id or 0)
        view = RoundView(round_, _round_label(round_, now), members=len(round_.electorate or []))
        if round_.status == RoundStatus.OPEN:
            # Whether members voted, never how: how many finished, as the chat's admin panel.
            counts = council.turnout(session, round_=round_)
            view.finished = sum(1 for n in counts.values() if n >= len(items))
            view.items = [
                ItemView(i.position, i.nominee_name, labels.get(i.award, i.award), i.secret)
                for i in items
            ]
            return view
        for result in council.results(session, round_=round_):
            item = result.item
            votes = [
                (m.display_name, t(f"council.choice_{choice}"))
                for m, choice in council.open_votes(session, item=item)
            ]
            view.items.append(
                ItemView(
                    item.position,
                    item.nominee_name,
                    labels.get(item.award, item.award),
                    item.secret,
                    yes=item.yes or 0,
                    no=item.no or 0,
                    needed=result.needed,
                    passed=bool(item.passed),
                    votes=votes,
                    decision=item.decision_number or "",
                )
            )
            view.quorum_needed = max(view.quorum_needed, result.quorum_needed)
            view.quorum_met = view.quorum_met and result.quorum_met
        return view

    async def rankings_page(self, request: Request, viewer: Viewer) -> Response:
        """The bloc rankings of /xephang (`domain.scoring.campaign_rankings`): admins and
        council members (`access.can_see_tallies`); units' totals, ranks, tie marks and the
        proposals the scoring table makes."""
        campaign_id = request.path_params["campaign_id"]

        def work(session: Session) -> dict[str, Any]:
            campaign = access.web_council_campaign(viewer.rights, campaign_id, session=session)
            if campaign is None:
                raise _not_found()
            labels = council.award_labels()
            sheets = []
            for sheet, rows in scoring.campaign_rankings(session, campaign=campaign):
                table = scoring.table_of(sheet)
                tie_rule = "; ".join(_criterion_label(table, k) for k in table.tie_break)
                lines = [
                    RankLine(
                        r.rank,
                        r.unit.name,
                        r.unit.code,
                        scoring.centi_text(r.total),
                        r.tied,
                        labels.get(r.proposed, r.proposed) if r.proposed else "",
                    )
                    for r in rows
                ]
                sheets.append((sheet.bloc, lines, tie_rule if any(r.tied for r in rows) else ""))
            return {"campaign": campaign, "sheets": sheets}

        data = await self._read_only(work, "rankings (web)")
        data.update(viewer=viewer, title=f"Xếp hạng khối — {data['campaign'].name}")
        return self.render(request, "rankings.html", data)

    # --- units and officers -------------------------------------------------------------------
    async def units_page(self, request: Request, viewer: Viewer) -> Response:
        query = clean_text(request.query_params.get("q", ""), max_length=100, multiline=False)
        bloc = request.query_params.get("bloc", "")

        def work(session: Session) -> dict[str, Any]:
            units = search_units(session, query, scope=viewer.scope)
            if bloc:
                units = [u for u in units if (u.bloc or "") == bloc]
            return self._units_data(session, units, viewer)

        data = await self.db(work)
        data.update(
            viewer=viewer,
            title="Đơn vị và cán bộ",
            q=query,
            bloc=bloc,
            can_import=access.can_decide_reports(viewer.member),
            flash=self._flash(request, "msg"),
            errors=[],
        )
        return self.render(request, "units.html", data)

    async def units_import(self, request: Request, viewer: Viewer) -> Response:
        """The chat's import (domain.units.import_units): every row checked, all or nothing."""
        if not access.can_decide_reports(viewer.member):
            raise _not_found()
        upload = request.state.form.get("file")
        if not isinstance(upload, UploadFile):
            return self._redirect("/units", msg="Chưa chọn tệp (CSV hoặc XLSX).")
        content = await upload.read(UNIT_FILE_MAX + 1)
        now = self.now()

        def work(session: Session) -> list[str]:
            result = import_units(session, content, scope=viewer.scope, now=now)
            if not result.ok:
                session.rollback()
            record_import(session, result, now=now, scope=viewer.scope, actor=viewer.member)
            session.commit()
            if result.ok:
                return []
            return [_import_error(e) for e in result.errors[:20]]

        if len(content) > UNIT_FILE_MAX:
            errors = [f"Tệp quá lớn (tối đa {UNIT_FILE_MAX // (1024 * 1024)} MB)."]
        else:
            errors = await self.db(work, scope=viewer.scope)
        if not errors:
            return self._redirect("/units", msg="Đã nhập danh sách đơn vị.")

        def reread(session: Session) -> dict[str, Any]:
            return self._units_data(session, search_units(session, "", scope=viewer.scope), viewer)

        data = await self.db(reread)
        data.update(
            viewer=viewer,
            title="Đơn vị và cán bộ",
            q="",
            bloc="",
            can_import=True,
            flash="",
            errors=errors,
        )
        return self.render(request, "units.html", data, HTTPStatus.UNPROCESSABLE_ENTITY)

    @staticmethod
    def _units_data(session: Session, units: list[Unit], viewer: Viewer) -> dict[str, Any]:
        """The units page's rows (units of the viewer's scope only) and whose names and phones
        the viewer may read (`bot.access.can_see_personal_data`, asked here, in the session)."""
        units.sort(key=lambda u: u.code)
        total = len(units)
        units = units[:UNITS_SHOWN]
        people = members_by_unit(session, [u.id for u in units if u.id is not None])
        visible = {
            m.id
            for group in people.values()
            for m in group
            if access.can_see_personal_data(viewer.member, m, scope=viewer.scope, session=session)
        }
        return {
            "units": units,
            "people": people,
            "blocs": unit_blocs(session, scope=viewer.scope),
            "total": total,
            "can_see": lambda m: m.id in visible,
        }

    # --- audit log ----------------------------------------------------------------------------
    async def audit_page(self, request: Request, viewer: Viewer) -> Response:
        if not access.can_decide_reports(viewer.member):
            raise _not_found()
        action = request.query_params.get("action", "")[:64]

        def work(session: Session) -> dict[str, Any]:
            statement = (
                select(AuditLog)
                .where(col(AuditLog.organiser_id).in_(viewer.scope.organiser_ids))
                .order_by(col(AuditLog.at).desc(), col(AuditLog.id).desc())
            )
            if action:
                statement = statement.where(
                    col(AuditLog.action).startswith(action, autoescape=True)
                )
            rows = list(session.exec(statement.limit(AUDIT_PAGE)).all())
            ids = {r.actor_id for r in rows if r.actor_id is not None}
            names = {
                m.id: m.display_name or f"{m.channel}:{m.user_id}"
                for m in session.exec(select(Member).where(col(Member.id).in_(ids))).all()
            }
            return {"rows": rows, "names": names}

        data = await self.db(work)
        data.update(viewer=viewer, title="Nhật ký thao tác", action=action)
        return self.render(request, "audit.html", data)


# --- helpers ----------------------------------------------------------------------------------
def _report_in_scope(
    session: Session, report_id: int, viewer: Viewer
) -> tuple[Report, Deadline, Unit] | None:
    """A report of the viewer's organiser they may act for, with its deadline and unit; None
    for one of another organiser (answered 404, like a report that does not exist)."""
    if scoped.report(report_id, scope=viewer.scope, session=session) is None:
        return None
    found = report_with_context(session, report_id)
    if found is None or found[2].id is None:
        return None
    if not access.can_act_for_unit(viewer.member, found[2].id, session=session, scope=viewer.scope):
        return None
    return found


_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_LOGIN_REFUSALS = {
    "unknown": (
        "Đường dẫn đăng nhập không hợp lệ",
        "Đường dẫn này không đúng hoặc đã bị sửa. Gõ /web trong chat để nhận đường dẫn mới.",
    ),
    "used": (
        "Đường dẫn đã được dùng",
        "Mỗi đường dẫn chỉ dùng được một lần. Gõ /web trong chat để nhận đường dẫn mới.",
    ),
    "expired": (
        "Đường dẫn đã hết hạn",
        "Đường dẫn chỉ có hiệu lực 10 phút. Gõ /web trong chat để nhận đường dẫn mới.",
    ),
    "refused": (
        "Không có quyền vào trang quản lý",
        "Trang quản lý dành cho quản trị viên của văn phòng và thành viên Hội đồng Thi đua – "
        "Khen thưởng.",
    ),
}

_DECISION_REFUSALS = {
    "not_submitted": "Báo cáo chưa được nộp (hoặc đang mở để sửa): không làm được việc này.",
    "accepted": "Báo cáo đã được duyệt rồi.",
    "already_open": "Báo cáo đang mở cho đơn vị sửa rồi.",
}


def _link_scope(link: FileLink) -> Scope:
    """Where a signed link's file is looked up: the organiser the link was made for only."""
    assert link.organiser_id is not None  # read_file_token refuses a link without one
    return Scope.of(link.organiser_id)


def _round_label(round_: CouncilRound, now: datetime) -> str:
    """A round's state in words; an open round past its closing time waits for the tally."""
    state = round_.status
    if state == RoundStatus.OPEN and now >= round_.closes_at:
        state = "due"
    return t(f"webdesk.round.{state}")


def _criterion_label(table: scoring.ScoringTable, key: str) -> str:
    criterion = table.criterion(key)
    return criterion.label if criterion is not None else t("scoring.tie_submitted")


def _status_choices() -> list[tuple[str, str]]:
    """The status filter: every status in the same words as the cells and the chat."""
    return [(s.value, _status_label(s.value)) for s in UnitStatus] + [
        (SCAN_MISSING, t("webdesk.scan_missing"))
    ]


def _check_origin(request: Request) -> None:
    """A form posted from another site is refused (on top of the CSRF token and SameSite):
    browsers send Origin with every POST; clients that send none are judged by the token."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    if urlsplit(origin).netloc != request.headers.get("host", ""):
        raise Refused(
            HTTPStatus.FORBIDDEN,
            "Yêu cầu không hợp lệ",
            "Biểu mẫu không đến từ trang này. Mở trang quản lý rồi thử lại.",
        )


def _size(count: int) -> str:
    """A file size as people read it: 512 B, 34 KB, 2,5 MB."""
    if count < 1024:
        return f"{count} B"
    if count < 1024 * 1024:
        return f"{round(count / 1024)} KB"
    return f"{count / (1024 * 1024):.1f} MB".replace(".", ",")


def _plain(key: str, /, **params: object) -> str:
    """A catalog text for a chart (not HTML)."""
    return _strip_tags(t(key, **params))


def _status_label(status: str) -> str:
    """A unit's status on a deadline, in the chat's own words (status.*, catalog status.yaml)."""
    return t(f"status.{status}")


def _category_label(category: str) -> str:
    return t(f"admin.status.{category}")


def _bars(progress: Any) -> list[Bar]:
    def bar(label: str, counts: Any) -> Bar:
        total = counts.total or 1
        parts = [
            (c, _category_label(c), counts.get(c), round(100 * counts.get(c) / total, 2))
            for c in Category.ALL
        ]
        return Bar(label, parts, counts.submitted, counts.total)

    bars = [bar("Tất cả", progress.total)]
    if progress.bloc_count >= 2:
        bars += [bar(name or "Chưa xếp khối", c) for name, c in progress.by_bloc.items()]
    return bars


def _answer_rows(
    form: Any, answers: Mapping[str, Any], before: Mapping[str, Any] | None, texts: ExportTexts
) -> list[AnswerRow]:
    """Each question with its answer (and the previous version's, when there is one)."""
    if form is None:
        from domain.export import guess_fields

        fields: Sequence[Any] = guess_fields([answers])
    else:
        fields = form.fields
    rows = []
    for spec in fields:
        value = answers.get(spec.id)
        shown = text_value(spec, value, texts)
        old = text_value(spec, before.get(spec.id), texts) if before is not None else None
        row = AnswerRow(
            getattr(spec, "label", spec.id), shown, old, old is not None and old != shown
        )
        if spec.type == "file" and isinstance(value, dict):
            ident = value.get("attachment_id")
            row.attachment_id = ident if isinstance(ident, int) else None
            row.shown = str(value.get("file_name") or shown)
        if spec.type == "group" and isinstance(value, list):
            subs = getattr(spec, "fields", [])
            for entry in value:
                if isinstance(entry, dict):
                    row.entries.append(
                        [
                            (getattr(s, "label", s.id), text_value(s, entry.get(s.id), texts))
                            for s in subs
                        ]
                    )
        rows.append(row)
    return rows


def _import_error(error: Any) -> str:
    """An import refusal in the chat's words (units.import.error.*), without chat markup."""
    kinds = "; ".join(k.label for k in unit_kinds())
    reason = t(f"units.import.error.{error.reason}", kinds=kinds, **error.params)
    reason = _strip_tags(reason)
    return reason if error.row == 0 else f"Dòng {error.row}: {reason}"


def _strip_tags(text: str) -> str:
    import html
    import re

    return html.unescape(re.sub(r"<[^>]+>", "", text))


def _file_response(out: FileOut, *, inline: bool) -> Response:
    shown_inline = inline and out.mime_type in INLINE_TYPES
    mime = out.mime_type if shown_inline or out.mime_type == _XLSX else "application/octet-stream"
    if out.mime_type.startswith("application/vnd.openxmlformats"):
        mime = out.mime_type
    ascii_name = out.file_name.encode("ascii", "replace").decode().replace('"', "_")
    disposition = "inline" if shown_inline else "attachment"
    # A file is never a page: nothing in it runs, whatever it contains. (Chromium's PDF viewer
    # does not open a sandboxed document, so a PDF shown inline only keeps framing limited.)
    policy = (
        "frame-ancestors 'self'"
        if shown_inline and mime == "application/pdf"
        else "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
    )
    headers = {
        "content-disposition": (
            f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(out.file_name)}"
        ),
        "cache-control": "private, no-store",
        "content-security-policy": policy,
    }
    return Response(out.content, media_type=mime, headers=headers)
