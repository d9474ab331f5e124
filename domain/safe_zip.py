"""Checking an Office file (.docx, .xlsx: a zip archive) before any library inflates it.

python-docx and openpyxl read whole XML parts into memory; a 1.5 MB upload whose styles part
inflates to 1.5 GB (a "zip bomb") once drove the bot to 4.4 GB and froze every user. This
module reads only the archive's central directory (the declared sizes of each part, never the
data) and refuses an archive whose parts are too many, too large once inflated, or compressed
far beyond what real documents reach. It must not open or inflate any part itself.

The declared sizes can lie; `check_archive` therefore also bounds what a later reader could
get out of a lying archive: zipfile stops reading a part at its declared size (it raises
"Bad CRC" or truncates), so the declared total is a true upper bound of what is inflated.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

# Real plans and unit lists inflate to a few MB; 100 MB leaves a wide margin.
MAX_TOTAL_BYTES = 100 * 1024 * 1024
MAX_PART_BYTES = 64 * 1024 * 1024
MAX_PARTS = 2000
# Office XML compresses well (10–30×, a table of repeated rows up to ~100×); bombs reach 1000×.
# The ratio is judged only on parts big enough to matter, so a tiny empty part does not count.
MAX_RATIO = 200
RATIO_FLOOR_BYTES = 1024 * 1024


class UnsafeArchive(Exception):
    """The archive is refused. `reason`: not_zip, too_many_parts, too_large, ratio."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ArchiveSize:
    parts: int
    inflated: int
    compressed: int


def check_archive(
    content: bytes,
    *,
    max_total: int = MAX_TOTAL_BYTES,
    max_part: int = MAX_PART_BYTES,
    max_parts: int = MAX_PARTS,
    max_ratio: int = MAX_RATIO,
) -> ArchiveSize:
    """Declared sizes of the archive's parts, or `UnsafeArchive` when reading it could exhaust
    memory. Reads the central directory only."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise UnsafeArchive("not_zip") from None
    if len(infos) > max_parts:
        raise UnsafeArchive("too_many_parts")
    inflated = 0
    compressed = 0
    for info in infos:
        if info.file_size > max_part:
            raise UnsafeArchive("too_large")
        if info.file_size > RATIO_FLOOR_BYTES and info.file_size > max_ratio * max(
            info.compress_size, 1
        ):
            raise UnsafeArchive("ratio")
        inflated += info.file_size
        compressed += info.compress_size
        if inflated > max_total:
            raise UnsafeArchive("too_large")
    return ArchiveSize(parts=len(infos), inflated=inflated, compressed=compressed)
