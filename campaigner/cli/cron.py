"""`campaigner cron`: a ready crontab line and a systemd service + timer, with absolute paths."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from campaigner.cli._options import CalendarOpt


def cron(
    calendar: CalendarOpt = Path("calendar.yaml"),
    every: Annotated[int, typer.Option("--every", min=1, max=59, help="Minutes between runs.")] = 5,
) -> None:
    """Print how to run 'campaigner post' every few minutes (cron, or a systemd timer)."""
    cal = calendar.resolve()
    folder = cal.parent
    log = folder / ".campaigner" / "post.log"
    # This installation exactly (cron's PATH is minimal and may find another one, or none).
    script = Path(sys.executable).parent / "campaigner"
    argv = [str(script), "post"] if script.is_file() else [sys.executable, "-m", "campaigner", "post"]
    command = shlex.join(argv) + f" --calendar {shlex.quote(str(cal))}"
    typer.echo(f"""# campaigner publishes only when something runs it. Posts not sent within their grace
# (default 6h) are marked missed and never posted late, so schedule this now.
#
# Option 1: cron. Run 'crontab -e' and add this line (every {every} minutes; output appended to a log):
*/{every} * * * * cd {shlex.quote(str(folder))} && mkdir -p .campaigner && {command} >> {shlex.quote(str(log))} 2>&1
#
# cron mails nothing here because the output goes to the log; read it, or run 'campaigner status'.
# Credentials: put them in {folder / '.env'} (chmod 600), not in the crontab.
#
# Option 2: systemd. Save these two files, then: systemctl --user daemon-reload && systemctl --user enable --now campaigner.timer
# (and once: loginctl enable-linger "$USER", so the timer runs while you are logged out)
# ~/.config/systemd/user/campaigner.service
[Unit]
Description=campaigner: publish due campaign posts

[Service]
Type=oneshot
WorkingDirectory={folder}
ExecStart={command}
# journalctl --user -u campaigner shows the output.

# ~/.config/systemd/user/campaigner.timer
[Unit]
Description=Run campaigner post every {every} minutes

[Timer]
OnCalendar=*:0/{every}
Persistent=true

[Install]
WantedBy=timers.target""")
