"""How well plan import reads real documents: the parser against the corpus in
tests/data/plans (public excerpts of plans, guidance and notices, each with the facts a human
reads in it written down by hand). Prints every fact missed or wrong, then the score.

    uv run python bench/plan_corpus.py
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.utils.plan_files import score_corpus

# A fixed "today" so the next occurrence of a yearly rule does not change the score.
TODAY = date(2026, 1, 1)


def main() -> int:
    score = score_corpus(today=TODAY)
    for line in score.lines:
        print(line)
    print(score.summary())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
