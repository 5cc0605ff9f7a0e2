"""calendar.yaml (and rapid.yaml beside it) -> a checked Calendar; every problem carries file:line:col."""

from __future__ import annotations

import gc
import io
import re
from datetime import date, time
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from campaigner.calendar.checker import Checker, describe
from campaigner.calendar.quiet import load_quiet
from campaigner.calendar.records import (
    DEFAULT_GRACE,
    JOURNALISTS,
    RAPID_FILE,
    REPEATS,
    Account,
    Age,
    Calendar,
    Campaign,
    Contact,
    Event,
    Fact,
    Feed,
    Media,
    suggest,
)
from campaigner.calendar.yaml_reader import MarkedDict, MarkedList, read_yaml
from campaigner.errors import ConfigError, Problem, problem_at, read_utf8

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_CAMPAIGN_ID_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")


def slug(name: str) -> str:
    """A campaign name as a key: 'CCBL – Cambodia' -> 'ccbl-cambodia' (accents dropped, at most 64)."""
    import unicodedata

    ascii_ = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_.lower()).strip("-")[:64].rstrip("-")


# ---------------------------------------------------------------- sections

CAMPAIGN_KEYS = ("name", "id", "timezone", "default_time", "languages", "hashtags", "grace", "approval", "contact", "fact_max_age")
ACCOUNT_KEYS = ("platform", "languages", "pricing")
EVENT_KEYS = (
    "id", "kind", "template", "date", "time", "repeat", "until", "accounts", "goal", "vars",
    "link", "media", "draft", "thread", "grace", "approved_by", "approved_at", "rejected_by", "rejected_at",
)
TOP_KEYS = ("campaign", "accounts", "events", "feeds", "contacts", "journalists", "quiet", "facts")
FACT_KEYS = ("value", "as_of", "source", "max_age")


def _campaign(c: Checker, doc: MarkedDict) -> Campaign | None:
    m = c.mapping(doc.get("campaign"), c.at_value(doc, "campaign"), "campaign")
    if m is None:
        return None
    c.keys(m, CAMPAIGN_KEYS, "campaign", required=("name", "timezone", "languages"))
    tz_name = c.string(m, "timezone", "campaign")
    tz = None
    if tz_name is not None and not tz_name.strip():
        c.error(c.at_value(m, "timezone"), "campaign.timezone: empty: give an IANA time zone such as Asia/Phnom_Penh")
    elif tz_name:
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
    if name is not None and not name.strip():
        c.error(c.at_value(m, "name"), "campaign.name: empty: give the campaign's name, as posts and emails should show it")
        name = None
    default_time = c.clock(m, "default_time", "campaign", time(9, 0))
    grace = c.duration(m, "grace", "campaign")
    campaign_id = _campaign_id(c, m, name)
    if tz is None or name is None or not languages or campaign_id is None:
        return None
    return Campaign(
        name=name,
        timezone=tz_name,
        tz=tz,
        default_time=default_time or time(9, 0),
        languages=languages,
        id=campaign_id,
        hashtags=c.string_list(m, "hashtags", "campaign") or (),
        grace=grace if grace is not None else DEFAULT_GRACE,
        approval=c.string_list(m, "approval", "campaign") or (),
        contact=c.string(m, "contact", "campaign"),
        fact_max_age=_age(c, m, "fact_max_age", "campaign"),
    )


def _age(c: Checker, m: MarkedDict, key: str, label: str) -> Age | None:
    """A fact's (or the campaign's) max_age: '12 months', '1 year', '90 days'."""
    from campaigner.calendar.ages import parse_age

    if key not in m:
        return None
    age = parse_age(m[key])
    if age is None:
        c.error(c.at_value(m, key), f"{label}.{key}: expected an age such as 12 months, 1 year, 6 weeks or 90 days, got {describe(m[key])}")
    return age


