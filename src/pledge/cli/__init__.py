"""The ``pledge`` command: parse arguments, call a service, print. Nothing else lives here.

One module per command group (``declaration``, ``store``, ``datastores``, ``requests``,
``admin``), all registered on the one Typer app of ``common``. Exit codes: 0 success, 1
findings or material changes, 2 usage errors (Click's convention).
"""

from __future__ import annotations  # noqa: I001 (the groups in the order `--help` lists them)

from pledge.cli import declaration, store, requests, datastores, admin
from pledge.cli.common import app, findings_summary

__all__ = [
    "admin",
    "app",
    "datastores",
    "declaration",
    "findings_summary",
    "main",
    "requests",
    "store",
]


def main() -> None:
    """Entry point of the ``pledge`` console script."""
    app()
