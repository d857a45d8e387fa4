"""Write tests/data/fitparse_reference.json: fitparse's recorded start and sport of every FIT file in the corpus.

    .venv/bin/python tests/data/make_fitparse_reference.py

fitparse (the reference parser, 1.2.0) needs minutes for the ~200 real FIT files of tests/data
and /work/shared/data; the tests read its answers from this file, keyed by each file's sha256,
parse live any file missing from it, and check a few entries against fitparse on every run
(tests/activityfiles/test_recorded.py), so the stored answers cannot drift from the parser.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.activityfiles.reference import FIT_FILES, REFERENCE_FILE, fitparse_parse  # noqa: E402


def main() -> None:
    reference = {}
    for path in FIT_FILES:
        answer = fitparse_parse(path)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        reference[digest] = None if answer is None else [answer[0].isoformat() if answer[0] else None, answer[1]]
        print(f"{path.name}: {reference[digest]}")
    REFERENCE_FILE.write_text(json.dumps(reference, indent=1, sort_keys=True) + "\n")
    print(f"{len(reference)} files -> {REFERENCE_FILE}")


if __name__ == "__main__":
    main()
