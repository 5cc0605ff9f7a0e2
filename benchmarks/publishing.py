"""Figure 3: `campaigner post` through the real X and Facebook adapters and the SQLite ledger,
against a local server playing the APIs with a fixed latency per request."""

from __future__ import annotations

import json
import sqlite3
import statistics
from collections import Counter
from pathlib import Path

from benchmarks import proc, synth
from benchmarks.fakeapi import FakeAPI
from benchmarks.figures import Figure, Report

LATENCY = 0.050
DUE_NOW = "2026-12-03T09:00"  # every post is due (06:00 + one a minute) and within its 6 h grace
NOTHING_DUE = "2026-11-01T09:00"  # the same calendar a month earlier: nothing in the window
ACCOUNTS = {"bench_x1": "x", "bench_x2": "x", "bench_fb": "facebook"}
TARGET_FACTOR, TARGET_OVERHEAD_MS = 1.25, 2.0


def credentials() -> dict[str, str]:
    """Dummy OAuth 1.0a keys for the X accounts and a Page token for Facebook (the server checks none)."""
    env = {}
    for account, platform in ACCOUNTS.items():
        prefix = f"CAMPAIGNER_{account.upper()}_"
        if platform == "x":
            env.update({prefix + "API_KEY": f"{account}-consumer-key", prefix + "API_SECRET": f"{account}-consumer-secret",
                        prefix + "ACCESS_TOKEN": f"{account}-access-token", prefix + "ACCESS_SECRET": f"{account}-access-secret"})
        else:
            env[prefix + "PAGE_TOKEN"] = f"{account}-page-token"
    return env


class _Runner:
    def __init__(self, cal: Path, work: Path, env: dict[str, str]):
        self.cal, self.work, self.env, self.n = cal, work, env, 0

    def post(self, now: str) -> proc.Run:
        """One `campaigner post --json` on a fresh ledger."""
        self.n += 1
        db = self.work / f"ledger-{self.n}.db"
        proc.init_ledger(f"sqlite:///{db}")  # anywhere but the default path, a ledger is created explicitly
        run = proc.run(proc.campaigner_argv() + ["post", "--calendar", str(self.cal), "--now", now, "--db", f"sqlite:///{db}", "--json"],
                       env=self.env, cwd=self.cal.parent)
        run.check()
        self.last_db = db
        return run


def _published(run: proc.Run, db: Path) -> tuple[int, int]:
    """(posts the run reported published, posts the ledger holds as published)."""
    reported = sum(1 for r in json.loads(run.stdout or "[]") if r["status"] == "published")
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        stored = conn.execute("SELECT COUNT(*) FROM posts WHERE state = 'published'").fetchone()[0]
    return reported, stored


