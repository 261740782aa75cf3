"""The HTML report in a real browser: Debian's headless Chromium.

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``): no driver
binary, no port, no extra Python package, and it works as root. Each test checks that the page
loads with no console errors and no network request, that every image decodes, that the score
and accuracy it shows equal the JSON result, and that a phone-width page needs no sideways
scrolling; screenshots (desktop, phone, print) and a PDF go to ``test-artifacts/`` (gitignored).

The real-run tests grade the reference solution with ``python -m grader ... --json --report``
on the real dataset (slow). The escaping test grades a copy of it that prints HTML and checks the
report shows that text without running any of it.
"""

from __future__ import annotations

import base64
import fcntl
import json
import math
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from test_reports import SyntheticDataset, model_result  # the hand-made results, shared

from grader.render.report import render_reports

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed (scripts/setup.sh --dev installs Debian's chromium)",
)

PHONE = {"width": 390, "height": 844, "mobile": True}
DESKTOP = {"width": 1200, "height": 900, "mobile": False}
HOSTILE_OUTPUT = "<script>document.title='pwned'</script><img src=x onerror=alert(1)>"


# --------------------------------------------------------------------------------------------
# A minimal DevTools-protocol client
# --------------------------------------------------------------------------------------------


class BrowserError(RuntimeError):
    pass


class Chromium:
    """Headless Chromium with the DevTools protocol on file descriptors 3 (commands in) and 4
    (replies and events out), messages separated by NUL bytes."""

    FLAGS = (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--disable-default-apps",
        "--mute-audio",
        "--hide-scrollbars",
        "--remote-debugging-pipe",
    )

    def __init__(self, binary: str, timeout_s: float = 30.0) -> None:
        self.timeout_s = timeout_s
        self.profile = tempfile.mkdtemp(prefix="grader-chromium-")
        self.events: list[dict[str, Any]] = []
        self._next_id = 0
        self._buffer = b""
        commands_r, commands_w = os.pipe()
        replies_r, replies_w = os.pipe()
        # Copies above 4 (close-on-exec) first, so placing them on 3 and 4 cannot clobber either.
        high_r = fcntl.fcntl(commands_r, fcntl.F_DUPFD_CLOEXEC, 10)
        high_w = fcntl.fcntl(replies_w, fcntl.F_DUPFD_CLOEXEC, 10)

        def place_pipe_fds() -> None:  # runs in the child between fork and exec
            # dup2 makes 3 and 4 inheritable; every other descriptor of ours is close-on-exec
            # (PEP 446), which is why close_fds=False below leaks nothing. (pass_fds cannot
            # name 3 and 4: it needs them open in the parent, which they may not be.)
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        self.log = open(Path(self.profile) / "chromium.log", "wb")  # noqa: SIM115 - closed in close()
        try:
            self.process = subprocess.Popen(
                [binary, *self.FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
                stdin=subprocess.DEVNULL,
                stdout=self.log,
                stderr=subprocess.STDOUT,
                preexec_fn=place_pipe_fds,
                close_fds=False,
            )
        except OSError:
            self.log.close()
            shutil.rmtree(self.profile, ignore_errors=True)
            raise
        finally:
            for fd in (commands_r, replies_w, high_r, high_w):
                os.close(fd)
        self._out = commands_w
        self._in = replies_r

    # --- protocol -------------------------------------------------------------------------

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        self._next_id += 1
        message_id = self._next_id
        self._write(
            {"id": message_id, "method": method, "params": params or {}, **({"sessionId": session} if session else {})}
        )
        deadline = time.monotonic() + self.timeout_s
        while True:
            message = self._read(deadline)
            if message.get("id") == message_id:
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self._event(message)

    def wait_for(self, method: str, session: str, timeout_s: float | None = None) -> dict[str, Any]:
        """Return the first event ``method`` of ``session``, seen before or now."""
        deadline = time.monotonic() + (timeout_s or self.timeout_s)
        seen = 0
        while True:
            for event in self.events[seen:]:
                if event["method"] == method and event.get("sessionId") == session:
                    return event
            seen = len(self.events)
            self._event(self._read(deadline))

    def _event(self, message: dict[str, Any]) -> None:
        if "method" not in message:
            return
        self.events.append(message)
        if message["method"] == "Page.javascriptDialogOpening":
            # A dialog would block the page for good: it is recorded (in events), then dismissed.
            self._next_id += 1
            self._write(
                {
                    "id": self._next_id,
                    "method": "Page.handleJavaScriptDialog",
                    "params": {"accept": False},
                    "sessionId": message.get("sessionId"),
                }
            )

    def _write(self, message: dict[str, Any]) -> None:
        os.write(self._out, json.dumps(message).encode() + b"\0")

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._in], [], [], left)[0]:
                raise BrowserError("Chromium did not answer in time")
            chunk = os.read(self._in, 1 << 20)
            if not chunk:
                raise BrowserError(f"Chromium exited (code {self.process.poll()}); see {self.log.name}")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    # --- pages ----------------------------------------------------------------------------

    def open(self, path: Path, viewport: dict[str, Any]) -> Page:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable", session=session)
        page = Page(self, session)
        page.set_viewport(viewport)
        self.send("Page.navigate", {"url": path.resolve().as_uri()}, session=session)
        self.wait_for("Page.loadEventFired", session)
        return page

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except BrowserError:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for fd in (self._out, self._in):
            os.close(fd)
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)


