"""python -m benchmarks [--smoke] [--json PATH]: print the figures with their targets and write them as JSON."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from benchmarks import contention, machine, postgres, proc, publishing, scale, startup, views
from benchmarks.figures import Report

PROJECT = Path(__file__).resolve().parents[1]
RESULTS = PROJECT / "benchmarks" / "results"
SECTIONS = {"startup": startup, "scale": scale, "publishing": publishing, "contention": contention, "views": views, "postgres": postgres}


def main(argv: list[str] | None = None) -> int:
    """Run the sections, print the table, write the JSON; exit 1 when a judged target does not hold."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes and single runs (a few seconds): checks that the benchmark works, judges no timing")
    parser.add_argument("--json", type=Path, default=RESULTS / "latest.json", help="where to write the figures (default: %(default)s)")
    parser.add_argument("--only", action="append", choices=sorted(SECTIONS), help="run only this section (repeatable)")
    args = parser.parse_args(argv)

    mode = "smoke" if args.smoke else "full"
    report = Report(mode, machine.describe())
    report.details["campaigner"] = {"command": proc.campaigner_argv(), "version": _version(), "git": _git()}
    report.details["started_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    RESULTS.mkdir(parents=True, exist_ok=True)
    # Bytecode cache for every measured child, outside the source tree (see machine.child_env).
    env = machine.child_env(RESULTS / "pycache")
    begin = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="campaigner-bench-") as tmp:
        work = Path(tmp)
        # campaigner's snapshot cache, private to this run: measured from empty, and never the user's.
        env["CAMPAIGNER_CACHE_DIR"] = str(work / "snapshot-cache")
        for name, module in SECTIONS.items():
            if args.only and name not in args.only:
                continue
            section_dir = work / name
            section_dir.mkdir()
            print(f"running {name} ...", file=sys.stderr, flush=True)
            if module is scale:
                module.measure(report, section_dir, env, smoke=args.smoke)
            else:
                module.measure(report, PROJECT, section_dir, env, smoke=args.smoke)
    report.details["duration_s"] = round(time.perf_counter() - begin, 1)

    m = report.machine
    print(f"campaigner benchmarks ({mode}) on {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, {m['python']}, {m['platform']}")
    if args.smoke:
        print("smoke mode: tiny sizes, single runs; timing targets are not judged")
    print()
    print(report.table())
    for note in report.notes:
        print(f"\nnote: {note}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report.as_json(), indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    verdict = report.as_json()["all_targets_hold"]
    print(f"\n{'all judged targets hold' if verdict in (True, None) else 'SOME TARGETS DO NOT HOLD'}; "
          f"{report.details['duration_s']} s; figures written to {args.json}")
    return 0 if verdict in (True, None) else 1


def _version() -> str | None:
    from importlib import metadata

    try:
        return metadata.version("campaigner")
    except metadata.PackageNotFoundError:
        return None


def _git() -> str | None:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT, capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "campaigner"], cwd=PROJECT, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return (head + ("+uncommitted changes in campaigner/" if dirty else "")) or None


if __name__ == "__main__":
    sys.exit(main())
