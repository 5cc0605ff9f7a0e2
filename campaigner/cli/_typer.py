"""Every use of typer's internals, in one place: what the start-up work needs from typer.

Each of these names may change in any typer release, so pyproject.toml pins typer's minor version
and tests/test_startup_imports.py checks that the plain coercion gives typer's own results. What
this module relies on:

- `typer._coercion.build_runtime_param(type_descriptor)`: typer's own (pydantic) coercion, used
  for any value the plain path declines.
- `typer._param_types.coerce_cli_path(path, info, path_type=, param=, ctx=)`: typer's Path checks.
- `typer._click.utils.make_default_short_help(text, limit)`: click's one-line help, for --help's
  command list without building every command.
- On typer's click parameters: `param.type_descriptor` (with `.annotation` and
  `.parameter_info`: `min`, `max`, `clamp`, `path_type`), and `param._runtime_param`, an object
  with `coerce(value, param=, ctx=)` that typer calls to convert a value (None until set up);
  `command.get_help_option(ctx)`.
- On `typer.Typer`: `registered_commands` (`.callback`), `registered_groups` (`.typer_instance`),
  `registered_callback` (`.callback`), to evaluate the commands' annotations once.

The plain coercion: typer 0.29 converts every option value (defaults included) through a pydantic
TypeAdapter. Importing pydantic and building the adapters costs ~100 ms on every `plan`,
`validate` and cron `post`: more than loading and rendering a calendar. The options here are str,
int and float with bounds, Path, bool and list[str]; their values are converted the way typer's
adapters convert them. Anything else, and every value that would fail, goes to typer's own
coercion, so its error messages stay exactly as they are.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, get_args, get_origin

_DECIMAL = re.compile(r"-?[0-9]+")
_DECLINE = object()


class PlainValue:
    """Stands in for typer's runtime coercion of one parameter (its `coerce` contract)."""

    def __init__(self, annotation: Any, info: Any, multiple: bool):
        self.annotation = annotation
        self.info = info
        self.multiple = multiple

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        """The converted value, or typer's own result (or error) when it is not a plain case."""
        if value is None:
            return () if self.multiple else None
        converted = self._convert(value, param, ctx)
        if converted is not _DECLINE:
            return converted
        from typer._coercion import build_runtime_param  # pydantic, only for the unusual value

        param._runtime_param = build_runtime_param(param.type_descriptor)
        return param._runtime_param.coerce(value, param=param, ctx=ctx)

    def _convert(self, value: Any, param: Any, ctx: Any) -> Any:
        kind, info = self.annotation, self.info
        if self.multiple:
            if get_origin(kind) is list and get_args(kind) == (str,) and isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
                return list(value)
            return _DECLINE
        if kind is str:
            return value if isinstance(value, str) else _DECLINE
        if kind is bool:
            return value if isinstance(value, bool) else _DECLINE
        if kind in (int, float):
            if isinstance(value, str) and kind is int and _DECIMAL.fullmatch(value):
                value = int(value)
            if type(value) is not kind or getattr(info, "clamp", False):
                return _DECLINE
            low, high = getattr(info, "min", None), getattr(info, "max", None)
            return value if (low is None or value >= low) and (high is None or value <= high) else _DECLINE
        if kind is Path and getattr(info, "path_type", None) in (None, Path) and isinstance(value, (str, Path)):
            from typer._param_types import coerce_cli_path  # checks exists/readable/... as typer does

            return coerce_cli_path(Path(value), info, path_type=Path, param=param, ctx=ctx)
        return _DECLINE


def install(command: Any, ctx: Any, *, subcommands: bool = True) -> None:
    """Give a command's parameters, its --help and (unless told not to) its subcommands' the plain
    coercion, where typer allows."""
    params = list(getattr(command, "params", ()))
    if hasattr(command, "get_help_option"):
        params.append(command.get_help_option(ctx))  # created (and cached by click) now, to be covered too
    for param in params:
        descriptor = getattr(param, "type_descriptor", None)
        if descriptor is None or getattr(param, "_runtime_param", True) is not None:
            continue  # not a typer parameter of this version, or already set up
        param._runtime_param = PlainValue(descriptor.annotation, descriptor.parameter_info, bool(param.multiple or param.nargs == -1))
    if subcommands:
        for sub in (getattr(command, "commands", None) or {}).values():
            install(sub, ctx)


def short_help(text: str, limit: int) -> str | None:
    """click's one-line help of a command's docstring, or None when this typer has no such helper."""
    try:
        from typer._click.utils import make_default_short_help
    except ImportError:
        return None
    return make_default_short_help(text, limit)


def resolve_annotations(typer_app: Any) -> None:
    """Evaluate each command's string annotations once, here.

    The command modules use `from __future__ import annotations`, so typer would eval every
    annotation string twice per command on every start: ~10 ms of each `--help`, `plan` or cron
    `post` (see benchmarks/, start-up). Idempotent: a function already resolved keeps its hints.
    """
    import typing

    callbacks = [c.callback for c in typer_app.registered_commands]
    for group in typer_app.registered_groups:
        sub = group.typer_instance
        if sub is not None:
            resolve_annotations(sub)
            if sub.registered_callback is not None:
                callbacks.append(sub.registered_callback.callback)
    for fn in callbacks:
        if fn is not None and any(isinstance(a, str) for a in fn.__annotations__.values()):
            fn.__annotations__ = typing.get_type_hints(fn, include_extras=True)
