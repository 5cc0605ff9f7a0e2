"""Facts: the figures posts cite (`facts.<name>` in templates), each with the date it was true and
its source, and whether it is still fresh on the day a post goes out.

A fact is stale in a post due more than its `max_age` (default `campaign.fact_max_age`, else
DEFAULT_MAX_AGE) after the last day its `as_of` covers: "2025-03" covers March 2025, 2024 the
whole year. Which facts a post uses is recorded while it renders (`Facts` below), so a fact in a
branch the post does not take is not counted; a template's references are also read statically,
so a misspelt name in any branch is a located error.

No YAML and no Jinja at import: `filters` and `render` import this module on every path.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from campaigner.calendar.ages import DEFAULT_MAX_AGE, after
from campaigner.calendar.records import Age, Fact
from campaigner.errors import Problem, problem_at

if TYPE_CHECKING:
    import jinja2

    from campaigner.calendar import Calendar
    from campaigner.render import Post

def max_age(fact: Fact, calendar: Calendar) -> Age:
    """The fact's own max_age, else the campaign's fact_max_age, else 12 months."""
    return fact.max_age or calendar.campaign.fact_max_age or DEFAULT_MAX_AGE


def fresh_until(fact: Fact, calendar: Calendar) -> date:
    """The last day a post may cite the fact without it being stale."""
    return after(fact.until, max_age(fact, calendar))


def stale_on(fact: Fact, calendar: Calendar, day: date) -> bool:
    """Whether a post on this (local) day would cite the fact more than max_age after its as_of."""
    return day > fresh_until(fact, calendar)


def age_text(since: date, today: date) -> str:
    """'1 year 8 months', '3 months', '12 days' from `since` to `today`; 'not yet' before it."""
    if today < since:
        return "not yet"
    months = (today.year - since.year) * 12 + today.month - since.month - (today.day < since.day)
    if months < 1:
        days = (today - since).days
        return f"{days} day{'s' * (days != 1)}"
    years, months = divmod(months, 12)
    parts = [f"{years} year{'s' * (years != 1)}"] if years else []
    if months:
        parts.append(f"{months} month{'s' * (months != 1)}")
    return " ".join(parts)


def as_of_text(fact: Fact) -> str:
    """The as_of as written, for messages."""
    return fact.as_of.isoformat() if isinstance(fact.as_of, date) else str(fact.as_of)


# ---------------------------------------------------------------- in templates


class FactValue:
    """Mixed into a fact's value as templates see it: the value itself (an int, a str, a date, a
    list, so filters, arithmetic and comparisons work as on the plain value), plus `.as_of`,
    `.source`, `.name` and `.value` (the plain value)."""

    name: str
    as_of: Any
    source: str
    value: Any


class _Int(int, FactValue):
    pass


class _Float(float, FactValue):
    pass


class _Str(str, FactValue):
    pass


class _Date(date, FactValue):
    pass


class _List(list, FactValue):
    pass


def carry(fact: Fact, lang: str) -> Any:
    """The fact's value in a language, as templates see it (see FactValue)."""
    value = fact.value_in(lang)
    if isinstance(value, bool):
        out: Any = _Int(value)
    elif isinstance(value, int):
        out = _Int(value)
    elif isinstance(value, float):
        out = _Float(value)
    elif isinstance(value, str):
        out = _Str(value)
    elif isinstance(value, date):
        out = _Date(value.year, value.month, value.day)
    elif isinstance(value, list):
        out = _List(value)
    else:  # the loader admits nothing else
        raise TypeError(f"fact '{fact.name}': unsupported value {value!r}")
    out.name, out.as_of, out.source, out.value = fact.name, fact.as_of, fact.source, value
    return out


def plain(value: Any) -> Any:
    """A fact's plain value (filters format it as they would the value written in vars)."""
    return value.value if isinstance(value, FactValue) else value


class Facts:
    """`facts` in a template context: each `facts.<name>` (or `facts["name"]`) gives the value in
    the post's language and notes the name in `used`; an unknown name is undefined, with a hint."""

    __slots__ = ("_values", "_known", "_used")

    def __init__(self, values: dict[str, Any], known: Iterable[str], used: set[str]):
        self._values = values
        self._known = known
        self._used = used

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        value = self._values.get(name)
        if value is None:
            return _undefined_fact(name, self._known)
        self._used.add(name)
        return value

    def __getitem__(self, name: str) -> Any:
        return self.__getattr__(str(name))

    def __contains__(self, name: object) -> bool:
        return name in self._values


def undefined_message(name: str, known: Iterable[str]) -> str:
    """What an undefined fact's error says, and how to fix it."""
    from campaigner.calendar import suggest

    known = list(known)
    return (f"undefined fact '{name}' (facts.{name}){suggest(name, known)}: define it under facts: with value, as_of and source"
            + (f"; defined: {', '.join(sorted(known))}" if 0 < len(known) <= 12 else ""))


def _undefined_fact(name: str, known: Iterable[str]) -> Any:
    import jinja2

    return jinja2.StrictUndefined(hint=undefined_message(name, known), name=name, exc=undefined_fact_error())


_UNDEFINED_FACT: type[jinja2.UndefinedError] | None = None


