"""Figure 1: start-up of `--help`, `plan` and `validate` against bare imports, and what they import."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from benchmarks import proc
from benchmarks.figures import Figure, Report

NOW = "2026-07-01T08:00"
# Packages no start-up path may import: the platform SDKs, HTTP, feeds, SQLAlchemy and database drivers
# (sqlite3, the embedded default ledger, is allowed).
FORBIDDEN = ("tweepy", "facebook", "requests", "requests_oauthlib", "oauthlib", "urllib3", "feedparser", "mastodon", "atproto",
             "sqlalchemy", "psycopg", "psycopg2", "pymysql", "MySQLdb", "asyncpg")
BASE_TYPER = "import typer"
BASE_FULL = "import typer, yaml, jinja2, rich"


def calendar_folder(project: Path, work: Path, env: dict[str, str], report: Report) -> Path:
    """A copy of the shipped calendar (calendar.yaml, facts.yaml, templates, media) if it validates, else the test fixture."""
    shipped = project / "calendar.yaml"
    if shipped.is_file() and (project / "templates").is_dir():
        dest = work / "shipped"
        dest.mkdir(parents=True)
        shutil.copy(shipped, dest / "calendar.yaml")
        if (project / "facts.yaml").is_file():
            shutil.copy(project / "facts.yaml", dest / "facts.yaml")
        for name in ("templates", "media"):
            if (project / name).is_dir():
                shutil.copytree(project / name, dest / name)
        check = proc.run(proc.campaigner_argv() + ["validate", "--calendar", str(dest / "calendar.yaml"), "--now", NOW], env=env, cwd=dest)
        if check.returncode == 0:
            report.details["startup_calendar"] = "shipped calendar.yaml (copied with facts.yaml, templates/ and media/)"
            return dest / "calendar.yaml"
        first = (check.stderr.strip().splitlines() or ["?"])[0]
        report.notes.append(f"start-up: the shipped calendar.yaml does not validate (exit {check.returncode}: {first}); "
                            "measured on tests/fixtures/good/calendar.yaml instead")
    else:
        report.notes.append("start-up: no shipped calendar.yaml yet; measured on tests/fixtures/good/calendar.yaml instead")
    dest = work / "fixture"
    shutil.copytree(project / "tests" / "fixtures" / "good", dest)
    report.details["startup_calendar"] = "tests/fixtures/good/calendar.yaml"
    return dest / "calendar.yaml"


def fresh_install(project: Path, work: Path) -> Path | None:
    """A new virtual environment made as the README says (`pip install -e .`), on a copy of the
    project without bytecode; its bin/ folder, or None when pip cannot install (offline)."""
    src = work / "fresh" / "src"
    shutil.copytree(project, src, ignore=shutil.ignore_patterns(".git", ".venv", "venv", "__pycache__", "*.pyc", ".campaigner",
                                                                 "results", "*.egg-info", ".mypy_cache", ".ruff_cache"))
    venv = work / "fresh" / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "-e", str(src)], capture_output=True, text=True)
    return venv / "bin" if pip.returncode == 0 else None


def user_env() -> dict[str, str]:
    """The caller's environment as a user has it: bytecode written or not as the caller says
    (PYTHONDONTWRITEBYTECODE kept), no bytecode folder of the benchmark's, no campaigner settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAMPAIGNER_", "FAKE_"))}
    for name in ("PYTHONPYCACHEPREFIX", "PYTHONPROFILEIMPORTTIME"):
        env.pop(name, None)
    return env


_PROBE = """
import json, sys
sys.argv = ["campaigner", *sys.argv[1:]]
from campaigner.cli import main
try:
    main()
except SystemExit:
    pass
sys.stderr.write("\\n@@modules@@" + json.dumps(sorted(sys.modules)) + "\\n")
"""


def imported(argv: list[str], env: dict[str, str], cwd: Path) -> set[str]:
    """Top-level packages a command leaves in sys.modules (-X importtime would miss importlib.import_module)."""
    run = proc.run([sys.executable, "-c", _PROBE, *argv], env=env, cwd=cwd)
    marker = run.stderr.rfind("@@modules@@")
    if marker < 0:
        raise RuntimeError(f"no module list from {argv}: {run.stderr[-500:]}")
    return {name.split(".")[0] for name in json.loads(run.stderr[marker + len("@@modules@@"):].strip())}


