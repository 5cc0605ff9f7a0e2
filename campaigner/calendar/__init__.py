"""The calendar: records (records.py), the marked YAML reader (yaml_reader.py), value checks
(checker.py) and the schema with its loader (loader.py).

The records are imported here; the names that need YAML are imported from their module on first
use, so `from campaigner.calendar import Event` never imports yaml, and
`from campaigner.calendar import load_calendar` still works as it always has.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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
    Journalist,
    Media,
    suggest,
)

if TYPE_CHECKING:
    from campaigner.calendar.checker import parse_duration
    from campaigner.calendar.loader import ACCOUNT_KEYS, CAMPAIGN_KEYS, EVENT_KEYS, TOP_KEYS, load_calendar, slug
    from campaigner.calendar.yaml_reader import MarkedDict, MarkedList, read_yaml

# name -> the module that defines it (each of them imports yaml)
_LAZY = {
    "load_calendar": "loader", "slug": "loader", "ACCOUNT_KEYS": "loader", "CAMPAIGN_KEYS": "loader",
    "EVENT_KEYS": "loader", "TOP_KEYS": "loader", "parse_duration": "checker",
    "read_yaml": "yaml_reader", "MarkedDict": "yaml_reader", "MarkedList": "yaml_reader",
}

__all__ = [
    "DEFAULT_GRACE", "JOURNALISTS", "RAPID_FILE", "REPEATS", "Account", "Age", "Calendar", "Campaign", "Contact", "Event", "Fact", "Feed",
    "Journalist", "Media", "suggest",
    "load_calendar", "slug", "ACCOUNT_KEYS", "CAMPAIGN_KEYS", "EVENT_KEYS", "TOP_KEYS", "parse_duration",
    "read_yaml", "MarkedDict", "MarkedList",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'campaigner.calendar' has no attribute '{name}'")
    value = getattr(importlib.import_module(f"campaigner.calendar.{module}"), name)
    globals()[name] = value
    return value
