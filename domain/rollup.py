"""Roll-up of a commune's own reports into its report to the level above (tổng hợp số liệu).

A commune that accepted the province's cascading campaign (/nhandot) runs a matching campaign
for its villages: each of its deadlines names the province's deadline it answers
(`Deadline.parent_deadline_id`) and asks for the same form. When the commune's officer fills
the commune's own report to the province, its figures are the sums of the villages' — so this
module adds up the numeric answers (integer and number fields) of the villages' *accepted*
reports of the linked deadline, and lays them out as a workbook (one row per village, a total
row) the commune can check and attach.

`answer_rollup` reads one commune deadline; `rollups_of` every linked deadline of an
organiser's active campaigns (what /tonghop shows a commune's admin); `prefill_offer` answers,
for the province's deadline and the commune's unit, how many villages are accepted and the
sums its report could start from, and `prefill_values` which of them the report filler may
put in (never over an answer already given). Plain functions taking the session; nothing here renders a message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from domain.campaigns import participating_units, reports_by_unit
from domain.export import FieldLike, FormLike
from domain.xlsx import Sheet, write_workbook
from models.campaigns import Campaign, CampaignStatus, Deadline
from models.organisers import Organiser
from models.reports import ReportStatus
from models.units import Unit

NUMERIC_TYPES = ("integer", "number")


@dataclass(frozen=True, slots=True)
class FieldTotal:
    """The sum of one numeric field over the villages that answered it."""

    field_id: str
    label: str
    total: Decimal
    answered: int  # villages whose accepted report has a value

    @property
    def value(self) -> int | Decimal:
        """The total as the form would take it: a whole number for a whole sum."""
        return int(self.total) if self.total == self.total.to_integral_value() else self.total


@dataclass(slots=True)
class AnswerRollup:
    """The numeric answers of the villages' accepted reports of one commune deadline."""

    campaign: Campaign
    deadline: Deadline
    parent_deadline: Deadline | None
    units_total: int
    rows: list[tuple[Unit, dict[str, Any]]] = field(default_factory=list)
    totals: list[FieldTotal] = field(default_factory=list)

    @property
    def units_accepted(self) -> int:
        return len(self.rows)


def _number(value: object) -> Decimal | None:
    if isinstance(value, bool) or value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def numeric_fields(form: FormLike | None) -> list[FieldLike]:
    """The top-level integer and number fields of a form (what can be added up)."""
    return [f for f in (form.fields if form else ()) if f.type in NUMERIC_TYPES]


def answer_rollup(
    session: Session, *, deadline: Deadline, forms: Mapping[str, FormLike]
) -> AnswerRollup:
    """Sum the numeric answers of the accepted reports of `deadline`'s participating units."""
    campaign = session.get(Campaign, deadline.campaign_id)
    assert campaign is not None  # a foreign key
    units = participating_units(session, campaign)
    reports = reports_by_unit(session, deadline)
    fields = numeric_fields(forms.get(deadline.form_code))
    parent = (
        session.get(Deadline, deadline.parent_deadline_id) if deadline.parent_deadline_id else None
    )
    result = AnswerRollup(campaign, deadline, parent, units_total=len(units))
    for unit in units:
        report = reports.get(unit.id or 0)
        if report is not None and report.status == ReportStatus.ACCEPTED:
            result.rows.append((unit, dict(report.answers or {})))
    for spec in fields:
        values = [_number(answers.get(spec.id)) for _, answers in result.rows]
        present = [v for v in values if v is not None]
        result.totals.append(
            FieldTotal(spec.id, spec.label, sum(present, Decimal(0)), len(present))
        )
    return result


def rollups_of(
    organiser: Organiser, *, session: Session, forms: Mapping[str, FormLike]
) -> list[AnswerRollup]:
    """The roll-up of every deadline of `organiser`'s active campaigns that answers a deadline
    of the level above (its cascaded campaigns), in due order."""
    deadlines = session.exec(
        _answering(organiser.id or 0)
        .where(
            Campaign.status == CampaignStatus.ACTIVE,
            col(Deadline.parent_deadline_id).is_not(None),
        )
        .order_by(col(Deadline.due_at), col(Deadline.id))
    ).all()
    return [answer_rollup(session, deadline=d, forms=forms) for d in deadlines]


