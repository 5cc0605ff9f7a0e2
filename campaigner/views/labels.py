"""How views name things for people: a platform as its adapter names it, a language as CLDR does."""

from __future__ import annotations

import functools


@functools.lru_cache(maxsize=64)
def platform_label(platform: str) -> str:
    """The platform's name as people write it: the adapter's `label` when it declares one."""
    from campaigner import adapters

    try:
        cls = adapters.adapter_class(platform)
    except KeyError:  # a platform no longer registered: its name is still a fine label
        return platform
    label = getattr(cls, "label", None)
    return label if isinstance(label, str) and label else (platform.upper() if len(platform) <= 2 else platform.capitalize())


@functools.lru_cache(maxsize=64)
def language_label(code: str) -> str:
    """'Khmer' for km, from CLDR (the code itself when CLDR does not know it)."""
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(code).get_display_name("en") or code
    except (UnknownLocaleError, ValueError, TypeError):
        return code
