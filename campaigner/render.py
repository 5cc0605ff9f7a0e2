"""Occurrences -> Post texts per account and language, through sandboxed Jinja templates."""

from __future__ import annotations

import functools
import hashlib
import os
import re
import traceback
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from campaigner import parallel
from campaigner.calendar import Account, Calendar, Event, Media
from campaigner.errors import ConfigError, Problem, not_utf8, problem_at
from campaigner.facts import Facts, carry, column, undefined_fact_error
from campaigner.recurrence import Occurrence, occurrences

if TYPE_CHECKING:  # jinja2 is needed only to render: a run served from the cache never imports it
    import jinja2

    from campaigner.sandbox import Environment

    from campaigner.adapters.base import Message
    from campaigner.cache import Snapshot


# ---------------------------------------------------------------- posts


class Rendered(NamedTuple):
    """What rendering one post gives, kept by the snapshot cache: all of a Post but its identity."""

    due: str  # the ISO instant it was rendered for: a post due at another instant is rendered again
    text: str
    length: int
    limit: int
    parts: tuple[str, ...] | None  # the thread's parts when the text is split, else None
    fits: bool
    facts: tuple[str, ...] = ()  # the names of the facts the text cites, sorted


class Post(NamedTuple):
    """One rendered post: an (occurrence, account, language) with its text and measured length."""

    id: str
    event: Event
    date: date
    due: datetime
    account: str
    platform: str
    language: str
    text: str
    length: int
    limit: int
    parts: tuple[str, ...]  # the thread's parts when the text is split, else (text,)
    fits: bool  # every part within the platform's limit
    facts: tuple[str, ...] = ()  # the facts its text cites (facts.<name>), sorted

    @property
    def kind(self) -> str:
        """The event's kind."""
        return self.event.kind

    @property
    def draft(self) -> bool:
        """Drafts are planned and validated, never published."""
        return self.event.draft

    @property
    def media(self) -> tuple[Media, ...]:
        """The event's images."""
        return self.event.media

    @property
    def text_hash(self) -> str:
        """sha256 of the text, recorded with what was sent."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def message(self, part: int = 0, reply_to: str | None = None) -> Message:
        """What the adapter sends for this post, or one part of its thread (media and link go with the first)."""
        from campaigner.adapters.base import MediaItem, Message

        first = part == 0
        return Message(
            text=self.parts[part],
            idempotency_key=self.id if len(self.parts) == 1 else f"{self.id}#{part + 1}",
            media=tuple(MediaItem(m.path, m.alt) for m in self.media) if first else (),
            link=self.event.link if first else None,
            link_title=_text_var(self.event.vars, "link_title") if first else None,
            link_description=_text_var(self.event.vars, "link_description") if first else None,
            reply_to=reply_to,
            language=self.language,
        )


def _text_var(variables: Any, name: str) -> str | None:
    """An event's var as text, when it is one (a link card's title or description)."""
    value = variables.get(name) if hasattr(variables, "get") else None
    return value if isinstance(value, str) and value.strip() else None


def post_id(event_id: str, day: date, account: str, lang: str) -> str:
    """`<event id>/<YYYY-MM-DD>/<account>/<lang>`, the key of a post in the ledger."""
    return f"{event_id}/{day.isoformat()}/{account}/{lang}"


UNTIL_APPROVED = "until approved"


def alleged(event: Event) -> bool:
    """Does a post about this event report an allegation? `alleged: true` in its vars (condemn --alleged) says so,
    and a feed's draft (`alleged: until approved`) is one until a person approves it."""
    mark = event.vars.get("alleged")
    return mark is True or (mark == UNTIL_APPROVED and event.draft)


