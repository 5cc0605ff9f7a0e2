"""calendar.yaml (and rapid.yaml beside it) -> immutable records (NamedTuples); every problem carries file:line:col."""

from __future__ import annotations

import difflib
import gc
import re
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from campaigner.errors import ConfigError, Problem, problem_at

RAPID_FILE = "rapid.yaml"
REPEATS = ("none", "yearly", "monthly", "weekly")
DEFAULT_GRACE = timedelta(hours=6)
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_DURATION_RE = re.compile(r"^\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?\s*$")
_TIME_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


# ---------------------------------------------------------------- the model


class Media(NamedTuple):
    """An image attached to an event; `path` is resolved against the calendar's folder."""

    path: Path
    alt: str | None
    written: str  # the path as written in the calendar, for messages


class Feed(NamedTuple):
    """A monitor's RSS or Atom feed to watch for reports of new use."""

    name: str
    url: str
    keywords: tuple[str, ...]


class Journalist(NamedTuple):
    """A journalist to brief by email, in their languages."""

    name: str
    email: str
    languages: tuple[str, ...]


class Campaign(NamedTuple):
    """The campaign-wide settings."""

    name: str
    timezone: str
    tz: ZoneInfo  # ZoneInfo(timezone): one instance per zone, so equality is unchanged
    default_time: time
    languages: tuple[str, ...]
    hashtags: tuple[str, ...] = ()
    grace: timedelta = DEFAULT_GRACE
    approval: tuple[str, ...] = ()
    contact: str | None = None


class Account(NamedTuple):
    """One publishing account: its platform, languages and platform options (page_id, ...)."""

    name: str
    platform: str
    languages: tuple[str, ...]
    options: dict[str, Any]


class Event(NamedTuple):
    """One calendar entry, before recurrence; `file`/`line` say where it is written.

    The model's records are NamedTuples, not frozen dataclasses: creating a dataclass costs ~1 ms
    at every start (its methods are generated and compiled), and these are on every path. Those
    holding a dict (Event.vars, Account.options, Calendar.accounts) are not hashable.
    """

    id: str
    kind: str
    template: str
    date: date
    time: time
    repeat: str
    until: date | None
    accounts: tuple[str, ...]
    goal: str | None
    vars: dict[str, Any]
    link: str | None = None
    media: tuple[Media, ...] = ()
    draft: bool = False
    thread: bool = False
    grace: timedelta | None = None
    file: Path = Path("calendar.yaml")
    line: int = 0
    approved_by: str | None = None
    approved_at: str | None = None


class Calendar(NamedTuple):
    """The loaded calendar: campaign, accounts, events (calendar.yaml then rapid.yaml), feeds."""

    path: Path
    campaign: Campaign
    accounts: dict[str, Account]
    events: tuple[Event, ...]
    feeds: tuple[Feed, ...] = ()
    journalists: tuple[Journalist, ...] = ()
    warnings: tuple[Problem, ...] = ()
    # Every file the calendar was built from: calendar.yaml, rapid.yaml, a journalists CSV, media.
    sources: tuple[Path, ...] = ()

    @property
    def root(self) -> Path:
        """The calendar's folder: templates, media and .env paths are relative to it."""
        return self.path.parent

    def event(self, event_id: str) -> Event:
        """The event with this id; KeyError if there is none."""
        for e in self.events:
            if e.id == event_id:
                return e
        raise KeyError(event_id)

    def require(self, event_id: str) -> Event:
        """The event with this id; a ConfigError with a suggestion if there is none."""
        try:
            return self.event(event_id)
        except KeyError:
            raise ConfigError(f"no event '{event_id}'{suggest(event_id, [e.id for e in self.events])}; 'campaigner plan' lists them") from None

    def grace_for(self, event: Event) -> timedelta:
        """How long after its due time an event's post may still be sent."""
        return event.grace if event.grace is not None else self.campaign.grace

    def languages_for(self, account: Account) -> tuple[str, ...]:
        """An account posts in its own languages, else the campaign's."""
        return account.languages or self.campaign.languages


# ---------------------------------------------------------------- YAML with marks


