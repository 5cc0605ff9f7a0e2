"""What a set of posts costs and whether it keeps within the platforms' rate limits.

Both come from the capabilities the adapters declare (`pricing`, `rate_limits`), so `plan` reads
them without a network call and without naming a platform.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Iterable, NamedTuple

from campaigner import adapters

if TYPE_CHECKING:
    from campaigner.calendar import Calendar
    from campaigner.render import Post


class Cost(NamedTuple):
    """The posts one account would create in a window and their estimated price."""

    account: str
    label: str  # the platform's name: "X"
    requests: int
    amount: float
    currency: str
    source: str  # where the default prices come from


class RateWarning(NamedTuple):
    """A window in which an account would create more posts than the platform allows."""

    account: str
    label: str
    limit: int
    window: timedelta
    at: datetime

    def __str__(self) -> str:
        return (f"{self.account}: more than {self.limit} posts within {_human(self.window)} around {self.at.isoformat()}: "
                f"{self.label} will refuse the excess (rate limit)")


def costs(calendar: Calendar, posts: Iterable[Post]) -> list[Cost]:
    """Per account on a platform that bills per post: its create requests (thread parts count) and their price."""
    out: dict[str, Cost] = {}
    for p in posts:
        cls = adapters.adapter_class(p.platform)
        if cls.pricing is None or p.draft:
            continue
        options = calendar.accounts[p.account].options
        cost = out.get(p.account) or Cost(p.account, cls.label, 0, 0.0, (options.get("pricing") or {}).get("currency") or cls.pricing.currency, cls.pricing.source)
        amount = sum(cls.price(part, options) or 0.0 for part in p.parts)
        out[p.account] = cost._replace(requests=cost.requests + len(p.parts), amount=cost.amount + amount)
    return [out[name] for name in sorted(out)]


def rate_warnings(posts: Iterable[Post]) -> list[RateWarning]:
    """The first window per account and limit in which the posts would exceed a declared rate limit."""
    by_account: dict[str, list[datetime]] = {}
    platform_of: dict[str, str] = {}
    for p in posts:
        if not p.draft and adapters.adapter_class(p.platform).rate_limits:
            by_account.setdefault(p.account, []).extend([p.due] * len(p.parts))
            platform_of[p.account] = p.platform
    warnings = []
    for account, times in by_account.items():
        cls = adapters.adapter_class(platform_of[account])
        times.sort()
        for limit in cls.rate_limits:
            lo = 0
            for hi, t in enumerate(times):
                while t - times[lo] >= limit.window:
                    lo += 1
                if hi - lo + 1 > limit.posts:
                    warnings.append(RateWarning(account, cls.label, limit.posts, limit.window, t))
                    break
    return warnings


def _human(window: timedelta) -> str:
    """`15 minutes`, `3 hours`, `1 day`, `1 second`."""
    seconds = int(window.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"
