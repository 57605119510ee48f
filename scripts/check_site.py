"""Check the built documentation site in a real headless browser (developer tool, not run in CI).

Builds the site with ``mkdocs build --strict`` (or takes an already built one), serves it on
127.0.0.1, and drives Debian's headless Chromium over the DevTools protocol (``--remote-debugging-
pipe``: JSON messages on file descriptors 3/4, no websocket library needed). For every page it
checks that

* the page loads with HTTP 200 and is not the 404 page, and its main content is not empty;
* every same-site link on it (navigation and content) resolves, including ``#anchors``;
* no JavaScript exception or console error occurs. Failed requests to other hosts (the MathJax
  CDN, the GitHub API the theme queries for repository stars) are listed separately: they are
  expected on an offline machine and do not fail the check;

and, once, that the search index exists and typing a query into the search box gives results.
Screenshots of the home page and of the API pages are written to the folder given with
``--screenshots``. Exit status 0 when everything local is fine, 1 otherwise.

Usage::

    apt-get install -y chromium        # Debian; once
    python scripts/check_site.py --screenshots /tmp/site-shots
    python scripts/check_site.py --site-dir site --no-build --screenshots shots
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import functools
import http.server
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urldefrag, urlparse

ROOT = Path(__file__).resolve().parents[1]
# extra_javascript in mkdocs.yml loads MathJax from here; --mathjax-dir serves it from a local copy.
MATHJAX_CDN = "https://cdn.jsdelivr.net/npm/mathjax@"
_INTERNAL_IDS = 1_000_000_000  # ids of commands whose replies nobody waits for
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
]
# Screenshots: these pages and every API page.
SCREENSHOT_PAGES = {".", "concepts/min-norm"}
# Resolves once MathJax has typeset the page (immediately when MathJax did not load).
MATHJAX_DONE = """(window.MathJax && MathJax.startup && MathJax.startup.promise)
  ? MathJax.startup.promise.then(() => 1) : 0"""
# Collected in the page after load: what the checks need, in one round trip.
PAGE_PROBE = """(() => ({
  title: document.title,
  h1: (document.querySelector("article h1") || {}).textContent || "",
  contentChars: ((document.querySelector("article") || {}).innerText || "").trim().length,
  links: [...document.querySelectorAll("a[href]")].map(a => a.href),
  math: document.querySelectorAll(".arithmatex").length,
  mathUnrendered: [...document.querySelectorAll(".arithmatex")]
    .filter(e => !e.querySelector("mjx-container")).length,
  // TeX of formulas with parse errors or undefined macros (MathJax shows those names in red)
  mathErrors: (() => {
    const doc = window.MathJax && MathJax.startup && MathJax.startup.document;
    const bad = "mjx-merror, mjx-mtext[style*='color: red']";
    return doc ? Array.from(doc.math)
      .filter(m => m.typesetRoot && m.typesetRoot.querySelector(bad)).map(m => m.math) : [];
  })(),
  mathJaxLoaded: Boolean(window.MathJax && window.MathJax.startup),
}))()"""


class Chromium:
    """A headless Chromium driven over the DevTools protocol through a pipe (one page target)."""

    def __init__(
        self, executable: str, user_data_dir: str, mathjax_dir: Path | None = None
    ) -> None:
        self.mathjax_dir = mathjax_dir
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def wire_fds() -> None:  # in the child: the protocol reads commands on fd 3, writes on fd 4
            os.dup2(to_browser_r, 1000)  # park first: the pipes may themselves be fds 3 or 4
            os.dup2(from_browser_w, 1001)
            os.dup2(1000, 3)
            os.dup2(1001, 4)
            os.close(1000)
            os.close(1001)

        args = [executable, *CHROMIUM_FLAGS, f"--user-data-dir={user_data_dir}", "about:blank"]
        self.proc = subprocess.Popen(
            args,
            preexec_fn=wire_fds,
            close_fds=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self._internal_id = _INTERNAL_IDS
        self.events: list[dict] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable", session=True)
        if mathjax_dir is not None:
            pattern = {"urlPattern": MATHJAX_CDN + "*"}
            self.call("Fetch.enable", session=True, patterns=[pattern])
        self.call(
            "Emulation.setDeviceMetricsOverride",
            session=True,
            width=1280,
            height=900,
            deviceScaleFactor=1,
            mobile=False,
        )

    def _read_message(self, timeout: float) -> dict:
        """The next reply or event; intercepted MathJax requests are answered on the way."""
        while True:
            deadline = time.monotonic() + timeout
            while b"\0" not in self._buffer:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([self._from_browser], [], [], left)[0]:
                    raise TimeoutError("no message from Chromium")
                chunk = os.read(self._from_browser, 1 << 16)
                if not chunk:
                    raise RuntimeError("Chromium closed the DevTools pipe")
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            message = json.loads(raw)
            if message.get("method") == "Fetch.requestPaused":
                self._serve_mathjax(message["params"])
            elif message.get("id", 0) < _INTERNAL_IDS:
                return message

    def _send(self, message: dict) -> None:
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")

    def _serve_mathjax(self, params: dict) -> None:
        """Answer a request for the MathJax CDN from the local copy (``--mathjax-dir``)."""
        assert self.mathjax_dir is not None
        url = params["request"]["url"].split("?")[0]
        relative = url[len(MATHJAX_CDN) :].split("/", 1)[-1]  # drop the "@version"
        path = self.mathjax_dir / relative
        self._internal_id += 1
        command: dict = {"id": self._internal_id, "sessionId": self.session}
        if path.is_file():
            kind = "application/javascript" if path.suffix == ".js" else f"font/{path.suffix[1:]}"
            command |= {
                "method": "Fetch.fulfillRequest",
                "params": {
                    "requestId": params["requestId"],
                    "responseCode": 200,
                    "responseHeaders": [
                        {"name": "Content-Type", "value": kind},
                        {"name": "Access-Control-Allow-Origin", "value": "*"},  # as the CDN sends
                    ],
                    "body": base64.b64encode(path.read_bytes()).decode(),
                },
            }
        else:
            command |= {
                "method": "Fetch.failRequest",
                "params": {"requestId": params["requestId"], "errorReason": "FileNotFound"},
            }
        self._send(command)

    def call(
        self, method: str, session: bool = False, timeout: float = 30.0, **params: object
    ) -> dict:
        """Send one command and return its result; events arriving meanwhile are kept."""
        self._next_id += 1
        message: dict = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        self._send(message)
        while True:
            reply = self._read_message(timeout)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def evaluate(self, expression: str) -> object:
        result = self.call(
            "Runtime.evaluate",
            session=True,
            expression=expression,
            returnByValue=True,
            awaitPromise=True,
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"evaluating {expression[:60]!r}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def load(self, url: str, settle: float = 0.4) -> None:
        """Navigate and wait for the load event, then let scripts run for `settle` seconds."""
        self.events.clear()
        self.call("Page.navigate", session=True, url=url)
        deadline = time.monotonic() + 30
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not finish loading")
            self.events.append(self._read_message(30))
        time.sleep(settle)
        self.evaluate(MATHJAX_DONE)  # also drains the events that arrived while settling

    def screenshot(self, path: Path, full_page: bool = False, max_height: int = 8000) -> None:
        """PNG of the viewport, or of the whole page (up to `max_height` CSS pixels)."""
        params: dict = {"format": "png"}
        if full_page:
            size = self.call("Page.getLayoutMetrics", session=True)["cssContentSize"]
            height = min(int(size["height"]), max_height)
            params |= {
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": 1280, "height": height, "scale": 1},
            }
        data = self.call("Page.captureScreenshot", session=True, **params)["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, TimeoutError, OSError):
            self.call("Browser.close", timeout=5)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@dataclass
class PageReport:
    url: str
    problems: list[str] = field(default_factory=list)
    external_failures: list[str] = field(default_factory=list)
    math: tuple[int, int] = (0, 0)


def console_problems(events: list[dict], origin: str) -> tuple[list[str], list[str]]:
    """Split error events into local problems and failed requests to other hosts."""
    failed_urls = {}
    for e in events:
        if e.get("method") == "Network.requestWillBeSent":
            failed_urls[e["params"]["requestId"]] = e["params"]["request"]["url"]
    local, external = [], []
    for e in events:
        method, params = e.get("method"), e.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text", "")
            local.append(f"exception: {text.splitlines()[0] if text else details}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            local.append(f"console.error: {args}")
        elif method == "Network.loadingFailed":
            url = failed_urls.get(params["requestId"], "?")
            entry = f"{params.get('errorText')}: {url}"
            (local if url.startswith(origin) else external).append(entry)
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            entry = params["entry"]
            url = entry.get("url", "")
            if entry.get("source") == "network" and url and not url.startswith(origin):
                continue  # the same failure is reported by Network.loadingFailed
            local.append(f"log: {entry.get('text')} {url}".strip())
    return sorted(set(local)), sorted(set(external))


def serve(site: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, ""


def check_links(links: set[str], base: str) -> list[str]:
    """Every same-site link answers 200 and its #anchor exists on the target page."""
    problems: list[str] = []
    pages: dict[str, tuple[int, str]] = {}
    for link in sorted(links):
        url, anchor = urldefrag(link)
        if url not in pages:
            pages[url] = fetch(url)
        status, html = pages[url]
        if status != 200:
            problems.append(f"broken link ({status}): {link}")
        elif anchor and f'id="{anchor}"' not in html:
            problems.append(f"missing anchor: {link}")
    return problems