class MarkedDict(dict):
    """A mapping that remembers where each key and value stands (1-based line, col)."""

    def __init__(self) -> None:
        super().__init__()
        self.key_marks: dict[Any, tuple[int, int]] = {}
        self.value_marks: dict[Any, tuple[int, int]] = {}
        self.mark: tuple[int, int] = (0, 0)


class MarkedList(list):
    """A sequence that remembers where each item stands."""

    def __init__(self) -> None:
        super().__init__()
        self.item_marks: list[tuple[int, int]] = []
        self.mark: tuple[int, int] = (0, 0)


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


_BaseLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    duplicates: list[tuple[Any, tuple[int, int]]]


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> Iterable[MarkedDict]:
    data = MarkedDict()
    data.mark = _mark(node)
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, (list, dict)):
            key = str(key)
        if key in data:
            loader.duplicates.append((key, _mark(key_node)))
        data[key] = _construct_value(loader, value_node)
        data.key_marks[key] = _mark(key_node)
        data.value_marks[key] = _mark(value_node)


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> Iterable[MarkedList]:
    data = MarkedList()
    data.mark = _mark(node)
    yield data
    for item in node.value:
        data.append(_construct_value(loader, item))
        data.item_marks.append(_mark(item))


def _construct_value(loader: _Loader, node: yaml.Node) -> Any:
    try:
        return loader.construct_object(node, deep=True)
    except ValueError:
        # A scalar that looks typed but is not (2010-02-30): keep its text so the checks locate it.
        if isinstance(node, yaml.ScalarNode):
            return node.value
        raise


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


class _Unusual(Exception):
    """Something the event reader leaves to the node reader."""


_STR, _MAP, _SEQ = "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_LEFT_TO_NODES = ("tag:yaml.org,2002:merge", "tag:yaml.org,2002:value")


def _read_events(text: str) -> tuple[Any, list[tuple[Any, tuple[int, int]]]] | None:
    """The same data, marks and duplicates as the node reader, built straight from libyaml's events.

    The node reader (compose a node tree, then construct it) calls back into Python four times per
    scalar and keeps the whole tree: most of `plan` for a calendar of 10,000 events. This reader
    resolves and constructs each scalar as it arrives, with the loader's own resolvers and
    constructors. It returns None, and the node reader decides, for anything it does not do the
    same way: explicit collection tags, merge keys, an alias to an unfinished collection, more
    than one document, and every error.
    """
    from yaml.events import AliasEvent, MappingEndEvent, MappingStartEvent, ScalarEvent, SequenceEndEvent, SequenceStartEvent

    loader = _Loader(text)
    get = loader.get_event
    resolvers = loader.yaml_implicit_resolvers
    wildcard = resolvers.get(None, [])
    constructors = loader.yaml_constructors
    anchors: dict[str, tuple[Any, tuple[int, int]]] = {}
    duplicates: list[tuple[Any, tuple[int, int]]] = []

    def scalar(event: ScalarEvent, lenient: bool) -> Any:
        value, tag = event.value, event.tag
        if tag is None or tag == "!":
            if not event.implicit[0]:
                return value
            tag = _STR
            for candidate, regexp in resolvers.get(value[0] if value else "", []) + wildcard:
                if regexp.match(value):
                    tag = candidate
                    break
        if tag == _STR:
            return value
        if tag in _LEFT_TO_NODES or tag not in constructors or tag in (_MAP, _SEQ):
            raise _Unusual(tag)
        try:
            return constructors[tag](loader, yaml.ScalarNode(tag, value, event.start_mark, event.end_mark, event.style))
        except ValueError:
            if lenient:  # as _construct_value: a value or item that looks typed but is not keeps its text
                return value
            raise

    def node(event: Any, lenient: bool = True) -> tuple[Any, tuple[int, int]]:
        where = (event.start_mark.line + 1, event.start_mark.column + 1)
        kind = type(event)
        if kind is AliasEvent:
            if event.anchor not in anchors:
                raise _Unusual("alias")
            return anchors[event.anchor]  # the anchored value, and its mark, as the node reader gives
        if kind is ScalarEvent:
            value: Any = scalar(event, lenient)
        elif kind is MappingStartEvent:
            if event.tag not in (None, "!", _MAP):
                raise _Unusual(event.tag)
            value = MarkedDict()
            value.mark = where
            while True:
                key_event = get()
                if type(key_event) is MappingEndEvent:
                    break
                key, key_mark = node(key_event, lenient=False)
                if isinstance(key, (list, dict)):
                    key = str(key)
                if key in value:
                    duplicates.append((key, key_mark))
                value[key], value.value_marks[key] = node(get())
                value.key_marks[key] = key_mark
        elif kind is SequenceStartEvent:
            if event.tag not in (None, "!", _SEQ):
                raise _Unusual(event.tag)
            value = MarkedList()
            value.mark = where
            while True:
                item_event = get()
                if type(item_event) is SequenceEndEvent:
                    break
                item, item_mark = node(item_event)
                value.append(item)
                value.item_marks.append(item_mark)
        else:
            raise _Unusual(kind.__name__)
        if event.anchor is not None:
            anchors[event.anchor] = (value, where)
        return value, where

    try:
        get()  # stream start
        if loader.check_event(yaml.StreamEndEvent):
            return None, duplicates
        get()  # document start
        data, _ = node(get(), lenient=False)
        get()  # document end
        if not loader.check_event(yaml.StreamEndEvent):
            raise _Unusual("documents")
        return data, duplicates
    except Exception:  # unusual, or an error: the node reader reports it as it always did
        return None
    finally:
        loader.dispose()


