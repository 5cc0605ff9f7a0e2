"""The environment of a child campaigner process started by a test."""

from __future__ import annotations

import os


def child_env(**extra: str) -> dict[str, str]:
    """This test's environment without CAMPAIGNER_* and FAKE_* settings (a test sets those for the child
    it means them for), but keeping the test's own snapshot cache: no child writes to ~/.cache."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAMPAIGNER_", "FAKE_"))}
    if "CAMPAIGNER_CACHE_DIR" in os.environ:
        env["CAMPAIGNER_CACHE_DIR"] = os.environ["CAMPAIGNER_CACHE_DIR"]
    env.update(extra)
    return env
