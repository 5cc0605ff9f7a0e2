"""Reuse a loaded and rendered calendar while none of its inputs has changed.

cron starts `campaigner post` every few minutes and volunteers run `plan` many times a day, each
time on the same calendar. Loading it (YAML, checks) and rendering its posts (Jinja, CLDR dates,
X's length rules) is nearly all of their time, and its result depends only on:

- the campaigner code and the versions of the libraries that render (the *code* part of the key);
- CAMPAIGNER_PLUGINS and the files of the plugins it names (they may change length rules);
- the bytes of calendar.yaml and rapid.yaml (or rapid.yaml's absence);
- the name and bytes of every file under templates/ (a new file can override a template);
- the other files the calendar was built from: the bytes (a sha256) of each file the loading or a
  briefing reads as text (a journalists or contacts CSV, the facts.yaml that `facts:` names: its
  values are in every post that cites them), and the size and mtime of each media
  file, since hashing every photo on every cron run would cost more than it saves.

Folders are walked through symlinks (a templates folder linked in from elsewhere is read as it is
now), each real folder once, so a link loop cannot hang the walk.

So one snapshot per calendar path keeps the loaded `Calendar`, each post rendered so far (by post
id) and the template syntax check, under a key made of all of the above. A snapshot whose key or
file signatures differ is ignored and replaced: there is no invalidation to forget. A post whose
due instant differs from the one it was rendered for (new time-zone rules) is rendered again.

Snapshots are pickles, so the folder must be as private as Jinja's own bytecode cache (which
holds marshalled code): a folder that is not ours or that others can write is not used at all.
The folder is opened once per read or write (O_DIRECTORY | O_NOFOLLOW), checked through that
descriptor, and the snapshot opened relative to it: swapping the folder for a symlink after the
check changes nothing. Only files named as this cache's own snapshots are ever removed.
Anything wrong with the cache (unreadable, corrupt, full disk) means it is skipped, never an
error. `CAMPAIGNER_CACHE=off` turns it off; `CAMPAIGNER_CACHE_DIR` moves it (default:
$XDG_CACHE_HOME/campaigner or ~/.cache/campaigner).
"""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
import re
import stat
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from campaigner.calendar import RAPID_FILE
from campaigner.errors import Problem

if TYPE_CHECKING:
    from campaigner.calendar import Calendar
    from campaigner.render import Rendered

FORMAT = 4  # 2: the rendered posts in a second pickle after the snapshot; 3: content signatures; 4: the facts each post cites
# Snapshots of calendars nobody has loaded for this long are removed when another is written.
STALE_AFTER_S = 30 * 86400

# A rendered post as stored: render.Rendered's fields, in its order, as a plain tuple. (The posts
# are pickled without a memo, see _write, so a NamedTuple would carry its class name with each.)
Row = tuple[str, str, int, int, "tuple[str, ...] | None", bool, "tuple[str, ...]"]


class Snapshot:
    """What loading and rendering one calendar produced, and the key it is valid for."""

    def __init__(self, key: str, signatures: dict[str, tuple[Any, ...] | None], calendar: Calendar):
        self.format = FORMAT  # stored in the pickle: a snapshot of another layout is not read
        self.key = key
        self.signatures = signatures  # the other sources: path -> ("sha256", hex) or ("stat", size, mtime_ns), or None
        self.calendar = calendar
        self.rendered: dict[str, Row] = {}  # post id -> what rendering it gave
        self.syntax: list[Problem] | None = None  # the template syntax check, once run
        self.letters: dict[str, list[Problem]] = {}  # the briefing letters' check, by the posts it was run on
        self.changed = True  # new: written even if nothing gets rendered
        self.name: str | None = None  # its file name in the cache folder (set by load; not pickled)

    def remember(self, post_id: str, rendered: Rendered) -> None:
        """Keep what rendering a post gave (new, or again for another due instant)."""
        r = rendered
        self.rendered[post_id] = (r.due, r.text, r.length, r.limit, r.parts, r.fits, r.facts)
        self.changed = True

    def template_syntax(self, check: Callable[[], list[Problem]]) -> list[Problem]:
        """The template syntax problems, checked once per key: they depend only on the key's inputs."""
        if self.syntax is None:
            self.syntax = check()
            self.changed = True
        return list(self.syntax)

    def letter_check(self, posts_key: str, check: Callable[[], list[Problem]]) -> list[Problem]:
        """The briefing letters' problems (brief.letter_problems), checked once per key and set of posts
        (validate's `now` picks which occurrence of each event is rendered)."""
        if posts_key not in self.letters:
            self.letters[posts_key] = check()
            self.changed = True
        return list(self.letters[posts_key])

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        del state["changed"], state["rendered"], state["name"]  # the rendered posts are written after it, see _write
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.rendered = {}
        self.changed = False
        self.name = None


