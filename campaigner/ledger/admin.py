"""What `campaigner ledger` does to ledgers other than the session's: create one, copy a campaign."""

from __future__ import annotations

from typing import NamedTuple

from campaigner.errors import ConfigError
from campaigner.ledger import Loaded, ledger_exists, mask_url, open_ledger


def init(url: str) -> bool:
    """Create the ledger at `url` (its tables) or bring it up to date; whether it existed already."""
    existed = ledger_exists(url)
    open_ledger(url, create=True).close()
    return existed


class Copied(NamedTuple):
    """What `copy` wrote, and how many posts were there already in the same state."""

    loaded: Loaded
    kept: int


def copy(source: str, target: str, campaign: str) -> Copied:
    """Copy one campaign's whole ledger from `source` (only read) into `target` (created if missing)."""
    src = open_ledger(source, readonly=True, campaign=campaign)
    try:
        if not src.exists:
            raise ConfigError(f"--from {mask_url(source)}: no ledger there")
        dump = src.dump()
    finally:
        src.close()
    dst = open_ledger(target, create=True, campaign=campaign)
    try:
        loaded = dst.load(dump)
    finally:
        dst.close()
    return Copied(loaded, len(dump.posts) - loaded.posts)
