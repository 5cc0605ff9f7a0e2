"""A real terminal for tests: run a command in a tmux pane of a given width, read back the screen,
and ask the terminal itself how many cells each line takes.

The width oracle is the terminal, not our own counting: each captured line is written again in a
wide pane followed by a cursor position report request (ESC [ 6 n); tmux answers with the column
its cursor reached, which is where it put the line's last cell.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from tests.childenv import child_env

_MEASURE = textwrap.dedent(r"""
    import json, os, sys, termios, tty
    lines = json.load(open(sys.argv[1], encoding="utf-8"))
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    tty.setraw(fd)
    widths = []
    try:
        for line in lines:
            os.write(1, b"\r\x1b[2K" + line.encode("utf-8") + b"\x1b[6n")
            reply = b""
            while not reply.endswith(b"R"):
                reply += os.read(fd, 64)
            widths.append(int(reply[reply.rindex(b";") + 1:-1]) - 1)
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
    with open(sys.argv[2] + ".part", "w") as fh:
        json.dump(widths, fh)
    os.replace(sys.argv[2] + ".part", sys.argv[2])
""")


def tmux_or_skip() -> str:
    """The tmux executable; under CI=true a missing tmux fails instead of skipping (.ci/run installs it)."""
    exe = shutil.which("tmux")
    if exe is None:
        if os.environ.get("CI") == "true":
            pytest.fail("tmux is not installed: .ci/run installs it (apt-get install tmux)")
        pytest.skip("tmux is not installed (apt-get install tmux): the real-terminal checks need it")
    return exe


class Terminal:
    """A private tmux server (its own socket) for one test."""

    def __init__(self, folder: Path):
        self.exe = tmux_or_skip()
        self.folder = folder
        self.socket = f"campaigner-test-{uuid.uuid4().hex[:12]}"
        # A UTF-8 locale: tmux measures characters with the C library's wcwidth(), which needs one.
        self.env = child_env(LC_ALL="C.UTF-8", LANG="C.UTF-8")
        self.env.pop("COLUMNS", None)
        self.env.pop("LINES", None)
        # One server for the whole test: a session that outlives the others keeps it up, so a new
        # session never races a server that is exiting because its last session ended.
        self.tmux("new-session", "-d", "-s", "keep", "sleep", "3600")

    def tmux(self, *args: str) -> str:
        """One tmux command against this server."""
        proc = subprocess.run([self.exe, "-u", "-L", self.socket, "-f", "/dev/null", *args], capture_output=True,
                              text=True, encoding="utf-8", env=self.env, timeout=30)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    def run(self, argv: list[str], width: int, height: int = 100, timeout: float = 60) -> list[str]:
        """Run argv in a pane `width` columns wide and return the screen's lines (wrapped lines joined)."""
        name = f"run-{uuid.uuid4().hex[:8]}"
        marker = f"__exit_{name}__"
        script = f"{shlex.join(argv)}; printf '\\n{marker} %s\\n' $?; exec sleep 600"
        self.tmux("new-session", "-d", "-s", name, "-x", str(width), "-y", str(height), "-c", str(self.folder), "sh", "-c", script)
        deadline = time.monotonic() + timeout
        while True:
            screen = self.tmux("capture-pane", "-p", "-J", "-S", "-", "-t", name).splitlines()
            done = [line for line in screen if line.startswith(marker)]
            if done:
                break
            assert time.monotonic() < deadline, "\n".join(screen)
            time.sleep(0.1)
        assert done[0].split()[-1] == "0", "\n".join(screen)
        self.tmux("kill-session", "-t", name)
        return screen[:screen.index(done[0])]

    def widths(self, lines: list[str]) -> list[int]:
        """How many cells the terminal gives each line (written alone in a pane wider than any of them)."""
        name = f"measure-{uuid.uuid4().hex[:8]}"
        given, answer = self.folder / f"{name}.json", self.folder / f"{name}.out.json"
        given.write_text(json.dumps(lines), encoding="utf-8")
        width = max([len(line) * 2 for line in lines] + [20]) + 10
        self.tmux("new-session", "-d", "-s", name, "-x", str(width), "-y", "5", sys.executable, "-c", _MEASURE, str(given), str(answer))
        deadline = time.monotonic() + 60
        while not answer.exists():
            assert time.monotonic() < deadline, "the terminal did not answer the cursor position requests"
            time.sleep(0.05)
        return json.loads(answer.read_text())

    def close(self) -> None:
        """Stop this test's tmux server."""
        subprocess.run([self.exe, "-L", self.socket, "kill-server"], capture_output=True, env=self.env, timeout=30)
