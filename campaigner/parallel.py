"""A list of calls shared with a forked child on a second core: rendering's one speed trick.

What it buys: the first run after an edit of a large calendar renders every post (30,040 for
`validate` on 10,000 events, ~35-50 us each in Jinja and babel); a child forked from this process
renders every other one meanwhile. Measured in-process on 10,000 events on an idle 2-core VM when
it was added (5d04e97): validate 1.36-2.28 s -> 0.94-1.41 s, plan's rendering 0.80-1.27 s ->
0.67-0.73 s. It buys nothing when the other core is busy. Below `MIN_ITEMS` calls a child costs
more than it saves (~20 ms to fork and to send the results back).

What it relies on: `os.fork` without exec, which is safe only on Linux, in a process with no other
thread (a fork copies one thread and any lock another one held); a second core this process may
run on; and results that pickle (they travel back through a pipe). When any of that is missing,
or `CAMPAIGNER_PARALLEL=0`, or the child fails in any way (crashes, is killed, writes half), the
calls it would have made are made here: the result never depends on the child.
"""

from __future__ import annotations

import gc
import os
import pickle
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

MIN_ITEMS = 2000


def ordered_map(fn: Callable[[T], R], items: Sequence[T], *, min_items: int | None = None) -> list[R]:
    """[fn(item) for item in items], in order; with many items and a spare core, a forked child
    makes every other call."""
    threshold = MIN_ITEMS if min_items is None else min_items
    child = _Child.start(lambda: [fn(x) for x in items[1::2]]) if len(items) >= threshold and spare_core() else None
    if child is None:
        return [fn(x) for x in items]
    mine = [fn(x) for x in items[0::2]]
    theirs = child.results()
    if theirs is None or len(theirs) != len(items) // 2:
        theirs = [fn(x) for x in items[1::2]]
    out: list[Any] = [None] * len(items)
    out[0::2], out[1::2] = mine, theirs
    return out


def spare_core() -> bool:
    """Whether a forked child could work beside this process: Linux, a second usable core, no
    other thread that a fork would leave behind half-done, and not turned off."""
    if not sys.platform.startswith("linux") or os.environ.get("CAMPAIGNER_PARALLEL", "").strip() in ("0", "off"):
        return False
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return cores > 1 and threading.active_count() == 1


class _Child:
    """A forked process doing some work while this one does the rest; its result read once asked."""

    def __init__(self, pid: int, pipe: int):
        self.pid, self.pipe = pid, pipe

    @classmethod
    def start(cls, work: Callable[[], list[Any]]) -> _Child | None:
        """Fork a child that runs work() and sends back the list; None when no child could start."""
        read_end, write_end = os.pipe()
        # The child's garbage collector would otherwise walk, and so copy, every page of the heap.
        # What was frozen before (a snapshot, see cache.py) stays frozen afterwards.
        frozen_before = gc.get_freeze_count() > 0
        gc.freeze()
        try:
            pid = os.fork()
        except OSError:
            if not frozen_before:
                gc.unfreeze()
            os.close(read_end)
            os.close(write_end)
            return None
        if pid == 0:  # the child: it never returns, runs no exit handler and flushes no inherited buffer
            code = 1
            try:
                os.close(read_end)
                data = memoryview(pickle.dumps(work(), protocol=pickle.HIGHEST_PROTOCOL))
                while data:
                    data = data[os.write(write_end, data):]
                code = 0
            finally:
                os._exit(code)
        if not frozen_before:
            gc.unfreeze()
        os.close(write_end)
        return cls(pid, read_end)

    def results(self) -> list[Any] | None:
        """The child's list, or None if it failed in any way (crashed, killed, wrote half)."""
        chunks = []
        try:
            while chunk := os.read(self.pipe, 1 << 20):
                chunks.append(chunk)
        finally:
            os.close(self.pipe)
            _, status = os.waitpid(self.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            return None
        try:
            results = pickle.loads(b"".join(chunks))
        except Exception:  # a torn or foreign payload: the parent makes those calls itself
            return None
        return results if isinstance(results, list) else None
