"""Fixtures of the browser tests: Debian's Chromium driven by Playwright, and a live server.

Playwright never downloads a browser here: it launches the system's ``chromium``
(``apt-get install chromium``). Without it the browser tests are skipped, with the reason,
except under CI (``CI=true``), where a missing browser fails them.

``serve(...)`` starts a real uvicorn server of ``create_app(runtime)`` on a free loopback port,
in a thread, with a SQLite store in the test's temporary folder; ``live_server`` is one such
server for the Cloudwarm example, given as its base URL. ``serve(..., run_jobs=True)`` runs the
server's lifespan and with it the in-process job runner, as ``pledge serve`` does.

``mailbox`` is a real SMTP server (aiosmtpd) on loopback for a server to send its mail to;
``screenshots`` saves pictures of a journey's steps under the test run's temporary folder.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from aiosmtpd.controller import Controller
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from starlette.staticfiles import StaticFiles
from tests.cloudwarm import declaration_at, load_example
from tests.integration.test_mail import Inbox, free_port

from pledge.app import Runtime, build_runtime
from pledge.config import Settings
from pledge.declaration import load, loads
from pledge.web.app import create_app

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CLOUDWARM = ROOT / "examples" / "cloudwarm" / "pledge.yaml"
CHROMIUM_PATHS = ("/usr/bin/chromium",)
# Nothing but the pages under test: no updates, sync or first-run traffic to Google's servers.
CHROMIUM_ARGS = (
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
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
        yield playwright.chromium.launch(executable_path=executable, args=list(CHROMIUM_ARGS))
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

    ``serve(declaration=CLOUDWARM, mounts={"/demo": folder}, run_jobs=False, **settings)``:
    the declaration is a path or YAML text; ``mounts`` serves folders of static files (a demo
    site); ``run_jobs`` runs approved requests in the server's job runner; the settings
    override the defaults (the loopback origins of the server are allowed).
    """
    started: list[tuple[_Server, threading.Thread, socket.socket, Runtime]] = []

    def start(
        declaration: Path | str = CLOUDWARM,
        *,
        mounts: Mapping[str, Path] | None = None,
        run_jobs: bool = False,
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
        app = create_app(runtime, run_jobs=run_jobs)
        for path, directory in (mounts or {}).items():
            app.mount(path, StaticFiles(directory=directory, html=True))
        server = _Server(
            uvicorn.Config(
                app,
                log_level="warning",
                lifespan="on" if run_jobs else "off",  # the lifespan starts the job runner
                ws="none",
                access_log=False,
            )
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


class Mailbox(Inbox):
    """What a real SMTP server on loopback received; a test waits for the mail it expects."""

    def __init__(self, port: int) -> None:
        super().__init__()
        self.port = port
        self._arrived = threading.Condition()
        self._taken: set[int] = set()  # the messages a test has read

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        """Keep the message and wake whoever waits for one (aiosmtpd's hook)."""
        answer = await super().handle_DATA(server, session, envelope)
        with self._arrived:
            self._arrived.notify_all()
        return answer

    def take(self, to: str, subject: str) -> EmailMessage:
        """The oldest mail to ``to`` whose subject contains ``subject`` not taken before; waits
        for it to arrive.

        Raises:
            AssertionError: none arrived within the test's action timeout.
        """

        def found() -> EmailMessage | None:
            return next(
                (
                    message
                    for message in self.messages
                    if id(message) not in self._taken
                    and message["To"] == to
                    and subject in str(message["Subject"])
                ),
                None,
            )

        with self._arrived:
            arrived = self._arrived.wait_for(found, timeout=ACTION_TIMEOUT / 1000)
        assert arrived is not None, f"no mail {subject!r} to {to} among {self.subjects()}"
        self._taken.add(id(arrived))
        return arrived

    def subjects(self) -> list[str]:
        """The subject lines received so far."""
        return [str(message["Subject"]) for message in self.messages]


def text_of(message: EmailMessage) -> str:
    """The text part of a mail, with the line ends Python writes."""
    text = message.get_body(("plain",))
    assert text is not None
    content: str = text.get_content()
    return content.replace("\r\n", "\n")


def code_in(message: EmailMessage) -> str:
    """The six-digit code of a sign-in or verification mail (an indented line of the text)."""
    found = re.search(r"^    (\d{6})$", text_of(message), re.MULTILINE)
    assert found is not None, text_of(message)
    return found[1]


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server (aiosmtpd) on a free loopback port; ``mailbox.port`` is its port.

    A server sends to it with ``serve(..., **smtp_settings(mailbox))``.
    """
    box = Mailbox(free_port())
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


def smtp_settings(box: Mailbox) -> dict[str, Any]:
    """The settings that send a server's mail to ``box`` (plain SMTP on loopback)."""
    return {
        "smtp_host": "127.0.0.1",
        "smtp_port": box.port,
        "smtp_starttls": False,
        "mail_from": "privacy@cloudwarm.example",
    }


class Screenshots:
    """Numbered screenshots of one journey's steps, in one folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.taken: list[Path] = []

    def take(self, page: Page, step: str) -> Path:
        """Save the whole page as ``NN-step.png``; its path."""
        path = self.folder / f"{len(self.taken) + 1:02d}-{step}.png"
        page.screenshot(path=path, full_page=True)
        assert path.stat().st_size > 0, path
        self.taken.append(path)
        return path


@pytest.fixture
def screenshots(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Screenshots:
    """Where a journey saves its screenshots: ``screenshots/TEST_NAME/`` in pytest's base
    temporary folder of the run (``--basetemp``; pytest keeps the last three runs' folders)."""
    folder = tmp_path_factory.getbasetemp() / "screenshots" / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    return Screenshots(folder)


# Cloudwarm's declaration asks consent for none of its purposes (the seed policy names no legal
# basis); these edits make two of them consent purposes, as the demo's next version does.
CONSENT_EDITS = (
    (
        "  analytics:\n    description:",
        "  analytics:\n    legal_basis: consent\n    retention: P13M\n    description:",
    ),
    (
        "  joint_services:\n    label: Services offered with partners\n",
        "  joint_services:\n    label: Services offered with partners\n"
        "    legal_basis: consent\n    retention: P1Y after consent_withdrawn\n",
    ),
)


@dataclass(frozen=True)
class Company:
    """A live Pledge for Cloudwarm, carrying requests out in Cloudwarm's own database.

    ``server`` runs its job runner and sends its mail to ``mailbox``; ``datastore`` is the
    SQLite file of Cloudwarm's app database (``examples/cloudwarm/schema``, seeded), which a
    test reads with its own SQL.
    """

    server: LiveServer
    mailbox: Mailbox
    datastore: Path

    def query(self, sql: str, *parameters: Any) -> list[tuple[Any, ...]]:
        """Rows of ``sql`` on the app database, read over a connection of the test's own."""
        connection = sqlite3.connect(self.datastore)
        try:
            return connection.execute(sql, parameters).fetchall()
        finally:
            connection.close()


@pytest.fixture
def cloudwarm(serve: Serve, mailbox: Mailbox, tmp_path: Path) -> Company:
    """Pledge serving Cloudwarm with its job runner, its app database and a real SMTP server."""
    datastore = tmp_path / "cloudwarm-app.db"
    load_example(f"sqlite:///{datastore}")
    declaration = declaration_at(f"sqlite:///{datastore}", *CONSENT_EDITS)
    server = serve(declaration, run_jobs=True, **smtp_settings(mailbox))
    return Company(server, mailbox, datastore)
