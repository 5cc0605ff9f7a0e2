"""CAMPAIGNER_PLUGINS=benchmarks.null_adapters: every account publishes instantly, with no HTTP client.

The same `post` run as with the real adapters, minus tweepy, requests and facebook-sdk: what is
left per post is campaigner's own work (rendering, the claim and record transactions, the engine).
"""

from __future__ import annotations

import itertools
from typing import Any

from campaigner import runtime
from campaigner.adapters.base import Adapter, Message, Receipt

_ids = itertools.count(1)


class NullAdapter(Adapter):
    """Accepts every message at once."""

    def publish(self, message: Message) -> Receipt:
        n = next(_ids)
        return Receipt(str(n), f"https://null.invalid/{self.account}/{n}")


def adapter_factory(calendar: Any, account: str, *, credentials: bool = True) -> Adapter:
    """A NullAdapter per account."""
    return NullAdapter(account, calendar.accounts[account].options, {})


runtime.adapter_factory = adapter_factory