def load(path: Path, on_problems: Callable[[list[Problem]], None] | None = None) -> tuple[Calendar, Snapshot | None]:
    """The calendar at path and its snapshot: from the snapshot when every input is unchanged, else
    loaded afresh (with a new, empty snapshot); no snapshot at all when the cache is off.

    The loader (and with it yaml and the checker, ~12 ms of imports) is imported only to load:
    a run served from the snapshot never needs it."""
    folder = directory()
    key = _key(path) if folder else None
    if folder is None or key is None:
        from campaigner.calendar.loader import load_calendar

        return load_calendar(path, on_problems=on_problems), None
    name = snapshot_name(path)
    snap = _read(folder, name)
    if snap is None or snap.key != key or not _signatures_hold(snap):
        from campaigner.calendar.loader import load_calendar

        cal = load_calendar(path, on_problems=on_problems)
        content = {path, path.parent / RAPID_FILE}
        media = {m.path for e in cal.events for m in e.media}
        snap = Snapshot(key, {str(p): _signature(p, by_content=p not in media) for p in cal.sources if p not in content}, cal)
    else:
        _mark_used(folder, name)
        if on_problems and snap.calendar.warnings:
            on_problems(list(snap.calendar.warnings))
    snap.name = name
    return snap.calendar, snap


def store(snap: Snapshot) -> None:
    """Write back a snapshot this run added to.

    Not one whose inputs changed while the run used them (an edit saved mid-run): what it holds
    may mix both versions, and the key it would be stored under is the old one.
    """
    if not snap.changed or snap.name is None or _key(snap.calendar.path) != snap.key or not _signatures_hold(snap):
        return
    folder = directory()
    if folder is not None:
        _write(folder, snap.name, snap)
        snap.changed = False


_NAME = re.compile(r"^[0-9a-f]{24}\.pickle$")  # the only files this cache writes (and .tmp-* while writing)


def snapshot_name(path: Path) -> str:
    """The snapshot's file name for a calendar: a digest of its resolved path."""
    return hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:24] + ".pickle"


def _signatures_hold(snap: Snapshot) -> bool:
    return all(_signature(Path(p), by_content=s is not None and s[0] == "sha256") == s for p, s in snap.signatures.items())


def directory() -> Path | None:
    """The private cache folder, created if need be; None when off or not safe to use."""
    setting = os.environ.get("CAMPAIGNER_CACHE", "").strip().lower()
    if setting in ("off", "0", "no", "false"):
        return None
    configured = os.environ.get("CAMPAIGNER_CACHE_DIR")
    if configured:
        folder = Path(configured)
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        folder = Path(base) / "campaigner"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return None
    fd = _open_folder(folder)
    if fd is None:
        return None
    os.close(fd)
    return folder


def _open_folder(folder: Path) -> int | None:
    """A descriptor of the folder itself (never of a symlink in its place), when it is ours and
    nobody else may write it; else None."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        info = os.fstat(fd)
    except OSError:
        os.close(fd)
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH) or (hasattr(os, "getuid") and info.st_uid != os.getuid()):
        os.close(fd)
        return None
    return fd


# ---------------------------------------------------------------- keys


_CODE_KEY: str | None = None


def _code_key() -> str:
    """campaigner's own files, Python, and the libraries whose output a snapshot holds."""
    global _CODE_KEY
    if _CODE_KEY is None:
        from importlib.util import find_spec

        parts: list[Any] = [FORMAT, sys.version, sys.implementation.cache_tag]
        package = os.path.dirname(__file__)
        for root, dirs, files in os.walk(package):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                if name.endswith(".py"):
                    info = os.stat(f"{root}/{name}")
                    parts.append((root[len(package):], name, info.st_size, info.st_mtime_ns))
        for module in ("jinja2", "yaml", "babel", "regex", "markupsafe"):
            spec = sys.modules[module].__spec__ if module in sys.modules else find_spec(module)
            origin = spec.origin if spec else None
            parts.append((module, _signature(Path(origin)) if origin else None))
        _CODE_KEY = repr(parts)
    plugins = []
    for name in filter(None, (n.strip() for n in os.environ.get("CAMPAIGNER_PLUGINS", "").split(","))):
        origin = getattr(sys.modules.get(name), "__file__", None)
        plugins.append((name, _signature(Path(origin)) if origin else None))
    return _CODE_KEY + repr(plugins)