class Renderer:
    """Finds, compiles (once) and renders templates for one calendar."""

    def __init__(self, calendar: Calendar, snapshot: Snapshot | None = None):
        self.calendar = calendar
        self.folder = calendar.root / "templates"
        # The snapshot of these very inputs (see cache.py), with the posts already rendered; or None.
        self.snapshot = snapshot
        self._templates: dict[tuple[str, str, str], jinja2.Template] = {}
        self._campaign = _Namespace(
            name=calendar.campaign.name,
            hashtags=list(calendar.campaign.hashtags),
            timezone=calendar.campaign.timezone,
            languages=list(calendar.campaign.languages),
            contact=calendar.campaign.contact,
        )
        self._facts: dict[str, dict[str, Any]] = {}  # language -> fact name -> value as templates see it

    @functools.cached_property
    def env(self) -> Environment:
        """The Jinja environment, made on first use: a run served from the cache needs none."""
        from campaigner.sandbox import environment

        return environment(self.folder)

    def candidates(self, kind: str, platform: str, lang: str) -> list[str]:
        """Template names tried in order: the platform's own, the short ones its adapter borrows
        (Bluesky and Mastodon take X's, written to fit a short post), then the language's."""
        from campaigner import adapters

        try:
            borrowed = adapters.adapter_class(platform).template_fallbacks
        except KeyError:  # an unknown platform is the calendar checker's error
            borrowed = ()
        return [f"{kind}/{platform}.{lang}.j2", *(f"{kind}/{other}.{lang}.j2" for other in borrowed), f"{kind}/{lang}.j2"]

    def template(self, kind: str, platform: str, lang: str) -> jinja2.Template:
        """The compiled template for (kind, platform, language); ConfigError when missing or broken."""
        key = (kind, platform, lang)
        if key not in self._templates:
            names = self.candidates(kind, platform, lang)
            name = self.find(kind, platform, lang)
            if name is None:
                raise ConfigError([problem_at(self.folder / names[-1], 0, 0, f"missing template for kind '{kind}', {platform}, {lang}: create templates/{names[0]} or templates/{names[-1]}")])
            self._templates[key] = self.load(name)
        return self._templates[key]

    def find(self, kind: str, platform: str, lang: str) -> str | None:
        """The first of the candidate template files that exists; ConfigError for one that is there
        but cannot be a template (a folder, a symlink that leads nowhere or in a loop)."""
        if not self.folder.is_dir() and self.folder.is_symlink():
            raise ConfigError([problem_at(self.folder, 0, 0, "the templates folder is a symlink that leads nowhere (its target is missing, or it leads in a loop): fix or remove it")])
        for name in self.candidates(kind, platform, lang):
            if template_file(self.folder, name):
                return name
        return None

    def load(self, name: str) -> jinja2.Template:
        """A template by its name under templates/, compiled; ConfigError, located, when it cannot be."""
        import jinja2

        try:
            return self.env.get_template(name)
        except jinja2.TemplateSyntaxError as exc:
            raise ConfigError([problem_at(self.folder / name, exc.lineno or 0, 0, f"template syntax: {exc.message}")]) from None
        except UnicodeDecodeError as exc:
            raise ConfigError([not_utf8(self.folder / name, (self.folder / name).read_bytes(), exc)]) from None
        except (OSError, RuntimeError, jinja2.TemplateNotFound) as exc:
            raise ConfigError([problem_at(self.folder / name, 0, 0, f"cannot read the template: {getattr(exc, 'strerror', None) or exc}")]) from None

    def facts(self, lang: str, used: set[str]) -> Facts:
        """`facts` for a template in this language, noting in `used` each fact it reads."""
        values = self._facts.get(lang)
        if values is None:
            values = self._facts[lang] = {name: carry(fact, lang) for name, fact in self.calendar.facts.items()}
        return Facts(values, self.calendar.facts, used)

    def context(self, occ: Occurrence, account: Account, lang: str, used: set[str] | None = None) -> dict[str, Any]:
        """What a template can use: campaign, event, vars, facts, date, due, years, account, language, alleged."""
        e = occ.event
        return {
            "alleged": alleged(e),
            "campaign": self._campaign,
            "facts": self.facts(lang, used if used is not None else set()),
            "event": _Namespace(id=e.id, kind=e.kind, goal=e.goal, date=e.date, link=e.link),
            "vars": e.vars,
            "date": occ.date,
            "due": occ.due,
            "years": occ.years,
            "account": _Namespace(name=account.name, platform=account.platform),
            "platform": account.platform,
            "language": lang,
            "media": [{"path": m.written, "alt": m.alt} for m in e.media],
        }

    def render(self, occ: Occurrence, account: Account, lang: str) -> Post:
        """Render one post; ConfigError located in the template on an undefined variable or failure."""
        (result,) = self.render_many([(occ, account, lang)])
        if isinstance(result, ConfigError):
            raise result
        return result

    def render_many(self, items: list[tuple[Occurrence, Account, str]]) -> list[Post | ConfigError]:
        """Render each (occurrence, account, language), in order: a Post, or the ConfigError it raised.

        Posts the snapshot holds for the same due instant are taken from it; the others are
        rendered (a large batch partly on a second core, see parallel.py) and remembered.
        """
        pids = [post_id(occ.event.id, occ.date, account.name, lang) for occ, account, lang in items]
        results: list[Rendered | ConfigError | None] = [self._kept(pid, occ) for pid, (occ, _, _) in zip(pids, items)]
        todo = [i for i, kept in enumerate(results) if kept is None]
        if todo:
            from campaigner import sandbox

            with sandbox.bounds():
                fresh = parallel.ordered_map(lambda i: self._render_or_error(*items[i]), todo)
        else:
            fresh = []
        for i, rendered in zip(todo, fresh):
            results[i] = rendered
            if self.snapshot is not None and not isinstance(rendered, ConfigError):
                self.snapshot.remember(pids[i], rendered)
        out: list[Post | ConfigError] = []
        for pid, (occ, account, lang), result in zip(pids, items, results):
            assert result is not None  # every post is kept or rendered
            out.append(result if isinstance(result, ConfigError) else self._post(pid, occ, account, lang, result))
        return out

    def _kept(self, pid: str, occ: Occurrence) -> Rendered | None:
        """What the snapshot holds for this post, if it was rendered for the same due instant."""
        kept = self.snapshot.rendered.get(pid) if self.snapshot is not None else None
        return Rendered._make(kept) if kept is not None and kept[0] == occ.due.isoformat() else None

    @staticmethod
    def _post(pid: str, occ: Occurrence, account: Account, lang: str, rendered: Rendered) -> Post:
        return Post(pid, occ.event, occ.date, occ.due, account.name, account.platform, lang, rendered.text,
                    rendered.length, rendered.limit, rendered.parts or (rendered.text,), rendered.fits, rendered.facts)

    def _render_or_error(self, occ: Occurrence, account: Account, lang: str) -> Rendered | ConfigError:
        try:
            return self._render(occ, account, lang)
        except ConfigError as exc:
            return exc

    def _render(self, occ: Occurrence, account: Account, lang: str) -> Rendered:
        """Render through the template and measure the text against the account's platform."""
        e = occ.event
        if (e.template, account.platform, lang) not in self._templates and self.find(e.template, account.platform, lang) is None:
            names = self.candidates(e.template, account.platform, lang)
            first, second = names[0], names[-1]
            raise ConfigError([problem_at(e.file, e.line, 1, f"event '{e.id}': no template for kind '{e.template}' on {account.platform} in {lang}: create templates/{first} or templates/{second}")])
        tmpl = self.template(e.template, account.platform, lang)
        used: set[str] = set()
        text = self.render_text(tmpl, self.context(occ, account, lang, used), f"event '{e.id}'")
        from campaigner import adapters  # only when rendering: not on a run served from the cache

        cls = adapters.adapter_class(account.platform)
        length, limit = cls.measure(text, account.options), cls.text_limit(account.options)
        # A thread, or a text too long to go with its images: the adapter says how it is sent.
        parts = cls.split(text, account.options, thread=e.thread, images=len(e.media))
        fits = all(cls.fits(p, account.options) for p in parts) if parts else cls.fits(text, account.options)
        return Rendered(occ.due.isoformat(), text, length, limit, parts, fits, tuple(sorted(used)))

    def render_text(self, tmpl: jinja2.Template, context: dict[str, Any], what: str) -> str:
        """A template rendered within the sandbox's bounds, trailing spaces trimmed; ConfigError,
        located in the template, for anything that goes wrong (`what` names the event or email)."""
        import jinja2

        from campaigner import sandbox

        try:
            raw = sandbox.render(tmpl, context)
        except undefined_fact_error() as exc:
            name = re.match(r"undefined fact '([^']*)'", exc.message or "")
            # Said as validate's reading of every template says it, so that the two are one line.
            raise ConfigError([self._locate(exc, tmpl, exc.message or "undefined fact", fact=name.group(1) if name else None)]) from None
        except jinja2.UndefinedError as exc:
            where = self._locate(exc, tmpl, "")
            raise ConfigError([where._replace(message=f"undefined variable for {what}: {_undefined(exc.message, _source_line(where))}")]) from None
        except jinja2.exceptions.SecurityError as exc:
            raise ConfigError([self._locate(exc, tmpl, f"not allowed in a template: {exc}")]) from None
        except sandbox.RenderTimeout as exc:
            raise ConfigError([self._locate(exc, tmpl, f"rendering {what} stopped: {exc} (a loop too long, or one that never ends?)")]) from None
        except sandbox.TextTooLong as exc:
            raise ConfigError([self._locate(exc, tmpl, f"rendering {what} stopped: {exc}")]) from None
        except MemoryError:
            raise ConfigError([problem_at(Path(tmpl.filename or self.folder), 0, 0, f"rendering {what} stopped: it needed more memory than a text can ({sandbox.MEMORY_HEADROOM >> 20:,} MiB)")]) from None
        except Exception as exc:  # a filter given the wrong type, a bad format, ...
            raise ConfigError([self._locate(exc, tmpl, f"rendering {what} failed: {type(exc).__name__}: {exc}")]) from None
        return "\n".join(line.rstrip() for line in raw.strip().splitlines())

    def _locate(self, exc: BaseException, tmpl: jinja2.Template, message: str, fact: str | None = None) -> Problem:
        # The innermost template frame: an error inside an {% include %} is in the included file.
        filename, line = tmpl.filename or str(self.folder), 0
        for frame, lineno in traceback.walk_tb(exc.__traceback__):
            if Path(frame.f_code.co_filename).is_relative_to(self.folder):
                filename, line = frame.f_code.co_filename, lineno
        col = 0
        if fact is not None:  # a fact's name is on the line: point at it
            try:
                col = column(Path(filename).read_text(encoding="utf-8").splitlines(), line, fact)
            except (OSError, UnicodeDecodeError):
                pass
        return problem_at(Path(filename), line, col, message)


