"""The one Jinja configuration templates run in, and the bounds that keep a template from hanging
every command or filling the machine's memory.

Templates are written by campaign staff, but a typo (or a copied snippet) must not stop cron:
`{{ 9**999999999 }}` computes for minutes, `{{ 'a' * 10**10 }}` asks for 10 GB, nested
`range(99999)` loops run for hours. So templates run in Jinja's immutable sandbox (they cannot
change the calendar's data: `vars.update(...)`, `media.append(...)` are refused, so one post's
render cannot change the next one's), with:

- a time limit per render (`RENDER_SECONDS`), through SIGALRM in the main thread (where every
  command renders; elsewhere, and where setitimer does not exist, the other bounds still hold),
  its handler set up once per batch of renders (`bounds()`): per render it costs a timer set and
  cleared, ~2 us against the ~50 us of a render;
- caps on the operations that make something huge at once, before they run: `**` (at most
  `MAX_POWER_BITS` bits), repetition (`*` of a text or list), the widths of `%`, `.format`,
  `center`/`ljust`/`rjust`/`zfill`/`indent`, `replace`, and `lipsum`;
- a cap on a rendered text's size (`MAX_TEXT` characters), checked as the output is produced;
- on Linux, a ceiling on the memory a batch of renders may add (`MEMORY_HEADROOM`), for whatever
  the caps do not foresee (a `join` of large parts): past it the render fails with MemoryError.

Each bound is reported as a located error naming the template.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import signal
import sys
import threading
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from campaigner.filters import FILTERS

RENDER_SECONDS = 5.0
# Facebook's limit is 63,206 characters and an email brief is a few thousand: a text past this is a mistake.
MAX_TEXT = 100_000
MAX_POWER_BITS = 4096  # 1,233 decimal digits; Python will not print an int of more than 4,300 anyway
MAX_LIPSUM = 10  # paragraphs
MEMORY_HEADROOM = 1 << 30


class RenderTimeout(Exception):
    """A render that ran past RENDER_SECONDS."""


class TextTooLong(Exception):
    """A render whose text grew past MAX_TEXT characters."""


def environment(folder: Path) -> Environment:
    """The one Jinja configuration: sandboxed and immutable, undefined variables as errors, plain
    text, our filters, compiled templates kept between runs."""
    env = Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,
        cache_size=-1,
    )
    env.filters.update(FILTERS)
    env.filters.update(center=_center, indent=_indent, format=_format, replace=_replace)
    env.globals["lipsum"] = _lipsum
    env.bytecode_cache = _compiled_templates(env)
    return env


class Environment(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox with caps on the operators that can make something huge at once."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any) -> Any:
        """`**`, `*` and `%` after checking what they would make."""
        if operator == "**":
            _check_power(left, right)
        elif operator == "*":
            _check_repeat(left, right)
            _check_repeat(right, left)
        elif isinstance(left, str):  # "%" formatting
            _check_widths(left)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: jinja2.runtime.Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 (Jinja's own signature)
        """A call from a template, after checking the text methods that grow a text by an argument."""
        if isinstance(__obj, types.BuiltinMethodType) and isinstance(__obj.__self__, str):
            _check_str_method(__obj.__self__, __obj.__name__, args)
        return super().call(__context, __obj, *args, **kwargs)

    def unsafe_undefined(self, obj: Any, attribute: str) -> jinja2.Undefined:
        """Say why: a template may not change the calendar's data (immutable sandbox) or reach internals."""
        from jinja2.sandbox import modifies_known_mutable

        if not modifies_known_mutable(obj, attribute):
            return super().unsafe_undefined(obj, attribute)
        return self.undefined(f"templates cannot change the calendar's data ('{attribute}' of a {type(obj).__name__}): "
                              "make a new value with {% set name = ... %} instead", name=attribute, obj=obj, exc=SecurityError)

    def wrap_str_format(self, value: Any) -> Any:
        """`"...".format(...)`, after checking the widths written in the text."""
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        _check_widths(value.__self__, braces=True)
        return wrapped


