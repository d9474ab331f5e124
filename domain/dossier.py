"""The campaign dossier (hồ sơ thi đua): a unit's filled achievement report, the office's list
of nominees and draft submission, the signed scans, and an index of what is missing.

Contexts for the Word templates are plain dicts built here from the stored answers; the
documents themselves come from `domain.documents.render`. Everything is read from what the
units handed in (`domain.export.submitted_answers`), never from a draft. The work is split so a
caller can show progress: `unit_files()` for a few units at a time, then `office_files()` and
`write_zip()`; `build_dossier()` does it all at once (the CLI). Sentences shown to people
(column titles, statuses) come in as `DossierTexts`; nothing here knows a chat or a channel.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from domain import awards
from domain.campaigns import SUBMITTED_STATES, participating_units, reports_by_unit
from domain.documents import BLANK, Office, date_parts, organiser_templates, render
from domain.export import RankingTexts, deadlines_of, submitted_answers
from domain.forms import OWN_FORM_SEPARATOR, Field, Form, base_form_code, format_answer
from domain.scans import SCAN, ScanFile, scan_files, signed_scan_among
from domain.text import fold
from domain.yamlfile import load_yaml
from models.campaigns import Campaign, Deadline
from models.organisers import Organiser
from models.reports import Attachment, Nomination, Report
from models.units import Unit

COLLECTIVE_TEMPLATE = "bao-cao-thanh-tich-tap-the.docx"
INDIVIDUAL_TEMPLATE = "bao-cao-thanh-tich-ca-nhan.docx"
LIST_TEMPLATE = "danh-sach-de-nghi.docx"
SUBMISSION_TEMPLATE = "to-trinh.docx"
# Which report forms print as which template. Field ids of the decree's parts I and III and of
# the signing date and the signed scan, in the shipped forms (forms/bao-cao-thanh-tich*.yaml).
FORM_TEMPLATES = {
    "bao-cao-thanh-tich": COLLECTIVE_TEMPLATE,
    "bao-cao-thanh-tich-ca-nhan": INDIVIDUAL_TEMPLATE,
}
PART_I = ("dac_diem", "chuc_nang", "qua_trinh", "nhiem_vu")
PART_III = "khen_thuong"
SIGNED_ON = "ngay_bao_cao"  # the scan's field is domain.scans.SCAN
PERSON_GROUP = "ca_nhan"
_NOT_IN_PART_II = {*PART_I, PART_III, SIGNED_ON, SCAN}
_ADMIN_WORDS = ("xã ", "phường ", "đặc khu ", "thị trấn ")


@dataclass(frozen=True, slots=True)
class DossierTexts:
    """Words of the index sheet, from the catalog (`dossier.index.*`)."""

    headers: Sequence[str]
    violations_headers: Sequence[str]
    submitted: str
    not_submitted: str
    missing_report: str
    missing_scan: str
    complete: str
    list_headers: Sequence[str]
    rule_message: Callable[[awards.Violation], str]
    # Report titles: "… {awards} …" when the unit is proposed for something, else generic.
    propose_title: str = "{awards}"
    generic_title: str = ""
    index_sheet: str = "index"
    violations_sheet: str = "rules"
    list_sheet: str = "list"
    # Council members' roles in the biên bản ("chu-tich" → "Chủ tịch Hội đồng").
    role_label: Callable[[str], str] = str
    # The addressee of an organiser's tờ trình: "Chủ tịch Ủy ban nhân dân {place}".
    recipient_of: str = ""
    # The bloc ranking's headers (the XLSX export's), and the adjustments sheet's.
    ranking: RankingTexts | None = None
    adjustments_sheet: str = "adjustments"
    adjustments_headers: Sequence[str] = ()


@dataclass(slots=True)
class UnitFiles:
    """A unit's files in the ZIP and its lines of the index."""

    files: list[tuple[str, bytes]] = field(default_factory=list)
    index: list[list[str]] = field(default_factory=list)
    reported: bool = False


# --- small helpers ----------------------------------------------------------------------------
def slug(text: str, limit: int = 40) -> str:
    """A file-name-safe ASCII slug of a Vietnamese name ("Xã Bình Lư" → "xa-binh-lu")."""
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")[:limit] or "x"


