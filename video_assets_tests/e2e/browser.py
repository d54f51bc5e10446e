"""Headless Chromium driven over the DevTools protocol: open a page, wait for what it renders, click, capture.

Not a test module: the e2e tests and scripts/screenshot.sh import it. The
Dagster UI shows large metadata (a markdown picture is tens of KB) behind a
"[Show Markdown]" link that opens a dialog, so seeing a plot takes a click,
which ``chromium --dump-dom`` / ``--screenshot`` cannot do.

The protocol runs over ``--remote-debugging-pipe`` (Chromium reads commands on
fd 3 and writes replies and events on fd 4, each a JSON text ended by a NUL
byte): no port, no websocket library.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import subprocess
import tempfile
import time
from pathlib import Path

from video_assets_tests.e2e.dagster_ui import CHROMIUM_FLAGS, stop_process_tree

# Finds the row of the metadata table whose label is the entry's name and clicks its "[Show Markdown]".
_CLICK_SHOW_MARKDOWN = """
(() => {
  const label = %s;
  for (const row of document.querySelectorAll('tr')) {
    const cells = row.querySelectorAll('td');
    if (cells.length < 2 || !cells[0].textContent.includes(label)) continue;
    const link = [...row.querySelectorAll('*')].find(
      (el) => el.children.length === 0 && el.textContent.trim() === '[Show Markdown]');
    if (link) { link.click(); return true; }
  }
  return false;
})()
"""

# True once an <img> with an inline PNG is in the document and decoded (drawn, not a broken icon).
INLINE_PNG_LOADED = """
[...document.querySelectorAll('img')].some(
  (img) => img.getAttribute('src')?.startsWith('data:image/png;base64,') && img.complete && img.naturalWidth > 0)
