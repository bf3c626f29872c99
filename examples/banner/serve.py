"""Serve the cookie banner demo: Pledge with this folder's pledge.yaml, and the demo shop page.

    .venv/bin/python examples/banner/serve.py [--port 8000]      (or: make demo-banner)

Open http://127.0.0.1:8000/demo/ and choose; the choices go to the consent ledger in a
SQLite file of a temporary folder, gone when the server stops.
"""

from __future__ import annotations

import argparse
import secrets
import tempfile
from pathlib import Path

import uvicorn
from starlette.staticfiles import StaticFiles

from pledge.app import build_runtime
from pledge.config import Settings
from pledge.web.app import create_app

HERE = Path(__file__).resolve().parent


def main() -> None:
    """Start the demo server until Ctrl+C."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8000)
    port = parser.parse_args().port
    origins = (f"http://127.0.0.1:{port}", f"http://localhost:{port}")
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            declaration=HERE / "pledge.yaml",
            database_url=f"sqlite:///{Path(folder) / 'pledge.db'}",
            secret_key=secrets.token_bytes(32),
            allowed_origins=origins,
        )
        app = create_app(build_runtime(settings, upgrade=True), close_runtime=True)
        app.mount("/demo", StaticFiles(directory=HERE, html=True), name="demo")
        print(f"The demo shop: {origins[0]}/demo/  (Ctrl+C stops it)")
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