def read_yaml(path: Path, problems: list[Problem]) -> Any:
    """Parse a YAML file keeping marks; syntax errors and duplicate keys become Problems."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        problems.append(problem_at(path, 0, 0, "file not found (pass --calendar PATH or set CAMPAIGNER_CALENDAR)"))
        return None
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(problem_at(path, 0, 0, f"cannot read the file: {exc}"))
        return None
    read = _read_events(text)
    if read is not None:
        data, duplicates = read
    else:
        loader = _Loader(text)
        loader.duplicates = duplicates = []
        try:
            data = loader.get_single_data()
        except yaml.MarkedYAMLError as exc:
            m = exc.problem_mark or exc.context_mark
            line, col = (m.line + 1, m.column + 1) if m else (0, 0)
            what = exc.problem or exc.context or "invalid YAML"
            problems.append(problem_at(path, line, col, f"YAML syntax: {what} (check indentation, colons and quotes)"))
            return None
        except yaml.YAMLError as exc:
            problems.append(problem_at(path, 0, 0, f"YAML syntax: {exc}"))
            return None
        finally:
            loader.dispose()
    for key, (line, col) in duplicates:
        problems.append(problem_at(path, line, col, f"duplicate key '{key}': each key may appear once in a mapping"))
    return data


# ---------------------------------------------------------------- checking helpers


def suggest(word: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' when a close match exists, else ''."""
    match = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{match[0]}'?)" if match else ""


