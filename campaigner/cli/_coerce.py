"""Option values for the plain types campaigner uses, without pydantic.

typer 0.29 converts every option value (defaults included) through a pydantic TypeAdapter.
Importing pydantic and building the adapters costs ~100 ms on every `plan`, `validate` and cron
`post`: more than loading and rendering a calendar. The options here are str, int and float
with bounds, Path, bool and list[str]; their values are converted the way typer's adapters
convert them. Anything else, and every value that would fail, goes to typer's own coercion,
so its error messages stay exactly as they are.
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