def undefined_fact_error() -> type[jinja2.UndefinedError]:
    """The error an undefined fact raises when used: a subclass of Jinja's UndefinedError, made on
    first use so that importing this module (filters do, on every path) never imports Jinja."""
    global _UNDEFINED_FACT
    if _UNDEFINED_FACT is None:
        import jinja2

        class UndefinedFact(jinja2.UndefinedError):
            """A template used a fact the calendar does not define."""

        _UNDEFINED_FACT = UndefinedFact
    return _UNDEFINED_FACT


# ---------------------------------------------------------------- references in templates


class Reference(NamedTuple):
    """A `facts.<name>` written in a template, where it is written."""

    name: str
    line: int
    col: int


def references(source: str, parsed: Any) -> list[Reference]:
    """Every `facts.<name>` / `facts["name"]` in a parsed template, with its line and column; names
    the template tests with `is defined` are left out (it guards them)."""
    from jinja2 import nodes

    found: list[tuple[str, int]] = []
    guarded: set[str] = set()
    for node in parsed.find_all((nodes.Getattr, nodes.Getitem)):
        if not (isinstance(node.node, nodes.Name) and node.node.name == "facts"):
            continue
        if isinstance(node, nodes.Getattr):
            found.append((node.attr, node.lineno))
        elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            found.append((node.arg.value, node.lineno))
    for test in parsed.find_all(nodes.Test):
        if test.name in ("defined", "undefined") and isinstance(test.node, (nodes.Getattr, nodes.Getitem)):
            inner = test.node
            if isinstance(inner.node, nodes.Name) and inner.node.name == "facts":
                guarded.add(inner.attr if isinstance(inner, nodes.Getattr) else getattr(inner.arg, "value", ""))
    lines = source.splitlines()
    out = []
    for name, line in found:
        if name not in guarded:
            out.append(Reference(name, line, column(lines, line, name)))
    return out


def column(lines: list[str], line: int, name: str) -> int:
    """The 1-based column of `facts.<name>` (or `facts["name"]`) on a template's line; 0 if not found."""
    if not 1 <= line <= len(lines):
        return 0
    m = re.search(r"\bfacts\s*(?:\.\s*" + re.escape(name) + r"\b|\[\s*['\"]" + re.escape(name) + r"['\"])", lines[line - 1])
    return m.start() + 1 if m else 0


def undefined_references(folder: Path, parsed: dict[str, tuple[str, Any]], defined: Iterable[str]) -> list[Problem]:
    """A located error for each reference to a fact the calendar does not define, in any template
    (`parsed`: template name -> (source, parsed template))."""
    known = set(defined)
    problems = []
    for name, (source, tree) in parsed.items():
        for ref in references(source, tree):
            if ref.name not in known:
                problems.append(problem_at(folder / name, ref.line, ref.col, undefined_message(ref.name, known)))
    return problems


# ---------------------------------------------------------------- freshness of posts


class Stale(NamedTuple):
    """A fact that is stale in some posts of one occurrence (an event on a date)."""

    fact: Fact
    event: str
    date: date
    posts: tuple[str, ...]  # "account/lang" of each post of that occurrence that cites it


def _stale_citations(calendar: Calendar, posts: Iterable[Post]) -> Iterator[tuple[Post, Fact]]:
    """Each (post, fact) where the post cites the fact after it went stale, facts in name order."""
    limits: dict[str, date] = {}
    for post in posts:
        for name in sorted(post.facts):
            fact = calendar.facts.get(name)
            if fact is None:
                continue
            if name not in limits:
                limits[name] = fresh_until(fact, calendar)
            if post.date > limits[name]:
                yield post, fact


def stale(calendar: Calendar, posts: Iterable[Post]) -> list[Stale]:
    """Each (fact, occurrence) whose posts cite the fact after it went stale, in fact and date order."""
    groups: dict[tuple[str, str, date], list[str]] = {}
    for post, fact in _stale_citations(calendar, posts):
        groups.setdefault((fact.name, post.event.id, post.date), []).append(f"{post.account}/{post.language}")
    return [Stale(calendar.facts[name], event, day, tuple(sorted(where)))
            for (name, event, day), where in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][2], kv[0][1]))]


def stale_by_post(calendar: Calendar, posts: Iterable[Post]) -> dict[str, tuple[Fact, ...]]:
    """The stale facts each post cites, by post id (posts citing none are absent), in name order."""
    found: dict[str, list[Fact]] = {}
    for post, fact in _stale_citations(calendar, posts):
        found.setdefault(post.id, []).append(fact)
    return {post_id: tuple(facts) for post_id, facts in found.items()}


def stale_message(s: Stale, calendar: Calendar) -> str:
    """One line: which fact is stale in which posts, how old it is then, and where to update it from."""
    fact = s.fact
    return (f"fact '{fact.name}' (as of {as_of_text(fact)}) is stale in {s.event}/{s.date.isoformat()} "
            f"({', '.join(s.posts)}): {age_text(fact.until, s.date)} old then, more than its max_age of "
            f"{max_age(fact, calendar).written}; update its value and as_of from {fact.source}")


def stale_problems(calendar: Calendar, posts: Iterable[Post], severity: str = "warning") -> list[Problem]:
    """The stale facts of these posts as warnings located where each fact is defined."""
    return [problem_at(s.fact.file, s.fact.line, s.fact.col, stale_message(s, calendar), severity) for s in stale(calendar, posts)]
