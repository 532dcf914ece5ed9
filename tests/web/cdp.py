"""A headless Chromium driven over the Chrome DevTools Protocol (CDP), for the console tests.

Only what the tests need: start the browser with a fresh profile, open a page, evaluate
JavaScript, click and type as a user does (real input events at the element's place on
screen), wait for a condition, take a screenshot, and collect the page's errors (script
exceptions, console errors, Content-Security-Policy violations, failed loads).

The browser is denied the network beyond this machine: every request goes to a proxy
at a closed loopback port (so it fails) except those to loopback addresses, which
Chromium never sends through a proxy; each request the page tries off loopback is also
counted (:attr:`Page.offsite`), so a test can say there were none.
"""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from websockets.sync.client import ClientConnection, connect

__all__ = ["LOOPBACK", "Page", "chromium_binary", "page_in_chromium"]

LOOPBACK = frozenset({"127.0.0.1", "localhost", "[::1]"})
"""Hosts a page may reach."""

_FLAGS = [
    "--headless",
    "--no-sandbox",  # the tests may run as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--proxy-server=http://127.0.0.1:9",  # the discard port, closed: off-loopback fails
    "--window-size=1280,1100",
    "--remote-debugging-port=0",
]
START_TIMEOUT_S = 20.0


def chromium_binary() -> str:
    """The Chromium to drive (``$CHROMIUM``, else ``chromium`` on the PATH), or skip.

    Without one the test skips, except under CI (``$CI`` set), where it fails: a CI run
    must not pass without having driven the console in a browser.
    """
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser"):
        if name and (path := shutil.which(name)):
            return path
    reason = "no chromium binary found; install it (apt-get install chromium) or set $CHROMIUM"
    if os.environ.get("CI"):
        pytest.fail(f"CI is set, so the browser test may not skip: {reason}", pytrace=False)
    pytest.skip(reason)