def _answering(organiser_id: int) -> SelectOfScalar[Deadline]:
    """The deadlines of the organiser's campaigns."""
    return (
        select(Deadline)
        .join(Campaign, col(Campaign.id) == col(Deadline.campaign_id))
        .where(Campaign.organiser_id == organiser_id)
    )


@dataclass(frozen=True, slots=True)
class PrefillOffer:
    """What the report filler can offer a commune's officer for its report upward: how many
    of its villages' reports of the linked deadline are accepted (`accepted` of `total`) and
    the sums of their numeric answers, by field id (only fields some accepted report answered)."""

    deadline: Deadline  # the commune's own deadline that answers the province's
    accepted: int
    total: int
    sums: dict[str, int | Decimal]

    @property
    def missing(self) -> int:
        """Villages whose report is not accepted yet (not sent, waiting, returned)."""
        return self.total - self.accepted


def prefill_offer(
    session: Session, *, parent_deadline: Deadline, unit: Unit, forms: Mapping[str, FormLike]
) -> PrefillOffer | None:
    """For the report `unit` owes on `parent_deadline` (a commune's report to the province):
    its own villages' accepted answers added up — None when the unit organises no campaign
    with a deadline answering that one (the latest such deadline when there are several)."""
    organiser = session.exec(select(Organiser).where(Organiser.unit_id == unit.id)).first()
    if organiser is None:
        return None
    own = session.exec(
        _answering(organiser.id or 0)
        .where(Deadline.parent_deadline_id == parent_deadline.id)
        .order_by(col(Deadline.id).desc())
    ).first()
    if own is None:
        return None
    found = answer_rollup(session, deadline=own, forms=forms)
    sums = {t.field_id: t.value for t in found.totals if t.answered}
    return PrefillOffer(own, found.units_accepted, found.units_total, sums)


def prefill_for(
    session: Session, *, parent_deadline: Deadline, unit: Unit, forms: Mapping[str, FormLike]
) -> dict[str, int | Decimal]:
    """The sums of `prefill_offer` alone: {} when the unit organises no matching campaign or
    none of its villages' reports is accepted yet."""
    offer = prefill_offer(session, parent_deadline=parent_deadline, unit=unit, forms=forms)
    return dict(offer.sums) if offer is not None else {}


def prefill_values(
    offer: PrefillOffer, *, form: FormLike, answers: Mapping[str, Any]
) -> dict[str, int | str]:
    """The answers the offer would put in `form`: its numeric questions that have a sum and no
    answer yet (an answer already given is never overwritten), each stored as the form stores
    a typed answer (an integer field a whole number; a number field its decimal text). A sum
    an integer field cannot hold (a fraction) is left for the officer to type."""
    values: dict[str, int | str] = {}
    for spec in numeric_fields(form):
        total = offer.sums.get(spec.id)
        if total is None or answers.get(spec.id) is not None:
            continue
        if spec.type == "integer":
            if total == int(total):
                values[spec.id] = int(total)
        else:
            values[spec.id] = str(total)
    return values


@dataclass(frozen=True, slots=True)
class RollupTexts:
    """Words of the workbook, from the catalog."""

    sheet: str
    caption: str  # "{campaign} — {title}"
    unit_header: str
    code_header: str
    total_row: str


def rollup_workbook(rollup: AnswerRollup, *, texts: RollupTexts) -> bytes:
    """One row per village with an accepted report, its numeric answers, and the total row."""
    ids = [t.field_id for t in rollup.totals]
    sheet = Sheet(
        texts.sheet,
        [texts.code_header, texts.unit_header, *(t.label for t in rollup.totals)],
        widths=[12, 32, *([18] * len(ids))],
        frozen_columns=2,
        caption=texts.caption.format(campaign=rollup.campaign.name, title=rollup.deadline.title),
    )
    for unit, answers in rollup.rows:
        sheet.append([unit.code, unit.name, *(_number(answers.get(i)) for i in ids)])
    sheet.append(["", texts.total_row, *(t.value for t in rollup.totals)])
    return write_workbook([sheet], date_format="dd/mm/yyyy", datetime_format="dd/mm/yyyy hh:mm")
