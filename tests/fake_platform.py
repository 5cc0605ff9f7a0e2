"""A scripted platform for publishing tests, usable in-process and from real subprocesses.

Register it with CAMPAIGNER_PLUGINS=tests.fake_platform. FAKE_SENT names a JSON-lines file that
records every send (appended with O_APPEND, so concurrent processes never interleave a line);
FAKE_SCRIPT names a JSON file mapping a post-id substring to a list of outcomes consumed one per
attempt: "ok", "transient", "transient-retry-after", "permanent", "duplicate", "ambiguous",
"crash", "hang" (sleep until killed).
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from campaigner import adapters
from campaigner.adapters.base import AccountCheck, Adapter, Message, Receipt, WireRequest
from campaigner.errors import Ambiguous, Permanent, Transient


_LOCK = threading.Lock()


_LOCK = threading.Lock()


class FakeAdapter(Adapter):
    """Records every send; outcomes come from FAKE_SCRIPT."""

    platform = "fake"
    max_length = 500
    counts = "chars"
    max_images = 4
    supports_threads = True
    credential_sets = (("TOKEN",),)

    def _outcome(self, key: str) -> str:
        script_path = os.environ.get("FAKE_SCRIPT")
        if not script_path or not Path(script_path).exists():
            return "ok"
        # Accounts publish in threads, and tests run several processes: take the next outcome under
        # an exclusive lock, and replace the file atomically, so no reader ever sees it half written.
        with _LOCK, open(script_path + ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            script = json.loads(Path(script_path).read_text())
            for pattern, outcomes in script.items():
                if pattern in key and outcomes:
                    outcome = outcomes.pop(0)
                    tmp = f"{script_path}.{os.getpid()}.{threading.get_ident()}.tmp"
                    Path(tmp).write_text(json.dumps(script))
                    os.replace(tmp, script_path)
                    return outcome
        return "ok"

    def publish(self, message: Message) -> Receipt:
        outcome = self._outcome(message.idempotency_key)
        if outcome == "hang":
            _record(message, self.account, "hang")
            time.sleep(3600)
        if outcome == "transient":
            raise Transient("fake server error 503")
        if outcome == "transient-retry-after":
            raise Transient("fake rate limit", retry_after=datetime(2030, 1, 1, tzinfo=timezone.utc))
        if outcome == "permanent":
            raise Permanent("fake platform refused the text: policy")
        if outcome == "duplicate":
            raise Permanent("fake duplicate content", duplicate=True)
        if outcome == "ambiguous":
            _record(message, self.account, "ambiguous")
            raise Ambiguous("read timeout after sending: the request may have reached the platform")
        if outcome == "crash":
            raise RuntimeError("adapter bug")
        time.sleep(float(os.environ.get("FAKE_DELAY", "0")))  # lets overlapping runs really contend
        n = _record(message, self.account, "sent")
        return Receipt(remote_id=f"{n}", url=f"https://fake.example/{self.account}/{n}")

    def describe(self, message: Message) -> list[WireRequest]:
        return [WireRequest("POST", "https://fake.example/posts", {"text": message.text, "reply_to": message.reply_to})]

    def check(self) -> AccountCheck:
        return AccountCheck(True, "fake account")


def _record(message: Message, account: str, what: str) -> int:
    path = os.environ.get("FAKE_SENT")
    line = json.dumps({"key": message.idempotency_key, "account": account, "text": message.text, "reply_to": message.reply_to,
                       "pid": os.getpid(), "what": what, "media": [str(m.path.name) for m in message.media]}, ensure_ascii=False) + "\n"
    if path:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)
    return int(time.time_ns() % 10**12)


def sends(path: Path) -> list[dict]:
    """The recorded sends."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


if "fake" not in adapters.platforms():
    adapters.register("fake", FakeAdapter)
