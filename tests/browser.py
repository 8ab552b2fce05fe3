"""Headless Chromium (Debian's `chromium`, which `make test` installs where missing) driven over the DevTools protocol
on a pipe (--remote-debugging-pipe: JSON messages ended by NUL on fds 3 and 4), standard library only. A page is
loaded, everything it reports is kept (console calls, uncaught exceptions, log entries such as a failed load, every
request it sends) and a script evaluated in it returns what the test reads from the rendered DOM."""

from __future__ import annotations

import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest


def chromium_executable() -> str:
    found = shutil.which("chromium")
    if not found:
        pytest.fail("chromium is not on PATH: `make test` installs Debian's package (Makefile target `chromium`)")
    return found


class Page:
    """What a page did while it loaded and what a script evaluated in it returned."""

    def __init__(self, events: list[dict], value):
        self.events = events
        self.value = value

    def console_errors(self) -> list[str]:
        """Console errors and assertions, uncaught exceptions, and error log entries (a resource that failed)."""
        errors = []
        for e in self.events:
            method, params = e.get("method"), e.get("params", {})
            if method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
                errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params["args"]))
            elif method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                errors.append(details.get("exception", {}).get("description") or details.get("text", "exception"))
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                errors.append(f"{params['entry'].get('text')} {params['entry'].get('url', '')}".strip())
        return errors

    def requests(self) -> list[str]:
        return [e["params"]["request"]["url"] for e in self.events if e.get("method") == "Network.requestWillBeSent"]


def load(url: str, script: str, timeout_s: float = 60) -> Page:
    """Open `url` in a fresh headless Chromium, wait for its load event, evaluate `script` (its value is returned
    by value) and close the browser."""
    with tempfile.TemporaryDirectory() as profile:
        to_chrome_r, to_chrome_w = os.pipe()
        from_chrome_r, from_chrome_w = os.pipe()

        def wire_fds():  # in the child: Chromium reads commands on fd 3 and writes replies on fd 4
            # first above the low fds, so that moving one to 3 or 4 cannot close the other
            high_r = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 100)
            high_w = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 100)
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        args = [
            chromium_executable(),
            "--headless",
            "--no-sandbox",  # tests run as root in CI containers
            "--disable-gpu",
            "--no-first-run",
            "--remote-debugging-pipe",
            f"--user-data-dir={profile}",
            "about:blank",
        ]
        proc = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=wire_fds, close_fds=False
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        cdp = _Pipe(to_chrome_w, from_chrome_r, time.monotonic() + timeout_s)
        try:
            target = cdp.call("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = cdp.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Runtime", "Log", "Network", "Page"):
                cdp.call(f"{domain}.enable", session=session)
            cdp.call("Page.navigate", {"url": url}, session=session)
            cdp.wait_for("Page.loadEventFired", session)
            result = cdp.call("Runtime.evaluate", {"expression": script, "returnByValue": True}, session=session)
            if "exceptionDetails" in result:
                raise AssertionError(f"the test's script failed in the page: {result['exceptionDetails']}")
            events = [e for e in cdp.events if e.get("sessionId") == session]
            cdp.call("Browser.close")
            return Page(events, result["result"].get("value"))
        finally:
            os.close(to_chrome_w)
            os.close(from_chrome_r)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


class _Pipe:
    def __init__(self, write_fd: int, read_fd: int, deadline: float):
        self.write_fd, self.read_fd, self.deadline = write_fd, read_fd, deadline
        self.buffer, self.events, self.next_id = b"", [], 0

    def call(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.write_fd, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise AssertionError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, session: str) -> dict:
        while True:
            for e in self.events:
                if e.get("method") == method and e.get("sessionId") == session:
                    return e
            self.events.append(self._read())

    def _read(self) -> dict:
        while b"\0" not in self.buffer:
            left = self.deadline - time.monotonic()
            if left <= 0 or not select.select([self.read_fd], [], [], left)[0]:
                raise TimeoutError("chromium did not answer in time")
            chunk = os.read(self.read_fd, 1 << 16)
            if not chunk:
                raise ConnectionError("chromium closed the DevTools pipe")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)


def file_url(path: Path) -> str:
    return path.resolve().as_uri()
