"""Reading an uploaded plan document (kế hoạch, .txt/.docx/.pdf) into a proposal, for the
chat's /nhapkehoach and the web desk's plan upload alike.

The parser (`domain.plan_parser.read_plan_file`, which refuses zip bombs with
`domain.safe_zip` before a library opens a .docx) runs in a child process bounded in time and
memory (`bot.isolated`), so a slow or hostile document never holds up other users. A file past
either bound is refused with `PlanFileError` naming the reason the catalog explains
(`plans.file.<reason>`).
"""

from __future__ import annotations

from datetime import date

from bot.catalog import Raw, t
from bot.channels.text import html_to_plain
from bot.isolated import IsolatedError, run_isolated
from domain.dates import format_date
from domain.plan_parser import BasisDocument, PlanFileError, PlanProposal, read_plan_file

# Reading a document takes well under a second; a file that takes longer is refused.
PARSE_TIMEOUT_SECONDS = 20.0
# The reading process's address space: a real plan needs a few hundred MB at most.
PARSE_MEMORY_BYTES = 1536 * 1024 * 1024
# Refusals the catalog explains (plans.file.<reason>).
PLAN_FILE_REASONS = frozenset(
    {
        "empty",
        "too_large",
        "scanned_pdf",
        "encrypted_pdf",
        "corrupt_pdf",
        "corrupt_docx",
        "legacy_doc",
        "not_text",
        "unsupported",
        "zip_bomb",
        "too_slow",
        "too_heavy",
    }
)


async def read_plan(
    content: bytes,
    file_name: str | None,
    *,
    today: date | None = None,
    timeout: float = PARSE_TIMEOUT_SECONDS,
) -> PlanProposal:
    """Extract and parse in a child process (`bot.isolated`), off the event loop, bounded in
    time and memory; a file past either bound is refused with `PlanFileError`."""
    try:
        data = await run_isolated(
            read_plan_file,
            content,
            file_name,
            today,
            timeout=timeout,
            memory_bytes=PARSE_MEMORY_BYTES,
        )
    except IsolatedError as exc:
        reason = {"timeout": "too_slow", "memory": "too_heavy"}.get(exc.reason, exc.reason)
        if reason not in PLAN_FILE_REASONS:
            reason = "unsupported"
        raise PlanFileError(reason) from None
    return PlanProposal.from_dict(data)


def basis_line(basis: BasisDocument) -> Raw:
    """A document the plan is based on, in the proposal's words (`plans.proposal.basis_*`)."""
    parts = [t("plans.proposal.basis_kind", value=basis.kind)]
    if basis.number:
        parts.append(t("plans.proposal.basis_number", value=basis.number))
    if basis.issued_on:
        parts.append(t("plans.proposal.basis_date", value=format_date(basis.issued_on)))
    if basis.issuer:
        parts.append(t("plans.proposal.basis_issuer", value=basis.issuer))
    return Raw(" ".join(parts))


def plan_description(proposal: PlanProposal) -> str:
    """What a campaign made from the plan keeps as its description: the documents it cites."""
    return "\n".join(html_to_plain(basis_line(b)) for b in proposal.basis)
