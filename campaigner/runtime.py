"""The one seam to the outside world: plugins, the ledger and the adapters a command runs with.

CLI tests replace `adapter_factory` here (or register a platform through CAMPAIGNER_PLUGINS) and
nothing else.
"""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING, Callable

from campaigner.errors import ConfigError

if TYPE_CHECKING:
    from campaigner.adapters.base import Adapter
    from campaigner.calendar import Calendar

_plugins_loaded: set[str] = set()


def load_plugins() -> None:
    """Import the modules named in CAMPAIGNER_PLUGINS (comma-separated); they register adapters."""
    for name in filter(None, (n.strip() for n in os.environ.get("CAMPAIGNER_PLUGINS", "").split(","))):
        if name in _plugins_loaded:
            continue
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise ConfigError(f"CAMPAIGNER_PLUGINS: cannot import '{name}': {exc}") from None
        _plugins_loaded.add(name)


def adapter_factory(calendar: Calendar) -> Callable[[str], Adapter]:
    """Build adapters with credentials from the environment, one per account, on first use."""
    from campaigner.publish import build_adapter

    return lambda account: build_adapter(calendar, account)
