"""Where the tests find their data: the bundled corpus, and ../shared beside the checkout (CONTRACT.md),
or BUDGETQA_SHARED when it lives elsewhere."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "index" / "corpus"
SHARED = Path(os.environ.get("BUDGETQA_SHARED") or REPO.parent / "shared")
EXTRA = SHARED / "corpus-extra"
