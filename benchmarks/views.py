"""Figure 5: the views of a large calendar: `preview --days 365` (HTML) beside `plan --days 365 --json`."""

from __future__ import annotations

import re
from pathlib import Path

from benchmarks import proc, synth
from benchmarks.figures import Figure, Report

FULL_SIZE, SMOKE_SIZE = 10_000, 100


def measure(report: Report, project: Path, work: Path, env: dict[str, str], *, smoke: bool) -> None:
    """Median of 3 runs each (1 in smoke mode), the calendar unchanged since the previous run, so
    both read their posts from the snapshot and the difference is the view's own work: cards laid
    out and escaped, the page written. Shown, not judged: a year of a 10,000-event calendar is an
    extreme; the coordinator's preview is a month."""
    size = SMOKE_SIZE if smoke else FULL_SIZE
    repeats = 1 if smoke else 3
    cal = synth.scale_calendar(work / f"views-{size}", size)
    cli = proc.campaigner_argv()
    site = work / "site"
    commands = {
        "preview": cli + ["preview", "--calendar", str(cal.path), "--days", "365", "--now", synth.SCALE_NOW, "--out", str(site)],
        "plan": cli + ["plan", "--calendar", str(cal.path), "--days", "365", "--json", "--now", synth.SCALE_NOW],
    }
    samples = proc.interleaved(commands, repeats, env=env, cwd=work, warmup=1)
    posts = re.search(r": (\d+) post\(s\)", samples["preview"].runs[0].stdout)
    count = int(posts.group(1)) if posts else None
    sec = f"5. Views of a large calendar (median of {repeats} runs, calendar unchanged since the last run)"
    what = f"{size:,} events, 365 days ({count:,} posts)" if count is not None else f"{size:,} events, 365 days"
    page = site / "index.html"
    report.add(
        Figure(sec, f"preview, {what}: wall", samples["preview"].wall, "s", smoke=smoke,
               note=f"CPU {samples['preview'].cpu:.2f} s; page {page.stat().st_size / 2**20:.1f} MiB" if page.exists() else ""),
        Figure(sec, f"preview, {what}: peak memory", samples["preview"].peak_rss_max / 2**20, "MiB", smoke=smoke,
               note="the page is written as it is rendered, not held in memory"),
        Figure(sec, "  plan --json, the same window: wall", samples["plan"].wall, "s", smoke=smoke, note="for comparison"),
    )
    report.details["views"] = {"size": size, "posts": count, "preview": samples["preview"].as_json(), "plan": samples["plan"].as_json()}
