"""The signed copy (bản ký): after an officer hands in a report printed from a Word template,
the bot sends the filled .docx (and a PDF where LibreOffice is installed) to print, sign, stamp
and send back scanned; the scan, when it comes, is attached to that report version.

`offer_signing_copy` is the one hook the report submission calls. The document is rendered
after the update commits, in a worker thread (`ctx.defer` + `asyncio.to_thread`), never on the
event loop. `/banky` lists the unit's reports still waiting for their scan; the button under the
document (and under the reminders) starts a one-step flow that takes the scan. A channel that
cannot send files (Zalo) shows its own clear message in place of the document.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.access import Access, can_act_for_unit
from bot.catalog import t
from bot.context import Context
from bot.db import outside_update
from bot.delivery import DeliveryService
from bot.errors import InputError
from bot.events import Address, Button, Delivery, Inbound, Outbound, OutboundFile
from bot.router import Router, make_payload, split_payload
from bot.settings import Settings
from bot.storage import FileRejected, receive_file
from domain import audit
from domain import dossier as docs
from domain.documents import Office
from domain.forms import Form
from domain.reports import report_with_context
from domain.scan_reminders import ScanReminder, claim_scan_reminders, record_scan_outcome
from domain.schedule import WorkCalendar
from models.campaigns import Campaign, Deadline
from models.reports import Report

if TYPE_CHECKING:
    from bot.core import BotCore

log = logging.getLogger("thidua.signing")
router = Router()

FLOW = "scan"
STEP_FILE = "file"
P_SCAN = "sc"  # sc:<report>:<version>
ACCEPT = ("pdf", "jpg", "png")
PDF_TIMEOUT = 90  # seconds LibreOffice may take for one document


def scan_button(report_id: int, version: int) -> Button:
    return Button(t("signing.button"), make_payload(P_SCAN, report_id, version))


# --- after submitting -------------------------------------------------------------------------
def offer_signing_copy(ctx: Context, *, report: Report, deadline: Deadline) -> None:
    """Called once a report is handed in: send the filled document to sign, if it needs one."""
    if not docs.waiting_for_scan(ctx.session, report, deadline):
        return
    engine = ctx.session.get_bind()
    assert isinstance(engine, Engine) and report.id is not None
    address = Address(ctx.event.channel, ctx.event.chat_id)
    forms: Mapping[str, Form] = ctx.services.forms
    delivery, settings = ctx.services.delivery, ctx.settings
    report_id, version = report.id, report.version
    ctx.defer(
        lambda: send_signing_copy(delivery, engine, settings, forms, address, report_id, version)
    )


def render_report(
    session: Session,
    report_id: int,
    *,
    forms: Mapping[str, Form],
    office: Office,
    templates_dir: Path | None,
) -> list[tuple[str, bytes]]:
    found = report_with_context(session, report_id)
    if found is None:
        return []
    report, deadline, unit = found
    campaign = session.get(Campaign, deadline.campaign_id)
    assert campaign is not None
    from handlers.dossier import dossier_texts

    return docs.report_documents(
        session,
        report=report,
        deadline=deadline,
        campaign=campaign,
        unit=unit,
        forms=forms,
        office=office,
        texts=dossier_texts(),
        templates_dir=templates_dir,
    )


def to_pdf(name: str, content: bytes) -> tuple[str, bytes] | None:
    """The PDF of a .docx through LibreOffice headless, or None when it is not installed or
    fails: the .docx alone is enough to print, so this never raises."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / name
        source.write_bytes(content)
        try:
            subprocess.run(
                [
                    soffice,
                    f"-env:UserInstallation=file://{folder}/profile",
                    "--headless",
                    "--convert-to",
                    "pdf",
                    "--outdir",
                    folder,
                    str(source),
                ],
                check=True,
                capture_output=True,
                timeout=PDF_TIMEOUT,
            )
        except (OSError, subprocess.SubprocessError):
            log.warning("PDF conversion of %s failed; sending the .docx alone", name)
            return None
        result = source.with_suffix(".pdf")
        return (result.name, result.read_bytes()) if result.is_file() else None


async def send_signing_copy(
    delivery: DeliveryService,
    engine: Engine,
    settings: Settings,
    forms: Mapping[str, Form],
    address: Address,
    report_id: int,
    version: int,
) -> None:
    def work(session: Session) -> list[tuple[str, bytes]]:
        return render_report(
            session,
            report_id,
            forms=forms,
            office=settings.office(),
            templates_dir=settings.templates_dir,
        )

    try:
        files = await outside_update(engine, work, commit=False, what="sign")
        pdfs = [p for p in [await asyncio.to_thread(to_pdf, n, c) for n, c in files] if p]
    except Exception:
        log.exception("signing copy of report %s could not be made", report_id)
        await delivery.push(Delivery(address, Outbound(t("signing.failed"))), pace=False)
        return
    for index, (name, content) in enumerate([*files, *pdfs]):
        await delivery.push(
            Delivery(
                address,
                Outbound(document=OutboundFile(name, content, caption=name if index else "")),
            ),
            pace=False,  # the answer to the officer's own submission, like a reply
        )
    await delivery.push(
        Delivery(
            address,
            Outbound(t("signing.instructions"), [[scan_button(report_id, version)]]),
        ),
        pace=False,
    )


