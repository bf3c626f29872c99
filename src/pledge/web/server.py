"""Serving the API from several processes: ``pledge serve --workers N``.

uvicorn's supervisor binds one listening socket and hands it to every worker process, which
builds its own runtime with :func:`pledge.web.app.create_app_from_environment`.
"""

from __future__ import annotations

import socket

import uvicorn
from uvicorn.supervisors import Multiprocess


class TcpConfig(uvicorn.Config):
    """uvicorn's settings, with a listening socket that keeps Nagle's algorithm off.

    uvicorn binds the shared socket without ``IPPROTO_TCP``; accepted connections inherit
    that, and asyncio then leaves ``TCP_NODELAY`` unset, so each keep-alive response waits
    about 40 ms for the client's delayed ACK (Kludex/uvicorn#3149). This binds the same
    socket and marks it as TCP.
    """

    def bind_socket(self) -> socket.socket:
        """The listening socket, marked as TCP so that connections get ``TCP_NODELAY``."""
        bound = super().bind_socket()
        if bound.family not in (socket.AF_INET, socket.AF_INET6):
            return bound
        marked = socket.socket(bound.family, bound.type, socket.IPPROTO_TCP, bound.detach())
        marked.set_inheritable(True)
        return marked


def serve_workers(host: str, port: int, workers: int) -> None:
    """Run ``workers`` server processes on ``host:port`` until stopped.

    Each builds its runtime from the ``PLEDGE_*`` environment and closes it when it stops.

    Args:
        host: the address to listen on.
        port: the port to listen on.
        workers: how many processes.
    """
    config = TcpConfig(
        "pledge.web.app:create_app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
    )
    Multiprocess(config, sockets=[config.bind_socket()]).run()