def template_file(folder: Path, name: str) -> bool:
    """Whether templates/<name> is a template file; False when there is none; ConfigError when
    something is there that cannot be one (a folder, a symlink that leads nowhere or in a loop)."""
    path = folder / name
    try:
        if path.is_file():
            return True
        if path.is_dir():
            raise ConfigError([problem_at(path, 0, 0, f"templates/{name} is a folder, not a template file: remove it, or move what is in it")])
        if path.is_symlink():
            raise ConfigError([problem_at(path, 0, 0, f"templates/{name} is a symlink that leads nowhere (its target is missing, or it leads in a loop): fix or remove it")])
    except OSError as exc:
        raise ConfigError([problem_at(path, 0, 0, f"cannot read templates/{name}: {exc.strerror or exc}")]) from None
    return False


def template_names(folder: Path) -> tuple[list[str], list[Problem]]:
    """Every *.j2 file under templates/ by its name there (through symlinked folders, each folder
    once), and a located problem for each *.j2 entry that is not a readable file."""
    names: list[str] = []
    problems: list[Problem] = []
    seen: set[tuple[int, int]] = set()

    def visit(path: Path, prefix: str) -> None:
        info = path.stat()
        if (info.st_dev, info.st_ino) in seen:  # a symlink back to a folder already walked
            return
        seen.add((info.st_dev, info.st_ino))
        with os.scandir(path) as entries:
            found = sorted(entries, key=lambda entry: entry.name)
        for entry in found:
            name = prefix + entry.name
            try:
                is_dir = entry.is_dir()
            except OSError:  # a symlink in a loop: template_file says so when it is named like a template
                is_dir = False
            try:
                if is_dir:
                    visit(Path(entry.path), name + "/")
                elif entry.name.endswith(".j2") and template_file(folder, name):
                    names.append(name)
            except ConfigError as exc:
                problems.extend(exc.problems)
            except OSError as exc:
                problems.append(problem_at(entry.path, 0, 0, f"cannot read templates/{name}: {exc.strerror or exc}"))

    visit(folder, "")
    return names, problems