def measure(report: Report, project: Path, work: Path, env: dict[str, str], *, smoke: bool) -> None:
    """31 interleaved rounds (1 in smoke mode): each ratio is the median of the per-round ratios; and the import check.

    `plan` and `validate` are measured as they run all day, with the calendar unchanged since the
    previous run (campaigner's snapshot cache warm), and as the first run after an edit (no
    snapshot: load, render, write the snapshot), which is shown but not judged.
    """
    cal = calendar_folder(project, work, env, report)
    cli = proc.campaigner_argv()
    py = [sys.executable, "-c"]
    plan = ["plan", "--calendar", str(cal), "--now", NOW]
    validate = ["validate", "--calendar", str(cal), "--now", NOW]
    commands = {
        "help": cli + ["--help"],
        "typer": py + [BASE_TYPER],
        "plan": cli + plan,
        "validate": cli + validate,
        "full": py + [BASE_FULL],
        "plan-cold": cli + plan,
        "validate-cold": cli + validate,
    }
    # What a user runs: the console script of a fresh `pip install -e .`, in the caller's own
    # environment. An editable install has no bytecode for campaigner's modules until a run writes
    # it, and none ever under PYTHONDONTWRITEBYTECODE=1 (set on this project's CI machines): every
    # module --help imports is then compiled on each run, which the figures above (bytecode cached
    # in a folder of the benchmark's) do not show. Not in smoke mode: the install takes ~20 s.
    fresh = None if smoke else fresh_install(project, work)
    fresh_env = user_env()
    if fresh is not None:
        commands["help-fresh"] = [str(fresh / "campaigner"), "--help"]
        commands["typer-fresh"] = [str(fresh / "python"), "-c", BASE_TYPER]
    elif not smoke:
        report.notes.append("start-up: 'pip install -e .' into a fresh venv failed (offline?); the fresh-install --help figure is missing")
    cold_cache = work / "cold-snapshots"
    cold_env = {**env, "CAMPAIGNER_CACHE_DIR": str(cold_cache)}
    repeats = 1 if smoke else 31
    samples = proc.interleaved(commands, repeats, env=env, cwd=cal.parent, warmup=0 if smoke else 1,
                               envs={"plan-cold": cold_env, "validate-cold": cold_env, "help-fresh": fresh_env, "typer-fresh": fresh_env},
                               before={"plan-cold": proc.emptied(cold_cache), "validate-cold": proc.emptied(cold_cache)})
    s = {k: v.wall for k, v in samples.items()}
    sec = "1. Start-up (whole processes; median of %d rounds, each ratio taken within a round)" % repeats
    report.add(
        Figure(sec, "campaigner --help / python -c 'import typer'", samples["help"].ratio_to(samples["typer"]), "ratio", 1.3, smoke=smoke,
               note=f"medians {s['help'] * 1000:.0f} ms / {s['typer'] * 1000:.0f} ms"),
        Figure(sec, f"campaigner plan / python -c '{BASE_FULL}'", samples["plan"].ratio_to(samples["full"]), "ratio", 1.3, smoke=smoke,
               note=f"medians {s['plan'] * 1000:.0f} ms / {s['full'] * 1000:.0f} ms; calendar unchanged since the last run"),
        Figure(sec, f"campaigner validate / python -c '{BASE_FULL}'", samples["validate"].ratio_to(samples["full"]), "ratio", 1.3, smoke=smoke,
               note=f"medians {s['validate'] * 1000:.0f} ms / {s['full'] * 1000:.0f} ms; calendar unchanged since the last run"),
        Figure(sec, "  plan, first run after an edit (no snapshot) / the same baseline", samples["plan-cold"].ratio_to(samples["full"]), "ratio",
               note=f"median {s['plan-cold'] * 1000:.0f} ms: loads, renders and writes the snapshot; not judged"),
        Figure(sec, "  validate, first run after an edit (no snapshot) / the same baseline", samples["validate-cold"].ratio_to(samples["full"]), "ratio",
               note=f"median {s['validate-cold'] * 1000:.0f} ms; not judged"),
    )
    if fresh is not None:
        bytecode = "not written: PYTHONDONTWRITEBYTECODE is set" if fresh_env.get("PYTHONDONTWRITEBYTECODE") else "written by the first run"
        report.add(Figure(sec, "campaigner --help / python -c 'import typer', fresh 'pip install -e .' venv, the caller's environment",
                          samples["help-fresh"].ratio_to(samples["typer-fresh"]), "ratio", 1.3,
                          note=f"medians {s['help-fresh'] * 1000:.0f} ms / {s['typer-fresh'] * 1000:.0f} ms; campaigner's bytecode {bytecode}"))
    for name in ("help", "plan", "validate", "typer", "full"):
        label = {"help": "campaigner --help", "plan": "campaigner plan", "validate": "campaigner validate",
                 "typer": f"python -c '{BASE_TYPER}'", "full": f"python -c '{BASE_FULL}'"}[name]
        report.add(Figure(sec, f"  {label}: wall", s[name] * 1000, "ms", note=f"peak {samples[name].peak_rss / 2**20:.0f} MiB"))

    found = {}
    for name, argv in (("--help", ["--help"]), ("plan", ["plan", "--calendar", str(cal), "--now", NOW]),
                       ("validate", ["validate", "--calendar", str(cal), "--now", NOW])):
        found[name] = sorted(imported(argv, env, cal.parent) & set(FORBIDDEN))
    offenders = sorted({f"{cmd}: {m}" for cmd, mods in found.items() for m in mods})
    report.add(Figure(sec, "SDK/HTTP/DB imports on --help, plan, validate", ", ".join(offenders) if offenders else "none", "text", "none", op="==",
                      note="checked in sys.modules after each command; forbidden: " + ", ".join(FORBIDDEN)))
    report.details["startup"] = {
        "calendar": report.details.get("startup_calendar"),
        "commands": {k: list(v) for k, v in commands.items()},
        "samples": {k: v.as_json() for k, v in samples.items()},
        "forbidden_imports": found,
    }
