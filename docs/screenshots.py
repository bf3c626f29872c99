"""Take the README's screenshots of the demo: the privacy center and the admin console.

Usage (from the repository root, with Chromium installed, e.g. Debian's ``chromium``)::

    .venv/bin/python docs/screenshots.py [--chromium /usr/bin/chromium]

Starts ``python -m pledge.demo`` on a free port, signs in as the demo admin and as one of the
demo people (with the code from the outbox), and writes ``docs/img/*.png``.
"""

from __future__ import annotations

import argparse
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

OUTPUT = Path(__file__).with_name("img")


def free_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def start_demo(port: int) -> tuple[subprocess.Popen[str], str, str]:
    """The demo process, the admin password and a demo person's address, once it serves."""
    process = subprocess.Popen(
        [sys.executable, "-m", "pledge.demo"],
        env={"PLEDGE_DEMO_PORT": str(port), "PATH": "/usr/bin:/bin"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    password = person = ""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (password and person):
        line = process.stdout.readline()
        if found := re.search(r"login \S+ / (\S+)", line):
            password = found[1]
        if found := re.search(r"sign in as (\S+);", line):
            person = found[1]
    if not (password and person):
        process.kill()
        raise SystemExit("the demo did not start")
    for _ in range(100):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    return process, password, person


def shoot(page: Page, name: str) -> None:
    """Save the page as docs/img/NAME.png."""
    page.screenshot(path=str(OUTPUT / f"{name}.png"), full_page=False)


def main() -> None:
    """Take the screenshots."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    arguments = parser.parse_args()
    OUTPUT.mkdir(exist_ok=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process, password, person = start_demo(port)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=arguments.chromium)
            staff = browser.new_page(viewport={"width": 1280, "height": 800})
            staff.goto(f"{base}/admin/login")
            staff.get_by_label("E-mail address").fill("admin@cloudwarm.example")
            staff.get_by_label("Password").fill(password)
            staff.get_by_role("button", name="Sign in").click()
            staff.wait_for_url(f"{base}/admin")
            shoot(staff, "admin-queue")
            staff.goto(f"{base}/admin/datamap")
            shoot(staff, "admin-datamap")
            visitor = browser.new_page(viewport={"width": 1280, "height": 800})
            visitor.goto(f"{base}/privacy/sign-in")
            visitor.get_by_label("E-mail address").fill(person)
            visitor.get_by_role("button", name="Send me a code").click()
            staff.goto(f"{base}/admin/outbox")
            text = staff.locator("li.mail pre").first.text_content() or ""
            code = re.search(r"^\s+(\d{6})\s*$", text, re.MULTILINE)
            assert code is not None, text
            visitor.get_by_label("Code").fill(code[1])
            visitor.get_by_role("button", name="Sign in").click()
            visitor.wait_for_url(f"{base}/privacy/account")
            shoot(visitor, "privacy-center")
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":
    main()
