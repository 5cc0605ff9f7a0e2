"""The machine the figures came from, and the environment every measured child runs in."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path


def describe() -> dict[str, object]:
    """CPU model, cores, memory, Python, OS, and the versions of the libraries on the measured paths."""
    from importlib import metadata

    versions = {}
    for dist in ("typer", "rich", "pyyaml", "jinja2", "babel", "regex", "pydantic", "tweepy", "facebook-sdk", "requests"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    try:
        import sqlite3

        sqlite_version = sqlite3.sqlite_version
    except ImportError:
        sqlite_version = None
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory_gib": _memory_gib(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        "sqlite": sqlite_version,
        "libraries": versions,
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def child_env(pycache: Path, **extra: str) -> dict[str, str]:
    """The environment of every measured process.

    No CAMPAIGNER_* or FAKE_* settings leak in from the caller. Bytecode is cached (in `pycache`,
    outside the source tree) even when the caller set PYTHONDONTWRITEBYTECODE: these figures are
    campaigner's own work, as a run finds it once bytecode exists (any install after its first run,
    without that variable). Every child, baselines included, gets the same treatment. What a user
    of an editable install under PYTHONDONTWRITEBYTECODE sees is measured apart (startup.fresh_install).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAMPAIGNER_", "FAKE_", "PYTHONDONTWRITEBYTECODE"))}
    env.setdefault("PYTHONPYCACHEPREFIX", str(pycache))
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    env.update(extra)
    return env


def interpreter() -> str:
    """The Python every baseline runs: the one campaigner is installed in."""
    return sys.executable
