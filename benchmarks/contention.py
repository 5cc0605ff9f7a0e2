"""Figure 4: eight `campaigner post` processes started together on one SQLite ledger."""

from __future__ import annotations

import json
import sqlite3
import statistics
import time
from collections import Counter
from pathlib import Path

from benchmarks import proc, synth
from benchmarks.figures import Figure, Report

PROCESSES = 8
ACCOUNTS = ("alpha", "beta")
NOW = "2026-12-03T09:30"
SEND_DELAY = "0.005"  # seconds per send in the fake platform, so the runs really overlap


def measure(report: Report, project: Path, work: Path, env: dict[str, str], *, smoke: bool) -> None:
    """Three rounds (one in smoke mode), each on a fresh ledger; every round must be clean."""
    events = 10 if smoke else 100
    posts = events * len(ACCOUNTS)
    rounds = 1 if smoke else 3
    processes = 4 if smoke else PROCESSES
    sec = f"4. Contention: {processes} post processes started together, one SQLite ledger, {posts} due posts"
    cal = synth.contention_calendar(work / "contention", events, ACCOUNTS)
    results = []
    for r in range(rounds):
        folder = work / "contention" / f"round-{r}"
        folder.mkdir(parents=True)
        sent, db = folder / "sent.jsonl", folder / "state.db"
        child = {**env, "CAMPAIGNER_PLUGINS": "tests.fake_platform", "PYTHONPATH": str(project), "FAKE_SENT": str(sent),
                 "FAKE_DELAY": SEND_DELAY, **{f"CAMPAIGNER_{a.upper()}_TOKEN": f"{a}-secret-token" for a in ACCOUNTS}}
        proc.init_ledger(f"sqlite:///{db}")  # anywhere but the default path, a ledger is created explicitly
        argv = proc.campaigner_argv() + ["post", "--calendar", str(cal), "--now", NOW, "--db", f"sqlite:///{db}", "--json"]
        start = time.perf_counter()
        started = [proc.spawn(argv, env=child, cwd=cal.parent) for _ in range(processes)]
        runs = [s.finish() for s in started]
        wall = time.perf_counter() - start
        keys = [json.loads(line)["key"] for line in sent.read_text().splitlines() if line.strip()] if sent.exists() else []
        pids = Counter(json.loads(line)["pid"] for line in sent.read_text().splitlines() if line.strip()) if sent.exists() else Counter()
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            stored = dict(conn.execute("SELECT state, COUNT(*) FROM posts GROUP BY state").fetchall())
        results.append({
            "wall_s": wall, "sent": len(keys), "unique": len(set(keys)), "duplicates": len(keys) - len(set(keys)),
            "locked_errors": sum("database is locked" in r.stderr.lower() for r in runs),
            "exit_codes": [r.returncode for r in runs], "ledger": stored, "processes_that_sent": len(pids),
            "max_peak_rss_mib": round(max(r.peak_rss for r in runs) / 2**20, 1),
            "stderr": [r.stderr[-300:] for r in runs if r.stderr.strip()],
        })
    duplicates = sum(x["duplicates"] for x in results)
    locked = sum(x["locked_errors"] for x in results)
    complete = all(x["unique"] == posts and x["ledger"].get("published") == posts and set(x["exit_codes"]) == {0} for x in results)
    report.add(
        Figure(sec, f"duplicate sends (all {rounds} rounds)", duplicates, "count", 0, op="=="),
        Figure(sec, "'database is locked' errors", locked, "count", 0, op="=="),
        Figure(sec, "every post sent once, every process exited 0", "yes" if complete else "no", "text", "yes", op="=="),
        Figure(sec, "wall time, first start to last exit (median)", statistics.median(x["wall_s"] for x in results), "s"),
        Figure(sec, "processes that sent at least one post (median)", int(statistics.median(x["processes_that_sent"] for x in results)), "count",
               note="more than one: the runs really overlapped"),
    )
    report.details["contention"] = {"processes": processes, "posts": posts, "fake_send_delay_s": float(SEND_DELAY), "rounds": results}