def render(template: jinja2.Template, context: dict[str, Any]) -> str:
    """The template's text, within RENDER_SECONDS and MAX_TEXT (RenderTimeout, TextTooLong)."""
    if not _in_batch:
        with bounds():
            return render(template, context)
    global _armed
    chunks: list[str] = []
    size = 0
    if _alarm_ready:
        _armed = True
        signal.setitimer(signal.ITIMER_REAL, RENDER_SECONDS, 0.1)  # then every 0.1 s, if template code swallowed the first
    try:
        for chunk in template.generate(context):
            size += len(chunk)
            if size > MAX_TEXT:
                raise TextTooLong(f"the text grew past {MAX_TEXT:,} characters")
            chunks.append(chunk)
    finally:
        if _alarm_ready:
            _armed = False
            signal.setitimer(signal.ITIMER_REAL, 0)
    return "".join(chunks)


# ---------------------------------------------------------------- the caps


def _refuse(what: str) -> SecurityError:
    return SecurityError(f"{what}: a template's text is at most {MAX_TEXT:,} characters")


def _check_power(base: Any, exponent: Any) -> None:
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 1 and abs(base) > 1:
        if (abs(base).bit_length() - 1) * exponent > MAX_POWER_BITS:
            raise SecurityError(f"{base} ** {exponent} is too large a number (more than {MAX_POWER_BITS} bits)")


def _check_repeat(seq: Any, times: Any) -> None:
    if isinstance(seq, (str, list, tuple)) and isinstance(times, int) and len(seq) * times > MAX_TEXT:
        what = "a text of" if isinstance(seq, str) else "a list of"
        raise _refuse(f"repeating {what} {len(seq):,} {'character' if isinstance(seq, str) else 'item'}{'s' if len(seq) != 1 else ''} {times:,} times")


_WIDTH = re.compile(r"%[-+ #0]*(\d*)(?:\.(\d+))?")
_BRACE_WIDTH = re.compile(r"\{[^{}]*:[^{}]*?(\d+)(?:\.(\d+))?[^{}]*\}")


def _check_widths(text: str, braces: bool = False) -> None:
    """Refuse a format whose width or precision alone exceeds MAX_TEXT (`%0999999999d`, `{:>999999999}`)."""
    for width, precision in (_BRACE_WIDTH if braces else _WIDTH).findall(text):
        if any(n and int(n) > MAX_TEXT for n in (width, precision)):
            raise _refuse(f"a format width of {max(int(n or 0) for n in (width, precision)):,}")


def _check_str_method(text: str, name: str, args: tuple[Any, ...]) -> None:
    if name in ("center", "ljust", "rjust", "zfill") and args and isinstance(args[0], int) and args[0] > MAX_TEXT:
        raise _refuse(f"{name}({args[0]:,})")
    if name == "expandtabs" and args and isinstance(args[0], int) and args[0] * text.count("\t") > MAX_TEXT:
        raise _refuse(f"expandtabs({args[0]:,})")
    if name == "replace" and len(args) >= 2:
        _check_replace(text, args[0], args[1], args[2] if len(args) > 2 else -1)


def _check_replace(text: Any, old: Any, new: Any, count: Any = -1) -> None:
    if not (isinstance(text, str) and isinstance(old, str) and isinstance(new, str)) or len(new) <= len(old):
        return
    found = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    if len(text) + found * (len(new) - len(old)) > MAX_TEXT:
        raise _refuse(f"replacing {found:,} times with a text of {len(new):,} characters")


def _center(value: Any, width: int = 80) -> str:
    if isinstance(width, int) and width > MAX_TEXT:
        raise _refuse(f"center({width:,})")
    return jinja2.filters.do_center(value, width)


def _indent(s: Any, width: int | str = 4, first: bool = False, blank: bool = False) -> str:
    lines = str(s).count("\n") + 1
    size = width if isinstance(width, int) else len(width)
    if size * lines > MAX_TEXT:
        raise _refuse(f"indenting {lines:,} lines by {size:,}")
    return jinja2.filters.do_indent(s, width, first, blank)


