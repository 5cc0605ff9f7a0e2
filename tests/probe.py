"""Run the CLI in a fresh interpreter and report which modules it imported."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.childenv import child_env

_PROBE = textwrap.dedent("""
    import json, sys
    out, sys.argv = sys.argv[1], ["campaigner", *sys.argv[2:]]
    from campaigner.cli import main
    try:
        main()
    except SystemExit as exc:
        code = exc.code
    else:
        code = 0
    with open(out, "w") as fh:
        json.dump({"code": code, "modules": sorted(sys.modules)}, fh)
""")


def imported_modules(args: list[str], calendar: Path, cwd: Path) -> tuple[int, list[str], str]:
    """(exit code, every module imported, stderr) of `campaigner ARGS` on a calendar, no CAMPAIGNER_* from outside."""
    out = cwd / "modules.json"
    env = child_env()
    env["CAMPAIGNER_CALENDAR"] = str(calendar)
    proc = subprocess.run([sys.executable, "-c", _PROBE, str(out), *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=60)
    seen = json.loads(out.read_text())
    return seen["code"], seen["modules"], proc.stderr
