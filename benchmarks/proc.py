"""Run whole processes and measure them: wall time (perf_counter) and peak memory (wait4's rusage)."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

# ru_maxrss is KiB on Linux and bytes on macOS.
_RSS_UNIT = 1 if sys.platform == "darwin" else 1024


@dataclass(frozen=True)
class Run:
    """One finished process."""

    argv: tuple[str, ...]
    wall: float  # seconds, from just before fork to the child's exit being collected
    peak_rss: int  # bytes, the child's own peak resident set (not its parent's, not its siblings')
    cpu: float  # seconds of user + system CPU the child used
    returncode: int
    stdout: str
    stderr: str

    def check(self, *ok: int) -> "Run":
        """Raise with the child's stderr unless it exited with one of `ok` (default 0)."""
        if self.returncode not in (ok or (0,)):
            tail = "\n".join(self.stderr.strip().splitlines()[-15:])
            raise RuntimeError(f"{' '.join(self.argv)} exited {self.returncode}:\n{tail}")
        return self


def campaigner_argv() -> list[str]:
    """The installed console script: next to this interpreter, else on PATH, else `python -m campaigner`."""
    beside = Path(sys.executable).with_name("campaigner")
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    found = shutil.which("campaigner")
    return [found] if found else [sys.executable, "-m", "campaigner"]


def spawn(argv: Sequence[str], *, env: dict[str, str] | None = None, cwd: Path | str | None = None) -> "Started":
    """Start a process with its output going to temporary files (no pipe can fill up and stall it)."""
    return Started(argv, env=env, cwd=cwd)


# Each measured command runs under this small launcher, which forks, execs the command and reports
# its wall time and rusage. Linux keeps a process's peak RSS across exec, and a child that Popen
# forks (or vforks) from this benchmark starts with this process's peak: a `plan` measured directly
# "peaked" at whatever the benchmark itself held (up to 150 MiB here, generating 20,000-event
# calendars and reading their plans). The launcher is a fresh, small interpreter (-S: no site), so
# what a command inherits is its ~10 MiB, less than any command measured.
_LAUNCHER = """
import json, os, sys, time
report, argv = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(argv[0], argv)
    except OSError as exc:
        sys.stderr.write(f"cannot run {argv[0]}: {exc}\\n")
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
with open(report, "w") as fh:
    json.dump({"wall": wall, "maxrss": usage.ru_maxrss, "cpu": usage.ru_utime + usage.ru_stime,
               "code": os.waitstatus_to_exitcode(status)}, fh)
"""


class Started:
    """A started command (under the launcher); `finish()` waits for it and reads what the launcher measured."""

    def __init__(self, argv: Sequence[str], *, env: dict[str, str] | None, cwd: Path | str | None):
        self.argv = tuple(str(a) for a in argv)
        self._out = tempfile.TemporaryFile()
        self._err = tempfile.TemporaryFile()
        fd, self._report = tempfile.mkstemp(prefix="bench-run-", suffix=".json")
        os.close(fd)
        self.start = time.perf_counter()
        self.proc = subprocess.Popen([sys.executable, "-S", "-c", _LAUNCHER, self._report, *self.argv], env=env, cwd=cwd,
                                     stdin=subprocess.DEVNULL, stdout=self._out, stderr=self._err)

    def finish(self) -> Run:
        """Wait for the command; wall time is the launcher's, from its fork to collecting the exit."""
        self.proc.wait()
        try:
            measured = json.loads(Path(self._report).read_text() or "{}")
        finally:
            os.unlink(self._report)
        out, err = (self._read(f) for f in (self._out, self._err))
        if not measured:
            raise RuntimeError(f"the launcher did not run {' '.join(self.argv)} (exit {self.proc.returncode}): {err[-500:]}")
        return Run(self.argv, measured["wall"], measured["maxrss"] * _RSS_UNIT, measured["cpu"], measured["code"], out, err)

    @staticmethod
    def _read(f) -> str:
        f.seek(0)
        data = f.read().decode("utf-8", "replace")
        f.close()
        return data


def run(argv: Sequence[str], *, env: dict[str, str] | None = None, cwd: Path | str | None = None) -> Run:
    """Run one process to its end."""
    return spawn(argv, env=env, cwd=cwd).finish()


@dataclass(frozen=True)
class Sample:
    """Several runs of the same command: the median wall and the median of the peaks."""

    runs: tuple[Run, ...]

    @property
    def wall(self) -> float:
        """Median wall time, seconds."""
        return statistics.median(r.wall for r in self.runs)

    @property
    def peak_rss(self) -> int:
        """Median peak RSS, bytes (the max is in `peak_rss_max`)."""
        return int(statistics.median(r.peak_rss for r in self.runs))

    @property
    def peak_rss_max(self) -> int:
        """The largest peak RSS of any run, bytes."""
        return max(r.peak_rss for r in self.runs)

    @property
    def cpu(self) -> float:
        """Median user + system CPU time, seconds."""
        return statistics.median(r.cpu for r in self.runs)

    def ratio_to(self, other: "Sample") -> float:
        """The median of the run-by-run ratios to a sample taken in the same rounds (interleaved):
        each pair ran back to back, so a slow spell of a shared machine weighs on both."""
        return statistics.median(a.wall / b.wall for a, b in zip(self.runs, other.runs))

    def as_json(self) -> dict:
        """Median, spread and every run's figures."""
        walls = sorted(r.wall for r in self.runs)
        return {
            "wall_s": round(self.wall, 4), "wall_min_s": round(walls[0], 4), "wall_max_s": round(walls[-1], 4),
            "cpu_s": round(self.cpu, 4),
            "peak_rss_mib": round(self.peak_rss / 2**20, 1), "peak_rss_max_mib": round(self.peak_rss_max / 2**20, 1),
            "runs": len(self.runs), "walls_s": [round(r.wall, 4) for r in self.runs],
        }


def interleaved(commands: dict[str, Sequence[str]], repeats: int, *, env: dict[str, str] | None = None,
                cwd: Path | str | None = None, ok: Sequence[int] = (0,), warmup: int = 1,
                envs: dict[str, dict[str, str]] | None = None, before: dict[str, Callable[[], None]] | None = None) -> dict[str, Sample]:
    """Run each command `repeats` times, taking turns (A B C A B C ...), so a noisy moment hits all of them.

    `warmup` unrecorded rounds first fill the OS file cache and the bytecode cache. `envs` gives a
    command an environment of its own; `before` runs a setup step (unmeasured) before each of its runs.
    """
    envs, before = envs or {}, before or {}

    def one(name: str, argv: Sequence[str]) -> Run:
        if name in before:
            before[name]()
        return run(argv, env=envs.get(name, env), cwd=cwd).check(*ok)

    for _ in range(warmup):
        for name, argv in commands.items():
            one(name, argv)
    runs: dict[str, list[Run]] = {name: [] for name in commands}
    for _ in range(repeats):
        for name, argv in commands.items():
            runs[name].append(one(name, argv))
    return {name: Sample(tuple(rs)) for name, rs in runs.items()}


def emptied(folder: Path) -> Callable[[], None]:
    """A `before` step that leaves `folder` empty: a run with no snapshot, as the first after an edit."""
    def empty() -> None:
        shutil.rmtree(folder, ignore_errors=True)
    return empty


def init_ledger(url: str) -> None:
    """Create a ledger at `url` (what `campaigner ledger init URL` does), outside any measured run."""
    from campaigner.ledger import open_ledger

    open_ledger(url, create=True).close()
