"""rapid.yaml beside the calendar: append condemnation and praise events, approve or reject them.

People write in this file too, so it is never re-serialized: a new event is appended as a text
block, and approve/reject edit only the lines of that one entry; every other byte stays as it was.
Each write runs under an exclusive lock on rapid.yaml.lock, is loaded and rendered from a shadow
folder before it lands, and lands with os.replace: `watch` in cron and a person at the keyboard
cannot clobber each other, and a file that would not load is never left behind.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import tempfile
import time as _time
import unicodedata
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, Iterator

import yaml

from campaigner.calendar import RAPID_FILE, Calendar, Event, load_calendar
from campaigner.errors import ConfigError, Problem, display_path, problem_at
from campaigner.recurrence import Occurrence, local_instant
from campaigner.render import Post, Renderer

LOCK_TIMEOUT = 30.0
HEADER = """\
# Rapid-response events: written by `campaigner condemn`, `praise` and `watch`, and
# loaded with calendar.yaml by every command. New events are appended at the end;
# `campaigner approve ID` / `reject ID` edit only that event's lines, so comments and
# hand edits elsewhere in this file are kept as they are.
"""

# Monitors the campaign quotes often get short, well-known slugs in event ids.
KNOWN_SOURCES = {
    "human rights watch": "hrw", "hrw": "hrw",
    "amnesty international": "amnesty", "amnesty": "amnesty",
    "icrc": "icrc", "international committee of the red cross": "icrc", "red cross": "icrc",
    "msf": "msf", "medecins sans frontieres": "msf", "doctors without borders": "msf",
    "icbl-cmc": "icbl-cmc", "icbl": "icbl-cmc", "cmc": "icbl-cmc", "cluster munition coalition": "icbl-cmc",
    "international campaign to ban landmines": "icbl-cmc", "landmine and cluster munition monitor": "monitor",
}


# ---------------------------------------------------------------- ids and entries


def slugify(text: str, max_len: int = 40) -> str:
    """'Médecins Sans Frontières' -> 'medecins-sans-frontieres'; '' when nothing Latin is left."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > max_len:
        slug = slug[:max_len].rsplit("-", 1)[0] or slug[:max_len]
    return slug


def short_hash(text: str, n: int = 6) -> str:
    """The first n hex digits of sha256: short, stable, and enough to tell reports apart."""
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()[:n]


def source_slug(name: str) -> str:
    """'Human Rights Watch' -> 'hrw', 'ICBL-CMC' -> 'icbl-cmc', else the slugified name."""
    key = re.sub(r"\s+", " ", unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()).strip()
    key = re.sub(r"\s*\(.*\)$", "", key)  # "Human Rights Watch (HRW)"
    return KNOWN_SOURCES.get(key) or slugify(name) or "src-" + short_hash(name, 4)


class Quoted(str):
    """Text written in double quotes (a time like "09:05" must not read as a number)."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(Quoted, lambda d, s: d.represent_scalar("tag:yaml.org,2002:str", str(s), style='"'))


def _dump(value: Any) -> str:
    return yaml.dump(value, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=10**6, indent=2)


def local_minute(now: datetime, calendar: Calendar) -> datetime:
    """`now` in the campaign's time zone, to the minute (so the event is due at or before now)."""
    return now.astimezone(calendar.campaign.tz).replace(second=0, microsecond=0)


def condemnation_entry(calendar: Calendar, at: datetime, *, report: str, source: str, weapon: str | None = None,
                       weapon_km: str | None = None, where: str | None = None, by: str | None = None,
                       title: str | None = None, published: date | None = None, where_km: str | None = None,
                       by_km: str | None = None, alleged: bool | str = False) -> dict[str, Any]:
    """The rapid.yaml mapping of a condemnation of the report at `report`, due at `at`.

    `alleged`: True when the report is of alleged use; render.UNTIL_APPROVED for a feed's draft."""
    local = local_minute(at, calendar)
    report = report.strip()
    optional = {"weapon": weapon, "weapon_km": weapon_km, "where": where, "where_km": where_km, "by": by, "by_km": by_km,
                "title": title, "published": published, "alleged": alleged or None}
    variables: dict[str, Any] = {"source": source, "report": report}
    variables.update({k: v for k, v in optional.items() if v not in (None, "")})
    return {
        "id": f"condemn-{local.date().isoformat()}-{source_slug(source)}-{short_hash(report)}",
        "kind": "condemnation",
        "date": local.date(),
        "time": Quoted(local.strftime("%H:%M")),
        "goal": "no-new-use",
        "link": report,
        "vars": variables,
    }


