"""Platform adapters, found by name; modules are imported only when a platform is used."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from campaigner.adapters.base import Adapter

_REGISTRY: dict[str, str] = {}
_LOADED: dict[str, type[Adapter]] = {}


def register(platform: str, target: str | type[Adapter]) -> None:
    """Register an adapter as 'module:Class' (imported lazily) or a class; a name registers once."""
    if platform in _REGISTRY or platform in _LOADED:
        raise ValueError(f"adapter for platform {platform!r} is already registered")
    if isinstance(target, str):
        _REGISTRY[platform] = target
    else:
        _LOADED[platform] = target


def platforms() -> list[str]:
    """Every registered platform name."""
    return sorted(set(_REGISTRY) | set(_LOADED))


def adapter_class(platform: str) -> type[Adapter]:
    """The adapter class for a platform; raises KeyError for an unknown one."""
    if platform not in _LOADED:
        module_name, _, class_name = _REGISTRY[platform].partition(":")
        _LOADED[platform] = getattr(importlib.import_module(module_name), class_name)
    return _LOADED[platform]


register("x", "campaigner.adapters.x:XAdapter")
register("facebook", "campaigner.adapters.facebook:FacebookAdapter")
register("telegram", "campaigner.adapters.telegram:TelegramAdapter")
register("mastodon", "campaigner.adapters.mastodon:MastodonAdapter")
register("bluesky", "campaigner.adapters.bluesky:BlueskyAdapter")