def issuer(
    session: Session,
    *,
    campaign: Campaign,
    office: Office,
    texts: DossierTexts,
    templates_dir: Path | None,
) -> tuple[Office, Path | None]:
    """Who issues the campaign's documents and with which templates: the campaign's
    organiser (`domain.organisers.office_of`, the deployment's `office` filling what the
    default organiser leaves blank) and its own templates folder when it has one
    (`domain.documents.organiser_templates`), else `templates_dir`. Every public function
    here that prints takes the deployment's office and templates and asks this first."""
    from domain.organisers import office_of

    organiser = session.get(Organiser, campaign.organiser_id)
    if organiser is None:  # a foreign key: only a row being deleted
        return office, templates_dir
    own = organiser_templates(templates_dir, organiser.code)
    return office_of(organiser, deployment=office, recipient_of=texts.recipient_of), (
        own or templates_dir
    )


def campaign_year(campaign: Campaign, deadlines: Sequence[Deadline], zone: ZoneInfo) -> int:
    if campaign.ends_on:
        return campaign.ends_on.year
    if deadlines:
        return deadlines[-1].due_at.astimezone(zone).year
    return campaign.created_at.astimezone(zone).year


def _place_of(unit: Unit, office: Office) -> str:
    name = unit.name.strip()
    for word in _ADMIN_WORDS:
        if name.lower().startswith(word):
            return name[len(word) :].strip()
    return office.place or BLANK


def _signed_on(answers: Mapping[str, Any]) -> date | None:
    try:
        return date.fromisoformat(str(answers.get(SIGNED_ON)))
    except ValueError:
        return None


def _text(field_spec: Field | None, value: Any) -> str:
    if value is None or value == "":
        return BLANK
    return format_answer(field_spec, value) if field_spec else str(value)


def _fields_of(form: Form | None) -> dict[str, Field]:
    return {f.id: f for f in form.fields} if form else {}