class Page:
    def __init__(self, browser: Chromium, session: str) -> None:
        self.browser, self.session = browser, session

    def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.browser.send(method, params, session=self.session)

    def evaluate(self, expression: str) -> Any:
        reply = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in reply:
            raise BrowserError(f"{expression!r} raised {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def set_viewport(self, viewport: dict[str, Any], height: int | None = None) -> None:
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {
                "width": viewport["width"],
                "height": height or viewport["height"],
                "deviceScaleFactor": 1,
                "mobile": viewport["mobile"],
            },
        )

    def events(self, *methods: str) -> list[dict[str, Any]]:
        return [e for e in self.browser.events if e.get("sessionId") == self.session and e["method"] in methods]

    def problems(self) -> list[str]:
        """Console errors, uncaught exceptions and error log entries (CSP violations, failed loads)."""
        found = []
        for event in self.events("Runtime.consoleAPICalled", "Runtime.exceptionThrown", "Log.entryAdded"):
            params = event["params"]
            if event["method"] == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                found.append(
                    "console: "
                    + " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
                )
            elif event["method"] == "Runtime.exceptionThrown":
                found.append("exception: " + json.dumps(params.get("exceptionDetails", {}))[:500])
            elif event["method"] == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                found.append("log: " + params["entry"].get("text", ""))
        return found

    def dialogs(self) -> list[str]:
        return [e["params"].get("message", "") for e in self.events("Page.javascriptDialogOpening")]

    def requests(self) -> list[str]:
        return [e["params"]["request"]["url"] for e in self.events("Network.requestWillBeSent")]

    def screenshot(self, path: Path, viewport: dict[str, Any], media: str = "screen") -> None:
        """The whole page, not only the first screen, at the viewport's width."""
        self.send("Emulation.setEmulatedMedia", {"media": media})
        height = math.ceil(self.evaluate("document.documentElement.scrollHeight"))
        self.set_viewport(viewport, height=min(height, 16000))
        png = base64.b64decode(self.send("Page.captureScreenshot", {"format": "png"})["data"])
        self.set_viewport(viewport)
        self.send("Emulation.setEmulatedMedia", {"media": ""})
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(png)


@pytest.fixture(scope="module")
def browser() -> Any:
    assert CHROMIUM is not None
    chromium = Chromium(CHROMIUM)
    yield chromium
    chromium.close()


# --------------------------------------------------------------------------------------------
# What every report page must satisfy
# --------------------------------------------------------------------------------------------