"""


class BrowserError(RuntimeError):
    pass


class HeadlessChromium:
    """One headless Chromium with a throwaway profile and one page; use as a context manager."""

    def __init__(self, binary: str, width: int = 1600, height: int = 1000, timeout: float = 60.0):
        self.binary, self.width, self.height, self.timeout = binary, width, height, timeout
        self._next_id = 0
        self._buffer = b""
        self._session: str | None = None
        self._process: subprocess.Popen | None = None
        self._profile: tempfile.TemporaryDirectory | None = None

    # --- process and protocol ----------------------------------------------------------------

    def __enter__(self) -> HeadlessChromium:
        self._profile = tempfile.TemporaryDirectory(prefix="chromium-profile-")
        to_browser_read, self._to_browser = os.pipe()
        self._from_browser, from_browser_write = os.pipe()
        # Out of the way of fds 3 and 4, which the child gets them as.
        child_read = fcntl.fcntl(to_browser_read, fcntl.F_DUPFD, 10)
        child_write = fcntl.fcntl(from_browser_write, fcntl.F_DUPFD, 10)
        os.close(to_browser_read)
        os.close(from_browser_write)

        def as_fds_3_and_4():
            os.dup2(child_read, 3)
            os.dup2(child_write, 4)

        self._stderr = tempfile.TemporaryFile()
        try:
            self._process = subprocess.Popen(
                [
                    self.binary, *CHROMIUM_FLAGS, f"--user-data-dir={self._profile.name}",
                    f"--window-size={self.width},{self.height}", "--remote-debugging-pipe", "about:blank",
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=self._stderr,
                pass_fds=(3, 4),
                preexec_fn=as_fds_3_and_4,  # noqa: PLW1509 - only dup2, before exec
                start_new_session=True,
            )
        finally:
            os.close(child_read)
            os.close(child_write)
        try:
            page = next(
                (t for t in self.send("Target.getTargets")["targetInfos"] if t["type"] == "page"), None
            ) or {"targetId": self.send("Target.createTarget", url="about:blank")["targetId"]}
            self._session = self.send("Target.attachToTarget", targetId=page["targetId"], flatten=True)["sessionId"]
            self.send("Page.enable")
            self.send("Runtime.enable")
            self.resize(self.width, self.height)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        if self._process is not None:
            stop_process_tree(self._process, timeout=5)
        for fd in (self._to_browser, self._from_browser):
            try:
                os.close(fd)
            except OSError:
                pass
        self._stderr.close()
        if self._profile is not None:
            self._profile.cleanup()

    def _stderr_tail(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-2000:]

    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no reply from Chromium")
            ready, _, _ = select.select([self._from_browser], [], [], min(remaining, 1.0))
            if not ready:
                if self._process.poll() is not None:
                    raise BrowserError(f"Chromium exited with {self._process.returncode}:\n{self._stderr_tail()}")
                continue
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise BrowserError(f"Chromium closed the protocol pipe:\n{self._stderr_tail()}")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, timeout: float | None = None, **params) -> dict:
        """One protocol command (to the page once attached); returns its result, raises on its error."""
        self._next_id += 1
        command = {"id": self._next_id, "method": method, "params": params}
        if self._session and not method.startswith("Target."):
            command["sessionId"] = self._session
        os.write(self._to_browser, json.dumps(command).encode() + b"\0")
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            message = self._read_message(deadline)
            if message.get("id") != self._next_id:
                continue  # an event, or the reply to nothing we wait for
            if "error" in message:
                raise BrowserError(f"{method}: {message['error']}")
            return message.get("result", {})

    # --- what a test or a script does ------------------------------------------------------------

    def resize(self, width: int, height: int) -> None:
        """The viewport, in CSS pixels (what the page lays out for and a screenshot captures)."""
        self.width, self.height = width, height
        self.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)

    def open(self, url: str, timeout: float = 60.0) -> None:
        """Navigates, and returns once the new document has replaced the old one (not once it has rendered)."""
        self.evaluate("window.__replaced_by_navigation = true")
        reply = self.send("Page.navigate", url=url)
        if reply.get("errorText"):
            raise BrowserError(f"{url}: {reply['errorText']}")
        self.wait_for("!window.__replaced_by_navigation", timeout, what=f"navigation to {url}")

    def evaluate(self, expression: str):
        """The value of a JavaScript expression in the page (JSON-serializable values only)."""
        reply = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in reply:
            raise BrowserError(f"{expression[:200]}: {reply['exceptionDetails'].get('text')}")
        return reply["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 60.0, what: str | None = None) -> None:
        """Until the expression is truthy in the page; TimeoutError naming ``what`` after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while not self._evaluate_while_loading(expression):
            if time.monotonic() > deadline:
                text = self.evaluate("document.body ? document.body.innerText.slice(0, 1500) : ''")
                raise TimeoutError(f"not seen after {timeout:.0f} s: {what or expression}\npage text:\n{text}")
            time.sleep(0.5)

    def _evaluate_while_loading(self, expression: str):
        try:
            return self.evaluate(expression)
        except BrowserError:  # the document is being replaced ("Execution context was destroyed")
            return None

    def wait_for_text(self, texts: list[str], timeout: float = 60.0) -> None:
        self.wait_for(
            f"(() => {{ const t = document.body ? document.body.innerText : ''; "
            f"return {json.dumps(texts)}.every((s) => t.includes(s)); }})()",
            timeout,
            what=f"texts {texts}",
        )

    def show_markdown(self, label: str, timeout: float = 60.0) -> None:
        """Clicks "[Show Markdown]" on the metadata row ``label`` (a Dagster metadata table), once it is there."""
        self.wait_for(_CLICK_SHOW_MARKDOWN % json.dumps(label), timeout, what=f'"[Show Markdown]" of {label}')

    def dom(self) -> str:
        """The rendered document as HTML, as it is now (what --dump-dom prints)."""
        return self.evaluate("document.documentElement.outerHTML")

    def settle(self, seconds: float = 1.5) -> None:
        """Lets animations and late layout finish before a capture."""
        time.sleep(seconds)

    def screenshot(self, path: Path, selector: str | None = None, margin: int = 16) -> Path:
        """The viewport as PNG, or only the box of the first element matching ``selector`` (plus a margin)."""
        params = {"format": "png"}
        if selector:
            box = self.evaluate(
                f"(() => {{ const r = document.querySelector({json.dumps(selector)}).getBoundingClientRect(); "
                "return [r.left, r.top, r.width, r.height]; })()"
            )
            left, top = max(box[0] - margin, 0), max(box[1] - margin, 0)
            params["clip"] = {
                "x": left, "y": top, "scale": 1,
                "width": min(box[2] + 2 * margin, self.width - left),
                "height": min(box[3] + 2 * margin, self.height - top),
            }
        data = self.send("Page.captureScreenshot", timeout=120, **params)["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path