def parse_duration(value: Any) -> timedelta | None:
    """'6h', '90m', '1d', '2h30m' -> timedelta; None when it is not a duration."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    if isinstance(value, int):
        return timedelta(hours=value) if value >= 0 else None
    m = _DURATION_RE.match(value)
    if not m or not any(m.groups()):
        return None
    d, h, mi = (int(g) if g else 0 for g in m.groups())
    return timedelta(days=d, hours=h, minutes=mi)


class _Checker:
    """Walks one YAML document, collecting located problems instead of stopping at the first."""

    def __init__(self, path: Path, problems: list[Problem]):
        self.path = path
        self.problems = problems

    def error(self, where: tuple[int, int], message: str, severity: str = "error") -> None:
        self.problems.append(problem_at(self.path, where[0], where[1], message, severity))

    @staticmethod
    def at_key(m: MarkedDict, key: str) -> tuple[int, int]:
        return m.key_marks.get(key, m.mark)

    @staticmethod
    def at_value(m: MarkedDict, key: str) -> tuple[int, int]:
        return m.value_marks.get(key, m.key_marks.get(key, m.mark))

    def mapping(self, value: Any, where: tuple[int, int], label: str) -> MarkedDict | None:
        if isinstance(value, MarkedDict):
            return value
        self.error(where, f"{label}: expected a mapping of keys to values, got {_describe(value)}")
        return None

    def mappings(self, doc: MarkedDict, key: str, shape: str) -> Iterator[tuple[int, MarkedDict]]:
        """(index, mapping) for each entry of a list under `key`; anything else is a located problem."""
        items = doc.get(key)
        if items is None:
            return
        if not isinstance(items, list):
            self.error(self.at_value(doc, key), f"{key}: expected a list of {shape}")
            return
        for i, item in enumerate(items):
            where = items.item_marks[i] if isinstance(items, MarkedList) else doc.mark
            m = self.mapping(item, where, f"{key}[{i}]")
            if m is not None:
                yield i, m

    def keys(self, m: MarkedDict, allowed: Iterable[str], label: str, required: Iterable[str] = ()) -> None:
        allowed = list(allowed)
        for key in m:
            if key not in allowed:
                self.error(self.at_key(m, key), f"{label}: unknown key '{key}'{suggest(str(key), allowed)}")
        for key in required:
            if key not in m:
                self.error(m.mark, f"{label}: missing required key '{key}'")

    def string(self, m: MarkedDict, key: str, label: str, default: Any = None) -> Any:
        if key not in m:
            return default
        v = m[key]
        if isinstance(v, bool) or not isinstance(v, (str, int, float)):
            self.error(self.at_value(m, key), f"{label}.{key}: expected text, got {_describe(v)}")
            return default
        return str(v)

    def string_list(self, m: MarkedDict, key: str, label: str) -> tuple[str, ...] | None:
        if key not in m:
            return None
        v = m[key]
        if isinstance(v, str):
            v = [v]
        if not isinstance(v, list):
            self.error(self.at_value(m, key), f"{label}.{key}: expected a list, e.g. [a, b], got {_describe(v)}")
            return None
        out = []
        marks = getattr(v, "item_marks", [])
        for i, item in enumerate(v):
            if isinstance(item, bool) or not isinstance(item, (str, int)):
                where = marks[i] if i < len(marks) else self.at_value(m, key)
                hint = " (YAML reads no/yes/on/off as booleans: quote it)" if isinstance(item, bool) else ""
                self.error(where, f"{label}.{key}[{i}]: expected text, got {_describe(item)}{hint}")
                continue
            out.append(str(item))
        return tuple(out)

    def clock(self, m: MarkedDict, key: str, label: str, default: time | None = None) -> time | None:
        if key not in m:
            return default
        v = m[key]
        if isinstance(v, int) and not isinstance(v, bool):
            # YAML 1.1 reads an unquoted 08:00 as the sexagesimal number 480.
            self.error(self.at_value(m, key), f'{label}.{key}: write the time in quotes, e.g. "{v // 60:02d}:{v % 60:02d}"')
            return default
        match = _TIME_RE.match(str(v)) if isinstance(v, str) else None
        if not match:
            self.error(self.at_value(m, key), f'{label}.{key}: expected a 24-hour time like "09:00", got {_describe(v)}')
            return default
        return time(int(match.group(1)), int(match.group(2)))

    def day(self, m: MarkedDict, key: str, label: str) -> date | None:
        if key not in m:
            return None
        v = m[key]
        if isinstance(v, datetime):
            v = v.date()
        if isinstance(v, date):
            return v
        reason = ""
        if isinstance(v, str):
            try:
                return date.fromisoformat(v)
            except ValueError as exc:
                reason = f" ({exc})" if re.match(r"^\d{4}-\d{2}-\d{2}$", v) else ""
        self.error(self.at_value(m, key), f"{label}.{key}: expected a date as YYYY-MM-DD, got {_describe(v)}{reason}")
        return None

    def flag(self, m: MarkedDict, key: str, label: str) -> bool:
        if key not in m:
            return False
        v = m[key]
        if not isinstance(v, bool):
            self.error(self.at_value(m, key), f"{label}.{key}: expected true or false, got {_describe(v)}")
            return False
        return v

    def duration(self, m: MarkedDict, key: str, label: str) -> timedelta | None:
        if key not in m:
            return None
        d = parse_duration(m[key])
        if d is None:
            self.error(self.at_value(m, key), f"{label}.{key}: expected a duration like 6h, 90m, 1d or 2h30m, got {_describe(m[key])}")
        return d


def _describe(v: Any) -> str:
    if v is None:
        return "nothing"
    if isinstance(v, bool):
        return f"the boolean {str(v).lower()}"
    if isinstance(v, dict):
        return "a mapping"
    if isinstance(v, list):
        return "a list"
    return f"'{v}'"


# ---------------------------------------------------------------- sections

CAMPAIGN_KEYS = ("name", "timezone", "default_time", "languages", "hashtags", "grace", "approval", "contact")
ACCOUNT_KEYS = ("platform", "languages", "pricing")
EVENT_KEYS = (
    "id", "kind", "template", "date", "time", "repeat", "until", "accounts", "goal", "vars",
    "link", "media", "draft", "thread", "grace", "approved_by", "approved_at", "rejected_by", "rejected_at",
)
TOP_KEYS = ("campaign", "accounts", "events", "feeds", "journalists")


def _campaign(c: _Checker, doc: MarkedDict) -> Campaign | None:
    m = c.mapping(doc.get("campaign"), c.at_value(doc, "campaign"), "campaign")
    if m is None:
        return None
    c.keys(m, CAMPAIGN_KEYS, "campaign", required=("name", "timezone", "languages"))
    tz_name = c.string(m, "timezone", "campaign")
    tz = None
    if tz_name:
        try:
            tz = ZoneInfo(tz_name)
        except (ZoneInfoNotFoundError, ValueError):
            import zoneinfo

            hint = suggest(tz_name, zoneinfo.available_timezones())
            c.error(c.at_value(m, "timezone"), f"campaign.timezone: unknown time zone '{tz_name}'{hint}; use an IANA name such as Asia/Phnom_Penh")
    languages = c.string_list(m, "languages", "campaign") or ()
    if "languages" in m and not languages:
        c.error(c.at_value(m, "languages"), "campaign.languages: list at least one language, e.g. [km, en]")
    name = c.string(m, "name", "campaign")
    default_time = c.clock(m, "default_time", "campaign", time(9, 0))
    grace = c.duration(m, "grace", "campaign")
    if tz is None or name is None or not languages:
        return None
    return Campaign(
        name=name,
        timezone=tz_name,
        tz=tz,
        default_time=default_time or time(9, 0),
        languages=languages,
        hashtags=c.string_list(m, "hashtags", "campaign") or (),
        grace=grace if grace is not None else DEFAULT_GRACE,
        approval=c.string_list(m, "approval", "campaign") or (),
        contact=c.string(m, "contact", "campaign"),
    )


def _accounts(c: _Checker, doc: MarkedDict) -> dict[str, Account]:
    from campaigner import adapters

    out: dict[str, Account] = {}
    m = c.mapping(doc.get("accounts"), c.at_value(doc, "accounts"), "accounts")
    if m is None:
        return out
    if not m:
        c.error(m.mark, "accounts: define at least one account, e.g. ccbl_x: {platform: x}")
    for name, spec in m.items():
        label = f"accounts.{name}"
        if not isinstance(name, str) or not _ID_RE.match(name):
            c.error(c.at_key(m, name), f"{label}: account names use lowercase letters, digits, '_', '-' and '.'")
            continue
        a = c.mapping(spec, c.at_value(m, name), label)
        if a is None:
            continue
        platform = c.string(a, "platform", label)
        if platform is None:
            c.error(a.mark, f"{label}: missing required key 'platform' (one of {', '.join(adapters.platforms())})")
            # Most often it is there but misspelt (platfrom: x): point at it.
            c.keys(a, ACCOUNT_KEYS + tuple(o for p in adapters.platforms() for o in adapters.adapter_class(p).account_options), label)
            continue
        try:
            cls = adapters.adapter_class(platform)
        except KeyError:
            c.error(c.at_value(a, "platform"), f"{label}.platform: unknown platform '{platform}'{suggest(platform, adapters.platforms())}; known: {', '.join(adapters.platforms())}")
            continue
        c.keys(a, ACCOUNT_KEYS + cls.account_options, label, required=cls.required_options)
        options = {k: a[k] for k in a if k not in ("platform", "languages")}
        if "pricing" in a:
            p = c.mapping(a["pricing"], c.at_value(a, "pricing"), f"{label}.pricing")
            if p is not None:
                c.keys(p, ("post", "post_with_url", "currency"), f"{label}.pricing")
                for k in ("post", "post_with_url"):
                    if k in p and (isinstance(p[k], bool) or not isinstance(p[k], (int, float)) or p[k] < 0):
                        c.error(c.at_value(p, k), f"{label}.pricing.{k}: expected a price such as 0.015, got {_describe(p[k])}")
        for k in cls.required_options:
            if k in a and not isinstance(a[k], str):
                c.error(c.at_value(a, k), f'{label}.{k}: write it in quotes, e.g. {k}: "{a[k]}" (long numbers lose digits otherwise)')
        out[name] = Account(name, platform, c.string_list(a, "languages", label) or (), options)
    return out


def _media(c: _Checker, e: MarkedDict, label: str, root: Path) -> tuple[Media, ...]:
    if "media" not in e:
        return ()
    items = e["media"]
    if not isinstance(items, list):
        c.error(c.at_value(e, "media"), f"{label}.media: expected a list of {{path, alt}} entries")
        return ()
    out = []
    for i, item in enumerate(items):
        where = items.item_marks[i] if isinstance(items, MarkedList) else c.at_value(e, "media")
        ml = f"{label}.media[{i}]"
        if isinstance(item, str):
            item_map: MarkedDict | None = MarkedDict()
            item_map["path"] = item
            item_map.mark = where
        else:
            item_map = c.mapping(item, where, ml)
        if item_map is None:
            continue
        c.keys(item_map, ("path", "alt"), ml, required=("path",))
        written = c.string(item_map, "path", ml)
        if not written:
            continue
        alt = c.string(item_map, "alt", ml)
        path = (root / written).resolve()
        if not path.is_file():
            c.error(c.at_value(item_map, "path"), f"{ml}.path: media file '{written}' not found (paths are relative to the calendar's folder)")
        if not alt or not alt.strip():
            c.error(item_map.mark, f"{ml}: image '{written}' has no alt text: add alt: \"what the picture shows\" so screen-reader users can follow", "warning")
        out.append(Media(path, alt, written))
    return tuple(out)


def _event(c: _Checker, e: MarkedDict, i: int, accounts: dict[str, Account], campaign: Campaign | None, root: Path, path: Path) -> Event | None:
    label = f"events[{i}]"
    c.keys(e, EVENT_KEYS, label, required=("id", "kind", "date"))
    eid = c.string(e, "id", label)
    if eid is not None and not _ID_RE.match(eid):
        c.error(c.at_value(e, "id"), f"{label}.id: '{eid}' must be lowercase letters, digits, '-', '_' or '.' (it becomes part of post ids)")
        eid = None
    if eid:
        label = f"event '{eid}'"
    kind = c.string(e, "kind", label)
    if kind is not None and not _ID_RE.match(kind):
        c.error(c.at_value(e, "kind"), f"{label}.kind: '{kind}' must be a folder name under templates/ (lowercase, '-', '_')")
        kind = None
    start = c.day(e, "date", label)
    repeat = c.string(e, "repeat", label, "none")
    if repeat not in REPEATS:
        c.error(c.at_value(e, "repeat"), f"{label}.repeat: '{repeat}' is not one of {', '.join(REPEATS)}{suggest(repeat, REPEATS)}")
        repeat = "none"
    until = c.day(e, "until", label)
    if until and start and until < start:
        c.error(c.at_value(e, "until"), f"{label}.until: {until} is before the event's date {start}")
    if until and repeat == "none":
        c.error(c.at_key(e, "until"), f"{label}.until: only a repeating event has an end; add repeat: yearly (or monthly, weekly) or remove until", "warning")
    acc = c.string_list(e, "accounts", label)
    if acc is not None:
        items = e["accounts"]
        marks = getattr(items, "item_marks", [])
        for j, name in enumerate(acc):
            if name not in accounts:
                where = marks[j] if j < len(marks) else c.at_value(e, "accounts")
                c.error(where, f"{label}.accounts: unknown account '{name}'{suggest(name, accounts)}; accounts are defined under accounts:")
        acc = tuple(a for a in acc if a in accounts)
    vars_ = e.get("vars", {})
    if "vars" in e and not isinstance(vars_, dict):
        c.error(c.at_value(e, "vars"), f"{label}.vars: expected a mapping such as {{treaty: ..., since: 2010}}")
        vars_ = {}
    link = c.string(e, "link", label)
    if link is not None and not re.match(r"^https?://\S+$", link):
        c.error(c.at_value(e, "link"), f"{label}.link: '{link}' is not an http(s) URL")
    template = c.string(e, "template", label) or kind
    event_time = c.clock(e, "time", label, campaign.default_time if campaign else time(9, 0))
    media = _media(c, e, label, root)
    draft = c.flag(e, "draft", label) or "rejected_by" in e  # a rejected event never goes out, whatever its draft says
    thread = c.flag(e, "thread", label)
    grace = c.duration(e, "grace", label)
    goal = c.string(e, "goal", label)
    if not (eid and kind and start and event_time):
        return None
    return Event(
        id=eid, kind=kind, template=template or kind, date=start, time=event_time, repeat=repeat,
        until=until, accounts=acc if acc is not None else tuple(accounts), goal=goal,
        vars=_plain(vars_), link=link, media=media, draft=draft, thread=thread, grace=grace,
        file=path, line=e.mark[0], approved_by=c.string(e, "approved_by", label),
        approved_at=c.string(e, "approved_at", label),
    )


def _plain(value: Any) -> Any:
    """MarkedDict/MarkedList -> dict/list, so templates see ordinary values."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _events(c: _Checker, doc: MarkedDict, accounts: dict[str, Account], campaign: Campaign | None, root: Path, seen: dict[str, Path], path: Path) -> list[Event]:
    out = []
    for i, e in c.mappings(doc, "events", "events (each starting with '- id: ...')"):
        ev = _event(c, e, i, accounts, campaign, root, path)
        if ev is None:
            continue
        if ev.id in seen:
            c.error(c.at_value(e, "id"), f"event id '{ev.id}' is already used (first in {seen[ev.id].name}); ids must be unique because they key the ledger")
            continue
        seen[ev.id] = path
        out.append(ev)
    return out


