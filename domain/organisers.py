"""Organisers (cơ quan tổ chức): the default one, adding and importing them, their admins, the
province's read-only roll-up of its communes' campaigns, and cascading campaigns.

A province (Sở Nội vụ) organises campaigns for its communes; each commune is a unit of the
province and, as an organiser linked to that unit, runs campaigns for its own villages. An
import (CSV or XLSX: ma, ten, cap, dia_danh, noi_ky, ma_don_vi) is checked row by row and
writes nothing if any row is wrong, like the unit import (`domain.units`). A cascading province
campaign asks every participating commune to run a matching campaign: the commune's admin
accepts it (`accept_cascade`), with deadlines that fall no later than the province's.

Must not render messages, send anything or commit; times come in as arguments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from domain import audit
from domain.campaigns import (
    DeadlineProgress,
    add_deadline,
    create_campaign,
    deadline_progress,
    deadlines_of,
    takes_part,
)
from domain.documents import Office
from domain.text import clean_text
from domain.units import (
    CODE_MAX,
    NAME_MAX,
    RowError,
    code_problem,
    filled_rows,
    header_key,
    normalise_code,
    read_sheet,
)
from models.campaigns import Campaign, CampaignStatus
from models.organisers import (
    DEFAULT_ORGANISER_ID,
    DEFAULT_ORGANISER_NAME,
    Organiser,
    OrganiserLevel,
    OrganiserMember,
    OrganiserRole,
)
from models.units import AdminSource, Member, MemberStatus, Role, Unit

PLACE_MAX = 200
SIGNING_PLACE_MAX = 100
MAX_ROWS = 2000
LEVELS = (OrganiserLevel.PROVINCE, OrganiserLevel.COMMUNE, OrganiserLevel.OTHER)
# How the level may be written in a file: "tỉnh", "Xã", "phường", "đặc khu"… (the commune
# level since 1/7/2025 is xã, phường, đặc khu: Luật số 72/2025/QH15, Điều 2).
_LEVEL_WORDS = {
    "tinh": OrganiserLevel.PROVINCE,
    "thanhpho": OrganiserLevel.PROVINCE,
    "province": OrganiserLevel.PROVINCE,
    "xa": OrganiserLevel.COMMUNE,
    "phuong": OrganiserLevel.COMMUNE,
    "dackhu": OrganiserLevel.COMMUNE,
    "commune": OrganiserLevel.COMMUNE,
    "khac": OrganiserLevel.OTHER,
    "coquan": OrganiserLevel.OTHER,
    "other": OrganiserLevel.OTHER,
}
COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("ma", "macoquan", "code"),
    "name": ("ten", "tencoquan", "name"),
    "level": ("cap", "level"),
    "place": ("diadanh", "dia_danh", "place"),
    "signing_place": ("noiky", "diadiemky", "signingplace"),
    "unit": ("madonvi", "donvi", "unit"),
}
REQUIRED_COLUMNS = ("code", "name", "level")
# Commune deadlines default to this long before the province's: the commune needs the time
# to gather its villages' reports into its own.
CASCADE_LEAD = timedelta(days=3)


class OrganiserError(ValueError):
    """A refused organiser action; `reason` is a catalog key suffix."""

    def __init__(self, reason: str, **params: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.params = params


# --- reading ----------------------------------------------------------------------------------
def default_organiser(*, session: Session) -> Organiser:
    found = session.get(Organiser, DEFAULT_ORGANISER_ID)
    assert found is not None  # made by the migration
    return found


def find_by_code(code: str, *, session: Session) -> Organiser | None:
    return session.exec(select(Organiser).where(Organiser.code == normalise_code(code))).first()


def children(organiser_id: int, *, session: Session) -> list[Organiser]:
    return list(
        session.exec(
            select(Organiser)
            .where(Organiser.parent_id == organiser_id, Organiser.active == True)  # noqa: E712
            .order_by(Organiser.code)
        ).all()
    )


def descendants(organiser_id: int, *, session: Session) -> list[Organiser]:
    """Children, their children…, breadth first (two levels today; a loop cannot be made)."""
    found: list[Organiser] = []
    frontier = [organiser_id]
    seen = {organiser_id}
    while frontier:
        rows = session.exec(
            select(Organiser).where(
                col(Organiser.parent_id).in_(frontier),
                Organiser.active == True,  # noqa: E712
            )
        ).all()
        frontier = [o.id for o in rows if o.id not in seen]  # type: ignore[misc]  # a stored row: its id is set
        seen.update(frontier)
        found += [o for o in rows if o.id in frontier]
    return found


def is_under(organiser: Organiser, ancestor_id: int, *, session: Session) -> bool:
    """Whether `organiser` is `ancestor_id` or below it (its admins may manage it)."""
    current: Organiser | None = organiser
    seen: set[int] = set()
    while current is not None and current.id not in seen:
        if current.id == ancestor_id:
            return True
        seen.add(current.id)  # type: ignore[arg-type]  # a stored row: its id is set
        current = session.get(Organiser, current.parent_id) if current.parent_id else None
    return False


def administered(member: Member, *, session: Session) -> list[Organiser]:
    from domain.scope import admin_organiser_ids

    ids = admin_organiser_ids(member, session=session)
    return [o for o in (session.get(Organiser, i) for i in ids) if o is not None]


# --- admins -----------------------------------------------------------------------------------
def grant_admin(
    member: Member,
    organiser: Organiser,
    *,
    by: Member | None,
    now: datetime,
    session: Session,
    action: str = "organiser.grant_admin",
) -> bool:
    """Make an approved member an admin of `organiser`; False if they already are."""
    if member.status != MemberStatus.APPROVED:
        raise OrganiserError("not_approved")
    existing = session.exec(
        select(OrganiserMember).where(
            OrganiserMember.member_id == member.id,
            OrganiserMember.organiser_id == organiser.id,
            OrganiserMember.role == OrganiserRole.ADMIN,
        )
    ).first()
    if existing is not None:
        return False
    session.add(
        OrganiserMember(
            member_id=member.id,  # type: ignore[arg-type]  # a stored row: its id is set
            organiser_id=organiser.id,  # type: ignore[arg-type]  # a stored row: its id is set
            role=OrganiserRole.ADMIN,
            created_at=now,
            granted_by_id=by.id if by else None,
        )
    )
    # Member.role says "an admin of some organiser": the access check reads it without a
    # query; which organisers is always asked of organiser_member (domain.scope).
    member.role = Role.ADMIN
    if member.admin_source is None:
        # Granted in the chat (/capquyen, /coquan quantri, an import run by an admin): lasts
        # until revoked, whatever ADMIN_IDS says (domain.members).
        member.admin_source = AdminSource.CHAT
    member.updated_at = now
    session.add(member)
    session.flush()
    audit.record(
        session,
        now=now,
        action=action,
        actor=by,
        target_type="member",
        target_id=member.id,
        organiser_id=organiser.id,
    )
    return True


def revoke_admin(
    member: Member, organiser: Organiser, *, by: Member | None, now: datetime, session: Session
) -> bool:
    """`member` is no longer an admin of `organiser`; False if they were not. Without any
    organiser left they are an officer again (of their unit, if they have one)."""
    from domain.scope import admin_organiser_ids

    row = session.exec(
        select(OrganiserMember).where(
            OrganiserMember.member_id == member.id,
            OrganiserMember.organiser_id == organiser.id,
            OrganiserMember.role == OrganiserRole.ADMIN,
        )
    ).first()
    if row is None:
        return False
    session.delete(row)
    session.flush()
    if member.acting_organiser_id == organiser.id:
        member.acting_organiser_id = None
    if not admin_organiser_ids(member, session=session):
        member.role = Role.OFFICER
    member.updated_at = now
    session.add(member)
    audit.record(
        session,
        now=now,
        action="organiser.revoke_admin",
        actor=by,
        target_type="member",
        target_id=member.id,
        organiser_id=organiser.id,
    )
    return True


def ensure_default_admin(member: Member, *, now: datetime, session: Session) -> None:
    """An admin named in ADMIN_IDS administers the default (top) organiser."""
    exists = session.exec(
        select(OrganiserMember.id).where(
            OrganiserMember.member_id == member.id,
            OrganiserMember.organiser_id == DEFAULT_ORGANISER_ID,
            OrganiserMember.role == OrganiserRole.ADMIN,
        )
    ).first()
    if exists is None:
        session.add(
            OrganiserMember(
                member_id=member.id,  # type: ignore[arg-type]  # a stored row: its id is set
                organiser_id=DEFAULT_ORGANISER_ID,
                role=OrganiserRole.ADMIN,
                created_at=now,
            )
        )


def set_acting(member: Member, organiser_id: int, *, session: Session) -> bool:
    """Act as admin of `organiser_id` from now on; False if they do not administer it."""
    from domain.scope import admin_organiser_ids

    if organiser_id not in admin_organiser_ids(member, session=session):
        return False
    member.acting_organiser_id = organiser_id
    session.add(member)
    return True


# --- the organiser on its documents -------------------------------------------------------------
# Levels whose council's tờ trình goes to the chairman of their own people's committee.
_COMMITTEE_LEVELS = (OrganiserLevel.PROVINCE, OrganiserLevel.COMMUNE)


def office_of(organiser: Organiser, *, deployment: Office, recipient_of: str = "") -> Office:
    """Who issues `organiser`'s documents (biên bản, tờ trình, danh sách): its name, level and
    signing place, and — for a province or a commune with a place — the chairman of its own
    people's committee as the tờ trình's addressee (`recipient_of`, a catalog wording with
    `{place}`, e.g. "Chủ tịch Ủy ban nhân dân {place}").

    `deployment` is the office of the settings (ORGANISER_NAME, ORGANISER_PARENT,
    SIGNING_PLACE, DOSSIER_RECIPIENT): a single-office deployment that never named its default
    organiser keeps printing them, and the default organiser takes from them whatever its
    row leaves blank. Another organiser has no body above it on its letterhead."""
    default = organiser.id == DEFAULT_ORGANISER_ID
    if default:
        named = organiser.name.strip() not in ("", DEFAULT_ORGANISER_NAME)
        return Office(
            name=organiser.name.strip() if named else deployment.name,
            parent=deployment.parent,
            place=organiser.signing_place.strip() or deployment.place,
            recipient=deployment.recipient,
            level=organiser.level,
        )
    place = organiser.place.strip()
    own_committee = organiser.level in _COMMITTEE_LEVELS and place and recipient_of
    return Office(
        name=organiser.name.strip(),
        parent="",
        place=organiser.signing_place.strip(),
        recipient=recipient_of.format(place=place) if own_committee else deployment.recipient,
        level=organiser.level,
    )


def office_words(session: Session, *, organiser_id: int) -> dict[str, str]:
    """The `{organiser}` of a chat text about a campaign of `organiser_id` (a reminder, a
    receipt, a return notice): the office's own name, as its documents print it (`office_of`);
    {} for the default organiser left unnamed, so the catalog's default — the settings'
    ORGANISER_NAME — applies."""
    organiser = session.get(Organiser, organiser_id)
    if organiser is None:
        return {}
    name = organiser.name.strip()
    if organiser.id == DEFAULT_ORGANISER_ID and name in ("", DEFAULT_ORGANISER_NAME):
        return {}
    return {"organiser": name}


# --- adding and importing -----------------------------------------------------------------------
@dataclass(slots=True)
class OrganiserRow:
    row: int
    code: str
    name: str
    level: str
    place: str
    signing_place: str
    unit_code: str | None


@dataclass(slots=True)
class OrganiserImport:
    errors: list[RowError] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def resolve_level(text: str) -> str | None:
    return _LEVEL_WORDS.get(header_key(text))


def parse_rows(content: bytes) -> tuple[list[OrganiserRow], list[RowError]]:
    filled, problems = filled_rows(content)
    if not filled:
        return [], problems
    header = filled[0][1]
    positions: dict[str, int] = {}
    for index, title in enumerate(header):
        for column, names in COLUMNS.items():
            if header_key(title) in {header_key(n) for n in names} and column not in positions:
                positions[column] = index
    sheet, problems = read_sheet(
        filled,
        header_at=0,
        positions=positions,
        missing_titles=lambda found: [COLUMNS[c][0] for c in REQUIRED_COLUMNS if c not in found],
        max_rows=MAX_ROWS,
    )
    if sheet is None:
        return [], problems
    cell, data = sheet.cell, sheet.rows

    rows: list[OrganiserRow] = []
    errors: list[RowError] = []
    first_row_of: dict[str, int] = {}
    for number, cells in data:
        values = {column: cell(cells, column) for column in COLUMNS}
        row, found = check_row(number, values)
        code = normalise_code(values["code"])
        if row is not None and code in first_row_of:
            row = None
            found.append(
                RowError(number, "duplicate_code", {"code": code, "first": first_row_of[code]})
            )
        first_row_of.setdefault(code, number)
        errors += found
        if row is not None:
            rows.append(row)
    return rows, errors


def check_row(number: int, values: dict[str, str]) -> tuple[OrganiserRow | None, list[RowError]]:
    """One organiser as typed (a file's row, or /coquan them): the row, or what is wrong."""
    found: list[RowError] = []
    code_text = values.get("code", "")
    code = normalise_code(code_text)
    problem = code_problem(code)
    if problem is not None:
        found.append(RowError(number, problem, {"code": code_text, "max": CODE_MAX}))
    name = values.get("name", "")
    if not name:
        found.append(RowError(number, "empty_name"))
    elif len(name) > NAME_MAX:
        found.append(RowError(number, "name_too_long", {"max": NAME_MAX}))
    level_text = values.get("level", "")
    level = resolve_level(level_text)
    if level is None:
        found.append(RowError(number, "unknown_level", {"level": level_text}))
    place, signing = values.get("place", ""), values.get("signing_place", "")
    if len(place) > PLACE_MAX or len(signing) > SIGNING_PLACE_MAX:
        found.append(RowError(number, "place_too_long", {"max": SIGNING_PLACE_MAX}))
    if found or level is None:
        return None, found
    unit_text = values.get("unit", "")
    unit_code = normalise_code(unit_text) if unit_text else None
    return OrganiserRow(number, code, name, level, place, signing, unit_code), []


def import_organisers(
    content: bytes, *, parent: Organiser, by: Member | None, now: datetime, session: Session
) -> OrganiserImport:
    """Create or update organisers under `parent` by code — every row, or none.

    `ma_don_vi` names the parent's unit each organiser is (a commune in the province's
    campaigns); a unit of another organiser, or one already linked elsewhere, is refused.
    """
    return apply_rows(*parse_rows(content), parent=parent, by=by, now=now, session=session)


def apply_rows(
    rows: list[OrganiserRow],
    errors: list[RowError],
    *,
    parent: Organiser,
    by: Member | None,
    now: datetime,
    session: Session,
) -> OrganiserImport:
    """The writing half of `import_organisers`, for rows parsed off the event loop."""
    result = OrganiserImport(errors=list(errors))
    if errors:
        return result
    units: dict[str, Unit] = {}
    wanted = [r.unit_code for r in rows if r.unit_code]
    if wanted:
        units = {
            u.code: u
            for u in session.exec(
                select(Unit).where(Unit.organiser_id == parent.id, col(Unit.code).in_(wanted))
            ).all()
        }
    existing = {
        o.code: o
        for o in session.exec(
            select(Organiser).where(col(Organiser.code).in_([r.code for r in rows]))
        ).all()
    }
    linked = {
        o.unit_id: o.code
        for o in session.exec(select(Organiser).where(col(Organiser.unit_id).is_not(None))).all()
    }
    for row in rows:
        current = existing.get(row.code)
        if current is not None and current.parent_id != parent.id:
            result.errors.append(RowError(row.row, "code_taken", {"code": row.code}))
        if row.unit_code is None:
            continue
        unit = units.get(row.unit_code)
        if unit is None:
            result.errors.append(RowError(row.row, "unknown_unit", {"code": row.unit_code}))
        elif unit.id in linked and linked[unit.id] != row.code:
            result.errors.append(
                RowError(row.row, "unit_linked", {"code": row.unit_code, "other": linked[unit.id]})
            )
        else:
            linked[unit.id] = row.code
    if result.errors:
        return result
    for row in rows:
        unit_id = units[row.unit_code].id if row.unit_code else None
        current = existing.get(row.code)
        if current is None:
            session.add(
                Organiser(
                    code=row.code,
                    name=row.name,
                    level=row.level,
                    place=row.place,
                    signing_place=row.signing_place,
                    parent_id=parent.id,
                    unit_id=unit_id,
                    created_at=now,
                )
            )
            result.created.append(row.code)
        else:
            current.name, current.level = row.name, row.level
            current.place, current.signing_place = row.place, row.signing_place
            if unit_id is not None:
                current.unit_id = unit_id
            session.add(current)
            result.updated.append(row.code)
    session.flush()
    audit.record(
        session,
        now=now,
        action="organiser.import",
        actor=by,
        target_type="organiser",
        organiser_id=parent.id,
        detail={"created": len(result.created), "updated": len(result.updated)},
    )
    return result


def add_organiser(
    *,
    code: str,
    name: str,
    level: str,
    parent: Organiser,
    unit: Unit | None = None,
    place: str = "",
    signing_place: str = "",
    by: Member | None,
    now: datetime,
    session: Session,
) -> Organiser:
    """One organiser under `parent`, checked as one row of an import."""
    values = {
        "code": clean_text(code, multiline=False),
        "name": clean_text(name, multiline=False),
        "level": level,
        "place": clean_text(place, multiline=False),
        "signing_place": clean_text(signing_place, multiline=False),
        "unit": unit.code if unit is not None else "",
    }
    row, errors = check_row(1, values)
    rows = [row] if row is not None else []
    result = apply_rows(rows, errors, parent=parent, by=by, now=now, session=session)
    if not result.ok:
        error = result.errors[0]
        raise OrganiserError(error.reason, **error.params)
    created = find_by_code(code, session=session)
    assert created is not None
    return created


def update_organiser(
    organiser: Organiser,
    *,
    name: str,
    level: str,
    place: str = "",
    signing_place: str = "",
    by: Member | None,
    now: datetime,
    session: Session,
) -> None:
    """Rename an organiser and set its level, place and signing place (checked as a row)."""
    values = {
        "code": organiser.code,
        "name": clean_text(name, multiline=False),
        "level": level,
        "place": clean_text(place, multiline=False),
        "signing_place": clean_text(signing_place, multiline=False),
    }
    row, errors = check_row(1, values)
    if row is None:
        raise OrganiserError(errors[0].reason, **errors[0].params)
    organiser.name, organiser.level = row.name, row.level
    organiser.place, organiser.signing_place = row.place, row.signing_place
    session.add(organiser)
    audit.record(
        session,
        now=now,
        action="organiser.edit",
        actor=by,
        target_type="organiser",
        target_id=organiser.id,
        organiser_id=organiser.id,
        detail=values,
    )


# --- the province's roll-up ---------------------------------------------------------------------
@dataclass(slots=True)
class ChildProgress:
    """One commune's campaigns as its parent sees them (read-only)."""

    organiser: Organiser
    deadlines: list[DeadlineProgress] = field(default_factory=list)


def rollup(organiser: Organiser, *, session: Session) -> list[ChildProgress]:
    """Progress of every open deadline of the active campaigns of `organiser`'s children."""
    found: list[ChildProgress] = []
    for child in children(organiser.id, session=session):  # type: ignore[arg-type]  # a stored row: its id is set
        entry = ChildProgress(child)
        active = session.exec(
            select(Campaign)
            .where(Campaign.organiser_id == child.id, Campaign.status == CampaignStatus.ACTIVE)
            .order_by(col(Campaign.id))
        ).all()
        for campaign in active:
            for deadline in deadlines_of(session, campaign):
                entry.deadlines.append(deadline_progress(session, deadline, campaign=campaign))
        found.append(entry)
    return found


# --- cascading campaigns ----------------------------------------------------------------------
def pending_cascades(organiser: Organiser, *, session: Session) -> list[Campaign]:
    """The parent's active cascading campaigns this organiser takes part in (through its unit)
    and has not yet answered with a campaign of its own."""
    if organiser.parent_id is None or organiser.unit_id is None:
        return []
    unit = session.get(Unit, organiser.unit_id)
    if unit is None:
        return []
    answered = set(
        session.exec(
            select(Campaign.parent_campaign_id).where(
                Campaign.organiser_id == organiser.id,
                col(Campaign.parent_campaign_id).is_not(None),
            )
        ).all()
    )
    candidates = session.exec(
        select(Campaign).where(
            Campaign.organiser_id == organiser.parent_id,
            Campaign.cascade == True,  # noqa: E712
            Campaign.status == CampaignStatus.ACTIVE,
        )
    ).all()
    return [c for c in candidates if c.id not in answered and takes_part(session, c, unit)]


def proposed_due(parent_due: datetime) -> datetime:
    return parent_due - CASCADE_LEAD


def accept_cascade(
    parent_campaign: Campaign,
    organiser: Organiser,
    *,
    due: dict[int, datetime] | None = None,
    by: Member | None,
    now: datetime,
    session: Session,
) -> Campaign:
    """The commune's own campaign matching the province's: same plan, its own units, each
    deadline by `due[province deadline id]` (default: `CASCADE_LEAD` earlier), never later
    than the province's — the commune must hand in its own report on time."""
    if parent_campaign not in pending_cascades(organiser, session=session):
        raise OrganiserError("not_pending")
    due = due or {}
    plan = []
    for deadline in deadlines_of(session, parent_campaign):
        when = due.get(deadline.id, proposed_due(deadline.due_at))  # type: ignore[arg-type]  # a stored deadline: its id is set
        if when > deadline.due_at:
            raise OrganiserError("after_parent", title=deadline.title)
        if when <= now:
            raise OrganiserError("in_past", title=deadline.title)
        plan.append((deadline, when))
    campaign = create_campaign(
        session,
        document_number=parent_campaign.document_number,
        name=parent_campaign.name,
        issuing_body=organiser.name,
        issued_on=now.date(),
        starts_on=parent_campaign.starts_on,
        ends_on=parent_campaign.ends_on,
        timezone=parent_campaign.timezone,
        organiser_id=organiser.id,  # type: ignore[arg-type]  # a stored row: its id is set
        actor=by,
        now=now,
    )
    campaign.parent_campaign_id = parent_campaign.id
    for deadline, when in plan:
        add_deadline(
            session,
            campaign,
            kind=deadline.kind,
            title=deadline.title,
            due_at=when,
            form_code=deadline.form_code,
            reminder_policy=dict(deadline.reminder_policy),
            parent_deadline_id=deadline.id,
            actor=by,
            now=now,
        )
    from domain.campaigns import activate_campaign

    activate_campaign(session, campaign, actor=by, now=now)
    audit.record(
        session,
        now=now,
        action="campaign.cascade_accept",
        actor=by,
        target_type="campaign",
        target_id=campaign.id,
        organiser_id=organiser.id,
        detail={"parent_campaign_id": parent_campaign.id},
    )
    return campaign


def child_campaigns(campaign: Campaign, *, session: Session) -> list[Campaign]:
    """The communes' campaigns answering a cascading province campaign."""
    return list(
        session.exec(
            select(Campaign)
            .where(Campaign.parent_campaign_id == campaign.id)
            .order_by(col(Campaign.organiser_id))
        ).all()
    )


@dataclass(slots=True)
class CascadeStatus:
    """Which children answered a cascading campaign with a campaign of their own."""

    campaign: Campaign
    accepted: list[Organiser] = field(default_factory=list)
    waiting: list[Organiser] = field(default_factory=list)


def cascade_status(organiser: Organiser, *, session: Session) -> list[CascadeStatus]:
    """For each active cascading campaign of `organiser`: the children that run theirs and
    those still to accept."""
    found: list[CascadeStatus] = []
    cascading = session.exec(
        select(Campaign)
        .where(
            Campaign.organiser_id == organiser.id,
            Campaign.cascade == True,  # noqa: E712
            Campaign.status == CampaignStatus.ACTIVE,
        )
        .order_by(col(Campaign.id))
    ).all()
    kids = children(organiser.id, session=session)  # type: ignore[arg-type]  # a stored row: its id is set
    for campaign in cascading:
        status = CascadeStatus(campaign)
        answered = {c.organiser_id for c in child_campaigns(campaign, session=session)}
        for child in kids:
            if child.id in answered:
                status.accepted.append(child)
            elif campaign in pending_cascades(child, session=session):
                status.waiting.append(child)
        found.append(status)
    return found