def part_two(form: Form | None, answers: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Part II: every answered field but parts I and III, groups with one line per entry."""
    items: list[dict[str, Any]] = []
    fields = form.fields if form else []
    for spec in fields:
        if spec.id in _NOT_IN_PART_II or spec.type == "file":
            continue
        value = answers.get(spec.id)
        lines: list[str] = []
        if spec.type == "group":
            for entry in value or []:
                parts = [
                    format_answer(sub, entry.get(sub.id))
                    for sub in spec.fields
                    if sub.type != "file" and format_answer(sub, entry.get(sub.id))
                ]
                lines.append(
                    ": ".join(parts[:2]) + ("; " + "; ".join(parts[2:]) if parts[2:] else "")
                )
            text = "" if lines else BLANK
        else:
            text = _text(spec, value)
        items.append({"number": len(items) + 1, "label": spec.label, "text": text, "lines": lines})
    return items


def past_awards(
    session: Session, *, unit: Unit, person: str = "", typed: Iterable[Mapping[str, Any]] = ()
) -> list[dict[str, str]]:
    """Part III: what the officer typed, then the award history, without repeats, by year."""
    rows: dict[tuple[str, str], dict[str, str]] = {}
    for entry in typed:
        row = {
            "year": str(entry.get("nam") or ""),
            "award": str(entry.get("hinh_thuc") or ""),
            "decision": str(entry.get("so_quyet_dinh") or ""),
            "issuer": str(entry.get("co_quan") or ""),
        }
        rows[(row["year"], fold(row["award"]))] = row
    for record in awards.history(session, unit_id=unit.id or 0, person=person):
        key = (str(record.year), fold(record.award_label))
        rows.setdefault(
            key,
            {
                "year": str(record.year),
                "award": record.award_label,
                "decision": awards.decision_text(record),
                "issuer": record.issuer,
            },
        )
    return sorted(rows.values(), key=lambda r: (r["year"], fold(r["award"])))


def _parent_body(session: Session, unit: Unit, office: Office) -> str:
    if unit.parent_id is not None:
        parent = session.get(Unit, unit.parent_id)
        if parent is not None:
            return parent.name.upper()
    return office.parent.upper()


def _base_context(
    session: Session, *, campaign: Campaign, unit: Unit, office: Office, signed: date | None
) -> dict[str, Any]:
    return {
        "parent_body": _parent_body(session, unit, office),
        "issuing_unit": unit.name,
        "place": _place_of(unit, office),
        **date_parts(signed),
        "campaign": campaign.name,
        "campaign_number": campaign.document_number,
        "unit": unit.name,
        "signer_name": "",
    }


def collective_context(
    session: Session,
    *,
    campaign: Campaign,
    unit: Unit,
    form: Form | None,
    answers: Mapping[str, Any],
    office: Office,
    form_number: str,
    texts: DossierTexts,
    proposed: Sequence[str] = (),
) -> dict[str, Any]:
    fields = _fields_of(form)
    title = (
        texts.propose_title.format(awards=", ".join(proposed)) if proposed else texts.generic_title
    )
    return {
        **_base_context(
            session, campaign=campaign, unit=unit, office=office, signed=_signed_on(answers)
        ),
        "form_number": form_number,
        "report_title": f"{title} ({campaign.name})",
        "features": _text(fields.get("dac_diem"), answers.get("dac_diem")),
        "duties": _text(fields.get("chuc_nang"), answers.get("chuc_nang")),
        "achievements": part_two(form, answers),
        "past_awards": past_awards(session, unit=unit, typed=answers.get(PART_III) or []),
    }


def individual_contexts(
    session: Session,
    *,
    campaign: Campaign,
    unit: Unit,
    form: Form | None,
    answers: Mapping[str, Any],
    office: Office,
    form_number: str,
    texts: DossierTexts,
) -> list[dict[str, Any]]:
    group = form.field(PERSON_GROUP) if form and form.has(PERSON_GROUP) else None
    subs = {f.id: f for f in group.fields} if group else {}
    contexts = []
    for entry in answers.get(PERSON_GROUP) or []:
        name = str(entry.get("ho_ten") or BLANK)
        achievements = [
            {"number": i, "label": subs[k].label, "text": _text(subs[k], entry.get(k)), "lines": []}
            for i, k in enumerate(("thanh_tich", "sang_kien"), 1)
            if k in subs
        ]
        typed = [
            {"nam": "", "hinh_thuc": line.strip(), "so_quyet_dinh": "", "co_quan": ""}
            for line in str(entry.get(PART_III) or "").splitlines()
            if line.strip()
        ]
        award = subs["de_nghi"].choice_label(entry.get("de_nghi")) if "de_nghi" in subs else ""
        contexts.append(
            {
                **_base_context(
                    session, campaign=campaign, unit=unit, office=office, signed=_signed_on(answers)
                ),
                "form_number": form_number,
                "report_title": (
                    texts.propose_title.format(awards=award) if award else texts.generic_title
                ),
                "person": {
                    "name": name,
                    "birth_year": str(entry.get("nam_sinh") or BLANK),
                    "job_title": str(entry.get("chuc_vu") or BLANK),
                },
                "features": _text(subs.get("qua_trinh"), entry.get("qua_trinh")),
                "duties": _text(subs.get("nhiem_vu"), entry.get("nhiem_vu")),
                "achievements": achievements,
                "past_awards": past_awards(session, unit=unit, person=name, typed=typed),
            }
        )
    return contexts


def _refdata() -> dict[str, Any]:
    return load_yaml(awards.REFDATA.read_text(encoding="utf-8")) or {}


def form_number(template: str) -> str:
    """The decree's template number printed on the document (refdata, `report_templates`)."""
    for item in _refdata().get("report_templates") or []:
        if item.get("file") == template:
            return str(item.get("form_number") or "")
    return ""


def submission_basis() -> list[str]:
    """The legal bases a tờ trình cites (refdata, `submission_basis`)."""
    return [str(item) for item in _refdata().get("submission_basis") or []]


# --- the signed scan ------------------------------------------------------------------------
def signed_scan(session: Session, report: Report) -> Attachment | None:
    """The signed, stamped scan of the report version handed in (`domain.scans`' rule): the
    file answered in the form, or one sent afterwards for that version (`meta["version"]`)."""
    files = session.exec(
        select(Attachment).where(Attachment.report_id == report.id, Attachment.field_id == SCAN)
    ).all()
    answers = submitted_answers(report, session=session)
    return signed_scan_among(files, answers=answers, version=report.version)


def template_of(deadline: Deadline) -> str | None:
    """The Word template a deadline's reports are printed from, whichever version of the form
    (an organiser's own or the default) the deadline asks for."""
    return FORM_TEMPLATES.get(base_form_code(deadline.form_code))


def printed_from_template() -> sa.ColumnElement[bool]:
    """The SQL test of `template_of(deadline) is not None`."""
    column = col(Deadline.form_code)
    own = [column.like(f"%{OWN_FORM_SEPARATOR}{code}") for code in FORM_TEMPLATES]
    return sa.or_(column.in_(list(FORM_TEMPLATES)), *own)


def needs_scan(report: Report, deadline: Deadline) -> bool:
    """A handed-in report printed from a template waits for its signed scan."""
    return report.status in SUBMITTED_STATES and template_of(deadline) is not None


def waiting_for_scan(session: Session, report: Report, deadline: Deadline) -> bool:
    """Handed in, printed from a template, and no signed scan for this version yet."""
    return needs_scan(report, deadline) and signed_scan(session, report) is None


def reports_waiting_for_scan(session: Session, unit_id: int) -> list[tuple[Report, Deadline]]:
    """A unit's handed-in reports still waiting for their signed scan."""
    rows = session.exec(
        select(Report, Deadline)
        .join(Deadline, col(Deadline.id) == Report.deadline_id)
        .where(Report.unit_id == unit_id, printed_from_template())
        .order_by(col(Deadline.due_at))
    ).all()
    handed_in = [(r, d) for r, d in rows if needs_scan(r, d)]
    files = scan_files(session, report_ids=[r.id for r, _ in handed_in if r.id is not None])
    return [(r, d) for r, d in handed_in if not _has_scan(r, files)]


def units_waiting_for_scan(session: Session, deadline: Deadline) -> list[tuple[Unit, Report]]:
    """Units whose report for `deadline` waits for its signed scan, by unit code."""
    return waiting_for_scan_by_deadline(session, [deadline]).get(deadline.id or 0, [])


def waiting_for_scan_by_deadline(
    session: Session, deadlines: Sequence[Deadline]
) -> dict[int, list[tuple[Unit, Report]]]:
    """For each deadline printed from a template, the units (by code) whose handed-in report
    waits for its signed scan — two queries for a whole campaign, whatever its size (the web
    desk's matrix, /tiendo)."""
    ids = [d.id for d in deadlines if d.id is not None and template_of(d) is not None]
    if not ids:
        return {}
    rows = session.exec(
        select(Report, Unit)
        .join(Unit, col(Unit.id) == Report.unit_id)
        .where(col(Report.deadline_id).in_(ids), col(Report.status).in_(SUBMITTED_STATES))
        .order_by(col(Unit.code))
    ).all()
    files = scan_files(session, deadline_ids=ids)
    found: dict[int, list[tuple[Unit, Report]]] = {}
    for report, unit in rows:
        if not _has_scan(report, files):
            found.setdefault(report.deadline_id, []).append((unit, report))
    return found


def _has_scan(report: Report, files: Mapping[int, Sequence[ScanFile]]) -> bool:
    """A handed-in report (submitted or accepted: its own answers are what was handed in)."""
    mine = files.get(report.id or 0, ())
    return signed_scan_among(mine, answers=report.answers, version=report.version) is not None


# --- one report -------------------------------------------------------------------------------
def report_documents(
    session: Session,
    *,
    report: Report,
    deadline: Deadline,
    campaign: Campaign,
    unit: Unit,
    forms: Mapping[str, Form],
    office: Office,
    texts: DossierTexts,
    templates_dir: Path | None = None,
) -> list[tuple[str, bytes]]:
    """The filled .docx files of one handed-in report (none if its form has no template),
    issued by the campaign's organiser (`issuer`)."""
    office, templates_dir = issuer(
        session, campaign=campaign, office=office, texts=texts, templates_dir=templates_dir
    )
    template = template_of(deadline)
    answers = submitted_answers(report, session=session)
    if template is None or answers is None:
        return []
    form = forms.get(deadline.form_code)
    number = form_number(template)
    if template == COLLECTIVE_TEMPLATE:
        proposed = _proposed_for_unit(session, campaign=campaign, unit=unit)
        context = collective_context(
            session,
            campaign=campaign,
            unit=unit,
            form=form,
            answers=answers,
            office=office,
            form_number=number,
            texts=texts,
            proposed=proposed,
        )
        name = f"bao-cao-thanh-tich-{slug(unit.name)}.docx"
        return [(name, render(template, context, templates_dir=templates_dir))]
    contexts = individual_contexts(
        session,
        campaign=campaign,
        unit=unit,
        form=form,
        answers=answers,
        office=office,
        form_number=number,
        texts=texts,
    )
    return [
        (
            f"bao-cao-ca-nhan-{i}-{slug(c['person']['name'])}.docx",
            render(template, c, templates_dir=templates_dir),
        )
        for i, c in enumerate(contexts, 1)
    ]


# --- nominations ------------------------------------------------------------------------------
def campaign_nominations(
    session: Session, campaign: Campaign
) -> list[tuple[Nomination, Report, Unit]]:
    """Every nomination handed in for the campaign, with its report and unit."""
    rows = session.exec(
        select(Nomination, Report, Unit)
        .join(Report, col(Report.id) == Nomination.report_id)
        .join(Deadline, col(Deadline.id) == Report.deadline_id)
        .join(Unit, col(Unit.id) == Report.unit_id)
        .where(Deadline.campaign_id == campaign.id, col(Report.status).in_(SUBMITTED_STATES))
        .order_by(col(Unit.code), col(Nomination.report_id), col(Nomination.position))
    ).all()
    return [(n, r, u) for n, r, u in rows]


def _proposed_for_unit(session: Session, *, campaign: Campaign, unit: Unit) -> list[str]:
    book = awards.catalog()
    return sorted(
        {
            book.label(book.resolve(n.award) or n.award)
            for n, _, u in campaign_nominations(session, campaign)
            if u.id == unit.id
            and n.nominee_type == "collective"
            and fold(n.full_name) == fold(unit.name)
        }
    )


def nomination_rows(session: Session, campaign: Campaign) -> list[dict[str, Any]]:
    book = awards.catalog()
    order = {code: i for i, code in enumerate(book.kinds)}
    entries = campaign_nominations(session, campaign)
    code = {id(n): book.resolve(n.award) or n.award for n, _, _ in entries}
    entries.sort(key=lambda e: (order.get(code[id(e[0])], len(order)), e[2].code, e[0].position))
    return [
        {
            "no": i,
            "name": n.full_name,
            "job_title": n.job_title or "",
            "unit_name": n.unit_name or u.name,
            "award": book.label(code[id(n)]),
            "summary": n.summary,
            "nominee_type": n.nominee_type,
        }
        for i, (n, _, u) in enumerate(entries, 1)
    ]


def record_results(
    session: Session,
    *,
    campaign: Campaign,
    year: int,
    decision_number: str,
    decision_date: date | None,
    issuer: str,
    now: datetime,
) -> int:
    """The decided results of a campaign into the award history: every nomination handed in
    (a collective named like its unit is the unit's own award; anyone else is a person of the
    unit). Nominees the council turned down in a confirmed round are left out. Run again with
    the same decision, it updates rather than duplicates."""
    from domain import council

    turned_down: set[int] = set()
    round_ = council.confirmed_round_of(session, campaign_id=campaign.id or 0)
    if round_ is not None:
        turned_down = {
            item.nomination_id
            for item in council.items_of(session, round_.id or 0)
            if not item.passed and item.nomination_id is not None
        }
    count = 0
    for nomination, _, unit in campaign_nominations(session, campaign):
        if nomination.id in turned_down:
            continue
        own = nomination.nominee_type == "collective" and fold(nomination.full_name) == fold(
            unit.name
        )
        awards.record_award(
            session,
            unit_id=unit.id or 0,
            person="" if own else nomination.full_name,
            year=year,
            award=nomination.award,
            decision_number=decision_number,
            decision_date=decision_date,
            issuer=issuer,
            campaign_id=campaign.id,
            source="campaign",
            now=now,
        )
        count += 1
    return count


def violations(session: Session, campaign: Campaign, year: int) -> list[awards.Violation]:
    """Eligibility refusals of every handed-in nomination report of the campaign."""
    by_report: dict[int, tuple[Report, Unit, list[Nomination]]] = {}
    for nomination, report, unit in campaign_nominations(session, campaign):
        by_report.setdefault(report.id or 0, (report, unit, []))[2].append(nomination)
    found: list[awards.Violation] = []
    for report, unit, nominations in by_report.values():
        found += awards.check_report(
            session, report=report, unit=unit, nominations=nominations, year=year
        )
    return found


# --- the dossier ------------------------------------------------------------------------------
def unit_files(
    session: Session,
    *,
    campaign: Campaign,
    unit_ids: Sequence[int],
    forms: Mapping[str, Form],
    office: Office,
    texts: DossierTexts,
    storage_dir: Path,
    templates_dir: Path | None = None,
) -> dict[int, UnitFiles]:
    """Files and index lines of some units (for progress: a few at a time)."""
    deadlines = deadlines_of(campaign, session=session)
    units = {u.id: u for u in session.exec(select(Unit).where(col(Unit.id).in_(unit_ids))).all()}
    result: dict[int, UnitFiles] = {}
    reports = {d.id: reports_by_unit(session, d) for d in deadlines}
    wanted = set(unit_ids)
    scans = scan_files(
        session,
        report_ids=[
            r.id for by_unit in reports.values() for u, r in by_unit.items() if u in wanted and r.id
        ],
    )
    for unit_id in unit_ids:
        unit = units.get(unit_id)
        if unit is None:
            continue
        entry = result[unit_id] = UnitFiles()
        folder = f"don-vi/{slug(unit.code, 32)}-{slug(unit.name)}"
        for deadline in deadlines:
            report = reports[deadline.id].get(unit_id)
            answers = submitted_answers(report, session=session)
            if answers is None or report is None:
                entry.index.append(
                    [
                        unit.code,
                        unit.name,
                        deadline.title,
                        texts.not_submitted,
                        "",
                        "",
                        texts.missing_report,
                    ]
                )
                continue
            entry.reported = True
            documents = report_documents(
                session,
                report=report,
                deadline=deadline,
                campaign=campaign,
                unit=unit,
                forms=forms,
                office=office,
                texts=texts,
                templates_dir=templates_dir,
            )
            entry.files += [(f"{folder}/{name}", content) for name, content in documents]
            scan = signed_scan_among(
                scans.get(report.id or 0, ()), answers=answers, version=report.version
            )
            scan_name = ""
            if scan is not None and scan.stored_path:
                path = storage_dir / scan.stored_path
                if path.is_file():
                    suffix = Path(scan.file_name).suffix.lower() or ".pdf"
                    scan_name = f"{folder}/ban-ky-{slug(deadline.title, 30)}{suffix}"
                    entry.files.append((scan_name, path.read_bytes()))
            missing = texts.missing_scan if not scan_name and template_of(deadline) else ""
            entry.index.append(
                [
                    unit.code,
                    unit.name,
                    deadline.title,
                    texts.submitted,
                    ", ".join(Path(n).name for n, _ in documents),
                    Path(scan_name).name if scan_name else "",
                    missing or texts.complete,
                ]
            )
    return result


def office_files(
    session: Session,
    *,
    campaign: Campaign,
    units: Mapping[int, UnitFiles],
    office: Office,
    texts: DossierTexts,
    today: date,
    zone: ZoneInfo,
    templates_dir: Path | None = None,
) -> list[tuple[str, bytes]]:
    """The danh sách (.docx, .xlsx), the tờ trình (a draft, or after a confirmed council round
    the one listing only those who passed, with the council's biên bản), the bloc ranking and
    the index sheet."""
    office, templates_dir = issuer(
        session, campaign=campaign, office=office, texts=texts, templates_dir=templates_dir
    )
    deadlines = deadlines_of(campaign, session=session)
    rows = nomination_rows(session, campaign)
    common, submission = submission_contexts(
        rows,
        campaign=campaign,
        office=office,
        today=today,
        units_reported=sum(1 for u in units.values() if u.reported),
        units_total=len(units),
    )
    year = campaign_year(campaign, deadlines, zone)
    found = violations(session, campaign, year)
    council_files = council_documents(
        session,
        campaign=campaign,
        submission=submission,
        office=office,
        zone=zone,
        templates_dir=templates_dir,
        role_label=texts.role_label,
    )
    draft = [
        (
            "01-to-trinh-du-thao.docx",
            render(SUBMISSION_TEMPLATE, submission, templates_dir=templates_dir),
        )
    ]
    ranking = ranking_workbook(session, campaign=campaign, texts=texts)
    return [
        *(council_files or draft),
        *([("04-xep-hang-khoi.xlsx", ranking)] if ranking else []),
        (
            "02-danh-sach-de-nghi.docx",
            render(LIST_TEMPLATE, {**common, "rows": rows}, templates_dir=templates_dir),
        ),
        ("02-danh-sach-de-nghi.xlsx", _list_workbook(rows, texts)),
        ("00-muc-luc.xlsx", _index_workbook(units, found, texts)),
    ]


def submission_contexts(
    rows: Sequence[Mapping[str, Any]],
    *,
    campaign: Campaign,
    office: Office,
    today: date,
    units_reported: int,
    units_total: int,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """What the danh sách and the tờ trình share, and the tờ trình's own context, for the
    nominations `rows` (`nomination_rows`)."""
    collectives = sum(1 for r in rows if r["nominee_type"] == "collective")
    common = {
        "parent_body": office.parent.upper(),
        "issuing_unit": office.name,
        "place": office.place or BLANK,
        **date_parts(today),
        "campaign": campaign.name,
        "campaign_number": campaign.document_number,
        "total_collectives": collectives,
        "total_individuals": len(rows) - collectives,
        "signer_title": office.name,
        "signer_name": "",
    }
    counts: dict[str, list[int]] = {}
    for row in rows:
        pair = counts.setdefault(row["award"], [0, 0])
        pair[0 if row["nominee_type"] == "collective" else 1] += 1
    submission = {
        **common,
        "issuing_short": _short(office.name),
        "recipient": office.recipient or BLANK,
        "basis": submission_basis(),
        "units_reported": units_reported,
        "units_total": units_total,
        "counts": [
            {"no": i, "award": award, "collectives": c, "individuals": p}
            for i, (award, (c, p)) in enumerate(counts.items(), 1)
        ],
    }
    return common, submission


def units_reported(session: Session, campaign: Campaign) -> tuple[int, int]:
    """(participating units that handed in at least one report, participating units)."""
    ids = set(participant_ids(session, campaign))
    reported: set[int] = set()
    for deadline in deadlines_of(campaign, session=session):
        for unit_id, report in reports_by_unit(session, deadline).items():
            if unit_id in ids and submitted_answers(report, session=session) is not None:
                reported.add(unit_id)
    return len(reported), len(ids)


def council_files(
    session: Session,
    *,
    campaign: Campaign,
    office: Office,
    texts: DossierTexts,
    today: date,
    zone: ZoneInfo,
    templates_dir: Path | None = None,
) -> list[tuple[str, bytes]]:
    """The council's two documents alone (tờ trình, biên bản), for the chat once a round is
    confirmed, without rendering every unit's report; [] before any confirmed round."""
    office, templates_dir = issuer(
        session, campaign=campaign, office=office, texts=texts, templates_dir=templates_dir
    )
    reported, total = units_reported(session, campaign)
    _, submission = submission_contexts(
        nomination_rows(session, campaign),
        campaign=campaign,
        office=office,
        today=today,
        units_reported=reported,
        units_total=total,
    )
    return council_documents(
        session,
        campaign=campaign,
        submission=submission,
        office=office,
        zone=zone,
        templates_dir=templates_dir,
        role_label=texts.role_label,
    )


def council_submission(
    submission: Mapping[str, Any], council_result: Mapping[str, Any]
) -> dict[str, Any]:
    """The tờ trình after the council: the draft's context with only those who passed, counted
    per title."""
    counts: dict[str, list[int]] = {}
    for row in council_result["rows"]:
        pair = counts.setdefault(row["award"], [0, 0])
        pair[0 if row["nominee_type"] == "collective" else 1] += 1
    return {
        **submission,
        "total_collectives": council_result["total_collectives"],
        "total_individuals": council_result["total_individuals"],
        "counts": [
            {"no": i, "award": award, "collectives": c, "individuals": p}
            for i, (award, (c, p)) in enumerate(counts.items(), 1)
        ],
    }


def council_documents(
    session: Session,
    *,
    campaign: Campaign,
    submission: Mapping[str, Any],
    office: Office,
    zone: ZoneInfo,
    templates_dir: Path | None = None,
    role_label: Callable[[str], str] = str,
) -> list[tuple[str, bytes]]:
    """The tờ trình listing only those who passed and the council's biên bản, once a round
    of the campaign has been confirmed; [] before (the dossier keeps its draft tờ trình)."""
    from domain import council

    round_ = council.confirmed_round_of(session, campaign_id=campaign.id or 0)
    if round_ is None:
        return []
    minutes = council.minutes_context(
        session, round_=round_, zone=zone, role_label=role_label, office=office
    )
    result = council.submission_context(session, round_=round_, zone=zone)
    return [
        (
            "01-to-trinh.docx",
            render(
                SUBMISSION_TEMPLATE,
                council_submission(submission, result),
                templates_dir=templates_dir,
            ),
        ),
        (
            "03-bien-ban-hop-hoi-dong.docx",
            render(council.MINUTES_TEMPLATE, minutes, templates_dir=templates_dir),
        ),
    ]


def ranking_workbook(session: Session, *, campaign: Campaign, texts: DossierTexts) -> bytes:
    """The bloc ranking (xếp hạng khối) with each criterion's reviewed points, the total and
    the title proposed, and a sheet of the adjustments with their reasons; b"" without any
    scoring table or without the sheet's words."""
    from domain.export import DATE_FORMAT, DATETIME_FORMAT, ranking_sheet, sheet_title
    from domain.xlsx import Sheet, write_workbook

    if texts.ranking is None:
        return b""
    book: list[Sheet] = []
    used: set[str] = set()
    ranking_sheet(book, used, campaign, session=session, texts=texts.ranking)
    if not book:
        return b""
    if texts.adjustments_headers:
        from domain.scoring import adjustments_of

        # The xlsx writer writes text as text, never a formula: a reason typed as "=…" is safe.
        adjustments = Sheet(
            sheet_title(texts.adjustments_sheet, used),
            list(texts.adjustments_headers),
            widths=[20, 12, 30, 40, 12, 12, 60],
            frozen_columns=3,
        )
        for row in adjustments_of(session, campaign=campaign):
            adjustments.append(row)
        book.append(adjustments)
    return write_workbook(book, date_format=DATE_FORMAT, datetime_format=DATETIME_FORMAT)


def _short(name: str) -> str:
    """Initials for the document number ("UBND xã Bình Lư" → "UBND"): an editable draft."""
    first = name.split()[0] if name.split() else ""
    return first if first.isupper() else "".join(w[0] for w in fold(name).split()).upper()[:8]


def _workbook_with(headers: Sequence[str], rows: Iterable[Sequence[Any]], title: str) -> Any:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side

    book = Workbook()
    book.remove(book.worksheets[0])
    sheet = book.create_sheet(title)
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    sheet.append(list(headers))
    for row in rows:
        # Text that looks like a formula stays text (a name typed as "=…").
        sheet.append([f"'{v}" if isinstance(v, str) and v.startswith("=") else v for v in row])
    for cells in sheet.iter_rows():
        for cell in cells:
            cell.border = border
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for letter, width in zip("ABCDEFGH", (12, 30, 30, 14, 30, 24, 30, 30), strict=False):
        sheet.column_dimensions[letter].width = width
    return book


def _save(book: Any) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _list_workbook(rows: Sequence[Mapping[str, Any]], texts: DossierTexts) -> bytes:
    book = _workbook_with(
        texts.list_headers,
        (
            [r["no"], r["name"], r["job_title"], r["unit_name"], r["award"], r["summary"]]
            for r in rows
        ),
        texts.list_sheet,
    )
    return _save(book)


def _index_workbook(
    units: Mapping[int, UnitFiles], found: Sequence[awards.Violation], texts: DossierTexts
) -> bytes:
    book = _workbook_with(
        texts.headers, (line for u in units.values() for line in u.index), texts.index_sheet
    )
    sheet = book.create_sheet(texts.violations_sheet)
    sheet.append(list(texts.violations_headers))
    for violation in found:
        sheet.append(
            [violation.nominee, violation.award, violation.article, texts.rule_message(violation)]
        )
    sheet.column_dimensions["D"].width = 90
    return _save(book)


def write_zip(root: str, files: Iterable[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files:
            archive.writestr(f"{root}/{name}", content)
    return buffer.getvalue()


def dossier_root(campaign: Campaign) -> str:
    return f"ho-so-{slug(campaign.document_number, 30)}"


def participant_ids(session: Session, campaign: Campaign) -> list[int]:
    return [u.id for u in participating_units(session, campaign) if u.id is not None]


def build_dossier(
    session: Session,
    *,
    campaign: Campaign,
    forms: Mapping[str, Form],
    office: Office,
    texts: DossierTexts,
    storage_dir: Path,
    today: date,
    zone: ZoneInfo,
    templates_dir: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    batch: int = 10,
) -> bytes:
    """The whole dossier as ZIP bytes."""
    ids = participant_ids(session, campaign)
    units: dict[int, UnitFiles] = {}
    for start in range(0, len(ids), batch):
        units.update(
            unit_files(
                session,
                campaign=campaign,
                unit_ids=ids[start : start + batch],
                forms=forms,
                office=office,
                texts=texts,
                storage_dir=storage_dir,
                templates_dir=templates_dir,
            )
        )
        if progress:
            progress(min(start + batch, len(ids)), len(ids))
    files = [f for u in units.values() for f in u.files]
    files += office_files(
        session,
        campaign=campaign,
        units=units,
        office=office,
        texts=texts,
        today=today,
        zone=zone,
        templates_dir=templates_dir,
    )
    return write_zip(dossier_root(campaign), files)


def now_local(now: datetime, zone: ZoneInfo) -> date:
    return now.astimezone(zone).date()
