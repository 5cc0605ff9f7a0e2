"""A post's state as a view shows it: the name schedule.status gives, and what a person needs beside it."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple, Sequence

from campaigner.ledger import PostRecord
from campaigner.render import Post

if TYPE_CHECKING:
    from campaigner.calendar.quiet import QuietWindow

# Every state a view may meet, in the order filters and totals list them; a state that a newer
# core adds and this list lacks is shown all the same, after these.
ORDER = ("pending", "claimed", "published", "failed", "unknown", "missed", "skipped", "draft", "held", "stale")


class State(NamedTuple):
    """What became (or will become) of a post."""

    name: str
    detail: str | None = None  # why: the failure, the window that holds it, who skipped it
    url: str | None = None  # where a published post can be seen


def state_of(post: Post, record: PostRecord | None, quiet: Sequence[QuietWindow] = ()) -> State:
    """The post's state from schedule.status, with the ledger's link or reason; an unsent draft is
    `draft`; a post a quiet window holds is `held`, with the window (its name, dates) as the reason."""
    from campaigner.schedule import hold, status

    name = status(post, record, quiet)
    if name == "skipped" and record is None and post.draft:
        name = "draft"
    if record is None:
        window = hold(post, quiet) if name == "held" else None
        return State(name, f"by quiet window '{window.name}' ({window.span()})" if window is not None else None)
    return State(name, record.error if name != "published" else None, record.url if name == "published" else None)


def order(names: set[str]) -> list[str]:
    """State names in the house order, unknown newcomers last (alphabetically)."""
    return [n for n in ORDER if n in names] + sorted(names - set(ORDER))