def accession_entry(calendar: Calendar, at: datetime, *, country: str, joined: date, treaty: str = "ccm",
                    party_number: int | None = None, country_km: str | None = None) -> dict[str, Any]:
    """The rapid.yaml mapping praising `country` for joining a treaty, due at `at` (the day we learn of it)."""
    local = local_minute(at, calendar)
    variables: dict[str, Any] = {"country": country, "joined": joined, "treaty": treaty}
    if party_number is not None:
        variables["party_number"] = party_number
    if country_km:
        variables["country_km"] = country_km
    return {
        "id": f"praise-{local.date().isoformat()}-{slugify(country) or 'x' + short_hash(country, 4)}",
        "kind": "accession",
        "date": local.date(),
        "time": Quoted(local.strftime("%H:%M")),
        "goal": "universalization",
        "vars": variables,
    }


def review(entry: dict[str, Any], calendar: Calendar, *, draft: bool, who: str, now: datetime) -> dict[str, Any]:
    """Mark a new entry as a draft, or as approved by the person who wrote it when its kind needs approval."""
    out = dict(entry)
    if draft:
        out["draft"] = True
    elif entry["kind"] in calendar.campaign.approval:
        out["approved_by"] = who
        out["approved_at"] = now.astimezone(calendar.campaign.tz).isoformat(timespec="seconds")
    return out


def same_event(calendar: Calendar, entry: dict[str, Any]) -> Event | None:
    """An event already standing for this entry: the same id, the same report, or the same accession."""
    for e in calendar.events:
        if e.id == entry["id"]:
            return e
        if e.kind != entry["kind"]:
            continue
        if entry["kind"] == "condemnation" and e.link and e.link.strip() == entry.get("link"):
            return e
        v, w = e.vars, entry["vars"]
        if entry["kind"] == "accession" and v.get("country") == w["country"] and str(v.get("joined")) == str(w["joined"]) \
                and v.get("treaty", "ccm") == w["treaty"]:
            return e
    return None


# ---------------------------------------------------------------- locking and atomic writes


def rapid_path(calendar_path: Path) -> Path:
    """rapid.yaml beside the calendar."""
    return Path(calendar_path).parent / RAPID_FILE