def _feeds(c: _Checker, doc: MarkedDict) -> tuple[Feed, ...]:
    out = []
    names: set[str] = set()
    for i, f in c.mappings(doc, "feeds", "{name, url, keywords}"):
        c.keys(f, ("name", "url", "keywords"), f"feeds[{i}]", required=("name", "url", "keywords"))
        name, url = c.string(f, "name", f"feeds[{i}]"), c.string(f, "url", f"feeds[{i}]")
        keywords = c.string_list(f, "keywords", f"feeds[{i}]")
        if url and not re.match(r"^https?://\S+$", url):
            c.error(c.at_value(f, "url"), f"feeds[{i}].url: '{url}' is not an http(s) URL")
            continue
        if name in names:
            c.error(c.at_value(f, "name"), f"feeds[{i}].name: '{name}' is already used by another feed")
            continue
        if name and url and keywords:
            names.add(name)
            out.append(Feed(name, url, keywords))
    return tuple(out)


def _journalists(c: _Checker, doc: MarkedDict, campaign: Campaign | None, root: Path) -> tuple[Journalist, ...]:
    if isinstance(doc.get("journalists"), str):  # a CSV file with name,email,languages columns
        return _journalists_csv(c, root / doc["journalists"], c.at_value(doc, "journalists"), campaign)
    out = []
    for i, j in c.mappings(doc, "journalists", "{name, email, languages} or the name of a CSV file"):
        c.keys(j, ("name", "email", "languages"), f"journalists[{i}]", required=("name", "email"))
        name, email = c.string(j, "name", f"journalists[{i}]"), c.string(j, "email", f"journalists[{i}]")
        if email and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", email):
            c.error(c.at_value(j, "email"), f"journalists[{i}].email: '{email}' is not an email address")
            continue
        langs = c.string_list(j, "languages", f"journalists[{i}]") or (campaign.languages[:1] if campaign else ("en",))
        if name and email:
            out.append(Journalist(name, email, langs))
    return tuple(out)