# --- /banky: what still waits for its scan ----------------------------------------------------
@router.command("banky", access=Access.OFFICER, help_key="help.banky")
async def my_scans(event: Inbound, ctx: Context) -> None:
    assert ctx.member is not None and ctx.member.unit_id is not None
    waiting = docs.reports_waiting_for_scan(ctx.session, ctx.member.unit_id)
    if not waiting:
        ctx.say("signing.none")
        return
    lines = [t("signing.list_title")]
    buttons = []
    for index, (report, deadline) in enumerate(waiting, 1):
        lines.append(
            t("signing.list_item", index=index, title=deadline.title, ref=report.reference or "")
        )
        buttons.append(
            [
                Button(
                    t("signing.button_for", index=index),
                    make_payload(P_SCAN, report.id, report.version),
                )
            ]
        )
    ctx.reply("\n".join(lines), buttons)


# --- taking the scan --------------------------------------------------------------------------
@router.button(P_SCAN, access=Access.OFFICER)
async def on_scan_button(event: Inbound, ctx: Context) -> None:
    _, parts = split_payload(event.payload or "")
    numbers = [int(p) for p in parts if p.isdigit()]
    found = report_with_context(ctx.session, numbers[0]) if len(numbers) == 2 else None
    if found is None or not can_act_for_unit(ctx.member, found[2].id or 0, session=ctx.session):
        ctx.say("core.stale_button")
        return
    report, deadline, _ = found
    if report.version != numbers[1] or not docs.needs_scan(report, deadline):
        ctx.say("signing.stale")
        return
    ctx.begin(FLOW, STEP_FILE, {"report_id": report.id, "version": report.version})
    ctx.ask(t("signing.ask", title=deadline.title, version=report.version))


@router.flow(FLOW, access=Access.OFFICER)
async def on_scan(event: Inbound, ctx: Context) -> None:
    if event.attachment is None:
        raise InputError("signing.need_file")
    found = report_with_context(ctx.session, int(ctx.data["report_id"]))
    version = int(ctx.data["version"])
    if (
        found is None
        or found[0].version != version
        or not can_act_for_unit(ctx.member, found[2].id or 0, session=ctx.session)
    ):
        ctx.end()
        ctx.say("signing.stale")
        return
    report, deadline, unit = found
    try:
        row = await receive_file(
            ctx, event.attachment, accept=ACCEPT, report_id=report.id, field_id=docs.SCAN
        )
    except FileRejected as exc:
        raise InputError(f"reports.file.{exc.reason}", kinds="PDF, JPG, PNG") from None
    row.meta = {**(row.meta or {}), "version": version}
    ctx.session.add(row)
    audit.record(
        ctx.session,
        now=ctx.now(),
        action="report.signed_scan",
        actor=ctx.member,
        target_type="report",
        target_id=report.id,
        detail={"version": version, "attachment": row.id},
    )
    ctx.end()
    ctx.say("signing.received", title=deadline.title, unit=unit.name, version=version)


def scan_note(session: Session, report: Report | None, deadline: Deadline) -> str:
    """ " · chờ bản ký" after a status, for /hanchot and /tiendo; "" when nothing waits."""
    if report is None or not docs.waiting_for_scan(session, report, deadline):
        return ""
    return t("signing.status_waiting")


# --- reminders --------------------------------------------------------------------------------
async def send_scan_reminders(core: BotCore, *, calendar: WorkCalendar) -> int:
    """Nudge units whose signed scan is missing (called by the reminder scheduler's tick)."""
    channels = list(core.hub.channels)
    if not channels:
        return 0
    now = core.clock.now()

    def claim(session: Session) -> list[ScanReminder]:
        return claim_scan_reminders(session, now=now, calendar=calendar, channels=channels)

    due = await outside_update(core.engine, claim, what="scan reminders", turn=core.database_turn)
    for item in due:
        with core.hub.worded_for(item.channel):
            message = Outbound(
                t("signing.reminder", title=item.deadline_title, unit=item.unit_name),
                [[scan_button(item.report_id, item.version)]],
            )
        outcome = await core.services.delivery.push(
            Delivery(Address(item.channel, item.chat_id), message)
        )
        error = None if outcome.sent else (outcome.reason or outcome.status.value)
        sent_id = outcome.message_id

        def record(
            session: Session,
            log_id: int = item.log_id,
            sent_id: str | None = sent_id,
            error: str | None = error,
        ) -> None:
            record_scan_outcome(
                session, log_id, now=core.clock.now(), message_id=sent_id, error=error
            )

        await outside_update(core.engine, record, what="scan reminders", turn=core.database_turn)
    return len(due)