IMAGES_DECODED = """
Promise.all([...document.images].map(img => img.decode().then(() => true, () => false)))
  .then(() => [...document.images].map(img => ({src: img.src.slice(0, 22), width: img.naturalWidth, alt: img.alt})))
"""


def check_report_page(browser: Chromium, html: Path, result: dict[str, Any], name: str) -> Page:
    page = browser.open(html, DESKTOP)
    images = page.evaluate(IMAGES_DECODED)
    assert all(image["width"] > 0 for image in images), images
    assert all(image["src"].startswith("data:image/png") for image in images), images

    shown = page.evaluate(
        "({score: document.getElementById('score').textContent, scoreValue: document.getElementById('score').dataset.value,"
        " max: document.getElementById('max-score').textContent,"
        " accuracy: document.getElementById('accuracy')?.textContent, accuracyValue: document.getElementById('accuracy')?.dataset.value,"
        " verdict: document.getElementById('verdict').textContent, scripts: document.scripts.length})"
    )
    assert shown["score"] == f"{result['score']:g}"
    assert float(shown["scoreValue"]) == result["score"]
    assert shown["max"] == f"{result['max_score']:g}"
    assert shown["verdict"] == ("PASSED" if result["passed"] else "NOT PASSED")
    accuracy = result["metrics"].get("test_accuracy")
    if accuracy is not None:
        assert shown["accuracy"] == f"{accuracy:.4f}"
        assert float(shown["accuracyValue"]) == accuracy
    assert shown["scripts"] == 0, "the report must carry no script at all"

    page.screenshot(ARTIFACTS / f"{name}-desktop.png", DESKTOP)
    page.screenshot(ARTIFACTS / f"{name}-print.png", DESKTOP, media="print")
    pdf = base64.b64decode(page.send("Page.printToPDF", {"printBackground": True})["data"])
    assert pdf.startswith(b"%PDF")
    (ARTIFACTS / f"{name}.pdf").write_bytes(pdf)

    # A phone: the page may scroll down, never sideways (wide tables scroll inside their box).
    page.set_viewport(PHONE)
    widths = page.evaluate("({page: document.documentElement.scrollWidth, screen: window.innerWidth})")
    assert widths["page"] <= widths["screen"], widths
    page.screenshot(ARTIFACTS / f"{name}-phone.png", PHONE)

    assert page.problems() == []
    assert page.dialogs() == []
    # Self-contained: the only request is the file itself (data: images are no requests).
    assert all(url.startswith(("file:", "data:")) for url in page.requests()), page.requests()
    return page


def test_the_checks_notice_a_bad_page(browser: Chromium, tmp_path: Path) -> None:
    """A negative control: the same probes do catch a script, a console error, a dialog, a
    broken image and a request, so their silence on the reports means something."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        "<title>bad</title><script>console.error('boom'); document.title = 'pwned'</script>"
        "<img src=missing.png onerror=alert(1)>",
        encoding="utf-8",
    )
    page = browser.open(bad, DESKTOP)
    page.evaluate(IMAGES_DECODED)
    assert page.evaluate("document.title") == "pwned"
    assert any("boom" in problem for problem in page.problems())
    assert any(url.endswith("missing.png") for url in page.requests())
    assert page.evaluate("document.images[0].naturalWidth") == 0
    assert page.dialogs() == ["1"]


# --------------------------------------------------------------------------------------------
# A hand-made result: fast, always runs where Chromium is
# --------------------------------------------------------------------------------------------


def test_hand_made_report_in_browser(browser: Chromium, tmp_path: Path) -> None:
    result = model_result(output=f"Epoch 1/5\n{HOSTILE_OUTPUT}\n</textarea></pre>")
    files = render_reports(result, tmp_path / "report", dataset=SyntheticDataset())
    page = check_report_page(browser, files["html"], result.to_json(), "hand-made")
    assert page.evaluate("document.querySelectorAll('img').length") == 4
    assert "pwned" not in page.evaluate("document.title")
    assert HOSTILE_OUTPUT in page.evaluate("document.querySelector('pre.output').textContent")


# --------------------------------------------------------------------------------------------
# Real graded runs
# --------------------------------------------------------------------------------------------


def grade(submission: Path, out: Path) -> tuple[dict[str, Any], Path, float]:
    """Run the grader's CLI like a user; return the JSON result, the report folder, seconds."""
    json_path, report_dir = out / "result.json", out / "report"
    started = time.perf_counter()
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "grader",
            "fashion_mnist",
            str(submission),
            "--json",
            str(json_path),
            "--report",
            str(report_dir),
            "--quiet",
        ],
        cwd=out,
        capture_output=True,
        text=True,
        timeout=900,
        # The grader from this tree, installed or not.
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))},
    )
    seconds = time.perf_counter() - started
    assert completed.returncode in (0, 1), completed.stdout + completed.stderr
    return json.loads(json_path.read_text(encoding="utf-8")), report_dir, seconds