def _journalists_csv(c: _Checker, path: Path, where: tuple[int, int], campaign: Campaign | None) -> tuple[Journalist, ...]:
    import csv

    try:
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        c.error(where, f"journalists: cannot read '{path.name}': {exc.strerror or exc}")
        return ()
    out = []
    for n, row in enumerate(rows, start=2):
        name, email = (row.get("name") or "").strip(), (row.get("email") or "").strip()
        if not name or not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", email):
            c.problems.append(problem_at(path, n, 1, "each row needs a name and a valid email (columns: name,email,languages)"))
            continue
        langs = tuple(x for x in re.split(r"[\s,;]+", row.get("languages") or "") if x)
        out.append(Journalist(name, email, langs or (campaign.languages[:1] if campaign else ("en",))))
    return tuple(out)


# ---------------------------------------------------------------- entry point


def load_calendar(path: Path | str, *, on_problems: Callable[[list[Problem]], None] | None = None) -> Calendar:
    """Load and check calendar.yaml and the rapid.yaml beside it; raise ConfigError listing every error."""
    # Loading allocates hundreds of thousands of objects that stay alive (marked mappings, events),
    # so the cyclic GC would only re-traverse a growing heap: a quarter of loading 10,000 events.
    # Refcounting still frees as it goes; any cycle left is collected once the GC is back on.
    paused = gc.isenabled()
    gc.disable()
    try:
        return _load_calendar(path, on_problems)
    finally:
        if paused:
            gc.enable()