class Page:
    """One browser tab, driven over its CDP WebSocket."""

    def __init__(self, socket: ClientConnection) -> None:
        self._socket = socket
        self._next_id = 0
        self._loads = 0
        self.errors: list[str] = []
        """What went wrong in the page: exceptions, console errors, violations, and failed
        loads other than the API's answers (a refused request is the API's to make)."""
        self.offsite: list[str] = []
        """URLs of the requests the page tried beyond loopback (each failed)."""
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Call one CDP method and return its result (events that arrive meanwhile are noted)."""
        self._next_id += 1
        call_id = self._next_id
        self._socket.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(self._socket.recv(timeout=START_TIMEOUT_S))
            if message.get("id") == call_id:
                if "error" in message:
                    raise RuntimeError(f"CDP {method} failed: {message['error']}")
                return dict(message.get("result", {}))
            self._note(message)

    def _note(self, event: dict[str, Any]) -> None:
        method, params = event.get("method"), event.get("params", {})
        if method == "Page.loadEventFired":
            self._loads += 1
        elif method in ("Network.requestWillBeSent", "Network.webSocketCreated"):
            url = params.get("request", params)["url"]
            scheme, _, rest = url.partition("://")
            host = rest.split("/", 1)[0].rsplit("@", 1)[-1]
            host = host[: host.find("]") + 1] if host.startswith("[") else host.split(":")[0]
            if scheme in ("http", "https", "ws", "wss") and host not in LOOPBACK:
                self.offsite.append(url)
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            self.errors.append(details.get("exception", {}).get("description", details["text"]))
        elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
            self.errors.append(
                " ".join(str(a.get("value", a.get("description"))) for a in params["args"])
            )
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            entry = params["entry"]
            if entry["source"] == "network" and "/v1/" in entry.get("url", ""):
                return  # an API's refusal (401, 422, ...): the page shows it; tests check that
            self.errors.append(f"{entry['source']}: {entry['text']} {entry.get('url', '')}")

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises are awaited)."""
        result = self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression!r} threw: {result['exceptionDetails']}")
        return result["result"].get("value")

    def navigate(self, url: str) -> None:
        """Load ``url`` (again, if it is the current one) and wait for its load event."""
        loads = self._loads
        self.send("Page.navigate", url=url)
        deadline = time.monotonic() + START_TIMEOUT_S
        while self._loads == loads:
            assert time.monotonic() < deadline, f"{url} did not load; page errors: {self.errors}"
            self._note(json.loads(self._socket.recv(timeout=START_TIMEOUT_S)))

    @contextmanager
    def scripted(self, source: str) -> Iterator[None]:
        """Run ``source`` in every document loaded meanwhile, before the page's own scripts."""
        added = self.send("Page.addScriptToEvaluateOnNewDocument", source=source)
        try:
            yield
        finally:
            self.send("Page.removeScriptToEvaluateOnNewDocument", identifier=added["identifier"])

    def wait_for(self, expression: str, timeout_s: float = 20.0) -> Any:
        """Wait until ``expression`` is truthy in the page; return its value. (The limit
        is generous: on a loaded machine the server and the page may be slow.)"""
        deadline = time.monotonic() + timeout_s
        value = None
        while time.monotonic() < deadline:
            try:
                value = self.evaluate(expression)
            except RuntimeError:  # the page is navigating: its context went away
                value = None
            if value:
                return value
            time.sleep(0.05)
        try:
            shown = self.evaluate("document.body.innerText.slice(0, 2000)")
        except RuntimeError:
            shown = "(the page is navigating)"
        raise AssertionError(
            f"{expression} was still {value!r} after {timeout_s} s; page errors: {self.errors};"
            f" the page shows:\n{shown}"
        )

    def _centre(self, selector: str) -> tuple[float, float]:
        box = self.evaluate(
            f"""(() => {{
                const node = document.querySelector({json.dumps(selector)});
                if (!node) return null;
                node.scrollIntoView({{block: "center"}});
                const r = node.getBoundingClientRect();
                return [r.left + r.width / 2, r.top + r.height / 2, r.width * r.height];
            }})()"""
        )
        assert box is not None, f"nothing in the page matches {selector}"
        assert box[2] > 0, f"{selector} is not visible"
        return box[0], box[1]

    def click(self, selector: str) -> None:
        """Click the middle of the element, with the mouse, as a user does."""
        x, y = self._centre(selector)
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def type(self, selector: str, text: str) -> None:
        """Click into a field, select what it holds and type ``text`` over it."""
        self.click(selector)
        self.evaluate(f"document.querySelector({json.dumps(selector)}).select?.()")
        self.send("Input.insertText", text=text)

    def shot(self, selector: str) -> Image.Image:
        """What the screen shows of the element (its box, in CSS pixels: 1 pixel each)."""
        box = self.evaluate(
            f"""(() => {{
                const node = document.querySelector({json.dumps(selector)});
                node.scrollIntoView({{block: "center"}});
                const r = node.getBoundingClientRect();
                return [r.left + scrollX, r.top + scrollY, r.width, r.height];
            }})()"""
        )
        clip = dict(zip(("x", "y", "width", "height"), box, strict=True), scale=1)
        data = self.send("Page.captureScreenshot", format="png", clip=clip)
        return Image.open(io.BytesIO(base64.b64decode(data["data"]))).convert("RGB")

    def screenshot(self, path: Path) -> None:
        data = self.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        path.write_bytes(base64.b64decode(data["data"]))


@contextmanager
def page_in_chromium(binary: str, profile: Path) -> Iterator[Page]:
    """Start ``binary`` headless with a fresh profile in ``profile``; yield its first tab."""
    log = profile.parent / f"{profile.name}.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [binary, *_FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        port = _devtools_port(process, profile, log)
        targets = httpx.get(f"http://127.0.0.1:{port}/json/list", trust_env=False).json()
        url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
        with connect(url, max_size=None, proxy=None) as socket:
            yield Page(socket)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _devtools_port(process: subprocess.Popen[bytes], profile: Path, log: Path) -> int:
    """The DevTools port Chromium chose, from the file it writes into its profile."""
    active = profile / "DevToolsActivePort"
    deadline = time.monotonic() + START_TIMEOUT_S
    while not (active.exists() and active.read_text().strip()):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"chromium did not start; its log:\n{log.read_text()[-3000:]}")
        time.sleep(0.05)
    return int(active.read_text().splitlines()[0])