def _undefined(message: str | None, line: str) -> str:
    """Jinja's "'dict object' has no attribute 'x'" in the calendar's terms, with the fix. Jinja does
    not say which object lacks it: the template's line does (`vars.x`, `contact.x`)."""
    guard = "guard it with {% if ... is defined %}"
    m = re.match(r"'dict object' has no attribute '([^']+)'", message or "")
    if not m:
        return f"{message or 'undefined'}; define it in the event's vars or {guard}"
    attr = m.group(1)
    owner = re.search(rf"([A-Za-z_][\w.]*)\.{re.escape(attr)}\b", line)
    if owner is None or owner.group(1) == "vars":
        return f"'{attr}' is not set (vars.{attr} is missing); define it in the event's vars or {guard}"
    path = f"{owner.group(1)}.{attr}"
    return f"'{path}' is not set ({owner.group(1)} has no '{attr}'); {guard}"


def _source_line(where: Problem) -> str:
    """The template line a problem is located at ('' when it cannot be read)."""
    try:
        return Path(where.file).read_text(encoding="utf-8").splitlines()[where.line - 1] if where.line else ""
    except (OSError, UnicodeDecodeError, IndexError):
        return ""


class _Namespace:
    """Attribute access for template context objects (sandbox-safe, no methods)."""

    def __init__(self, **kw: Any):
        self.__dict__.update(kw)

    def __getitem__(self, key: str) -> Any:
        return self.__dict__[key]


