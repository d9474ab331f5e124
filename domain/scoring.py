"""Bloc scoring (chấm điểm thi đua theo khối): scoring tables from refdata/scoring/*.yaml
attached to a campaign per bloc, units' self-assessment bounded by each criterion's maximum,
the review that adjusts a line with a reason the unit sees, the ranking per bloc with the
table's tie-break rule, and the titles proposed for the top units.

Points are kept in hundredths (integers): sums and ties are exact. Plain functions taking
`session` keyword-only; nothing here sends a message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from domain import audit
from domain.yamlfile import load_yaml
from models.campaigns import Campaign, CampaignStatus
from models.council import ScoreCard, ScoreCardStatus, ScoreLine, ScoringSheet
from models.units import Member, Unit

SCORING_DIR = Path(__file__).resolve().parent.parent / "refdata" / "scoring"
KINDS = ("criterion", "bonus", "penalty")
SUBMITTED_AT = "submitted_at"


class ScoringError(Exception):
    def __init__(self, reason: str, **params: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.params = params


# --- tables -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Criterion:
    code: str
    label: str
    max_centi: int
    kind: str = "criterion"
    evidence: str = ""

    @property
    def sign(self) -> int:
        return -1 if self.kind == "penalty" else 1


@dataclass(frozen=True, slots=True)
class Proposal:
    rank: int
    award: str


@dataclass(frozen=True, slots=True)
class ScoringTable:
    code: str
    title: str
    criteria: tuple[Criterion, ...]
    tie_break: tuple[str, ...] = ()
    proposals: tuple[Proposal, ...] = ()

    def criterion(self, code: str) -> Criterion | None:
        return next((c for c in self.criteria if c.code == code), None)


_POINTS = re.compile(r"^-?\d{1,6}(?:[.,]\d{1,2})?$")


def to_centi(value: object) -> int:
    """Points as hundredths; ValueError for anything but a plain number with ≤ 2 decimals
    (no exponent, no NaN: `1e3` typed by mistake must not become a thousand points)."""
    text = str(value).strip()
    if not _POINTS.match(text):
        raise ValueError(text)
    return int(Decimal(text.replace(",", ".")) * 100)


def centi_text(centi: int) -> str:
    """12.5 shown the Vietnamese way: 12,5."""
    sign = "-" if centi < 0 else ""
    whole, part = divmod(abs(centi), 100)
    return f"{sign}{whole}" + (f",{part:02d}".rstrip("0") if part else "")


def parse_table(data: dict[str, Any], *, where: str = "scoring") -> ScoringTable:
    criteria = []
    for raw in data.get("criteria") or ():
        kind = str(raw.get("kind", "criterion"))
        if kind not in KINDS:
            raise ValueError(f"{where}: kind {kind}")
        maximum = to_centi(raw["max"])
        if maximum <= 0:
            raise ValueError(f"{where}: max of {raw['code']} must be > 0")
        criteria.append(
            Criterion(
                code=str(raw["code"]),
                label=str(raw["label"]),
                max_centi=maximum,
                kind=kind,
                evidence=str(raw.get("evidence") or ""),
            )
        )
    codes = [c.code for c in criteria]
    if not criteria or len(set(codes)) != len(codes):
        raise ValueError(f"{where}: criteria missing or codes repeated")
    tie_break = tuple(str(t) for t in data.get("tie_break") or ())
    for key in tie_break:
        if key != SUBMITTED_AT and key not in codes:
            raise ValueError(f"{where}: tie_break {key} is not a criterion")
    proposals = tuple(
        Proposal(int(p["rank"]), str(p["award"])) for p in data.get("proposals") or ()
    )
    return ScoringTable(
        code=str(data["code"]),
        title=str(data.get("title", data["code"])),
        criteria=tuple(criteria),
        tie_break=tie_break,
        proposals=proposals,
    )


@cache
def load_tables(directory: Path | None = None) -> dict[str, tuple[ScoringTable, dict[str, Any]]]:
    """Code → (table, raw data) for every refdata/scoring/*.yaml."""
    found: dict[str, tuple[ScoringTable, dict[str, Any]]] = {}
    for path in sorted((directory or SCORING_DIR).glob("*.yaml")):
        data = load_yaml(path.read_text(encoding="utf-8")) or {}
        table = parse_table(data, where=str(path))
        found[table.code] = (table, data)
    return found


def table_of(sheet: ScoringSheet) -> ScoringTable:
    return parse_table(sheet.table, where=f"sheet {sheet.id}")


# --- sheets -----------------------------------------------------------------------------------
def attach_table(
    session: Session,
    *,
    campaign: Campaign,
    bloc: str,
    table_code: str,
    actor: Member,
    now: datetime,
) -> ScoringSheet:
    tables = load_tables()
    if table_code not in tables:
        raise ScoringError("unknown_table")
    existing = sheet_for(session, campaign_id=campaign.id or 0, bloc=bloc)
    if existing is not None:
        raise ScoringError("sheet_exists")
    sheet = ScoringSheet(
        campaign_id=campaign.id,  # type: ignore[arg-type]  # a stored row: its id is set
        bloc=bloc,
        table_code=table_code,
        table=tables[table_code][1],
        created_at=now,
        created_by_id=actor.id,
    )
    session.add(sheet)
    session.flush()
    audit.record(
        session,
        now=now,
        action="scoring.attach",
        actor=actor,
        target_type="scoring_sheet",
        target_id=sheet.id,
        detail={"campaign": campaign.id, "bloc": bloc, "table": table_code},
    )
    return sheet


def sheet_for(session: Session, *, campaign_id: int, bloc: str) -> ScoringSheet | None:
    return session.exec(
        select(ScoringSheet).where(
            ScoringSheet.campaign_id == campaign_id, ScoringSheet.bloc == bloc
        )
    ).first()


def sheets_of(session: Session, *, campaign_id: int) -> list[ScoringSheet]:
    return list(
        session.exec(
            select(ScoringSheet)
            .where(ScoringSheet.campaign_id == campaign_id)
            .order_by(col(ScoringSheet.bloc))
        ).all()
    )


def active_sheets(
    session: Session, *, organiser_ids: Iterable[int]
) -> list[tuple[ScoringSheet, Campaign]]:
    """Sheets of these organisers' campaigns under way, with their campaign."""
    rows = session.exec(
        select(ScoringSheet, Campaign)
        .join(Campaign, col(Campaign.id) == ScoringSheet.campaign_id)
        .where(
            Campaign.status == CampaignStatus.ACTIVE,
            col(Campaign.organiser_id).in_(list(organiser_ids)),
        )
        .order_by(col(Campaign.id), col(ScoringSheet.bloc))
    ).all()
    return [(sheet, campaign) for sheet, campaign in rows]


def existing_card(session: Session, *, sheet_id: int, unit_id: int) -> ScoreCard | None:
    return session.exec(
        select(ScoreCard).where(ScoreCard.sheet_id == sheet_id, ScoreCard.unit_id == unit_id)
    ).first()


# --- cards ------------------------------------------------------------------------------------
def card_for(session: Session, *, sheet: ScoringSheet, unit: Unit, now: datetime) -> ScoreCard:
    card = session.exec(
        select(ScoreCard).where(ScoreCard.sheet_id == sheet.id, ScoreCard.unit_id == unit.id)
    ).first()
    if card is None:
        if unit.bloc != sheet.bloc:
            raise ScoringError("not_in_bloc")
        card = ScoreCard(sheet_id=sheet.id, unit_id=unit.id, updated_at=now)  # type: ignore[arg-type]  # a stored row: its id is set
        session.add(card)
        session.flush()
    return card


def lines_of(session: Session, *, card: ScoreCard) -> dict[str, ScoreLine]:
    return {
        line.criterion: line
        for line in session.exec(select(ScoreLine).where(ScoreLine.card_id == card.id)).all()
    }


def checked_points(sheet: ScoringSheet, criterion: str, points: object) -> int:
    """`points` for `criterion` of the sheet, in hundredths: a number from 0 to the
    criterion's maximum, else a `ScoringError` saying which."""
    spec = table_of(sheet).criterion(criterion)
    if spec is None:
        raise ScoringError("unknown_criterion")
    try:
        centi = to_centi(points)
    except ValueError:
        raise ScoringError("not_a_number", max=centi_text(spec.max_centi)) from None
    if not 0 <= centi <= spec.max_centi:
        raise ScoringError("out_of_bounds", max=centi_text(spec.max_centi))
    return centi


def set_self_score(
    session: Session,
    *,
    sheet: ScoringSheet,
    card: ScoreCard,
    criterion: str,
    points: object,
    now: datetime,
) -> ScoreLine:
    """The unit's own points for a criterion: a number from 0 to the criterion's maximum."""
    centi = checked_points(sheet, criterion, points)
    line = lines_of(session, card=card).get(criterion)
    if line is None:
        line = ScoreLine(card_id=card.id, criterion=criterion, self_centi=centi)  # type: ignore[arg-type]  # a stored row: its id is set
    elif line.self_centi != centi:
        line.self_centi = centi
        # A changed score leaves the ranking until the unit submits the card again.
        card.status = ScoreCardStatus.DRAFT
    session.add(line)
    card.updated_at = now
    session.add(card)
    session.flush()
    return line


def add_evidence(
    session: Session, *, card: ScoreCard, criterion: str, attachment_id: int
) -> ScoreLine:
    line = lines_of(session, card=card).get(criterion)
    if line is None:
        line = ScoreLine(card_id=card.id, criterion=criterion, self_centi=0)  # type: ignore[arg-type]  # a stored row: its id is set
    line.evidence = [*(line.evidence or []), attachment_id]
    session.add(line)
    session.flush()
    return line


def submit_card(
    session: Session, *, sheet: ScoringSheet, card: ScoreCard, by: Member, now: datetime
) -> None:
    lines = lines_of(session, card=card)
    missing = [
        c.label for c in table_of(sheet).criteria if c.kind == "criterion" and c.code not in lines
    ]
    if missing:
        raise ScoringError("incomplete", missing=", ".join(missing))
    card.status = ScoreCardStatus.SUBMITTED
    card.submitted_at = now
    card.submitted_by_id = by.id
    card.updated_at = now
    session.add(card)
    audit.record(
        session,
        now=now,
        action="scoring.submit",
        actor=by,
        target_type="score_card",
        target_id=card.id,
        detail={"total": card_total(session, sheet=sheet, card=card)},
    )


def adjust_line(
    session: Session,
    *,
    sheet: ScoringSheet,
    card: ScoreCard,
    criterion: str,
    points: object,
    reason: str,
    actor: Member,
    now: datetime,
) -> ScoreLine:
    """The reviewed points for a line, with the reason the unit will read."""
    centi = checked_points(sheet, criterion, points)
    reason = " ".join(reason.split())[:1000]
    if len(reason) < 3:
        raise ScoringError("reason_needed")
    line = lines_of(session, card=card).get(criterion)
    if line is None:
        line = ScoreLine(card_id=card.id, criterion=criterion, self_centi=0)  # type: ignore[arg-type]  # a stored row: its id is set
    before = line.adjusted_centi if line.adjusted_centi is not None else line.self_centi
    line.adjusted_centi = centi
    line.adjust_reason = reason
    line.adjusted_by_id = actor.id
    line.adjusted_at = now
    session.add(line)
    session.flush()
    audit.record(
        session,
        now=now,
        action="scoring.adjust",
        actor=actor,
        target_type="score_card",
        target_id=card.id,
        detail={"criterion": criterion, "from": before, "to": centi, "reason": reason},
    )
    return line


def line_points(line: ScoreLine) -> int:
    return line.adjusted_centi if line.adjusted_centi is not None else line.self_centi


def card_total(session: Session, *, sheet: ScoringSheet, card: ScoreCard) -> int:
    table = table_of(sheet)
    total = 0
    for code, line in lines_of(session, card=card).items():
        spec = table.criterion(code)
        if spec is not None:
            total += spec.sign * line_points(line)
    return total


# --- ranking ----------------------------------------------------------------------------------
@dataclass(slots=True)
class Ranked:
    rank: int
    unit: Unit
    card: ScoreCard
    total: int
    points: dict[str, int] = field(default_factory=dict)
    proposed: str | None = None  # award code
    tied: bool = False  # equal total with a neighbour, ordered by the tie-break rule


def ranking(session: Session, *, sheet: ScoringSheet) -> list[Ranked]:
    """Submitted cards of the sheet's bloc, best first. Equal totals are ordered by the table's
    `tie_break` (criteria compared in turn, then the earlier submission); rows still equal after
    it share a rank. Proposals go to the ranks the table names."""
    table = table_of(sheet)
    rows: list[Ranked] = []
    for card, unit in session.exec(
        select(ScoreCard, Unit)
        .join(Unit, col(Unit.id) == ScoreCard.unit_id)
        .where(ScoreCard.sheet_id == sheet.id, ScoreCard.status == ScoreCardStatus.SUBMITTED)
    ).all():
        lines = lines_of(session, card=card)
        rows.append(
            Ranked(
                rank=0,
                unit=unit,
                card=card,
                total=card_total(session, sheet=sheet, card=card),
                points={code: line_points(line) for code, line in lines.items()},
            )
        )

    def key(row: Ranked) -> tuple[Any, ...]:
        parts: list[Any] = [-row.total]
        for rule in table.tie_break:
            if rule == SUBMITTED_AT:
                parts.append(row.card.submitted_at.timestamp() if row.card.submitted_at else 0)
            else:
                parts.append(-row.points.get(rule, 0))
        return tuple(parts)

    rows.sort(key=lambda r: (*key(r), r.unit.code))
    previous: tuple[Any, ...] | None = None
    for index, row in enumerate(rows, start=1):
        current = key(row)
        row.rank = rows[index - 2].rank if previous == current else index
        row.tied = any(other is not row and other.total == row.total for other in rows)
        previous = current
    by_rank = {p.rank: p.award for p in table.proposals}
    for row in rows:
        # A proposal goes only to a rank held by one unit: a shared rank is the council's call.
        if sum(1 for r in rows if r.rank == row.rank) == 1:
            row.proposed = by_rank.get(row.rank)
    return rows


def campaign_rankings(
    session: Session, *, campaign: Campaign
) -> list[tuple[ScoringSheet, list[Ranked]]]:
    return [
        (s, ranking(session, sheet=s)) for s in sheets_of(session, campaign_id=campaign.id or 0)
    ]


def adjustments_of(session: Session, *, campaign: Campaign) -> list[list[Any]]:
    """Every reviewed line of the campaign's submitted cards: [bloc, unit code, unit, criterion,
    points claimed, points after review, reason], bloc by bloc, in ranking order."""
    rows: list[list[Any]] = []
    for sheet, ranked in campaign_rankings(session, campaign=campaign):
        table = table_of(sheet)
        for row in ranked:
            for code, line in lines_of(session, card=row.card).items():
                if line.adjusted_centi is None:
                    continue
                spec = table.criterion(code)
                rows.append(
                    [
                        sheet.bloc,
                        row.unit.code,
                        row.unit.name,
                        spec.label if spec else code,
                        centi_text(line.self_centi),
                        centi_text(line.adjusted_centi),
                        line.adjust_reason or "",
                    ]
                )
    return rows
