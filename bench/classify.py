"""How fast is the sweep's FIT classifier, against reading headers only and a full fitparse parse?

    .venv/bin/python bench/classify.py [--dir DIR ...] [--repeat N] [--fitparse-budget SECONDS]

Goals: ours at least 10,000 files/s and at most 4x slower than reading the 14 header bytes,
at least 1000x fitparse's full parse, the same eligible/junk verdict as fitparse on every
file it parses, and on its activities the same recorded start (within 1 s of the first
session's start_time, or of the first record's timestamp without one) and the same sport
(its session's sport/sub_sport mapped by activityfiles.sports.strava_sport).
fitparse parses about a megabyte every few seconds, so by default it runs on a
deterministic subset that fits the time budget (0 means every file), and the "ours vs
fitparse" ratio is measured on that same subset.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import fitparse  # noqa: E402 - after the path fix, so `activityfiles` imports from this checkout

from activityfiles import classify_file  # noqa: E402
from activityfiles.sports import strava_sport  # noqa: E402

DEFAULT_DIRS = [ROOT / "tests" / "data", Path("/work/shared/data/fit")]


def fit_files(dirs: list[Path]) -> list[Path]:
    """Every *.fit under the given folders (not recursive), once per distinct content."""
    seen: set[str] = set()
    files = []
    for folder in dirs:
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() != ".fit" or not path.is_file():
                continue
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if digest not in seen:
                seen.add(digest)
                files.append(path)
    return files


def header_only(path: Path) -> bytes:
    with open(path, "rb", buffering=0) as f:
        return f.read(14)


Reference = tuple[str, datetime | None, str | None]  # verdict, recorded start, sport_type


def fitparse_reference(path: Path) -> Reference:
    """eligible/junk, start and sport from fitparse's full, strict parse (raises if fitparse cannot parse it).

    Start: the first session's start_time, else the first record's timestamp. Sport: the first
    session's sport/sub_sport, else the sport message's, else the first lap's.
    """
    messages = list(fitparse.FitFile(str(path)).get_messages())
    by_name: dict[str, list[fitparse.DataMessage]] = {}
    for message in messages:
        by_name.setdefault(message.name, []).append(message)
    file_ids = by_name.get("file_id", [])
    file_type = file_ids[0].get_value("type") if file_ids else None
    if file_type != "activity":
        return "junk", None, None
    sessions = by_name.get("session", [])
    start = sessions[0].get_value("start_time") if sessions else None
    if start is None:
        start = next((m.get_value("timestamp") for m in by_name.get("record", []) if m.get_value("timestamp")), None)
    named = sessions or by_name.get("sport", []) or by_name.get("lap", [])
    sport = strava_sport(named[0].get_value("sport"), named[0].get_value("sub_sport"))[0] if named else None
    return "eligible", (start.replace(tzinfo=UTC) if start and start.tzinfo is None else start), sport


def _same_start(ours: datetime | None, theirs: datetime | None) -> bool:
    if ours is None or theirs is None:
        return ours is theirs
    return abs((ours - theirs).total_seconds()) <= 1


CHUNK = 16  # files timed together: a few hundred µs, shorter than a scheduler tick


def pass_seconds(functions: list[Callable[[Path], object]], files: list[Path], repeat: int) -> list[float]:
    """Seconds of a pass over the files, per function, robust to other processes' load.

    One warm-up pass each; then ``repeat`` rounds in which each function times every chunk of
    CHUNK files in turn. A pass is the sum of each chunk's median: a chunk is short enough that
    most of its rounds run undisturbed, and a long pass (ours) is not more exposed to being
    preempted than a short one (the header-only floor), which a median of whole passes was.
    """
    for function in functions:
        for path in files:
            function(path)
    chunks = [files[i : i + CHUNK] for i in range(0, len(files), CHUNK)]
    times = [[[] for _ in chunks] for _ in functions]  # function -> chunk -> seconds per round
    for _ in range(repeat):
        for chunk_times, chunk in zip(zip(*times, strict=True), chunks, strict=True):
            for function, spent in zip(functions, chunk_times, strict=True):
                start = time.perf_counter()
                for path in chunk:
                    function(path)
                spent.append(time.perf_counter() - start)
    return [sum(statistics.median(spent) for spent in per_chunk) for per_chunk in times]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, action="append", help="folder of FIT files (repeatable)")
    parser.add_argument("--repeat", type=int, default=21, help="rounds per measurement; the median counts")
    parser.add_argument("--fitparse-budget", type=float, default=20.0, help="seconds for fitparse; 0 = all files")
    args = parser.parse_args()

    dirs = args.dir or DEFAULT_DIRS
    files = fit_files(dirs)
    if not files:
        print("no FIT files found in", ", ".join(map(str, dirs)))
        return 0
    megabytes = sum(path.stat().st_size for path in files) / 1e6
    print(f"{len(files)} distinct FIT files ({megabytes:.1f} MB) from {', '.join(str(d) for d in dirs if d.is_dir())}")
    print(f"warm cache, one thread, median of {args.repeat} rounds per chunk of {CHUNK} files (header-only and ours in turn)\n")

    header_time, ours_time = pass_seconds([header_only, classify_file], files, args.repeat)

    # fitparse: a deterministic spread of files (ordered by a hash of the name) until the budget is spent.
    ordered = sorted(files, key=lambda path: hashlib.sha256(path.name.encode()).hexdigest())
    subset: list[Path] = []
    theirs: dict[Path, Reference | None] = {}
    errors: list[str] = []
    fitparse_time = 0.0
    for path in ordered:
        if args.fitparse_budget and fitparse_time >= args.fitparse_budget:
            break
        start = time.perf_counter()
        try:
            theirs[path] = fitparse_reference(path)
        except Exception as exc:  # any fitparse failure only excludes the file from the comparison
            theirs[path] = None
            errors.append(f"{path.name}: {type(exc).__name__}")
        fitparse_time += time.perf_counter() - start
        subset.append(path)
    (ours_subset_time,) = pass_seconds([classify_file], subset, args.repeat)

    rate = {
        "header": len(files) / header_time,
        "ours": len(files) / ours_time,
        "fitparse": len(subset) / fitparse_time,
        "ours_subset": len(subset) / ours_subset_time,
    }
    scope = (
        "all files"
        if len(subset) == len(files)
        else f"{len(subset)} of {len(files)} files, {args.fitparse_budget:g} s budget"
    )
    print(f"{'':32}{'files/s':>12}{'µs/file':>14}")
    print(f"{'header only (14 bytes)':32}{rate['header']:>12,.0f}{1e6 / rate['header']:>14,.1f}")
    print(f"{'ours (classify_file)':32}{rate['ours']:>12,.0f}{1e6 / rate['ours']:>14,.1f}")
    print(f"{'fitparse full parse':32}{rate['fitparse']:>12,.2f}{1e6 / rate['fitparse']:>14,.0f}   ({scope})")
    print()
    speedup = rate["ours_subset"] / rate["fitparse"]
    slowdown = rate["header"] / rate["ours"]
    print(f"ours vs fitparse      {speedup:>10,.0f}x   (same {len(subset)} files; goal >= 1000x)")
    print(f"header-only vs ours   {slowdown:>10.2f}x   (goal <= 4x, and ours >= 10,000 files/s)")

    references = {path: ref for path in subset if (ref := theirs[path]) is not None}
    verdicts = {path: classify_file(path) for path in references}
    agree = [path for path, ref in references.items() if verdicts[path].status == ref[0]]
    print(f"verdicts agree        {len(agree):>6} / {len(references)}   files fitparse parses (goal: all)")
    for path, ref in references.items():
        if path not in agree:
            print(f"  DISAGREE {path.name}: ours {verdicts[path].status}, fitparse {ref[0]}")
    activities = [path for path, ref in references.items() if ref[0] == "eligible"]
    starts = [path for path in activities if _same_start(verdicts[path].start_time, references[path][1])]
    sports = [path for path in activities if verdicts[path].sport == references[path][2]]
    print(f"starts agree          {len(starts):>6} / {len(activities)}   activities (within 1 s; goal: all)")
    print(f"sports agree          {len(sports):>6} / {len(activities)}   activities (goal: all)")
    for path in activities:
        if path not in starts or path not in sports:
            _, start, sport = references[path]
            print(f"  DISAGREE {path.name}: ours {verdicts[path].start_time} {verdicts[path].sport}, fitparse {start} {sport}")
    if errors:
        print(f"fitparse could not parse {len(errors)} (left out of the comparison):")
        for error in errors:
            print(f"  {error}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
