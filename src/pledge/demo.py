"""``make demo``: the running product on the Cloudwarm example, with nothing to install.

It builds, under ``.pledge/demo/`` (made afresh each time):

- Cloudwarm's app database (``examples/cloudwarm/schema``: schema.sql and seed.py) as a SQLite
  file: the company's own datastore, which Pledge searches, exports and erases in;
- Pledge's own store (embedded SQLite) with two policy versions: the seed policy as published,
  and the next version, in which Cloudwarm fills the gaps the linter finds (a legal basis and a
  retention period for every purpose), so the privacy center shows what changed;
- people with consents over the last twelve weeks, and requests in several states (awaiting
  the code, verified, overdue, extended, denied, carried out);
- a demo admin with a fresh random password;

then serves the API, the privacy center and the admin console on 127.0.0.1 and prints where,
and beside them, on the next port, the cookie banner's demo shop (``examples/banner/``, a
declaration of its own: Cloudwarm's policy names no cookies). Nothing of it is needed by the
tests.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import re
import secrets
import shutil
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

from rich.console import Console

from pledge.app import Runtime, build_runtime
from pledge.config import Settings
from pledge.declaration import Declaration, loads
from pledge.declaration.lint import lint
from pledge.notify.policies import PolicyVersions
from pledge.staff.service import StaffAccounts
from pledge.subjects.model import Identity

EXAMPLE = Path("examples/cloudwarm")
BANNER_SHOP = Path("examples/banner")
STATE = Path(".pledge/demo")
HOST = "127.0.0.1"
PEOPLE = 12
ADMIN_EMAIL = "admin@cloudwarm.example"

# The next version of the policy: what Cloudwarm would declare once the gaps are filled.
NEXT_VERSION = {
    "analytics": "consent",
    "audience_measurement": "consent",
    "outside_temperature": "contract",
    "better_service": "legitimate_interests",
    "joint_services": "consent",
}
RETENTION = {
    "analytics": "P13M",
    "audience_measurement": "P13M",
    "outside_temperature": "P30D after account_closed",
    "better_service": "P1Y",
    "joint_services": "P1Y after consent_withdrawn",
}


class DemoClock:
    """The time source of the seeding: moved back and forth to make a history."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


def _seed_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cloudwarm_seed", EXAMPLE / "schema" / "seed.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def company_database(folder: Path) -> tuple[str, list[str]]:
    """Cloudwarm's app database as a SQLite file; its URL and the people's addresses."""
    from sqlalchemy import create_engine, text

    seed = _seed_module()
    url = f"sqlite:///{(folder / 'cloudwarm-app.db').resolve()}"
    engine = create_engine(url)
    try:
        seed.create_schema(engine)
        seed.seed(engine, PEOPLE)
        with engine.connect() as connection:
            emails = [row[0] for row in connection.execute(text("SELECT email FROM users"))]
    finally:
        engine.dispose()
    return url, emails


def declarations(datastore_url: str) -> tuple[Declaration, Declaration]:
    """The published seed policy and the next version, both pointing at the demo datastore."""
    source = (EXAMPLE / "pledge.yaml").read_text(encoding="utf-8")
    source = re.sub(r"(?m)^    url: .*$", f"    url: {datastore_url}", source)
    published = loads(source, str(EXAMPLE / "pledge.yaml"))
    revised = source.replace('version: "2026-11-22"', 'version: "2026-12-01"').replace(
        "effective_date: 2026-11-22", "effective_date: 2026-12-01"
    )
    for purpose, basis in NEXT_VERSION.items():
        head = re.search(rf"(?m)^  {purpose}:\n", revised)
        assert head is not None, purpose
        extra = f"    legal_basis: {basis}\n    retention: {RETENTION[purpose]}\n"
        if basis == "legitimate_interests":
            extra += (
                "    legitimate_interest: Answering the user's calls about their heating.\n"
                "    interest_assessment: LIA-2026-01\n"
            )
        revised = revised[: head.end()] + extra + revised[head.end() :]
    return published, loads(revised, "pledge.yaml (next version)")


