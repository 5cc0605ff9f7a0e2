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
    (judged), and of 3 first runs after an edit, each with no snapshot (shown); 1 of each in smoke
    mode. The judged runs of all sizes take turns in the same rounds, so the 20,000 / 10,000 ratio
    is the median of ratios taken within a round, as the start-up ratios are."""
    sizes = SMOKE_SIZES if smoke else FULL_SIZES
    small, mid, large = sizes
    repeats, cold_repeats = (1, 1) if smoke else (5, 3)
    cli = proc.campaigner_argv()
    sec = (f"2. Planning at scale (median of {repeats} runs, calendar unchanged since the last run; "
           f"plan renders the next 365 days, validate each event once)")
    details = {"mix": f"per {sum(synth.MIX.values())} events: {synth.MIX['monthly']} monthly, {synth.MIX['yearly']} yearly, {synth.MIX['none']} one-off "
                      "(one-off dates spread over 2020-2029); a quarter on X only, a quarter on Facebook only, half on both; "
                      "two languages (km, en) per account", "now": synth.SCALE_NOW, "sizes": {}}
    calendars = {n: synth.scale_calendar(work / f"scale-{n}", n) for n in sizes}
    commands = {}
    for n, cal in calendars.items():
        commands[("plan", n)] = cli + ["plan", "--calendar", str(cal.path), "--days", "365", "--json", "--now", synth.SCALE_NOW]
        commands[("validate", n)] = cli + ["validate", "--calendar", str(cal.path), "--now", synth.SCALE_NOW]
    cold = {}
    for n, cal in calendars.items():
        cold_cache = work / f"cold-snapshots-{n}"
        mine = {name: argv for (name, size), argv in commands.items() if size == n}
        for name, sample in proc.interleaved(mine, cold_repeats, env={**env, "CAMPAIGNER_CACHE_DIR": str(cold_cache)}, cwd=cal.path.parent,
                                             warmup=1 if n == small and not smoke else 0,
                                             before={name: proc.emptied(cold_cache) for name in mine}).items():
            cold[(name, n)] = sample
    # One unrecorded round fills each calendar's snapshot, as the previous cron or plan run would have.
    warm = {key: sample for key, sample in zip(commands, proc.interleaved({f"{c} {n}": argv for (c, n), argv in commands.items()},
                                                                           repeats, env=env, cwd=work, warmup=1).values())}
    for n, cal in calendars.items():
        plan_posts = len(json.loads(warm[("plan", n)].runs[0].stdout))
        match = re.search(r"(\d+) posts rendered", warm[("validate", n)].runs[0].stdout)
        validate_posts = int(match.group(1)) if match else None
        details["sizes"][n] = {"calendar_mib": round(cal.path.stat().st_size / 2**20, 2), "by_repeat": cal.by_repeat, "plan_posts": plan_posts,
                               "validate_posts": validate_posts, "plan": warm[("plan", n)].as_json(), "validate": warm[("validate", n)].as_json(),
                               "plan_first_run_after_edit": cold[("plan", n)].as_json(),
                               "validate_first_run_after_edit": cold[("validate", n)].as_json()}
        judged = n == mid
        for name, posts in (("plan", plan_posts), ("validate", validate_posts)):
            sample, first = warm[(name, n)], cold[(name, n)]
            what = f"{name}, {n:,} events ({posts:,} posts)"
            report.add(
                Figure(sec, f"{what}: wall", sample.wall, "s", TARGET_WALL_S if judged else None, smoke=smoke,
                       note=f"runs {min(r.wall for r in sample.runs):.2f}-{max(r.wall for r in sample.runs):.2f} s; CPU {sample.cpu:.2f} s"),
                Figure(sec, f"  {what}: first run after an edit (no snapshot): wall", first.wall, "s",
                       note=f"median of {len(first.runs)}: load, render and write the snapshot; not judged"),
                Figure(sec, f"{what}: peak memory", max(sample.peak_rss_max, first.peak_rss_max) / 2**20, "MiB",
                       TARGET_PEAK_MIB if judged else None, smoke=smoke,
                       note="largest peak RSS of any run, first runs after an edit included"),
            )
    for name in ("plan", "validate"):
        report.add(Figure(sec, f"{name}: {large:,} / {mid:,} events time ratio", warm[(name, large)].ratio_to(warm[(name, mid)]), "ratio",
                          TARGET_LINEAR, smoke=smoke, note="median of the ratios within each round"),
                   Figure(sec, f"  {name}: the same for first runs after an edit", cold[(name, large)].wall / cold[(name, mid)].wall, "ratio",
                          note="ratio of the medians; not judged"))
    report.details["scale"] = details
