"""Award history (lịch sử khen thưởng) and the eligibility of nominations (điều kiện đề nghị).

What it does: reads the titles, issuers and mechanical rules of `refdata/awards.yaml` (each
with its article of law); imports a CSV/XLSX of past awards all-or-nothing, naming every bad
row (like `domain.units.import_units`); gives the history of a unit or a person for part III
of an achievement report; checks the nominations of a report against the rules and returns
each refusal with the rule's code and article; records the admin's override with a reason.

What it must not do: talk to users or know a channel (messages are catalog keys with params),
or decide what the law says — the rules and percentages are data.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from domain import audit
from domain.dates import ParseError, parse_date
from domain.text import clean_text, fold
from domain.units import MAX_ROWS, RowError, TableError, read_table
from domain.yamlfile import load_yaml
from models.awards import AwardRecord, EligibilityOverride
from models.reports import Nomination, Report
from models.units import Member, Unit

REFDATA = Path(__file__).resolve().parent.parent / "refdata" / "awards.yaml"
AWARD_LISTS = (
    "individual_titles",
    "collective_titles",
    "household_titles",
    "commendations",
)
MIN_YEAR, MAX_YEAR = 1945, 2100


# --- reference data ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class AwardKind:
    """A title or form of commendation of refdata/awards.yaml."""

    code: str
    label: str
    subject: str = "any"  # individual | collective | household | any
    unit_kinds: tuple[str, ...] = ()
    issuer: str = ""
    source: str = ""


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    kind: str  # requires | quota | subject | unit_kind
    article: str
    award: str = ""
    awards: tuple[str, ...] = ()
    prerequisite: tuple[str, ...] = ()
    years: int = 1
    consecutive: bool = False
    same_year: bool = False
    subject: str = ""
    base: str = ""
    percent: float = 0.0

    def applies_to(self, award: str) -> bool:
        return award == self.award or award in self.awards


@dataclass(frozen=True, slots=True)
class AwardCatalog:
    kinds: dict[str, AwardKind]
    issuers: dict[str, str]
    rules: tuple[Rule, ...]

    def label(self, code: str) -> str:
        kind = self.kinds.get(code)
        return kind.label if kind else code

    def issuer_label(self, code: str) -> str:
        kind = self.kinds.get(code)
        return self.issuers.get(kind.issuer, "") if kind else ""

    def resolve(self, text: str) -> str | None:
        """The code of a title typed as its code or label (diacritics-insensitive)."""
        wanted = fold(text)
        for kind in self.kinds.values():
            if wanted in (fold(kind.code), fold(kind.label)):
                return kind.code
        return None


def load_catalog(path: Path = REFDATA) -> AwardCatalog:
    raw = load_yaml(path.read_text(encoding="utf-8")) or {}
    kinds: dict[str, AwardKind] = {}
    for list_name in AWARD_LISTS:
        for item in raw.get(list_name) or []:
            kinds[str(item["code"])] = AwardKind(
                code=str(item["code"]),
                label=clean_text(str(item["label"])),
                subject=str(item.get("subject") or "any"),
                unit_kinds=tuple(item.get("unit_kinds") or ()),
                issuer=str(item.get("issuer") or ""),
                source=str(item.get("source") or ""),
            )
    issuers = {str(i["code"]): clean_text(str(i["label"])) for i in raw.get("issuers") or []}
    rules = tuple(
        Rule(
            code=str(r["code"]),
            kind=str(r["kind"]),
            article=clean_text(str(r["article"])),
            award=str(r.get("award") or ""),
            awards=tuple(r.get("awards") or ()),
            prerequisite=tuple(r.get("prerequisite") or ()),
            years=int(r.get("years") or 1),
            consecutive=bool(r.get("consecutive")),
            same_year=bool(r.get("same_year")),
            subject=str(r.get("subject") or ""),
            base=str(r.get("base") or ""),
            percent=float(r.get("percent") or 0),
        )
        for r in raw.get("eligibility_rules") or []
    )
    return AwardCatalog(kinds=kinds, issuers=issuers, rules=rules)


@cache
def catalog() -> AwardCatalog:
    return load_catalog()


def person_key(name: str) -> str:
    return " ".join(fold(name).split())[:120]


# --- history ----------------------------------------------------------------------------------
def history(session: Session, *, unit_id: int, person: str = "") -> list[AwardRecord]:
    """Awards of a unit (person "") or of one person of it, oldest first."""
    return list(
        session.exec(
            select(AwardRecord)
            .where(AwardRecord.unit_id == unit_id, AwardRecord.person_key == person_key(person))
            .order_by(col(AwardRecord.year), col(AwardRecord.id))
        ).all()
    )


def record_award(
    session: Session,
    *,
    unit_id: int,
    year: int,
    award: str,
    now: datetime,
    person: str = "",
    decision_number: str = "",
    decision_date: date | None = None,
    issuer: str = "",
    campaign_id: int | None = None,
    source: str = "campaign",
) -> AwardRecord:
    """Add or update one award (a campaign's decided result, one row of an import)."""
    code = catalog().resolve(award) or award
    key = person_key(person)
    record = session.exec(
        select(AwardRecord).where(
            AwardRecord.unit_id == unit_id,
            AwardRecord.person_key == key,
            AwardRecord.year == year,
            AwardRecord.award == code,
        )
    ).first()
    if record is None:
        record = AwardRecord(
            unit_id=unit_id, person_key=key, year=year, award=code, award_label="", created_at=now
        )
    record.person_name = person
    record.award_label = catalog().label(code)
    record.decision_number = decision_number
    record.decision_date = decision_date
    record.issuer = issuer or catalog().issuer_label(code)
    record.campaign_id = campaign_id
    record.source = source
    session.add(record)
    session.flush()
    return record


def decision_text(record: AwardRecord) -> str:
    parts = [record.decision_number] if record.decision_number else []
    if record.decision_date:
        parts.append(f"ngày {record.decision_date:%d/%m/%Y}")
    return " ".join(parts)


# --- import -----------------------------------------------------------------------------------
COLUMNS: dict[str, tuple[str, ...]] = {
    "unit": ("madonvi", "ma", "donvi", "unit", "unitcode"),
    "person": ("hoten", "canhan", "ten", "person", "name"),
    "year": ("nam", "year"),
    "award": ("danhhieu", "hinhthuc", "khenthuong", "award", "danhhieuhinhthuc"),
    "decision": ("soquyetdinh", "quyetdinh", "so", "decision"),
    "date": ("ngayquyetdinh", "ngay", "date"),
    "issuer": ("coquan", "coquanbanhanh", "capkhen", "issuer"),
}
REQUIRED = ("unit", "year", "award")


@dataclass(slots=True)
class AwardRow:
    row: int
    unit_id: int
    person: str
    year: int
    award: str
    decision: str
    decision_date: date | None
    issuer: str


@dataclass(slots=True)
class AwardImportResult:
    errors: list[RowError] = field(default_factory=list)
    created: int = 0
    updated: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


def _header(cells: list[str]) -> dict[str, int]:
    positions: dict[str, int] = {}
    for index, cell in enumerate(cells):
        key = re.sub(r"[\s_\-.,/]", "", fold(cell))
        for column, names in COLUMNS.items():
            if key in names and column not in positions:
                positions[column] = index
    return positions


def parse_award_rows(session: Session, content: bytes) -> tuple[list[AwardRow], list[RowError]]:
    try:
        table = read_table(content)
    except TableError as exc:
        return [], [RowError(0, exc.reason, exc.params)]
    filled = [(n, cells) for n, cells in table if any(c.strip() for c in cells)]
    header_at = next(
        (i for i, (_, cells) in enumerate(filled[:10]) if set(REQUIRED) <= _header(cells).keys()),
        None,
    )
    if header_at is None:
        row = filled[0][0] if filled else 0
        return [], [RowError(row, "award_columns")]
    positions = _header(filled[header_at][1])
    data = filled[header_at + 1 :]
    if not data:
        return [], [RowError(0, "empty")]
    if len(data) > MAX_ROWS:
        return [], [RowError(0, "too_many_rows", {"max": MAX_ROWS})]
    units = {u.code: u for u in session.exec(select(Unit)).all()}
    rows: list[AwardRow] = []
    errors: list[RowError] = []
    seen: dict[tuple[int, str, int, str], int] = {}
    for number, cells in data:

        def cell(column: str, cells: list[str] = cells) -> str:
            index = positions.get(column)
            if index is None or index >= len(cells):
                return ""
            return clean_text(cells[index], multiline=False)

        problems: list[RowError] = []
        unit_code = cell("unit").upper()
        unit = units.get(unit_code)
        if not unit_code:
            problems.append(RowError(number, "award_no_unit"))
        elif unit is None:
            problems.append(RowError(number, "award_unknown_unit", {"code": unit_code}))
        year_text = cell("year")
        year = int(year_text) if year_text.isdigit() else 0
        if not MIN_YEAR <= year <= MAX_YEAR:
            problems.append(RowError(number, "award_bad_year", {"value": year_text}))
        award_text = cell("award")
        if len(award_text) < 3 or len(award_text) > 200:
            problems.append(RowError(number, "award_no_award"))
        person = cell("person")
        if len(person) > 120:
            problems.append(RowError(number, "award_name_too_long", {"max": 120}))
        decision_date: date | None = None
        if cell("date"):
            try:
                decision_date = parse_date(cell("date"))
            except ParseError:
                problems.append(RowError(number, "award_bad_date", {"value": cell("date")}))
        decision, issuer = cell("decision")[:80], cell("issuer")[:200]
        if not problems and unit is not None:
            code = catalog().resolve(award_text) or award_text
            key = (unit.id or 0, person_key(person), year, code)
            if key in seen:
                problems.append(RowError(number, "award_duplicate", {"first": seen[key]}))
            seen[key] = number
        errors += problems
        if not problems and unit is not None:
            rows.append(
                AwardRow(
                    number, unit.id or 0, person, year, award_text, decision, decision_date, issuer
                )
            )
    return rows, errors


def import_awards(session: Session, content: bytes, *, now: datetime) -> AwardImportResult:
    """Every row checked first; then all are written in the caller's transaction, or none."""
    rows, errors = parse_award_rows(session, content)
    if errors:
        return AwardImportResult(errors=errors)
    result = AwardImportResult()
    before = session.exec(select(AwardRecord.id)).all()
    for row in rows:
        record_award(
            session,
            unit_id=row.unit_id,
            person=row.person,
            year=row.year,
            award=row.award,
            decision_number=row.decision,
            decision_date=row.decision_date,
            issuer=row.issuer,
            source="import",
            now=now,
        )
    total = len(session.exec(select(AwardRecord.id)).all())
    result.created = total - len(before)
    result.updated = len(rows) - result.created
    return result


def record_import(
    session: Session, result: AwardImportResult, *, now: datetime, actor_label: str | None = None
) -> None:
    audit.record(
        session,
        now=now,
        action="award.import",
        actor_label=actor_label,
        target_type="award_record",
        outcome="ok" if result.ok else "refused",
        detail={"created": result.created, "updated": result.updated, "errors": len(result.errors)},
    )


# --- eligibility ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Violation:
    """A nomination a rule refuses: the catalog key `awards.rule.<kind>` and its params."""

    report_id: int
    nominee: str
    award: str
    rule: str
    kind: str
    article: str
    params: Mapping[str, Any]

    @property
    def nominee_key(self) -> str:
        return person_key(self.nominee)


def _held(records: Iterable[AwardRecord], codes: Sequence[str]) -> set[int]:
    return {r.year for r in records if r.award in codes}


def _has_run(years: set[int], *, length: int, ending: Sequence[int]) -> bool:
    return any(all(end - i in years for i in range(length)) for end in ending)


def check_report(
    session: Session,
    *,
    report: Report,
    unit: Unit,
    nominations: Sequence[Nomination],
    year: int,
    rules: Sequence[Rule] | None = None,
) -> list[Violation]:
    """Every rule a nomination of this report breaks (overridden ones left out)."""
    book = catalog()
    rules = book.rules if rules is None else rules
    kinds_by_name = {fold(u.name): u.kind for u in session.exec(select(Unit)).all()}
    found: list[Violation] = []

    # Nominations keep the award as the label the officer chose: back to the code here.
    codes = {id(n): book.resolve(n.award) or n.award for n in nominations}

    def refuse(nomination: Nomination, rule: Rule, **params: Any) -> None:
        found.append(
            Violation(
                report_id=report.id or 0,
                nominee=nomination.full_name,
                award=codes[id(nomination)],
                rule=rule.code,
                kind=rule.kind,
                article=rule.article,
                params={
                    "nominee": nomination.full_name,
                    "award": book.label(codes[id(nomination)]),
                    "article": rule.article,
                    **params,
                },
            )
        )

    listed: dict[str, set[str]] = {}
    for nomination in nominations:
        listed.setdefault(person_key(nomination.full_name), set()).add(codes[id(nomination)])
    for rule in rules:
        if rule.kind == "quota":
            chosen = [n for n in nominations if codes[id(n)] == rule.award]
            listed_base = {
                person_key(n.full_name) for n in nominations if codes[id(n)] == rule.base
            }
            base_people = listed_base | {
                r.person_key
                for r in session.exec(
                    select(AwardRecord).where(
                        AwardRecord.unit_id == unit.id,
                        AwardRecord.year == year,
                        AwardRecord.award == rule.base,
                        AwardRecord.person_key != "",
                    )
                ).all()
            }
            # Persons with the higher title hold the base title too (it is its condition).
            base = len(base_people | {person_key(n.full_name) for n in chosen})
            allowed = math.floor(base * rule.percent / 100)
            if len(chosen) > allowed:
                for nomination in chosen:
                    refuse(
                        nomination,
                        rule,
                        count=len(chosen),
                        allowed=allowed,
                        base=base,
                        base_award=book.label(rule.base),
                        percent=f"{rule.percent:g}",
                    )
            continue
        for nomination in nominations:
            award = codes[id(nomination)]
            if not rule.applies_to(award):
                continue
            if rule.kind == "subject" and nomination.nominee_type != rule.subject:
                refuse(nomination, rule)
            elif rule.kind == "unit_kind":
                wanted = book.kinds[award].unit_kinds if award in book.kinds else ()
                kind = kinds_by_name.get(fold(nomination.full_name))
                if wanted and kind is not None and kind not in wanted:
                    refuse(nomination, rule)
            elif rule.kind == "requires" and nomination.nominee_type == "individual":
                records = history(session, unit_id=unit.id or 0, person=nomination.full_name)
                years = _held(records, rule.prerequisite)
                if rule.same_year:
                    ok = year in years or bool(
                        listed.get(person_key(nomination.full_name), set()) & set(rule.prerequisite)
                    )
                elif rule.consecutive:
                    ok = _has_run(years, length=rule.years, ending=(year, year - 1))
                else:
                    ok = any(year - rule.years <= y <= year for y in years)
                if not ok:
                    refuse(
                        nomination,
                        rule,
                        prerequisite=", ".join(book.label(p) for p in rule.prerequisite),
                        years=rule.years,
                    )
    overridden = {
        (o.nominee_key, o.award, o.rule)
        for o in session.exec(
            select(EligibilityOverride).where(EligibilityOverride.report_id == report.id)
        ).all()
    }
    return [v for v in found if (v.nominee_key, v.award, v.rule) not in overridden]


def override(
    session: Session,
    *,
    violation: Violation,
    reason: str,
    actor: Member | None,
    now: datetime,
    actor_label: str | None = None,
) -> EligibilityOverride:
    """Let a refused nomination through, with the admin's reason (kept and audited)."""
    row = EligibilityOverride(
        report_id=violation.report_id,
        nominee_key=violation.nominee_key,
        award=violation.award,
        rule=violation.rule,
        reason=reason,
        actor_id=actor.id if actor else None,
        created_at=now,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        now=now,
        action="nomination.override",
        actor=actor,
        actor_label=actor_label,
        target_type="report",
        target_id=violation.report_id,
        outcome="ok",
        detail={
            "nominee": violation.nominee,
            "award": violation.award,
            "rule": violation.rule,
            "reason": reason,
        },
    )
    return row
