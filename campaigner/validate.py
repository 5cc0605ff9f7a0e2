"""Check a whole calendar: every template compiles, every event renders for every account and language, and fits."""

from __future__ import annotations

from collections.abc import Iterable
import hashlib
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from campaigner import adapters, facts
from campaigner.calendar import Calendar
from campaigner.errors import ConfigError, Problem, not_utf8, problem_at
from campaigner.recurrence import next_or_last
from campaigner.render import Post, Renderer, template_names

if TYPE_CHECKING:  # jinja2 only to compile: a warm validate (every input unchanged) never imports it
    import jinja2


class Report:
    """What validation found, and what it rendered."""

    def __init__(self, problems: list[Problem] | None = None, posts: list[Post] | None = None):
        self.problems = problems or []
        self.posts = posts or []

    @property
    def errors(self) -> list[Problem]:
        """Problems that fail validation."""
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        """Problems that fail only under --strict."""
        return [p for p in self.problems if p.severity != "error"]


def validate(calendar: Calendar, now: datetime, renderer: Renderer | None = None) -> Report:
    """Render every event once (its next occurrence after now, else its last) for every account and language."""
    report = Report(problems=list(calendar.warnings))
    renderer = renderer or Renderer(calendar)
    check = lambda: _compile_all(renderer.env, renderer.folder, calendar.facts)  # noqa: E731
    report.problems += renderer.snapshot.template_syntax(check) if renderer.snapshot is not None else check()
    items = [(occ, calendar.accounts[name], lang)
             for occ in (next_or_last(event, calendar.campaign.tz, now) for event in calendar.events)
             for name in occ.event.accounts for lang in calendar.languages_for(calendar.accounts[name])]
    for (occ, account, lang), post in zip(items, renderer.render_many(items)):
        if isinstance(post, ConfigError):
            report.problems += post.problems
            continue
        report.posts.append(post)
        if not post.fits:
            event = occ.event
            tmpl = renderer.template(event.template, account.platform, lang)
            rel = Path(tmpl.filename).relative_to(calendar.root) if tmpl.filename else event.template
            cls = adapters.adapter_class(account.platform)
            hint = "shorten the template or its vars" + (", or set thread: true" if not event.thread and cls.supports_threads else "")
            size = f"{post.length}/{post.limit} characters"
            too_big = [p for p in post.parts if cls.max_bytes is not None and len(p.encode("utf-8")) > cls.max_bytes]
            if post.length <= post.limit and too_big:
                size = f"{len(too_big[0].encode('utf-8')):,}/{cls.max_bytes:,} UTF-8 bytes"
            report.problems.append(problem_at(event.file, event.line, 1, f"event '{event.id}': the {lang} post for {account.name} ({rel}) is {size} on {account.platform}: {hint}"))
    from campaigner import checks

    for name, account in calendar.accounts.items():
        for option, problem in adapters.adapter_class(account.platform).option_problems(account.options):
            report.problems.append(problem_at(calendar.path, 0, 0, f"accounts.{name}.{option}: {problem}"))
    for post in report.posts:
        report.problems += checks.post_problems(post)
    from campaigner.calendar.quiet import held_events
    from campaigner.horizon import horizon_problems

    report.problems += held_events(calendar) + horizon_problems(calendar, now)
    report.problems += facts.stale_problems(calendar, report.posts)
    if calendar.contacts:
        from campaigner.brief import letter_problems

        letters = lambda: letter_problems(calendar, report.posts, now, renderer)  # noqa: E731
        posts_key = hashlib.sha256("\n".join(p.id for p in report.posts).encode()).hexdigest()
        report.problems += renderer.snapshot.letter_check(posts_key, letters) if renderer.snapshot is not None else letters()
    report.problems = sorted(set(report.problems))
    return report


def template_syntax(folder: Path) -> list[Problem]:
    """Syntax errors in every template under a folder, without a calendar (for a calendar that fails to load)."""
    from campaigner.sandbox import environment

    return _compile_all(environment(folder), folder) if folder.is_dir() else []


def _compile_all(env: jinja2.Environment, folder: Path, defined: Iterable[str] | None = None) -> list[Problem]:
    """Syntax errors in every template file, used or not, and entries that cannot be templates; with
    the calendar's facts (`defined`), each reference to a fact it does not define."""
    import jinja2

    if not folder.is_dir():
        if folder.is_symlink():
            return [problem_at(folder, 0, 0, "the templates folder is a symlink that leads nowhere (its target is missing, or it leads in a loop): fix or remove it")]
        return [problem_at(folder, 0, 0, "templates folder not found beside the calendar: create templates/<kind>/<lang>.j2")]
    names, problems = template_names(folder)
    parsed: dict[str, tuple[str, Any]] = {}
    for name in names:
        path = folder / name
        try:
            _compile_or_parse(env, path, name)
            if defined is not None:
                source = path.read_text(encoding="utf-8")
                if "facts" in source:  # most templates cite none: no second parse for them
                    parsed[name] = (source, env.parse(source, name=name, filename=str(path)))
        except jinja2.TemplateSyntaxError as exc:
            problems.append(problem_at(path, exc.lineno or 0, 0, f"template syntax: {exc.message}"))
        except UnicodeDecodeError as exc:
            problems.append(not_utf8(path, path.read_bytes(), exc))
    if defined is not None:
        problems += facts.undefined_references(folder, parsed, defined)
    return problems


def _compile_or_parse(env: jinja2.Environment, path: Path, name: str) -> None:
    """Compile through the loader: rendering then reuses the template, and the bytecode cache the next
    run. Parse alone without a loader, or when compiling failed only for a missing filter or test:
    that is reported where the template is rendered, as it always was."""
    import jinja2

    if env.loader is not None:
        try:
            env.get_template(name)
            return
        except jinja2.TemplateAssertionError:
            pass
    env.parse(path.read_text(encoding="utf-8"), name=name, filename=str(path))
