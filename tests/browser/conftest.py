"""Fixtures of the browser tests: Debian's Chromium driven by Playwright, and a live server.

Playwright never downloads a browser here: it launches the system's ``chromium``
(``apt-get install chromium``). Without it the browser tests are skipped, with the reason,
except under CI (``CI=true``), where a missing browser fails them.

``serve(...)`` starts a real uvicorn server of ``create_app(runtime)`` on a free loopback port,
in a thread, with a SQLite store in the test's temporary folder; ``live_server`` is one such
server for the Cloudwarm example, given as its base URL.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from starlette.staticfiles import StaticFiles

from pledge.app import Runtime, build_runtime
from pledge.config import Settings
from pledge.declaration import load, loads
from pledge.web.app import create_app

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CLOUDWARM = ROOT / "examples" / "cloudwarm" / "pledge.yaml"
CHROMIUM_PATHS = ("/usr/bin/chromium",)
START_TIMEOUT = 10.0  # seconds for a server to start listening
ACTION_TIMEOUT = 10_000  # milliseconds for a page to do what a test waits for


def find_chromium() -> str | None:
    """The path of Debian's Chromium, or None when it is not installed."""
    found = shutil.which("chromium")
    if found:
        return found
    return next((path for path in CHROMIUM_PATHS if os.access(path, os.X_OK)), None)


_running: list[Playwright] = []


def _stop_playwright() -> None:
    while _running:
        _running.pop().stop()  # closes the browser too


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Chromium, launched once for the session (skipped without it; failed under CI).

    It is closed as soon as the last browser test has run (see ``pytest_runtest_teardown``),
    so the browser tests must run one after the other, as pytest orders them.
    """
    executable = find_chromium()
    if executable is None:
        reason = "Chromium is not installed (Debian: apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; the browser tests must run under CI")
        pytest.skip(reason)
    playwright = sync_playwright().start()
    _running.append(playwright)
    try:
        yield playwright.chromium.launch(executable_path=executable)
    finally:
        _stop_playwright()


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Stop Playwright after the last browser test, once that test's fixtures are gone.

    Playwright's synchronous API keeps its event loop running in the main thread between
    calls; the tests that follow must be free to run their own (``asyncio.run``).
    """
    if nextitem is None or HERE not in nextitem.path.parents:
        _stop_playwright()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile: no cookies, no storage."""
    opened = browser.new_context()
    opened.set_default_timeout(ACTION_TIMEOUT)
    yield opened
    opened.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    """A page in a fresh profile."""
    return context.new_page()


@dataclass(frozen=True)
class LiveServer:
    """A running server: ``url`` is ``http://127.0.0.1:PORT``; ``runtime`` is what it serves."""

    url: str
    port: int
    runtime: Runtime

    def at(self, host: str) -> str:
        """The base URL under another name of the loopback host (``localhost``)."""
        return f"http://{host}:{self.port}"


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:
        """A server in a thread leaves the process's signals alone."""


def _free_socket() -> socket.socket:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    return listener


Serve = Callable[..., LiveServer]


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    """Start live servers; each is stopped, and its runtime closed, after the test.

    ``serve(declaration=CLOUDWARM, mounts={"/demo": folder}, **settings)``: the declaration
    is a path or YAML text; ``mounts`` serves folders of static files (a demo site); the
    settings override the defaults (the loopback origins of the server are allowed).
    """
    started: list[tuple[_Server, threading.Thread, socket.socket, Runtime]] = []

    def start(
        declaration: Path | str = CLOUDWARM,
        *,
        mounts: Mapping[str, Path] | None = None,
        **settings: Any,
    ) -> LiveServer:
        listener = _free_socket()
        port = listener.getsockname()[1]
        folder = tmp_path / f"server-{port}"
        folder.mkdir()
        parsed = load(declaration) if isinstance(declaration, Path) else loads(declaration)
        options: dict[str, Any] = {
            "database_url": f"sqlite:///{folder / 'pledge.db'}",
            "secret_key": secrets.token_bytes(32),
            "allowed_origins": (f"http://127.0.0.1:{port}", f"http://localhost:{port}"),
            "decision_cache_seconds": 0,
            **settings,
        }
        runtime = build_runtime(Settings(**options), declaration=parsed, upgrade=True)
        app = create_app(runtime)
        for path, directory in (mounts or {}).items():
            app.mount(path, StaticFiles(directory=directory, html=True))
        server = _Server(
            uvicorn.Config(app, log_level="warning", lifespan="off", ws="none", access_log=False)
        )
        thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
        thread.start()
        started.append((server, thread, listener, runtime))
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the live server did not start")
            time.sleep(0.01)
        return LiveServer(url=f"http://127.0.0.1:{port}", port=port, runtime=runtime)

    yield start
    for server, thread, listener, runtime in reversed(started):
        server.should_exit = True
        thread.join(timeout=START_TIMEOUT)
        listener.close()
        runtime.close()


@pytest.fixture
def live_server(serve: Serve) -> str:
    """The base URL of a live server of the Cloudwarm example."""
    return serve().url