def seed_history(runtime: Runtime, clock: DemoClock, emails: list[str]) -> None:
    """People, their consents over twelve weeks, and requests in several states."""
    start = clock.now
    consent = [key for key, basis in NEXT_VERSION.items() if basis == "consent"]
    people = []
    for index, email in enumerate(emails):
        clock.now = start - dt.timedelta(days=84 - index * 6)
        subject = runtime.subjects.find_or_create(Identity.parse("email", email), actor="demo")
        people.append(subject)
        for number, purpose in enumerate(consent):
            if (index + number) % 3 != 2:
                runtime.ledger.grant(subject, purpose, channel="form", actor="demo")
            else:
                runtime.ledger.refuse(subject, purpose, channel="banner", actor="demo")
        if index % 4 == 1:
            clock.now += dt.timedelta(days=20)
            runtime.ledger.withdraw(subject, consent[0], channel="form", actor="demo")
    requests = runtime.requests
    # An overdue access request, received 40 days ago and never verified.
    clock.now = start - dt.timedelta(days=40)
    requests.submit("access", Identity.parse("email", emails[0]), actor="demo")
    # A verified access request, due soon, waiting for approval.
    clock.now = start - dt.timedelta(days=26)
    waiting = requests.submit(
        "access",
        Identity.parse("email", emails[1]),
        on_behalf_of_staff="Demo",
        skip_verification_reason="Identified by phone with the account number.",
    )
    # An erasure extended with its reason.
    clock.now = start - dt.timedelta(days=12)
    erasure = requests.submit(
        "erasure",
        Identity.parse("email", emails[2]),
        on_behalf_of_staff="Demo",
        skip_verification_reason="Asked in person at the service desk.",
    )
    requests.extend(
        erasure.id, "Three systems hold data to search first.", by=1, actor="staff:Demo"
    )
    # A denied portability request.
    clock.now = start - dt.timedelta(days=8)
    denied = requests.submit("portability", Identity.parse("email", emails[3]), actor="demo")
    requests.deny(
        denied.id,
        "We could not confirm the request came from the account holder.",
        ground="identity_not_verified",
        actor="staff:Demo",
    )
    # A restriction carried out at once, and a fresh request awaiting its code.
    clock.now = start - dt.timedelta(days=3)
    requests.submit(
        "restriction",
        Identity.parse("email", emails[4]),
        on_behalf_of_staff="Demo",
        skip_verification_reason="Asked by registered letter.",
    )
    clock.now = start - dt.timedelta(hours=5)
    requests.submit("erasure", Identity.parse("email", emails[5]), actor="demo")
    # An access request carried out against the datastore, with its report.
    clock.now = start - dt.timedelta(days=2)
    done = requests.submit(
        "access",
        Identity.parse("email", emails[6]),
        on_behalf_of_staff="Demo",
        skip_verification_reason="Identified by video call.",
    )
    runtime.execution.approve(done.id, actor="staff:Demo")
    runtime.execution.run_now(done.id, owner="demo")
    clock.now = start
    del waiting


def banner_shop(port: int, folder: Path, shop: Path = BANNER_SHOP) -> Any:
    """The cookie banner's demo shop as an ASGI app to serve on ``port``.

    Pledge with the shop's declaration (``shop/pledge.yaml``) and its consent ledger in
    ``folder``, and the shop's pages under ``/demo/``.
    """
    from starlette.staticfiles import StaticFiles

    from pledge.web.app import create_app

    settings = Settings(
        declaration=shop / "pledge.yaml",
        database_url=f"sqlite:///{folder / 'banner-shop.db'}",
        secret_key=secrets.token_bytes(32),
        allowed_origins=(f"http://{HOST}:{port}", f"http://localhost:{port}"),
    )
    app = create_app(build_runtime(settings, upgrade=True), close_runtime=True)
    app.mount("/demo", StaticFiles(directory=shop, html=True), name="demo")
    return app


def _serve_in_background(app: Any, port: int) -> None:
    """Serve ``app`` on ``port`` from a daemon thread, gone with the process."""
    import uvicorn

    class Background(uvicorn.Server):
        def install_signal_handlers(self) -> None:
            """The main server handles Ctrl+C; this one ends with the process."""

    server = Background(uvicorn.Config(app, host=HOST, port=port, log_level="warning"))
    threading.Thread(target=server.run, name="banner-shop", daemon=True).start()


def main(port: int | None = None) -> None:
    """Build the demo, print where it is and how to sign in, and serve it until stopped."""
    import uvicorn

    from pledge.web.app import create_app

    console = Console(highlight=False, soft_wrap=True)
    port = port or int(os.environ.get("PLEDGE_DEMO_PORT", "8000"))
    shutil.rmtree(STATE, ignore_errors=True)
    STATE.mkdir(parents=True)
    datastore_url, emails = company_database(STATE)
    published, current = declarations(datastore_url)
    settings = Settings(
        database_url=f"sqlite:///{STATE / 'pledge.db'}",
        secret_key=secrets.token_bytes(32),
        public_url=f"http://{HOST}:{port}",
        decision_cache_seconds=0,
    )
    clock = DemoClock()
    seeding = build_runtime(settings, declaration=current, upgrade=True, clock=clock)
    try:
        versions = PolicyVersions(seeding.database, clock=clock)
        clock.now -= dt.timedelta(days=90)
        versions.record(published)
        clock.now += dt.timedelta(days=80)
        versions.record(current)
        clock.now = dt.datetime.now(dt.UTC)
        seed_history(seeding, clock, emails)
        password = secrets.token_urlsafe(12)
        StaffAccounts(seeding.database).create(
            ADMIN_EMAIL, "Demo Admin", "admin", password, actor="demo"
        )
    finally:
        seeding.close()
    runtime = build_runtime(settings, declaration=current)
    base = f"http://{HOST}:{port}"
    console.print(
        f"[bold]{current.controller.name}[/bold] on Pledge, policy {current.policy.version}"
    )
    console.print(
        f"  {len(lint(published))} lint findings in the published policy,"
        f" {len(lint(current))} in the next version"
    )
    console.print(
        f"  Privacy center  {base}/privacy   (sign in as {emails[7]}; the code is in the outbox)"
    )
    console.print(f"  Admin console   {base}/admin     login {ADMIN_EMAIL} / {password}")
    console.print(f"  API             {base}/api/v1/docs")
    console.print(f"  Demo datastore  {STATE / 'cloudwarm-app.db'}")
    _serve_in_background(banner_shop(port + 1, STATE), port + 1)
    console.print(
        f"  Cookie banner   http://{HOST}:{port + 1}/demo/   (a demo shop; Ctrl+C stops the demo)"
    )
    try:
        uvicorn.run(create_app(runtime, run_jobs=True), host=HOST, port=port, log_level="warning")
    finally:
        runtime.close()


if __name__ == "__main__":
    main()
