"""What the commands print that more than one of them prints: problems, run reports, posts, dry runs.

Everything goes through `_table.Out` (plain lines with optional ANSI styles): one printer, no rich
Console on any path. Secrets are scrubbed from every line that can carry a platform's words.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Iterable

import typer

from campaigner.credentials import redact

if TYPE_CHECKING:
    from campaigner.errors import Problem
    from campaigner.publish import RunReport
    from campaigner.render import Post


def error_lines(lines: Iterable[str]) -> None:
    """Problems go to stderr, one per line, secrets scrubbed."""
    for line in lines:
        sys.stderr.write(redact(line) + "\n")
    sys.stderr.flush()


def warnings(problems: list[Problem]) -> None:
    """The calendar's warnings, printed once per run to stderr (the session's on_warnings)."""
    error_lines(str(p) for p in problems)


def run_report(report: RunReport, as_json: bool, verbose: bool) -> None:
    """Cron-friendly: nothing on stdout when nothing happened; problems on stderr."""
    if as_json:
        import json

        typer.echo(redact(json.dumps([r.as_json() for r in report.results], ensure_ascii=False, indent=2)))
        return
    for r in report.results:
        if r.status == "published":
            typer.echo(f"published {r.id} {r.url}")
        elif r.status in ("waiting", "held"):
            if verbose:  # said at every run until it goes: cron mails only what changed
                typer.echo(f"{r.status} {r.id}: {r.error}")
        elif r.status == "skipped":  # a quiet window held it: recorded once, not a problem
            typer.echo(f"skipped {r.id}: {r.error}")
        else:
            sys.stderr.write(redact(f"{r.status} {r.id}: {r.error}") + "\n")
    for problem in report.account_problems:
        sys.stderr.write(redact(problem) + "\n")
    counts = report.counts()
    if report.interrupted is not None:
        import signal

        name = signal.Signals(report.interrupted).name
        sys.stderr.write(f"interrupted by {name}: {counts.get('published', 0)} published before stopping; the posts not yet claimed stay pending for the next run\n")
    if any(r.status != "held" for r in report.results) or verbose:
        summary = ", ".join(f"{counts.get(s, 0)} {s}" for s in ("published", "failed", "unknown", "missed", "skipped", "held") if counts.get(s) or s == "published")
        typer.echo(f"run {report.run_id}: {summary}" + (f"; {len(report.drafts)} draft(s) held" if report.drafts else ""))
    elif verbose:
        typer.echo("nothing due")


def dry_run(report: RunReport, as_json: bool, verbose: bool) -> None:
    """Every post `post` would send now, in full, with each request it would make; what would be missed."""
    from campaigner.cli._table import Out

    if as_json:
        import json

        rows = []
        for r in report.results:
            row = r.as_json()
            if r.post is not None:
                row.update(text=r.post.text, parts=list(r.post.parts), due=r.post.due.isoformat(), length=r.post.length, limit=r.post.limit)
            row["requests"] = [{"method": w.method, "url": w.url, "body": dict(w.body), "files": list(w.files)} for w in r.wire]
            rows.append(row)
        typer.echo(redact(json.dumps(rows, ensure_ascii=False, indent=2, default=str)))
        return
    out = Out()
    sends = [r for r in report.results if r.status == "would-send"]
    if not report.results and not report.drafts:
        if verbose:
            out.line("dry run: nothing due")
        return
    for r in sends:
        p = r.post
        assert p is not None
        out.line()
        out.line(f"== would send {r.id}  (due {p.due.strftime('%Y-%m-%d %H:%M %Z')}, {p.length}/{p.limit})", "bold")
        for i, part in enumerate(p.parts, 1):
            if len(p.parts) > 1:
                out.line(f"part {i}/{len(p.parts)}:")
            out.line(part)
        for w in r.wire:
            out.line(redact(f"-> {w}"), "dim")
    for r in report.results:
        if r.status != "would-send":
            out.line(redact(f"{'would become missed' if r.status == 'would-miss' else r.status}: {r.id} ({r.error})"))
    held = sum(r.status == "held" for r in report.results)
    for problem in report.account_problems:
        out.line(redact(problem))
    for p in report.drafts:
        out.line(f"held draft: {p.id} (approve it to publish)")
    out.line(f"dry run: {len(sends)} post(s) would be sent, {sum(r.status == 'would-miss' for r in report.results)} would become missed"
             + (f", {held} held by quiet windows" if held else "") + "; nothing was sent or recorded")


def posts(items: list[Post]) -> None:
    """Each rendered post under a rule with its id and length: what `condemn`, `praise` and `approve` show."""
    from campaigner.cli._table import Out

    out = Out()
    for p in items:
        title = f"{p.id}  {p.length}/{p.limit}" + ("" if p.fits else "  TOO LONG") + (f"  {len(p.parts)} parts" if len(p.parts) > 1 else "")
        out.rule(title)
        out.line(p.text)