def check_search(browser: Chromium, base: str, site: Path) -> list[str]:
    index = site / "search" / "search_index.json"
    if not index.is_file() or not json.loads(index.read_text()).get("docs"):
        return ["search/search_index.json is missing or empty"]
    browser.load(base + "?q=calibration", settle=0.2)
    for _ in range(50):
        hits = browser.evaluate("document.querySelectorAll('.md-search-result__item').length")
        if hits:
            print(f"search: 'calibration' gives {hits} results")
            return []
        time.sleep(0.1)
    return ["search: typing 'calibration' into the search box gives no results"]


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--screenshots", type=Path, required=True, help="folder for PNG screenshots"
    )
    parser.add_argument("--site-dir", type=Path, help="built site (default: build into a temp dir)")
    parser.add_argument("--no-build", action="store_true", help="use --site-dir as it is")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    parser.add_argument("--full-page", action="store_true", help="screenshot whole pages")
    parser.add_argument(
        "--mathjax-dir",
        type=Path,
        help="local MathJax 3 package (with es5/) to serve instead of the CDN, for offline checks",
    )
    return parser.parse_args(argv)


def _build_site(site: Path) -> bool:
    """``mkdocs build --strict`` into ``site``; False (with a message) when it fails."""
    build = [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)]
    if subprocess.run(build, cwd=ROOT, check=False).returncode != 0:
        print("mkdocs build --strict failed", file=sys.stderr)
        return False
    return True