def measure(report: Report, project: Path, work: Path, env: dict[str, str], *, smoke: bool) -> None:
    """Three runs at 50 ms (one in smoke mode); then five each at 0 ms of 300 posts, of 3 posts and of
    nothing due, taking turns."""
    per_account = 5 if smoke else 100
    posts = per_account * len(ACCOUNTS)
    cal = synth.publishing_calendar(work / "publishing", per_account)
    single = synth.publishing_calendar(work / "publishing-one", 1)
    slow_runs, zero_runs = (1, 1) if smoke else (3, 5)
    sec = f"3. Publishing {posts} due posts, {len(ACCOUNTS)} accounts on X and Facebook, real adapters + SQLite ledger"
    with FakeAPI(LATENCY) as api:
        child = {**env, **credentials(), "CAMPAIGNER_PLUGINS": "benchmarks.redirect", "PYTHONPATH": str(project),
                 "BENCH_API_BASE": api.base, "NO_PROXY": "127.0.0.1,localhost"}
        runner = _Runner(cal, work / "publishing", child)
        one = _Runner(single, work / "publishing-one", child)
        null = _Runner(cal, work / "publishing-null", {**child, "CAMPAIGNER_PLUGINS": "benchmarks.null_adapters"})
        if not smoke:  # warm the caches
            runner.post(NOTHING_DUE)
            one.post(DUE_NOW)
            null.post(DUE_NOW)
        walls, spans, busiest, checks = [], [], [], []
        for _ in range(slow_runs):
            api.reset(LATENCY)
            run = runner.post(DUE_NOW)
            hits = [h for h in api.hits if h.text is not None]
            per_account_hits = Counter(h.account for h in api.hits)
            texts = Counter((h.account, h.text) for h in hits)
            reported, stored = _published(run, runner.last_db)
            checks.append({"requests": len(api.hits), "posts_created": len(hits), "duplicates": sum(c - 1 for c in texts.values()),
                           "reported_published": reported, "ledger_published": stored, "requests_per_account": dict(per_account_hits),
                           "errors": [h.path for h in api.hits if h.status >= 400]})
            walls.append(run.wall)
            spans.append(max(h.ended for h in api.hits) - min(h.started for h in api.hits))
            busiest.append(max(per_account_hits.values()) * LATENCY)
        zero, three, base, engine = [], [], [], []
        handling: list[float] = []
        for _ in range(zero_runs):
            api.reset(0.0)
            zero.append(runner.post(DUE_NOW).wall)
            handling += [h.ended - h.started for h in api.hits]
            three.append(one.post(DUE_NOW).wall)
            base.append(runner.post(NOTHING_DUE).wall)
            engine.append(null.post(DUE_NOW).wall)
    wall, span, serial = statistics.median(walls), statistics.median(spans), max(busiest)
    most_requests = max(max(c["requests_per_account"].values()) for c in checks)
    limit = round(TARGET_FACTOR * serial, 3)
    zero_wall, three_wall, base_wall = statistics.median(zero), statistics.median(three), statistics.median(base)
    overhead_ms = (zero_wall - base_wall) / posts * 1000
    marginal_ms = (zero_wall - three_wall) / (posts - len(ACCOUNTS)) * 1000
    engine_ms = (statistics.median(engine) - base_wall) / posts * 1000
    server_ms = statistics.median(handling) * 1000 if handling else None
    complete = all(c["duplicates"] == 0 and c["posts_created"] == posts and c["reported_published"] == posts
                   and c["ledger_published"] == posts and not c["errors"] for c in checks)
    report.add(
        Figure(sec, f"busiest account's serial latency ({most_requests} requests × {LATENCY * 1000:.0f} ms)", serial, "s",
               note="accounts publish concurrently, each in order: the floor for the wall time"),
        Figure(sec, f"post at {LATENCY * 1000:.0f} ms/request: whole process wall (start-up included)", wall, "s", limit, smoke=smoke,
               note=f"target = {TARGET_FACTOR} × busiest serial latency"),
        Figure(sec, f"post at {LATENCY * 1000:.0f} ms/request: publishing span (server: first request to last answer)", span, "s", limit, smoke=smoke),
        Figure(sec, "every post published exactly once (server, --json and ledger agree)", "yes" if complete else "no", "text", "yes", op="=="),
        Figure(sec, f"post at 0 ms/request, {posts} posts: whole process wall", zero_wall, "s"),
        Figure(sec, "start-up baseline: the same post command with nothing due", base_wall, "s",
               note="starts, loads the calendar, opens the ledger, records its run, exits"),
        Figure(sec, f"ledger + rendering overhead per post = (wall with no-op adapters at 0 ms − start-up baseline) / {posts}", engine_ms, "ms",
               TARGET_OVERHEAD_MS, smoke=smoke,
               note="the same run (same posts, ledger, rendering and engine) with CAMPAIGNER_PLUGINS=benchmarks.null_adapters: "
                    "adapters that answer at once, so nothing but campaigner's own work is left"),
        Figure(sec, f"  with the real adapters too = (wall at 0 ms − start-up baseline) / {posts}", overhead_ms, "ms",
               note="adds tweepy, requests and facebook-sdk: their import (once) and their work per request (OAuth 1.0a signing, "
                    "HTTP), and the local fake API's own handling; shown, not judged"),
        Figure(sec, f"  the same without fixed costs = (wall({posts} posts) − wall({len(ACCOUNTS)} posts)) / {posts - len(ACCOUNTS)}", marginal_ms, "ms",
               note="the same at 0 ms with one post per account as the baseline: fixed costs (SDK imports) cancel out"),
        Figure(sec, "  the local fake API's own handling per request (median)", server_ms, "ms",
               note="time the server spent on each request at 0 ms latency: a real platform's share of the time, not campaigner's"),
    )
    report.details["publishing"] = {
        "posts": posts, "accounts": ACCOUNTS, "latency_s": LATENCY, "now": DUE_NOW, "baseline_now": NOTHING_DUE,
        "wall_s": walls, "span_s": spans, "zero_latency_wall_s": zero, "three_posts_wall_s": three, "baseline_wall_s": base,
        "null_adapters_wall_s": engine, "checks": checks,
        "overhead_definition": "(median wall of `post` with no-op adapters - median wall of the same `post` command with nothing due) / posts",
        "overhead_with_real_adapters_definition": "(median wall of `post` at 0 ms latency - median wall of the same `post` command with nothing due) / posts",
    }
