"""A real headless Chromium for tests, driven over the DevTools protocol on a pipe.

Why not Playwright: measured here, the `playwright` wheel is 165 MB (its own Node driver) and
starting its driver costs ~0.45 s before Chromium starts; its API is pinned to the Chromium
build it ships, while these tests must use Debian's `chromium` (it cannot download one). The
DevTools protocol is stable for what the tests need (navigate, evaluate, fonts, screenshots,
device metrics, keys) and a pipe (--remote-debugging-pipe: NUL-separated JSON on fds 3 and 4)
needs no port, no websocket library and no dependency at all: ~0.85 s from launch to an
evaluated page, against ~1.4 s through Playwright.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-extensions", "--disable-default-apps", "--mute-audio",
         "--hide-scrollbars", "--remote-debugging-pipe"]


def chromium_or_skip() -> str:
    """Debian's chromium; under CI=true a missing one fails instead of skipping (.ci/run installs it)."""
    for name in ("chromium", "chromium-browser"):
        exe = shutil.which(name)
        if exe:
            return exe
    if os.environ.get("CI") == "true":
        pytest.fail("chromium is not installed: .ci/run installs it (apt-get install chromium)")
    pytest.skip("no chromium found (apt-get install chromium): the preview's browser tests need one")


class BrowserError(RuntimeError):
    """The browser answered a command with an error, or went away."""


class Browser:
    """One Chromium process with a fresh profile; `page()` opens a tab."""

    def __init__(self, exe: str | None = None):
        self.exe = exe or chromium_or_skip()
        self.profile = tempfile.mkdtemp(prefix="campaigner-chromium-")
        to_child, self._write = os.pipe()
        self._read, from_child = os.pipe()

        def wire() -> None:  # in the child: the protocol's fds 3 (commands in) and 4 (answers out)
            a, b = os.dup(to_child), os.dup(from_child)
            os.dup2(a, 3)
            os.dup2(b, 4)

        # Its log goes to a file: a pipe nobody reads would fill and stall the browser.
        self.log = open(Path(self.profile) / "chromium.log", "wb")
        self.proc = subprocess.Popen([self.exe, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"], preexec_fn=wire,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.log, close_fds=False)
        os.close(to_child)
        os.close(from_child)
        self._buffer = b""
        self._next = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, session: str | None = None, timeout: float = 30, **params: Any) -> dict[str, Any]:
        """One protocol command; its result (raises BrowserError on an error answer)."""
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        try:
            os.write(self._write, json.dumps(message).encode("utf-8") + b"\0")
        except BrokenPipeError:
            raise BrowserError(f"chromium exited: {self._stderr()}") from None
        deadline = time.monotonic() + timeout
        while True:
            answer = self._receive(deadline, method)
            if answer.get("id") == self._next:
                if "error" in answer:
                    raise BrowserError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            self.events.append(answer)

    def _receive(self, deadline: float, method: str) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError(f"{method}: no answer from chromium in time")
            ready, _, _ = select.select([self._read], [], [], left)
            if ready:
                chunk = os.read(self._read, 1 << 16)
                if not chunk:
                    raise BrowserError(f"chromium exited: {self._stderr()}")
                self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def _stderr(self) -> str:
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return "(still running)"
        self.log.flush()
        return (Path(self.profile) / "chromium.log").read_bytes().decode("utf-8", "replace")[-2000:]

    def page(self, width: int = 1280, height: int = 900, scripts: bool = True) -> Page:
        """A new tab of the given viewport, scripts on or off."""
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        page = Page(self, session)
        for domain in ("Page", "Runtime", "DOM", "CSS"):
            page.send(f"{domain}.enable")
        page.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=width < 600)
        if not scripts:
            page.send("Emulation.setScriptExecutionDisabled", value=True)
        return page

    def close(self) -> None:
        """Close the browser and remove its profile."""
        try:
            self.send("Browser.close", timeout=10)
        except BrowserError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for fd in (self._write, self._read):
            try:
                os.close(fd)
            except OSError:
                pass
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)


class Page:
    """One tab: load a file, ask what a person would see."""

    def __init__(self, browser: Browser, session: str):
        self.browser = browser
        self.session = session

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """A protocol command in this tab."""
        return self.browser.send(method, self.session, **params)

    def open(self, path: Path, fragment: str = "") -> None:
        """Load a local file (file://) and wait until it has loaded; then load its lazy images too."""
        self.send("Page.navigate", url=Path(path).absolute().as_uri() + (f"#{fragment}" if fragment else ""))
        self.wait_for("document.readyState === 'complete'", f"{path} did not finish loading")
        self.eval("document.querySelectorAll('img[loading=lazy]').forEach(i => { i.loading = 'eager'; })")
        self.wait_for("Array.from(document.images).every(i => i.complete)", f"the images of {path} did not load")

    def wait_for(self, condition: str, message: str, timeout: float = 30) -> None:
        """Wait until a JavaScript condition holds in the page."""
        deadline = time.monotonic() + timeout
        while not self.eval(condition):
            if time.monotonic() > deadline:
                raise BrowserError(message)
            time.sleep(0.05)

    def eval(self, expression: str) -> Any:
        """The JSON value of a JavaScript expression in the page."""
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression}: {result['exceptionDetails'].get('exception', {}).get('description', result['exceptionDetails'])}")
        return result["result"].get("value")

    def fonts(self, selector: str) -> list[str]:
        """The font families the browser really drew the first node matching `selector` with."""
        root = self.send("DOM.getDocument", depth=0)["root"]["nodeId"]
        node = self.send("DOM.querySelector", nodeId=root, selector=selector)["nodeId"]
        if not node:
            raise BrowserError(f"nothing matches {selector!r}")
        return [f["familyName"] for f in self.send("CSS.getPlatformFontsForNode", nodeId=node)["fonts"]]

    def press(self, key: str, code: str, key_code: int, modifiers: int = 0) -> None:
        """Press and release one key (e.g. Tab) as a keyboard would."""
        for kind in ("keyDown", "keyUp"):
            self.send("Input.dispatchKeyEvent", type=kind, key=key, code=code, windowsVirtualKeyCode=key_code, modifiers=modifiers)

    def screenshot(self, dest: Path, full_page: bool = True) -> Path:
        """A PNG of the page (all of it by default)."""
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
            size = self.send("Page.getLayoutMetrics")["cssContentSize"]
            params["clip"] = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 16000), "scale": 1}
        data = self.send("Page.captureScreenshot", **params)["data"]
        dest.write_bytes(base64.b64decode(data))
        return dest
