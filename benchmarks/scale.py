"""Figure 2: `plan --days 365 --json` and `validate` on calendars of 1,000, 10,000 and 20,000 events."""

from __future__ import annotations

import json
import re
from pathlib import Path

from benchmarks import proc, synth
from benchmarks.figures import Figure, Report

FULL_SIZES = (1_000, 10_000, 20_000)
SMOKE_SIZES = (50, 100, 200)
TARGET_WALL_S, TARGET_PEAK_MIB, TARGET_LINEAR = 2.0, 150, 2.2


def measure(report: Report, work: Path, env: dict[str, str], *, smoke: bool) -> None:
    """Per size and command: the median of 5 runs with the calendar unchanged since the previous run
    (judged), and of 3 first runs after an edit, each with no snapshot (shown); 1 of each in smoke mode."""
    sizes = SMOKE_SIZES if smoke else FULL_SIZES
    small, mid, large = sizes
    repeats, cold_repeats = (1, 1) if smoke else (5, 3)
    cli = proc.campaigner_argv()
    sec = (f"2. Planning at scale (median of {repeats} runs, calendar unchanged since the last run; "
           f"plan renders the next 365 days, validate each event once)")
    details = {"mix": f"per {sum(synth.MIX.values())} events: {synth.MIX['monthly']} monthly, {synth.MIX['yearly']} yearly, {synth.MIX['none']} one-off "
                      "(one-off dates spread over 2020-2029); a quarter on X only, a quarter on Facebook only, half on both; "
                      "two languages (km, en) per account", "now": synth.SCALE_NOW, "sizes": {}}
    walls: dict[tuple[str, int], float] = {}
    cold_walls: dict[tuple[str, int], float] = {}
    for n in sizes:
        cal = synth.scale_calendar(work / f"scale-{n}", n)
        commands = {
            "plan": cli + ["plan", "--calendar", str(cal.path), "--days", "365", "--json", "--now", synth.SCALE_NOW],
            "validate": cli + ["validate", "--calendar", str(cal.path), "--now", synth.SCALE_NOW],
        }
        cold_cache = work / f"cold-snapshots-{n}"
        cold_env = {**env, "CAMPAIGNER_CACHE_DIR": str(cold_cache)}
        cold = proc.interleaved(commands, cold_repeats, env=cold_env, cwd=cal.path.parent, warmup=1 if n == small and not smoke else 0,
                                before={name: proc.emptied(cold_cache) for name in commands})
        # One unrecorded run of each fills the snapshot, as the previous cron or plan run would have.
        samples = proc.interleaved(commands, repeats, env=env, cwd=cal.path.parent, warmup=1)
        plan_posts = len(json.loads(samples["plan"].runs[0].stdout))
        match = re.search(r"(\d+) posts rendered", samples["validate"].runs[0].stdout)
        validate_posts = int(match.group(1)) if match else None
        size_mib = cal.path.stat().st_size / 2**20
        details["sizes"][n] = {"calendar_mib": round(size_mib, 2), "by_repeat": cal.by_repeat, "plan_posts": plan_posts,
                               "validate_posts": validate_posts, "plan": samples["plan"].as_json(), "validate": samples["validate"].as_json(),
                               "plan_first_run_after_edit": cold["plan"].as_json(), "validate_first_run_after_edit": cold["validate"].as_json()}
        judged = n == mid
        for name, posts in (("plan", plan_posts), ("validate", validate_posts)):
            sample, first = samples[name], cold[name]
            walls[(name, n)], cold_walls[(name, n)] = sample.wall, first.wall
            what = f"{name}, {n:,} events ({posts:,} posts)"
            peak = max(sample.peak_rss_max, first.peak_rss_max)
            report.add(
                Figure(sec, f"{what}: wall", sample.wall, "s", TARGET_WALL_S if judged else None, smoke=smoke,
                       note=f"runs {min(r.wall for r in sample.runs):.2f}-{max(r.wall for r in sample.runs):.2f} s; CPU {sample.cpu:.2f} s"),
                Figure(sec, f"  {what}: first run after an edit (no snapshot): wall", first.wall, "s",
                       note=f"median of {len(first.runs)}: load, render and write the snapshot; not judged"),
                Figure(sec, f"{what}: peak memory", peak / 2**20, "MiB", TARGET_PEAK_MIB if judged else None, smoke=smoke,
                       note="largest peak RSS of any run, first runs after an edit included"),
            )
    for name in ("plan", "validate"):
        report.add(Figure(sec, f"{name}: {large:,} / {mid:,} events time ratio", walls[(name, large)] / walls[(name, mid)], "ratio",
                          TARGET_LINEAR, smoke=smoke),
                   Figure(sec, f"  {name}: the same for first runs after an edit", cold_walls[(name, large)] / cold_walls[(name, mid)], "ratio",
                          note="not judged"))
    report.details["scale"] = details
