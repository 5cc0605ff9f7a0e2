"""`campaigner facts`: every fact with its age, and the posts and templates that cite it.

A view over the calendar's facts (campaigner/facts.py judges freshness; this module renders and
reads the templates to say who cites what)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from campaigner.errors import problem_at
from campaigner.facts import age_text, as_of_text, fresh_until, max_age, references

if TYPE_CHECKING:
    from campaigner.calendar import Calendar
    from campaigner.render import Post


class Citation(NamedTuple):
    """One post that cites a fact."""

    id: str
    event: str
    date: date
    due: str
    where: str  # account/lang
    stale: bool


class Use(NamedTuple):
    """A fact as `campaigner facts` lists it: its value, age today, and the posts that cite it."""

    name: str
    shown: str  # the value as written, per language when it has one per language
    value: Any
    per_language: bool
    as_of: str
    until: date
    source: str
    max_age: str
    fresh_until: date
    age: str
    stale_today: bool
    defined_at: str
    posts: tuple[Citation, ...]
    templates: tuple[str, ...]

    def occurrences(self) -> list[tuple[str, list[str], bool]]:
        """The posts grouped by occurrence: ("event/date", [account/lang, ...], stale)."""
        groups: dict[str, tuple[list[str], bool]] = {}
        for c in self.posts:
            key = f"{c.event}/{c.date.isoformat()}"
            where, _ = groups.setdefault(key, ([], c.stale))
            where.append(c.where)
        return [(key, where, is_stale) for key, (where, is_stale) in groups.items()]

    def as_json(self) -> dict[str, Any]:
        """The row for --json."""
        return {
            "name": self.name, "value": self.value, "per_language": self.per_language, "as_of": self.as_of,
            "covers_until": self.until.isoformat(), "source": self.source, "max_age": self.max_age,
            "fresh_until": self.fresh_until.isoformat(), "age": self.age, "stale": self.stale_today,
            "defined_at": self.defined_at, "templates": list(self.templates),
            "posts": [{"id": c.id, "due": c.due, "stale": c.stale} for c in self.posts],
        }


def usage(calendar: Calendar, posts: Iterable[Post], today: date, templates: Path) -> list[Use]:
    """Every fact of the calendar, in name order, with its age on `today` and the posts that cite it."""
    cited: dict[str, list[Post]] = {}
    for post in posts:
        for name in post.facts:
            cited.setdefault(name, []).append(post)
    in_templates = _templates_citing(templates)
    rows = []
    for name in sorted(calendar.facts):
        fact = calendar.facts[name]
        limit = fresh_until(fact, calendar)
        shown = "; ".join(f"{lang}: {v}" for lang, v in fact.value.items()) if fact.per_language else str(fact.value)
        posts_of = tuple(Citation(p.id, p.event.id, p.date, p.due.isoformat(), f"{p.account}/{p.language}", p.date > limit)
                         for p in sorted(cited.get(name, []), key=lambda p: (p.due, p.id)))
        where = str(problem_at(fact.file, fact.line, fact.col, "")).removesuffix(": ")
        rows.append(Use(name, shown, fact.value, fact.per_language, as_of_text(fact), fact.until, fact.source,
                        max_age(fact, calendar).written, limit, age_text(fact.until, today), today > limit, where,
                        posts_of, tuple(sorted(in_templates.get(name, ())))))
    return rows


def _templates_citing(folder: Path) -> dict[str, set[str]]:
    """fact name -> the templates (by name under templates/) that cite it, in any branch."""
    if not folder.is_dir():
        return {}
    from campaigner.render import template_names
    from campaigner.sandbox import environment

    env = environment(folder)
    out: dict[str, set[str]] = {}
    for name in template_names(folder)[0]:
        try:
            source = (folder / name).read_text(encoding="utf-8")
            if "facts" not in source:
                continue
            tree = env.parse(source, name=name)
        except Exception:  # a template that cannot be read or parsed: validate says why
            continue
        for ref in references(source, tree):
            out.setdefault(ref.name, set()).add(name)
    return out