def _key(path: Path) -> str | None:
    """The digest of everything but the stat-checked sources; None when the calendar cannot be read
    (loading it the normal way then reports why)."""
    digest = hashlib.sha256(_code_key().encode())
    try:
        digest.update(path.read_bytes())
    except OSError:
        return None
    try:
        rapid: bytes | None = (path.parent / RAPID_FILE).read_bytes()
    except FileNotFoundError:
        rapid = None
    except OSError:
        return None
    digest.update(b"\0absent" if rapid is None else b"\0%d\0" % len(rapid) + rapid)
    templates = path.parent / "templates"
    seen: set[tuple[int, int]] = set()
    for root, dirs, files in os.walk(templates, followlinks=True):
        try:
            info = os.stat(root)
        except OSError:
            return None
        if (info.st_dev, info.st_ino) in seen:  # a symlink loop, or a folder linked twice: read once
            dirs[:] = []
            continue
        seen.add((info.st_dev, info.st_ino))
        dirs.sort()
        for name in sorted(files):
            file = os.path.join(root, name)
            try:
                with open(file, "rb") as fh:
                    content = fh.read()
            except OSError:
                return None
            digest.update(b"\0%s\0%d\0" % (os.path.relpath(file, templates).encode(), len(content)) + content)
    return digest.hexdigest()


def _signature(path: Path, *, by_content: bool = False) -> tuple[Any, ...] | None:
    """("sha256", digest) of the file's bytes, or ("stat", size, mtime_ns); None when it cannot be read."""
    try:
        if by_content:
            return ("sha256", hashlib.sha256(path.read_bytes()).hexdigest())
        info = path.stat()
    except OSError:
        return None
    return ("stat", info.st_size, info.st_mtime_ns)


# ---------------------------------------------------------------- files


def _read(folder: Path, name: str) -> Snapshot | None:
    # Unpickling creates every object of the snapshot at once and they all stay alive: the cyclic
    # GC would only re-walk a growing heap (a third of reading 20,000 events), as in load_calendar.
    # Once read, the snapshot lives as long as the process: frozen (gc.freeze), the collections that
    # rendering and building posts set off walk only what is new, not the snapshot again each time
    # (warm validate of 20,000 events spent 0.16 s of 1.06 s in tuple creation, most of it in GC).
    paused = gc.isenabled()
    gc.disable()
    try:
        snap = _read_snapshot(folder, name)
        if snap is not None:
            gc.freeze()
        return snap
    finally:
        if paused:
            gc.enable()


def _read_snapshot(folder: Path, name: str) -> Snapshot | None:
    dir_fd = _open_folder(folder)
    if dir_fd is None:
        return None
    try:
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0), dir_fd=dir_fd)
    except OSError:
        return None
    finally:
        os.close(dir_fd)
    try:
        with os.fdopen(fd, "rb") as fh:
            info = os.fstat(fh.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH) or (hasattr(os, "getuid") and info.st_uid != os.getuid()):
                return None
            snap = pickle.load(fh)
            if not isinstance(snap, Snapshot) or snap.__dict__.get("format") != FORMAT:
                return None
            snap.rendered = pickle.load(fh)
    except Exception:  # a torn, foreign or outdated snapshot is simply not used
        return None
    return snap


def _mark_used(folder: Path, name: str) -> None:
    """Keep a snapshot that is read every run but rarely rewritten from looking stale (noatime)."""
    dir_fd = _open_folder(folder)
    if dir_fd is None:
        return
    try:
        if os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mtime < time.time() - 86400:
            os.utime(name, dir_fd=dir_fd, follow_symlinks=False)
    except (OSError, NotImplementedError):
        pass
    finally:
        os.close(dir_fd)


def _write(folder: Path, name: str, snap: Snapshot) -> None:
    dir_fd = _open_folder(folder)
    if dir_fd is None:
        return
    tmp = f".tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}.pickle"
    try:
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600, dir_fd=dir_fd)
        except OSError:
            return
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(snap, fh, protocol=pickle.HIGHEST_PROTOCOL)
                # Then the rendered posts, plain strings, ints and tuples, in a second pickle without a
                # memo: it would hold an entry for each of their objects while writing (+20 MiB for
                # 10,000 events), and they share nothing (a lone part is stored as None, not the text).
                rendered = pickle.Pickler(fh, protocol=pickle.HIGHEST_PROTOCOL)
                rendered.fast = True
                rendered.dump(snap.rendered)
            os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        except Exception:
            try:
                os.unlink(tmp, dir_fd=dir_fd)
            except OSError:
                pass
            return
        _remove_stale(dir_fd, keep=name)
    finally:
        os.close(dir_fd)


def _remove_stale(dir_fd: int, keep: str) -> None:
    """Snapshots of calendars not loaded for a month, and temporary files a killed run left: only
    files named as this cache's own, never anything else someone put in the folder."""
    now = time.time()
    try:
        names = os.listdir(dir_fd)
    except OSError:
        return
    for name in names:
        own = bool(_NAME.match(name))
        temporary = name.startswith(".tmp-") and name.endswith(".pickle")
        if name == keep or not (own or temporary):
            continue
        try:
            info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            if stat.S_ISREG(info.st_mode) and ((own and info.st_mtime < now - STALE_AFTER_S) or (temporary and info.st_mtime < now - 3600)):
                os.unlink(name, dir_fd=dir_fd)
        except OSError:
            continue