def _campaign_id(c: Checker, m: MarkedDict, name: str | None) -> str | None:
    """campaign.id as written, else the name slugified; None (with a located problem) when neither works."""
    written = c.string(m, "id", "campaign")
    if written is not None:
        if not _CAMPAIGN_ID_RE.match(written):
            fix = slug(written)
            hint = f" (e.g. id: {fix})" if fix and _CAMPAIGN_ID_RE.match(fix) else ""
            c.error(c.at_value(m, "id"), f"campaign.id: '{written}' must be 1 to 64 lowercase letters, digits and '-', starting and ending with a letter or digit{hint}")
            return None
        return written
    if name is None:
        return None
    made = slug(name)
    if not made:
        c.error(c.at_key(m, "name"), f"campaign: the name '{name}' gives no id (it has no Latin letters or digits): add id: with lowercase letters, digits and '-', e.g. id: ccbl")
        return None
    return made


def _accounts(c: Checker, doc: MarkedDict) -> dict[str, Account]:
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
                        c.error(c.at_value(p, k), f"{label}.pricing.{k}: expected a price such as 0.015, got {describe(p[k])}")
        for k in cls.required_options:
            if k in a and not isinstance(a[k], str):
                c.error(c.at_value(a, k), f'{label}.{k}: write it in quotes, e.g. {k}: "{a[k]}" (long numbers lose digits otherwise)')
        out[name] = Account(name, platform, c.string_list(a, "languages", label) or (), options)
    return out


def _media(c: Checker, e: MarkedDict, label: str, root: Path) -> tuple[Media, ...]:
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
            item_map: MarkedDict | None = _marked({"path": item}, where)
        else:
            item_map = c.mapping(item, where, ml)
        if item_map is None:
            continue
        c.keys(item_map, ("path", "alt"), ml, required=("path",))
        written = c.string(item_map, "path", ml)
        if not written:
            continue
        alt = c.string(item_map, "alt", ml)
        where = c.at_value(item_map, "path")
        if Path(written).is_absolute() or ".." in Path(written).parts:
            c.error(where, f"{ml}.path: '{written}' leaves the calendar's folder: media paths are relative to it and stay inside it (e.g. media/photo.jpg); copy the file there")
            continue
        path = root / written
        try:
            path = path.resolve()
            found = path.is_file()
        except (OSError, RuntimeError):  # a symlink loop (RuntimeError before Python 3.13)
            c.error(where, f"{ml}.path: media file '{written}' cannot be read: a symlink on its way leads in a loop")
            continue
        if not found:
            c.error(where, f"{ml}.path: media file '{written}' not found (paths are relative to the calendar's folder)")
        if not alt or not alt.strip():
            c.error(item_map.mark, f"{ml}: image '{written}' has no alt text: add alt: \"what the picture shows\" so screen-reader users can follow", "warning")
        out.append(Media(path, alt, written))
    return tuple(out)


def _event(c: Checker, e: MarkedDict, i: int, accounts: dict[str, Account], campaign: Campaign | None, root: Path, path: Path) -> Event | None:
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
                c.error(where, f"{label}.accounts: unknown account '{name}'{suggest(name, accounts)}; the calendar defines {', '.join(accounts) or 'none'} under accounts:")
        acc = tuple(a for a in acc if a in accounts)
    vars_ = e.get("vars", {})
    if "vars" in e and not isinstance(vars_, dict):
        c.error(c.at_value(e, "vars"), f"{label}.vars: expected a mapping such as {{treaty: ..., since: 2010}}")
        vars_ = {}
    link = c.string(e, "link", label)
    if link is not None and not re.match(r"^https?://\S+$", link):
        c.error(c.at_value(e, "link"), f"{label}.link: '{link}' is not an http(s) URL")
    template = c.string(e, "template", label)
    if template is not None and not _ID_RE.match(template):
        c.error(c.at_value(e, "template"), f"{label}.template: '{template}' must be the name of a folder under templates/ (lowercase letters, digits, '-', '_', '.'), not a path")
        template = None
    template = template or kind
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
        rejected_by=c.string(e, "rejected_by", label) if "rejected_by" in e else None,
    )


def _marked(values: dict[str, Any], where: tuple[int, int]) -> MarkedDict:
    """A mapping written in short form (a bare media path), as if written in full at `where`."""
    m = MarkedDict()
    m.update(values)
    m.mark = where
    return m


