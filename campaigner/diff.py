"""`campaigner diff`: which posts a change to the calendar adds, removes or alters, against a git revision.

The base version (calendar, rapid.yaml, templates, and the media, journalist and facts files they name) is
read with `git show REF:path` into a temporary folder and loaded like any calendar; both versions are
expanded over the same window and compared by post id. A pull-request check can then show reviewers
exactly what their approval will publish.
"""

from __future__ import annotations

import posixpath
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from campaigner.calendar import RAPID_FILE, Calendar, load_calendar
from campaigner.errors import ConfigError, Problem, display_path
from campaigner.render import Post, Renderer, expand


@dataclass
class DiffReport:
    """Posts only in the new version, only in the base, and in both with a different text, time or draft state."""

    base: str
    start: date
    end: date
    added: list[Post] = field(default_factory=list)
    removed: list[Post] = field(default_factory=list)
    changed: list[tuple[Post, Post]] = field(default_factory=list)  # (old, new)

    @property
    def differs(self) -> bool:
        """True when any post is added, removed or changed."""
        return bool(self.added or self.removed or self.changed)

    def as_json(self) -> dict[str, Any]:
        """The stable JSON shape."""
        return {"base": self.base, "from": self.start.isoformat(), "to": self.end.isoformat(),
                "added": [post_json(p) for p in self.added], "removed": [post_json(p) for p in self.removed],
                "changed": [{"id": new.id, "old": post_json(old), "new": post_json(new)} for old, new in self.changed]}


def post_json(p: Post) -> dict[str, Any]:
    """What a reviewer needs to see of one post."""
    return {"id": p.id, "event": p.event.id, "account": p.account, "platform": p.platform, "language": p.language,
            "due": p.due.isoformat(), "draft": p.draft, "text": p.text, "length": p.length, "limit": p.limit}


def compare(old: list[Post], new: list[Post], base: str, start: date, end: date) -> DiffReport:
    """Match posts by id; a post changed when its text, due time or draft state differ."""
    before = {p.id: p for p in old}
    after = {p.id: p for p in new}
    report = DiffReport(base, start, end)
    report.added = [p for p in new if p.id not in before]
    report.removed = [p for p in old if p.id not in after]
    report.changed = [(before[p.id], p) for p in new if p.id in before and _signature(before[p.id]) != _signature(p)]
    return report


def _signature(p: Post) -> tuple:
    return (p.text, p.due, p.draft)


def diff(calendar_path: Path, current: Calendar, ref: str, start: date, end: date, *, renderer: Renderer | None = None) -> DiffReport:
    """Compare the posts of `current` with those of the calendar as it was at `ref`, for local dates in [start, end]."""
    new_posts = expand(current, start, end, renderer=renderer)
    with tempfile.TemporaryDirectory(prefix="campaigner-diff-") as tmp:
        base_path = checkout(calendar_path, ref, Path(tmp))
        if base_path is None:
            old_posts: list[Post] = []
        else:
            try:
                base = load_calendar(base_path)
                old_posts = expand(base, start, end)
            except ConfigError as exc:
                raise ConfigError([_at_ref(p, Path(tmp), ref) for p in exc.problems]) from None
    return compare(old_posts, new_posts, ref, start, end)


def _at_ref(p: Problem, tmp: Path, ref: str) -> Problem:
    file = p.file
    for prefix in (str(tmp.resolve()), str(tmp)):
        if file.startswith(prefix):
            file = f"{ref}:" + file[len(prefix):].lstrip("/")
    return Problem(file, p.line, p.col, f"(in the base version) {p.message}", p.severity)


def _git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, timeout=60)
    except FileNotFoundError:
        raise ConfigError("campaigner diff needs git, and git is not installed") from None
    if check and proc.returncode != 0:
        raise ConfigError(f"git {' '.join(args)}: {proc.stderr.decode('utf-8', 'replace').strip()}")
    return proc


def checkout(calendar_path: Path, ref: str, dest: Path) -> Path | None:
    """Write the calendar's files as of `ref` into `dest`; the base calendar's path, or None if it did not exist then."""
    folder = Path(calendar_path).resolve().parent
    top = _git(folder, "rev-parse", "--show-toplevel", check=False)
    if top.returncode != 0:
        raise ConfigError(f"{display_path(folder)} is not in a git repository: campaigner diff compares against a git revision")
    root = Path(top.stdout.decode().strip()).resolve()
    if _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False).returncode != 0:
        raise ConfigError(f"unknown git revision '{ref}' (in CI, fetch it first, e.g. git fetch origin main)")
    prefix = folder.relative_to(root).as_posix()
    prefix = "" if prefix == "." else prefix + "/"

    def show(rel: str) -> bytes | None:
        proc = _git(root, "show", f"{ref}:{prefix}{rel}", check=False)
        return proc.stdout if proc.returncode == 0 else None

    def put(rel: str, data: bytes) -> None:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)

    name = Path(calendar_path).name
    text = show(name)
    if text is None:
        return None
    put(name, text)
    listing = _git(root, "ls-tree", "-r", "--name-only", "-z", ref, "--", prefix + "templates").stdout.decode("utf-8")
    for path in filter(None, listing.split("\0")):
        data = show(path[len(prefix):])
        if data is not None:
            put(path[len(prefix):], data)
    rapid = show(RAPID_FILE)
    if rapid is not None:
        put(RAPID_FILE, rapid)
    for rel in _named_files([text, rapid]):
        data = show(rel)
        if data is not None:
            put(rel, data)
    return dest / name


def _named_files(docs: list[bytes | None]) -> set[str]:
    """Media, journalist CSV and facts files the calendar names (the loader checks that they exist)."""
    import yaml

    from campaigner.calendar.loader import contact_files

    out: set[str] = set()
    for raw in docs:
        try:
            doc = yaml.safe_load(raw.decode("utf-8")) if raw else None
        except (yaml.YAMLError, UnicodeDecodeError):
            continue  # the loader reports it
        if not isinstance(doc, dict):
            continue
        out.update(contact_files(doc))
        if isinstance(doc.get("facts"), str):  # a facts.yaml
            out.add(doc["facts"])
        for e in doc.get("events") or []:
            media = e.get("media") if isinstance(e, dict) else None
            for m in media if isinstance(media, list) else []:
                path = m if isinstance(m, str) else (m.get("path") if isinstance(m, dict) else None)
                if isinstance(path, str):
                    out.add(path)
    return {p for p in (posixpath.normpath(x) for x in out) if not p.startswith("..") and not posixpath.isabs(p)}