@pytest.fixture(scope="module")
def reference_solution() -> Path:
    path = ROOT / "solutions" / "fashion_mnist" / "fashion_mnist.py"
    if not path.is_file():
        pytest.fail(f"the reference solution {path.relative_to(ROOT)} is missing")
    return path


def test_real_run_report_in_browser(browser: Chromium, reference_grading) -> None:
    # The reference solution graded on the real data once a session (tests/conftest.py), shared
    # with the end-to-end tests.
    graded = reference_grading("fashion_mnist")
    result, report_dir = graded.result, graded.report_dir
    assert result["passed"], result["checks"]
    page = check_report_page(browser, report_dir / "report.html", result, "fashion-mnist")
    # Every section of the issue is there, drawn from the run.
    for section in ("checks", "model", "training", "test", "output"):
        assert page.evaluate(f"!!document.getElementById('{section}')"), section
    assert page.evaluate("document.querySelectorAll('img').length") == 4  # accuracy, loss, confusion, grid
    # The parameter arithmetic of every layer with weights, ending in Keras' own count.
    layers = page.evaluate("[...document.querySelectorAll('#layers tbody tr')].map(row => row.textContent)")
    for row, layer in zip(layers, result["details"]["model"]["layers"], strict=True):
        if layer["params"]:
            assert f" = {layer['params']:,}" in row, row
    assert any("784 × 64 + 64 = 50,240" in row for row in layers)  # the chapter's hidden layer
    per_class = page.evaluate("document.getElementById('per-class').textContent")
    for figures in result["details"]["evaluation"]["per_class"]:
        assert figures["name"] in per_class
        assert f"{figures['precision']:.4f}" in per_class
    markdown = (report_dir / "report.md").read_text(encoding="utf-8")
    assert f"{result['metrics']['test_accuracy']:.4f}" in markdown


def test_submission_printing_html_cannot_script_the_report(
    browser: Chromium, reference_solution: Path, tiny_data_dir: Path, tmp_path: Path
) -> None:
    # On the tiny datasets: what is proved is the escaping of the printed output, not accuracy.
    hostile = tmp_path / "fashion_mnist.py"
    hostile.write_text(
        reference_solution.read_text(encoding="utf-8") + f"\nprint({HOSTILE_OUTPUT!r})\n", encoding="utf-8"
    )
    result, report_dir, _ = grade(hostile, tmp_path)
    assert HOSTILE_OUTPUT in result["details"]["output"]
    page = check_report_page(browser, report_dir / "report.html", result, "hostile-output")
    assert page.evaluate("document.title").startswith("fashion_mnist: ")
    assert "pwned" not in page.evaluate("document.title")
    assert page.evaluate('document.querySelectorAll(\'img[src="x"], img:not([src^="data:"])\').length') == 0
    assert HOSTILE_OUTPUT in page.evaluate("document.querySelector('pre.output').textContent")