def expand(
    calendar: Calendar,
    start: date,
    end: date,
    *,
    accounts: Iterable[str] | None = None,
    kinds: Iterable[str] | None = None,
    renderer: Renderer | None = None,
) -> list[Post]:
    """Every post with a local date in [start, end], rendered, in due order; ConfigError lists every failure."""
    renderer = renderer or Renderer(calendar)
    wanted_accounts = set(accounts) if accounts else None
    wanted_kinds = set(kinds) if kinds else None
    items = [(occ, calendar.accounts[name], lang)
             for occ in iter_occurrences(calendar, start, end, kinds=wanted_kinds)
             for name in occ.event.accounts if wanted_accounts is None or name in wanted_accounts
             for lang in calendar.languages_for(calendar.accounts[name])]
    posts: list[Post] = []
    problems: list[Problem] = []
    for result in renderer.render_many(items):
        if isinstance(result, ConfigError):
            problems.extend(result.problems)
        else:
            posts.append(result)
    if problems:
        raise ConfigError(sorted(set(problems)))
    posts.sort(key=lambda p: (p.due, p.account, p.language, p.id))
    return posts


def iter_occurrences(calendar: Calendar, start: date, end: date, *, kinds: set[str] | None = None) -> Iterator[Occurrence]:
    """Occurrences of every event (optionally of some kinds) with local dates in [start, end]."""
    tz = calendar.campaign.tz
    for event in calendar.events:
        if kinds is None or event.kind in kinds:
            yield from occurrences(event, tz, start, end)


def window_dates(calendar: Calendar, start: datetime, end: datetime) -> tuple[date, date]:
    """The local dates that cover the instants [start, end], with a day's margin for offsets."""
    tz = calendar.campaign.tz
    return start.astimezone(tz).date() - timedelta(days=1), end.astimezone(tz).date() + timedelta(days=1)