def _format(value: Any, *args: Any, **kwargs: Any) -> str:
    if isinstance(value, str):
        _check_widths(value)
    return jinja2.filters.do_format(value, *args, **kwargs)


@jinja2.pass_eval_context
def _replace(eval_ctx: jinja2.nodes.EvalContext, s: Any, old: str, new: str, count: int | None = None) -> str:
    _check_replace(str(s), old, new, -1 if count is None else count)
    return jinja2.filters.do_replace(eval_ctx, s, old, new, count)


def _lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:  # noqa: A002 (Jinja's names)
    if not isinstance(n, int) or n > MAX_LIPSUM or not isinstance(max, int) or max > 1000:
        raise SecurityError(f"lipsum({n}): at most {MAX_LIPSUM} paragraphs of at most 1,000 words")
    return jinja2.utils.generate_lorem_ipsum(n=n, html=html, min=min, max=max)


# ---------------------------------------------------------------- time and memory


_in_batch = False  # inside bounds(): the handler and the ceiling are set up
_alarm_ready = False  # SIGALRM is ours (main thread, setitimer available)
_armed = False  # a render is running: an alarm now is its timeout


def _on_alarm(signum: int, frame: Any) -> None:
    if _armed:
        raise RenderTimeout(f"the render took more than {RENDER_SECONDS:g} s")


@contextlib.contextmanager
def bounds() -> Iterator[None]:
    """Set up the time limit's signal handler and the memory ceiling once for a batch of renders
    (a handler installed per render would cost more than the render). Only the main thread can
    take signals: elsewhere the renders run without the time limit, the other bounds still hold."""
    global _in_batch, _alarm_ready
    if _in_batch:
        yield
        return
    previous: Any = None
    _alarm_ready = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if _alarm_ready:
        previous = signal.signal(signal.SIGALRM, _on_alarm)
    _in_batch = True
    try:
        with memory_ceiling():
            yield
    finally:
        _in_batch = False
        if _alarm_ready:
            _alarm_ready = False
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def memory_ceiling() -> Iterator[None]:
    """Let the renders inside add at most MEMORY_HEADROOM of address space (Linux; a MemoryError
    past it), then restore the limit as it was."""
    try:
        import resource

        with open("/proc/self/statm", "rb") as fh:
            used = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    except (ImportError, OSError, ValueError):
        yield
        return
    ceiling = used + MEMORY_HEADROOM
    if not sys.platform.startswith("linux") or (soft != resource.RLIM_INFINITY and soft <= ceiling):
        yield
        return
    try:
        resource.setrlimit(resource.RLIMIT_AS, (ceiling, hard))
    except (OSError, ValueError):
        yield
        return
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


# ---------------------------------------------------------------- compiled templates


class _TemplateCache(jinja2.FileSystemBytecodeCache):
    """Compiled templates kept between runs, keyed by name and checked against the source's hash;
    a cache that cannot be read or written is skipped, never an error."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except (OSError, EOFError, ValueError, TypeError):
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


def _compiled_templates(env: jinja2.Environment) -> jinja2.BytecodeCache | None:
    """A bytecode cache in the user's private Jinja cache folder (in the temp folder), its files
    named for campaigner, the Jinja version and the settings, filters and tests the compiled code
    depends on. Compiling the shipped templates is most of a `validate` (~150 ms)."""
    settings = repr((type(env).__name__, jinja2.__version__, env.block_start_string, env.block_end_string,
                     env.variable_start_string, env.variable_end_string, env.comment_start_string,
                     env.comment_end_string, env.line_statement_prefix, env.line_comment_prefix,
                     env.trim_blocks, env.lstrip_blocks, env.newline_sequence, env.keep_trailing_newline,
                     env.autoescape, sorted(env.extensions), sorted(env.filters), sorted(env.tests),
                     sorted(getattr(env, "intercepted_binops", ()))))
    tag = hashlib.sha256(settings.encode()).hexdigest()[:12]
    try:
        return _TemplateCache(pattern=f"__campaigner_{tag}_%s.cache")
    except (OSError, RuntimeError):  # no private temp folder to be had
        return None
