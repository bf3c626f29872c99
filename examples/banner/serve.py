"""Serve the cookie banner demo: Pledge with this folder's pledge.yaml, and the demo shop page.

    .venv/bin/python examples/banner/serve.py [--port 8000]      (or: make demo-banner)

Open http://127.0.0.1:8000/demo/ and choose; the choices go to the consent ledger in a
SQLite file of a temporary folder, gone when the server stops. ``make demo`` serves the same
shop beside the Cloudwarm product, on the port after the product's.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import uvicorn

from pledge.demo import HOST, banner_shop

HERE = Path(__file__).resolve().parent


def main() -> None:
    """Start the demo server until Ctrl+C."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8000)
    port = parser.parse_args().port
    with tempfile.TemporaryDirectory() as folder:
        app = banner_shop(port, Path(folder), HERE)
        print(f"The demo shop: http://{HOST}:{port}/demo/  (Ctrl+C stops it)")
        uvicorn.run(app, host=HOST, port=port, log_level="warning")


if __name__ == "__main__":
    main()
