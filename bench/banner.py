"""Benchmark: the cookie banner's size, and the time from loading its script to seeing it.

A live Pledge (``examples/banner/serve.py`` in its own process: the banner demo's
declaration, SQLite) serves ``/banner.js`` and the demo shop page; Debian's Chromium, driven by
Playwright, loads the page in a fresh profile ``LOADS`` times (after one warm-up load). Per
load, from Resource Timing and the banner's own performance mark:

- from the moment the browser starts fetching ``/banner.js`` to the banner in the page (the
  mark ``pledge:banner-visible``, set once the dialog is inserted), and to the first animation
  frame that shows it;
- from the script's arrival (``responseEnd``) to the banner in the page: the script's own work.

Goals: under 15 KB gzipped; median from fetch start to the first frame under 100 ms.
"""

from __future__ import annotations

import gzip
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import sync_playwright
from rich.progress import track

from harness import Result
from pledge.declaration import load
from pledge.web.banner import build_script

DEMO = Path(__file__).resolve().parents[1] / "examples" / "banner"
LOADS = 30
GZIP_GOAL = 15 * 1024
VISIBLE_GOAL_MS = 100.0
FIRST_FRAME = """
new MutationObserver((changes, observer) => {
  if (!document.getElementById("pledge-banner")) return;
  observer.disconnect();
  requestAnimationFrame(() => { window.bannerFrame = performance.now(); });
}).observe(document, {childList: true, subtree: true});
"""
TIMINGS = """() => {
  const script = performance.getEntriesByType("resource")
    .find((entry) => entry.name.endsWith("/banner.js"));
  const shown = performance.getEntriesByName("pledge:banner-visible")[0];
  return [script.startTime, script.responseEnd, shown.startTime, window.bannerFrame];
}"""


@contextmanager
def demo_server() -> Iterator[str]:
    """The banner demo (``examples/banner/serve.py``) in a process of its own on a free
    loopback port, so that the server does not share a core's time with the browser's driver;
    yields the demo page's URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, str(DEMO / "serve.py"), "--port", str(port)], stdout=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the banner demo server did not start") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/demo/index.html"
    finally:
        server.terminate()
        server.wait(timeout=30)


def load_times(url: str, chromium: str, loads: int) -> list[tuple[float, float, float]]:
    """Per load, in ms: fetch start → banner in the page, → first frame; arrival → in page."""
    found = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        for number in track(range(loads + 1), description="page loads", transient=True):
            context = browser.new_context()
            context.add_init_script(FIRST_FRAME)
            page = context.new_page()
            page.goto(url)
            page.get_by_role("dialog").wait_for()
            page.wait_for_function("() => window.bannerFrame !== undefined")
            start, arrived, shown, frame = page.evaluate(TIMINGS)
            context.close()
            if number:  # the first load warms the server and the browser up
                found.append((shown - start, frame - start, shown - arrived))
        browser.close()
    return found


def measure(loads: int = LOADS) -> Result:
    """Build the demo's script, then time ``loads`` page loads in Chromium."""
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("the banner benchmark needs Debian's chromium: apt-get install chromium")
    with demo_server() as url:
        times = load_times(url, chromium, loads)
    script = build_script(load(DEMO / "pledge.yaml"))
    packed = len(gzip.compress(script.body, 9))

    def median(index: int) -> float:
        return statistics.median(sample[index] for sample in times)

    def p95(index: int) -> float:
        return statistics.quantiles([sample[index] for sample in times], n=20)[-1]

    return Result(
        title="Cookie banner: size and time to visible",
        setup=(
            f"`/banner.js` for the banner demo (`examples/banner`, 5 cookies, English and German);"
            f" Chromium {_version(chromium)} headless via Playwright, {loads} loads of the demo"
            " page from a live `pledge` app on loopback, each in a fresh profile."
        ),
        columns=("measure", "median", "p95"),
        rows=[
            ("`/banner.js` gzipped (goal < 15 KB)", f"{packed / 1024:.1f} KB", ""),
            ("`/banner.js` uncompressed", f"{len(script.body) / 1024:.1f} KB", ""),
            ("script fetch start → banner in the page", f"{median(0):.1f} ms", f"{p95(0):.1f} ms"),
            (
                "script fetch start → first frame with the banner (goal < 100 ms)",
                f"{median(1):.1f} ms",
                f"{p95(1):.1f} ms",
            ),
            ("script arrived → banner in the page", f"{median(2):.1f} ms", f"{p95(2):.1f} ms"),
        ],
        goal_met=packed < GZIP_GOAL and median(1) < VISIBLE_GOAL_MS,
    )


def _version(chromium: str) -> str:
    output = subprocess.run([chromium, "--version"], capture_output=True, text=True).stdout
    words = [word for word in output.split() if word[:1].isdigit()]
    return words[0] if words else "(unknown version)"


if __name__ == "__main__":
    for line in measure(int(sys.argv[1]) if len(sys.argv) > 1 else LOADS).markdown():
        print(line)