def _plain(value: Any) -> Any:
    """MarkedDict/MarkedList -> dict/list, so templates see ordinary values."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _events(c: Checker, doc: MarkedDict, accounts: dict[str, Account], campaign: Campaign | None, root: Path, seen: dict[str, Path], path: Path) -> list[Event]:
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


def _feeds(c: Checker, doc: MarkedDict) -> tuple[Feed, ...]:
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


_EMAIL = re.compile(r"^[^@\s/]+@[^@\s/]+\.[^@\s/]+$")  # no '/': the address is part of a briefing's ledger key
_GROUP = re.compile(r"^[a-z][a-z0-9_-]*$")  # a group's name is part of template names and ledger keys
CONTACT_KEYS = ("name", "email", "languages", "role")


def contact_files(doc: Any) -> list[str]:
    """The CSV files a calendar document names for its contact groups (relative to its folder)."""
    if not isinstance(doc, dict):
        return []
    groups = doc.get("contacts")
    out = [doc["journalists"]] if isinstance(doc.get("journalists"), str) else []
    if isinstance(groups, dict):
        out += [v for v in groups.values() if isinstance(v, str)]
    return out


def _contacts(c: Checker, doc: MarkedDict, campaign: Campaign | None, root: Path) -> dict[str, tuple[Contact, ...]]:
    """`contacts:` (group -> a list of {name, email, languages, role} or a CSV file), with `journalists:`
    standing for the group `journalists`."""
    out: dict[str, tuple[Contact, ...]] = {}
    groups = doc.get("contacts")
    if groups is not None and not isinstance(groups, MarkedDict):
        c.error(c.at_value(doc, "contacts"), "contacts: expected a mapping of group names to lists of {name, email, languages, role} "
                "or to CSV files, e.g. contacts: {journalists: press.csv, officials: [...]}")
        groups = None
    for group in list(groups or {}):
        assert groups is not None
        if not isinstance(group, str) or not _GROUP.match(group):
            c.error(c.at_key(groups, group), f"contacts: '{group}' is not a group name: use lowercase letters, digits, '-' and '_', e.g. officials")
            continue
        out[group] = _group(c, groups, group, f"contacts.{group}", campaign, root)
    if "journalists" in doc:
        if JOURNALISTS in out:
            c.error(c.at_key(doc, "journalists"), "journalists: the group is also under contacts:; keep one (journalists: is the old "
                    "spelling of contacts: {journalists: ...})")
        else:
            out[JOURNALISTS] = _group(c, doc, "journalists", "journalists", campaign, root)
    return out


def _group(c: Checker, parent: MarkedDict, key: str, label: str, campaign: Campaign | None, root: Path) -> tuple[Contact, ...]:
    default_langs = campaign.languages[:1] if campaign else ("en",)
    value = parent.get(key)
    if isinstance(value, str):  # a CSV file with name,email,languages[,role] columns
        return _group_csv(c, root / value, c.at_value(parent, key), label, default_langs)
    if not isinstance(value, list):
        c.error(c.at_value(parent, key), f"{label}: expected a list of {{name, email, languages, role}} or the name of a CSV file")
        return ()
    out: list[Contact] = []
    for i, item in enumerate(value):
        where = value.item_marks[i] if isinstance(value, MarkedList) else parent.mark
        j = c.mapping(item, where, f"{label}[{i}]")
        if j is None:
            continue
        c.keys(j, CONTACT_KEYS, f"{label}[{i}]", required=("name", "email"))
        name, email = c.string(j, "name", f"{label}[{i}]"), c.string(j, "email", f"{label}[{i}]")
        if email and not _EMAIL.match(email):
            c.error(c.at_value(j, "email"), f"{label}[{i}].email: '{email}' is not an email address")
            continue
        langs = c.string_list(j, "languages", f"{label}[{i}]") or default_langs
        role = c.string(j, "role", f"{label}[{i}]") if "role" in j else None
        if email and email.lower() in {o.email.lower() for o in out}:
            c.error(c.at_value(j, "email"), f"{label}[{i}].email: '{email}' is already in this group: each address is briefed once per group, keep one entry")
            continue
        if name and email:
            out.append(Contact(name, email, langs, role or None))
    return tuple(out)


def _group_csv(c: Checker, path: Path, where: tuple[int, int], label: str, default_langs: tuple[str, ...]) -> tuple[Contact, ...]:
    import csv

    try:
        # (a spreadsheet's "CSV UTF-8" starts with a byte-order mark, which is not part of the first column's name)
        rows = list(csv.DictReader(io.StringIO(read_utf8(path).removeprefix("\ufeff"), newline="")))
    except ConfigError as exc:  # not UTF-8, located in the CSV
        c.problems.extend(exc.problems)
        return ()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop, before Python 3.13
        c.error(where, f"{label}: cannot read '{path.name}': {getattr(exc, 'strerror', None) or exc}")
        return ()
    except csv.Error as exc:
        c.error(where, f"{label}: '{path.name}' is not a CSV file of name,email,languages,role: {exc}")
        return ()
    out: list[Contact] = []
    for n, row in enumerate(rows, start=2):
        name, email = (row.get("name") or "").strip(), (row.get("email") or "").strip()
        if not name or not _EMAIL.match(email):
            c.problems.append(problem_at(path, n, 1, "each row needs a name and a valid email (columns: name,email,languages,role)"))
            continue
        if email.lower() in {o.email.lower() for o in out}:
            c.problems.append(problem_at(path, n, 1, f"'{email}' is already in this file: each address is briefed once per group, keep one row"))
            continue
        langs = tuple(x for x in re.split(r"[\s,;]+", row.get("languages") or "") if x)
        out.append(Contact(name, email, langs or default_langs, (row.get("role") or "").strip() or None))
    return tuple(out)


def _facts(c: Checker, doc: MarkedDict, campaign: Campaign | None, accounts: dict[str, Account], root: Path,
           problems: list[Problem]) -> tuple[dict[str, Fact], Path | None]:
    """facts: written in the calendar, or the name of a YAML file of them beside it (facts.yaml);
    and that file, when there is one."""
    if "facts" not in doc:
        return {}, None
    written = doc["facts"]
    file = None
    if isinstance(written, str):
        file = root / written
        where = c.at_value(doc, "facts")
        if not file.is_file():
            c.error(where, f"facts: file '{written}' not found (it is read from the calendar's folder): create it, or write the facts here")
            return {}, None
        fc = Checker(file, problems)
        fdoc = read_yaml(file, problems)
        if fdoc is None:
            return {}, file
        if not isinstance(fdoc, MarkedDict):
            fc.error((1, 1), f"{written} must be a mapping of fact names to {{value, as_of, source}}")
            return {}, file
        return _fact_map(fc, fdoc, campaign, accounts, file), file
    m = c.mapping(written, c.at_value(doc, "facts"), "facts")
    return (_fact_map(c, m, campaign, accounts, c.path) if m is not None else {}), None


def _fact_map(c: Checker, m: MarkedDict, campaign: Campaign | None, accounts: dict[str, Account], path: Path) -> dict[str, Fact]:
    from campaigner.calendar.ages import NAME_RE, covers_until

    languages = set(campaign.languages if campaign else ()) | {lang for a in accounts.values() for lang in a.languages}
    out: dict[str, Fact] = {}
    for name, spec in m.items():
        label = f"facts.{name}"
        if not isinstance(name, str) or not NAME_RE.match(name):
            c.error(c.at_key(m, name), f"{label}: a fact's name is lowercase letters, digits and '_', starting with a letter (templates write facts.<name>)")
            continue
        f = c.mapping(spec, c.at_value(m, name), label)
        if f is None:
            continue
        c.keys(f, FACT_KEYS, label, required=("value", "as_of", "source"))
        value, per_language = f.get("value"), False
        if "value" in f:
            if isinstance(value, dict):
                per_language = True
                missing = sorted(languages - set(value))
                if missing:
                    c.error(c.at_value(f, "value"), f"{label}.value: no value in {', '.join(missing)}: give one per language the campaign posts in, e.g. {{{', '.join(f'{x}: ...' for x in sorted(languages))}}}")
                    value = None
                else:
                    for lang, v in value.items():
                        if not _fact_value_ok(v, inner=True):
                            c.error(c.at_value(value, lang) if isinstance(value, MarkedDict) else c.at_value(f, "value"), f"{label}.value.{lang}: expected a number, text or date, got {describe(v)}")
                            value = None
                            break
            elif not _fact_value_ok(value):
                c.error(c.at_value(f, "value"), f"{label}.value: expected a number, text, date, a list of them, or one value per language ({{en: ..., km: ...}}), got {describe(value)}")
                value = None
        as_of = f.get("as_of")
        until = covers_until(as_of) if "as_of" in f else None
        if "as_of" in f and until is None:
            c.error(c.at_value(f, "as_of"), f"{label}.as_of: expected the date the value was true: YYYY-MM-DD, YYYY-MM (quoted) or a year, got {describe(as_of)}")
        source = c.string(f, "source", label)
        if source is not None and not source.strip():
            c.error(c.at_value(f, "source"), f"{label}.source: empty: say where the value comes from (a report, a URL), so it can be updated from there")
            source = None
        age = _age(c, f, "max_age", label)
        if value is None or until is None or source is None or ("max_age" in f and age is None):
            continue
        line, col = c.at_key(m, name)
        out[name] = Fact(name, _plain(value), per_language, as_of, until, source, age, path, line, col)
    return out


def _fact_value_ok(value: Any, inner: bool = False) -> bool:
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, (int, float, str, date)):
        return True
    return not inner and isinstance(value, list) and all(_fact_value_ok(v, inner=True) for v in value)


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
    c = Checker(path, problems)
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
    contacts = _contacts(c, doc, campaign, root)
    facts, facts_file = _facts(c, doc, campaign, accounts, root, problems)

    rapid = root / RAPID_FILE
    if rapid.exists():
        rc = Checker(rapid, problems)
        rdoc = read_yaml(rapid, problems)
        if isinstance(rdoc, MarkedDict):
            rc.keys(rdoc, ("events",), "rapid.yaml")
            events += _events(rc, rdoc, accounts, campaign, root, seen, rapid)
        elif rdoc is not None:
            rc.error((1, 1), "rapid.yaml must be a mapping with an events: list")

    events = _hold_unapproved(campaign, events, problems)
    quiet = load_quiet(c, doc, campaign, events)
    errors = [p for p in problems if p.severity == "error"]
    warnings = tuple(p for p in problems if p.severity != "error")
    if errors or campaign is None:
        raise ConfigError(problems or [problem_at(path, 1, 1, "campaign: is incomplete")])
    if on_problems and warnings:
        on_problems(list(warnings))
    sources = [path, *([rapid] if rapid.exists() else [])]
    sources += [root / name for name in contact_files(doc)]
    if facts_file is not None:
        sources.append(facts_file)
    sources += dict.fromkeys(m.path for e in events for m in e.media)
    return Calendar(path, campaign, accounts, tuple(events), feeds, contacts, warnings, tuple(sources), quiet=quiet, facts=facts)


def _hold_unapproved(campaign: Campaign | None, events: list[Event], problems: list[Problem]) -> list[Event]:
    """An event of a kind that needs approval stays a draft until it carries approved_by."""
    if campaign is None or not campaign.approval:
        return events
    out = []
    for e in events:
        if e.kind in campaign.approval and not e.draft and not e.approved_by:
            if e.file.name == RAPID_FILE:
                fix = f"run 'campaigner approve {e.id}'"
            else:  # campaigner never rewrites calendar.yaml: the approval is an edit there, reviewed as a change
                fix = f"add approved_by: NAME to it in {e.file.name} to approve it, or draft: true to keep it a draft"
            problems.append(problem_at(e.file, e.line, 1, f"event '{e.id}': kind '{e.kind}' requires approval, so it is held as a draft: {fix}", "warning"))
            e = e._replace(draft=True)
        out.append(e)
    return out
