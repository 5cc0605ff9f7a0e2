"""A calendar's accounts: their adapters, with credentials from the environment (and .env beside the calendar)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from campaigner import adapters, credentials
from campaigner.errors import Problem, problem_at

if TYPE_CHECKING:
    from campaigner.adapters.base import Adapter
    from campaigner.calendar import Calendar


def credential_keys(calendar: Calendar, account: str) -> list[str]:
    """Every credential key the account's platform may use, in its adapter's order."""
    cls = adapters.adapter_class(calendar.accounts[account].platform)
    return list(dict.fromkeys([k for s in cls.credential_sets for k in s] + list(cls.optional_credentials)))


def found_credentials(calendar: Calendar, account: str) -> dict[str, str]:
    """The account's credentials that are set (each remembered for redaction)."""
    credentials.load_env_file(calendar.root)
    return credentials.lookup(account, credential_keys(calendar, account))


def credential_problems(calendar: Calendar, names: Iterable[str]) -> dict[str, Problem]:
    """A problem per account whose credentials are incomplete, by account name."""
    problems = {}
    for name in sorted(set(names)):
        cls = adapters.adapter_class(calendar.accounts[name].platform)
        found = found_credentials(calendar, name)
        if cls.credential_sets and credentials.complete_set(found, cls.credential_sets) is None:
            problems[name] = problem_at(calendar.path, 0, 0, credentials.missing_message(name, cls.credential_sets, found))
    return problems


def adapter(calendar: Calendar, account: str, *, with_credentials: bool = True, session: Any = None) -> Adapter:
    """The adapter for an account; without credentials it can only describe what it would send."""
    cls = adapters.adapter_class(calendar.accounts[account].platform)
    creds = found_credentials(calendar, account) if with_credentials else {}
    return cls(account, calendar.accounts[account].options, creds, session)