def _load_calendar(path: Path | str, on_problems: Callable[[list[Problem]], None] | None) -> Calendar:
    path = Path(path)
    problems: list[Problem] = []
    doc = read_yaml(path, problems)
    if doc is None:
        # A syntax error stops here; a duplicate key does not, so the rest is still checked.
        raise ConfigError(problems or [problem_at(path, 1, 1, "the calendar is empty: it needs campaign:, accounts: and events:")])
    c = _Checker(path, problems)
    if not isinstance(doc, MarkedDict):
        c.error((1, 1), "the calendar must be a mapping with campaign:, accounts: and events:")
        raise ConfigError(problems)
    c.keys(doc, TOP_KEYS, "calendar", required=("campaign", "accounts"))
    campaign = _campaign(c, doc) if "campaign" in doc else None
    accounts = _accounts(c, doc) if "accounts" in doc else {}
    root = path.parent
    seen: dict[str, Path] = {}
    events = _events(c, doc, accounts, campaign, root, seen, path)
    feeds = _feeds(c, doc)
    journalists = _journalists(c, doc, campaign, root)

    rapid = root / RAPID_FILE
    if rapid.exists():
        rc = _Checker(rapid, problems)
        rdoc = read_yaml(rapid, problems)
        if isinstance(rdoc, MarkedDict):
            rc.keys(rdoc, ("events",), "rapid.yaml")
            events += _events(rc, rdoc, accounts, campaign, root, seen, rapid)
        elif rdoc is not None:
            rc.error((1, 1), "rapid.yaml must be a mapping with an events: list")

    events = _hold_unapproved(campaign, events, problems)
    errors = [p for p in problems if p.severity == "error"]
    warnings = tuple(p for p in problems if p.severity != "error")
    if errors or campaign is None:
        raise ConfigError(problems or [problem_at(path, 1, 1, "campaign: is incomplete")])
    if on_problems and warnings:
        on_problems(list(warnings))
    sources = [path, *([rapid] if rapid.exists() else [])]
    if isinstance(doc.get("journalists"), str):
        sources.append(root / doc["journalists"])
    sources += dict.fromkeys(m.path for e in events for m in e.media)
    return Calendar(path, campaign, accounts, tuple(events), feeds, journalists, warnings, tuple(sources))


def _hold_unapproved(campaign: Campaign | None, events: list[Event], problems: list[Problem]) -> list[Event]:
    """An event of a kind that needs approval stays a draft until it carries approved_by."""
    if campaign is None or not campaign.approval:
        return events
    out = []
    for e in events:
        if e.kind in campaign.approval and not e.draft and not e.approved_by:
            problems.append(problem_at(e.file, e.line, 1, f"event '{e.id}': kind '{e.kind}' requires approval, so it is held as a draft: run 'campaigner approve {e.id}'", "warning"))
            e = e._replace(draft=True)
        out.append(e)
    return out