@contextmanager
def locked(rapid: Path, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold the exclusive lock on rapid.yaml.lock (flock: released by the OS if the process dies)."""
    import fcntl

    fd = os.open(rapid.with_name(rapid.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = _time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if _time.monotonic() > deadline:
                    raise ConfigError(f"{display_path(rapid)} is locked by another campaigner (watch or a person) for over {timeout:.0f}s; try again") from None
                _time.sleep(0.05)
        yield
    finally:
        os.close(fd)


def read_text(path: Path) -> str:
    """The file's exact text ('' when absent): no newline translation, so writes can keep every byte."""
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return ""
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{display_path(path)}: not UTF-8 text ({exc})") from None


def atomic_write(path: Path, text: str) -> None:
    """Write a temp file beside `path`, fsync it, and os.replace it into place (keeping the mode)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(text.encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------- text edits


def _compose(text: str, path: Path) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{display_path(path)}: cannot edit it, it is not valid YAML: {exc}") from None


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def append_entry(text: str, entry: dict[str, Any], path: Path = Path(RAPID_FILE)) -> str:
    """`text` with `entry` appended to its events: list as a new block; every existing byte is kept."""
    nl = _newline(text)
    root = _compose(text, path)
    dash = 2
    if root is None:  # a new file, or only comments
        text = (text or HEADER.replace("\n", nl))
        text += ("" if text.endswith(nl) else nl) + "events:" + nl
    elif not isinstance(root, yaml.MappingNode) or root.flow_style:
        raise ConfigError(f"{display_path(path)}: expected 'events:' followed by a block list of events; fix the file by hand first")
    else:
        pairs = [(k.value, v) for k, v in root.value]
        names = [k for k, _ in pairs]
        if "events" not in names:
            if names:
                raise ConfigError(f"{display_path(path)}: only an 'events:' list belongs in this file (found {', '.join(map(str, names))})")
            text += ("" if text.endswith(nl) else nl) + "events:" + nl
        else:
            if names[-1] != "events":
                raise ConfigError(f"{display_path(path)}: 'events:' must be the last key so new events can be appended")
            node = dict(pairs)["events"]
            if isinstance(node, yaml.SequenceNode) and not node.flow_style:
                dash = node.start_mark.column
            elif (isinstance(node, yaml.SequenceNode) and not node.value) or (isinstance(node, yaml.ScalarNode) and node.value in ("", "~", "null")):
                # `events: []` or an empty `events:`: the list starts with the block we append.
                start = node.start_mark.index
                while start > 0 and text[start - 1] == " ":
                    start -= 1
                text = text[:start] + text[node.end_mark.index:]
            else:
                raise ConfigError(f"{display_path(path)}: write events: as a block list (one '- id: ...' per event) so new events can be appended")
    if not text.endswith(nl):
        text += nl
    block = _dump([entry])
    lines = [(" " * dash + line) if line else "" for line in block.rstrip("\n").split("\n")]
    sep = "" if text.endswith(nl + nl) or text.rstrip().endswith("events:") else nl
    return text + sep + nl.join(lines) + nl


def _entry_node(root: yaml.Node | None, event_id: str, path: Path) -> yaml.MappingNode:
    if isinstance(root, yaml.MappingNode):
        for k, v in root.value:
            if k.value == "events" and isinstance(v, yaml.SequenceNode):
                for item in v.value:
                    if isinstance(item, yaml.MappingNode):
                        for ik, iv in item.value:
                            if ik.value == "id" and isinstance(iv, yaml.ScalarNode) and iv.value == event_id:
                                return item
    raise ConfigError(f"{display_path(path)}: no event '{event_id}' in this file")


def _last_scalar_end(node: yaml.Node) -> yaml.Mark:
    """Where the node's last written character ends (block collections' own end marks run past comments)."""
    if isinstance(node, yaml.ScalarNode) or getattr(node, "flow_style", False):
        return node.end_mark
    ends = [_last_scalar_end(n) for pair in node.value for n in (pair if isinstance(pair, tuple) else (pair,))]
    return max(ends, key=lambda m: m.index) if ends else node.end_mark


def _scalar(key: str, value: Any) -> str:
    line = _dump({key: value}).rstrip("\n")
    assert line.startswith(f"{key}: ") and "\n" not in line, line
    return line[len(key) + 2:]


def edit_entry(text: str, event_id: str, *, set_: dict[str, Any] | None = None, remove: tuple[str, ...] = (), path: Path = Path(RAPID_FILE)) -> str:
    """Change only the lines of one entry: replace or add the keys in `set_`, drop the keys in `remove`."""
    set_ = set_ or {}
    nl = _newline(text)
    item = _entry_node(_compose(text, path), event_id, path)
    present = {k.value: (k, v) for k, v in item.value}
    edits: list[tuple[int, int, str]] = []  # (start, end, replacement), applied from the end
    for key in remove:
        if key not in present or key in set_:
            continue
        k, v = present[key]
        line_start = text.rfind("\n", 0, k.start_mark.index) + 1
        line_end = text.find("\n", v.end_mark.index)
        line_end = len(text) if line_end < 0 else line_end + 1
        rest = text[v.end_mark.index:line_end].strip()
        if item.flow_style or not isinstance(v, yaml.ScalarNode) or text[line_start:k.start_mark.index].strip() or (rest and not rest.startswith("#")):
            raise ConfigError(f"{display_path(path)}:{k.start_mark.line + 1}: cannot remove '{key}' of event '{event_id}' without touching other keys; delete it by hand")
        edits.append((line_start, line_end, ""))
    added = []
    for key, value in set_.items():
        if key in present:
            k, v = present[key]
            if not isinstance(v, yaml.ScalarNode):
                raise ConfigError(f"{display_path(path)}:{k.start_mark.line + 1}: '{key}' of event '{event_id}' is not a plain value; edit it by hand")
            edits.append((v.start_mark.index, v.end_mark.index, _scalar(key, value)))
        else:
            added.append(f"{key}: {_scalar(key, value)}")
    if added:
        if item.flow_style:
            end = item.end_mark.index - 1  # the closing brace
            edits.append((end, end, "".join(", " + a for a in added)))
        else:
            col = item.value[0][0].start_mark.column
            last = _last_scalar_end(item)
            if last.column == 0:  # a block scalar ends at the start of the next line
                at = last.index
            else:
                at = text.find("\n", last.index)
                at = len(text) if at < 0 else at + 1
            prefix = "" if at == 0 or text[at - 1] == "\n" else nl
            edits.append((at, at, prefix + "".join(" " * col + a + nl for a in added)))
    for start, end, new in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        text = text[:start] + new + text[end:]
    return text


# ---------------------------------------------------------------- staging: load and render before writing


def event_posts(calendar: Calendar, event: Event, renderer: Renderer | None = None) -> list[Post]:
    """Every post of a one-off event (its first date), for every account and language; ConfigError on failure."""
    renderer = renderer if renderer is not None and renderer.calendar is calendar else Renderer(calendar)
    occ = Occurrence(event, event.date, local_instant(event.date, event.time, calendar.campaign.tz))
    posts: list[Post] = []
    problems: list[Problem] = []
    for name in event.accounts:
        account = calendar.accounts[name]
        for lang in calendar.languages_for(account):
            try:
                posts.append(renderer.render(occ, account, lang))
            except ConfigError as exc:
                problems += exc.problems
    if problems:
        raise ConfigError(sorted(set(problems)))
    return posts


def _check(calendar_path: Path, rapid_text: str, event_id: str, *, new_from: int = 0) -> tuple[Event, list[Post]]:
    """Load the calendar as it would be with this rapid.yaml and render the event, in a shadow folder.

    `new_from` is the first line (1-based) of an entry that is not in the real file yet: a problem
    located there is told as a problem of the new event, since that line does not exist on disk."""
    root = Path(calendar_path).parent.resolve()
    with tempfile.TemporaryDirectory(prefix="campaigner-rapid-") as tmp:
        shadow = Path(tmp)
        for entry in root.iterdir():
            if entry.name not in (RAPID_FILE, RAPID_FILE + ".lock"):
                (shadow / entry.name).symlink_to(entry)
        (shadow / RAPID_FILE).write_bytes(rapid_text.encode("utf-8"))
        try:
            cal = load_calendar(shadow / Path(calendar_path).name)
            event = cal.event(event_id)
            posts = event_posts(cal, event)
        except ConfigError as exc:
            raise ConfigError([_unshadow(p, shadow, root, event_id, new_from) for p in exc.problems]) from None
    return event, posts


def _unshadow(p: Problem, shadow: Path, root: Path, event_id: str, new_from: int) -> Problem:
    real = display_path(root)
    file = p.file
    for prefix in (str(shadow.resolve()), str(shadow)):
        if file.startswith(prefix):
            file = real + file[len(prefix):]
    message = p.message.replace(str(shadow.resolve()), real).replace(str(shadow), real)
    if new_from and Path(file).name == RAPID_FILE and p.line >= new_from:
        return Problem("", 0, 0, f"the new event '{event_id}' (nothing was written to {display_path(root / RAPID_FILE)}): {message}", p.severity)
    return Problem(file, p.line, p.col, message, p.severity)


def _first_changed_line(old: str, new: str) -> int:
    """The 1-based line where `new` starts to differ from `old` (an appended entry's first line)."""
    at = next((i for i, (a, b) in enumerate(zip(old, new)) if a != b), min(len(old), len(new)))
    return new.count("\n", 0, at) + 1


def _unfit(event: Event, posts: list[Post]) -> None:
    bad = [p for p in posts if not p.fits]
    if bad and not event.draft:
        raise ConfigError([Problem(display_path(event.file), event.line, 1, f"post {p.id} is {p.length}/{p.limit} characters on {p.platform}: shorten the vars (e.g. --title) or the template") for p in bad])


# ---------------------------------------------------------------- the operations


@dataclass
class Written:
    """The outcome of adding or editing an event: the event and its rendered posts, as loaded."""

    event: Event
    posts: list[Post]
    created: bool = True
    changes: list[str] = field(default_factory=list)  # what approve/reject did, for the user
    calendar: Calendar | None = None  # the real calendar after the write (None for a dry run)


Loader = Callable[[Path], Calendar]


def add_event(calendar_path: Path, entry: dict[str, Any], *, dry_run: bool = False, load: Loader = load_calendar) -> Written:
    """Append `entry` to rapid.yaml unless an event already stands for it; check it loads and renders first.

    `load` reads the calendar (the session's, through the snapshot cache); the checks of the file as
    it would be are made in a shadow folder, without the cache.
    """
    rapid = rapid_path(calendar_path)
    # A dry run writes nothing, not even the lock file.
    with (nullcontext() if dry_run else locked(rapid)):
        cal = load(calendar_path)  # re-read under the lock: another writer may have just added it
        existing = same_event(cal, entry)
        if existing is not None:
            return Written(existing, event_posts(cal, existing), created=False, calendar=cal)
        old_text = read_text(rapid)
        new_text = append_entry(old_text, entry, rapid)
        event, posts = _check(calendar_path, new_text, entry["id"], new_from=_first_changed_line(old_text, new_text))
        _unfit(event, posts)
        if dry_run:
            return Written(event._replace(file=rapid), posts)  # name the real file, not the shadow folder
        atomic_write(rapid, new_text)
    return _reloaded(calendar_path, entry["id"], load)


def _reloaded(calendar_path: Path, event_id: str, load: Loader, changes: list[str] | None = None) -> Written:
    cal = load(calendar_path)
    event = cal.event(event_id)
    return Written(event, event_posts(cal, event), changes=changes or [], calendar=cal)


def _rapid_event(calendar_path: Path, event_id: str, load: Loader) -> tuple[Calendar, Event]:
    cal = load(calendar_path)
    event = cal.require(event_id)
    if event.file.resolve() != rapid_path(calendar_path).resolve():
        raise ConfigError([problem_at(event.file, event.line, 1, f"event '{event_id}' is in {display_path(event.file)}, which campaigner never rewrites: "
                                      "edit it there (set draft: false, or add approved_by) and let the review of that change be the approval (see 'campaigner diff')")])
    return cal, event


def approve(calendar_path: Path, event_id: str, *, who: str, now: datetime, published: bool = False,
            load: Loader = load_calendar) -> Written:
    """Approve a rapid.yaml event: no longer a draft (nor rejected), approved_by/approved_at recorded,
    and due now if its time has passed, unless some of its posts are out already (`published`): then
    its date is kept, since a new date would give those posts new ids and send them again."""
    rapid = rapid_path(calendar_path)
    with locked(rapid):
        cal, event = _rapid_event(calendar_path, event_id, load)
        text = read_text(rapid)
        item = {k.value: v for k, v in _entry_node(_compose(text, rapid), event_id, rapid).value}
        local = now.astimezone(cal.campaign.tz)
        changes = []
        if not event.draft:
            # Never re-date a live event: its posts may be out already, and new post ids would send them again.
            said = f"already approved by {event.approved_by} at {event.approved_at}" if event.approved_by else "not a draft: it goes out as scheduled"
            return Written(event, event_posts(cal, event), created=False, changes=[said], calendar=cal)
        set_: dict[str, Any] = {"approved_by": who, "approved_at": local.isoformat(timespec="seconds")}
        remove: list[str] = ["rejected_by", "rejected_at"]
        if "rejected_by" in item:
            changes.append(f"it had been rejected by {item['rejected_by'].value}; that mark is removed")
        if "draft" in item:
            remove.append("draft")
        due = local_instant(event.date, event.time, cal.campaign.tz)
        at = local.replace(second=0, microsecond=0)
        if published:
            changes.append("some of its posts are already published: its date is kept, so they are never sent again")
        elif event.repeat == "none" and due < at:
            set_.update(date=at.date(), time=Quoted(at.strftime("%H:%M")))
            changes.append(f"its due time {due.strftime('%Y-%m-%d %H:%M')} had passed: now due {at.strftime('%Y-%m-%d %H:%M')}, so the next 'campaigner post' sends it")
        try:
            new_text = edit_entry(text, event_id, set_=set_, remove=tuple(remove), path=rapid)
        except ConfigError:
            if "draft" not in item:
                raise
            # `draft: true` shares its line with other keys (a hand-written flow entry): say false instead.
            remove.remove("draft")
            set_["draft"] = False
            new_text = edit_entry(text, event_id, set_=set_, remove=tuple(remove), path=rapid)
        approved, posts = _check(calendar_path, new_text, event_id)
        if approved.draft:
            raise ConfigError(f"event '{event_id}' would still be a draft after approval; check its draft: line in {display_path(rapid)}")
        _unfit(approved, posts)
        atomic_write(rapid, new_text)
    return _reloaded(calendar_path, event_id, load, changes)


def reject(calendar_path: Path, event_id: str, *, who: str, now: datetime, published: bool = False,
           load: Loader = load_calendar) -> Written:
    """Reject a rapid.yaml event: it stays in the file with rejected_by/rejected_at and never goes out.

    A draft stays a draft (draft: true). An event some of whose posts are already published
    (`published`) is not made a draft again: what is out cannot be taken back from here, and the
    rejection only keeps its other posts from going out."""
    rapid = rapid_path(calendar_path)
    with locked(rapid):
        cal, event = _rapid_event(calendar_path, event_id, load)
        text = read_text(rapid)
        item = {k.value: v for k, v in _entry_node(_compose(text, rapid), event_id, rapid).value}
        if "rejected_by" in item:
            return Written(event, event_posts(cal, event), created=False, changes=[f"already rejected by {item['rejected_by'].value}"], calendar=cal)
        local = now.astimezone(cal.campaign.tz)
        marks: dict[str, Any] = {"rejected_by": who, "rejected_at": local.isoformat(timespec="seconds")}
        new_text = edit_entry(text, event_id, set_=marks if published else {"draft": True, **marks}, path=rapid)
        _check(calendar_path, new_text, event_id)
        atomic_write(rapid, new_text)
    return _reloaded(calendar_path, event_id, load)