def _check_page(
    browser: Chromium, base: str, page: str, args: argparse.Namespace
) -> tuple[PageReport, set[str], bool]:
    """``(report, same-site links, MathJax loaded)`` of one page; screenshots the listed pages."""
    url = base if page == "." else f"{base}{page}/"
    report = PageReport(url)
    status, _ = fetch(url)
    browser.load(url)
    probe = browser.evaluate(PAGE_PROBE)
    if status != 200 or "404" in probe["h1"]:
        report.problems.append(f"HTTP {status}, heading {probe['h1']!r}")
    if probe["contentChars"] < 20:
        report.problems.append(f"main content is empty ({probe['contentChars']} chars)")
    local, external = console_problems(browser.events, base)
    report.problems += local
    report.external_failures = external
    report.math = (probe["math"], probe["math"] - probe["mathUnrendered"])
    if probe["mathJaxLoaded"] and probe["mathUnrendered"]:
        report.problems.append(f"{probe['mathUnrendered']} formulas not rendered")
    report.problems += [f"TeX error: {error}" for error in probe["mathErrors"]]
    links = {link for link in probe["links"] if urlparse(link).netloc == urlparse(base).netloc}
    if page in SCREENSHOT_PAGES or page.startswith("api"):
        name = "home" if page == "." else page.replace("/", "_")
        browser.screenshot(args.screenshots / f"{name}.png", args.full_page)
    return report, links, probe["mathJaxLoaded"]


def _print_reports(reports: list[PageReport]) -> bool:
    """Print each page's state and problems; True when some page failed."""
    failed = False
    for report in reports:
        math, rendered = report.math
        notes = f"  ({rendered}/{math} formulas rendered)" if math else ""
        state = "FAIL" if report.problems else "ok  "
        print(f"{state} {report.url}{notes}")
        for problem in report.problems:
            print(f"       {problem}")
        failed |= bool(report.problems)
    return failed


def _print_summary(
    reports: list[PageReport], all_links: set[str], problems: list[str], math_loaded: bool
) -> None:
    external = sorted({e for r in reports for e in r.external_failures})
    print(f"\n{len(reports)} pages, {len(all_links)} distinct same-site links checked")
    for problem in problems:
        print(f"FAIL {problem}")
    if external:
        print("failed requests to other hosts (expected offline, not counted as failures):")
        for entry in external:
            print(f"       {entry}")
    if not math_loaded:
        print("MathJax did not load (CDN unreachable?): formulas show as TeX; see --mathjax-dir")


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    if shutil.which(args.chromium) is None:
        print(f"{args.chromium!r} not found: apt-get install -y chromium", file=sys.stderr)
        return 2
    site = args.site_dir or Path(tempfile.mkdtemp(prefix="site-"))
    if not args.no_build and not _build_site(site):
        return 1
    args.screenshots.mkdir(parents=True, exist_ok=True)
    pages = sorted(p.parent.relative_to(site).as_posix() for p in site.rglob("index.html"))
    server, base = serve(site)
    reports: list[PageReport] = []
    all_links: set[str] = set()
    math_loaded = False
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        browser = Chromium(args.chromium, profile, args.mathjax_dir)
        try:
            for page in pages:
                report, links, loaded = _check_page(browser, base, page, args)
                reports.append(report)
                all_links |= links
                math_loaded |= loaded
            search_problems = check_search(browser, base, site)
            link_problems = check_links(all_links, base)
        finally:
            browser.close()
            server.shutdown()
    failed = _print_reports(reports)
    _print_summary(reports, all_links, link_problems + search_problems, math_loaded)
    print(f"screenshots in {args.screenshots}")
    return 1 if failed or link_problems or search_problems else 0


if __name__ == "__main__":
    sys.exit(main())
