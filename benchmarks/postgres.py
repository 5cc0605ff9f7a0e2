"""Figure 6: eight `campaigner post` processes as eight hosts on one PostgreSQL ledger, against the same on SQLite.

Needs a PostgreSQL server (CAMPAIGNER_BENCH_PG, default postgresql://postgres@127.0.0.1:5432/postgres,
where it creates and drops a throwaway database per round); without one the section is skipped
with a note. Figures: duplicate sends and errors (targets 0), the wall time of the PostgreSQL run
against the same run on SQLite, and the ledger's own time per post on PostgreSQL (claim + record,
one process, measured in-process around those two calls: target ≤ 5 ms).
"""

from __future__ import annotations

import json
import os
import statistics
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from benchmarks import proc, synth
from benchmarks.figures import Figure, Report

ADMIN = os.environ.get("CAMPAIGNER_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
PROCESSES = 8
ACCOUNTS = ("alpha", "beta")
NOW = "2026-12-03T09:30"
LATENCY = "0.05"  # seconds per send in the fake platform: the 50 ms
TARGET_LEDGER_MS = 5.0


def _server() -> str | None:
    """Why PostgreSQL cannot be measured here (None when it can)."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install -e '.[postgres]')"
    try:
        psycopg.connect(ADMIN, connect_timeout=3).close()
    except psycopg.Error as exc:
        return f"no PostgreSQL server at {ADMIN} ({str(exc).strip().splitlines()[0]})"
    return None


def _database(drop: str | None = None) -> str:
    import psycopg

    with psycopg.connect(ADMIN, autocommit=True) as admin:
        if drop:
            admin.execute(f'DROP DATABASE IF EXISTS "{drop.rsplit("/", 1)[1]}" WITH (FORCE)')
            return drop
        name = f"campaigner_bench_{uuid.uuid4().hex[:10]}"
        admin.execute(f'CREATE DATABASE "{name}"')
    return ADMIN.rsplit("/", 1)[0] + "/" + name


def _round(cal: Path, folder: Path, env: dict[str, str], url: str, processes: int) -> dict[str, Any]:
    folder.mkdir(parents=True)
    sent = folder / "sent.jsonl"
    proc.init_ledger(url)
    argv = proc.campaigner_argv() + ["post", "--calendar", str(cal), "--now", NOW, "--db", url, "--json"]
    start = time.perf_counter()
    started = [proc.spawn(argv, env={**env, "FAKE_SENT": str(sent), "CAMPAIGNER_HOST": f"host-{i}"}, cwd=cal.parent) for i in range(processes)]
    runs = [s.finish() for s in started]
    wall = time.perf_counter() - start
    lines = [json.loads(line) for line in sent.read_text().splitlines() if line.strip()] if sent.exists() else []
    keys = [x["key"] for x in lines]
    return {"wall_s": wall, "sent": len(keys), "duplicates": len(keys) - len(set(keys)), "unique": len(set(keys)),
            "errors": sum(r.returncode != 0 for r in runs), "exit_codes": [r.returncode for r in runs],
            "processes_that_sent": len(Counter(x["pid"] for x in lines)),
            "stderr": [r.stderr[-300:] for r in runs if r.stderr.strip()]}


def ledger_ms_per_post(url: str, posts: int) -> float:
    """Milliseconds of claim + record_published per post, one process, one after another (no platform)."""
    from campaigner.ledger import PostMeta, open_ledger

    led = open_ledger(url, create=True, campaign=f"bench-{uuid.uuid4().hex[:6]}")
    now = datetime(2026, 12, 3, 2, 0, tzinfo=timezone.utc)
    try:
        start = time.perf_counter()
        for i in range(posts):
            meta = PostMeta(f"e{i}/2026-12-03/alpha/en", f"e{i}", "alpha", "fake", "en", now)
            led.claim(meta, run_id="bench", host="h", pid=1, now=now, lease_until=now + timedelta(minutes=10))
            led.record_published(meta.id, run_id="bench", remote_id=str(i), url=f"https://fake.example/{i}", text="t", text_hash="h", now=now)
        return (time.perf_counter() - start) * 1000 / posts
    finally:
        led.close()


def measure(report: Report, project: Path, work: Path, env: dict[str, str], *, smoke: bool) -> None:
    """One round in smoke mode (4 processes, 40 posts), three in full (8 processes, 1,000 posts)."""
    events = 20 if smoke else 500
    posts = events * len(ACCOUNTS)
    rounds = 1 if smoke else 3
    processes = 4 if smoke else PROCESSES
    sec = f"6. Shared ledger: {processes} post processes as {processes} hosts, one PostgreSQL ledger, {posts} due posts at {float(LATENCY) * 1000:.0f} ms"
    why = _server()
    if why is not None:
        report.notes.append(f"section 6 (shared PostgreSQL ledger) skipped: {why}")
        return
    cal = synth.contention_calendar(work / "calendar", events, ACCOUNTS)
    child = {**env, "CAMPAIGNER_PLUGINS": "tests.fake_platform", "PYTHONPATH": str(project), "FAKE_DELAY": LATENCY,
             **{f"CAMPAIGNER_{a.upper()}_TOKEN": f"{a}-secret-token" for a in ACCOUNTS}}
    pg, lite = [], []
    for r in range(rounds):
        db = _database()
        try:
            pg.append(_round(cal, work / f"pg-{r}", child, db, processes))
        finally:
            _database(drop=db)
        lite.append(_round(cal, work / f"sqlite-{r}", child, f"sqlite:///{work / f'sqlite-{r}.db'}", processes))
    db = _database()
    try:
        per_post = statistics.median(ledger_ms_per_post(db, 50 if smoke else 1000) for _ in range(1 if smoke else 3))
    finally:
        _database(drop=db)
    duplicates = sum(x["duplicates"] for x in pg)
    errors = sum(x["errors"] for x in pg)
    complete = all(x["unique"] == posts for x in pg)
    wall_pg, wall_lite = statistics.median(x["wall_s"] for x in pg), statistics.median(x["wall_s"] for x in lite)
    report.add(
        Figure(sec, f"duplicate sends on PostgreSQL (all {rounds} rounds)", duplicates, "count", 0, op="=="),
        Figure(sec, "errors (processes that did not exit 0)", errors, "count", 0, op="=="),
        Figure(sec, "every post sent once", "yes" if complete else "no", "text", "yes", op="=="),
        Figure(sec, "wall time on PostgreSQL, first start to last exit (median)", wall_pg, "s"),
        Figure(sec, "wall time of the same run on SQLite (median)", wall_lite, "s"),
        Figure(sec, "PostgreSQL / SQLite wall time", wall_pg / wall_lite if wall_lite else None, "ratio"),
        Figure(sec, "ledger time per post on PostgreSQL (claim + record, one process)", per_post, "ms", TARGET_LEDGER_MS, smoke=smoke,
               note="in-process, around Ledger.claim and Ledger.record_published only: the round trips and commits a post adds"),
        Figure(sec, "processes that sent at least one post (median, PostgreSQL)", int(statistics.median(x["processes_that_sent"] for x in pg)), "count",
               note="more than one: the hosts really overlapped"),
    )
    report.details["postgres"] = {"processes": processes, "posts": posts, "fake_send_delay_s": float(LATENCY), "server": ADMIN,
                                  "postgresql_rounds": pg, "sqlite_rounds": lite, "ledger_ms_per_post": per_post}
