"""Serving the API from several processes: ``pledge serve --workers N``.

Each worker process builds its own runtime with
:func:`pledge.web.app.create_app_from_environment`. Two choices make the workers fast:

- The event loop is uvloop and the HTTP parser httptools, both in C: asyncio's loop and h11
  cost several times their CPU per request. Where they are not installed the server falls
  back to asyncio and h11, and says so.
- Each worker listens on a socket of its own, bound to the same port with ``SO_REUSEPORT``,
  so that the kernel spreads connections across the workers. On one socket shared by all
  (what uvicorn does), whichever worker wakes first accepts every connection waiting: 32
  keep-alive connections opened at once went 32/0, 31/1 and 11/21 to two workers, and one
  process, bound to one core by the GIL, served nearly all the load. Where ``SO_REUSEPORT``
  is missing the workers share one socket.

A worker that dies is replaced on the same socket: connections that arrive meanwhile wait
in that socket's queue for the new process instead of being refused.
"""

from __future__ import annotations

import importlib.util
import logging
import socket

import uvicorn
from uvicorn.supervisors.multiprocess import Multiprocess, Process

logger = logging.getLogger("uvicorn.error")


def event_loop() -> str:
    """uvicorn's event loop: ``uvloop`` when installed, else ``asyncio``."""
    return "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"


def http_protocol() -> str:
    """uvicorn's HTTP implementation: ``httptools`` when installed, else ``h11``."""
    return "httptools" if importlib.util.find_spec("httptools") else "h11"


class TcpConfig(uvicorn.Config):
    """uvicorn's settings, with listening sockets that keep Nagle's algorithm off.

    uvicorn binds its socket without ``IPPROTO_TCP``; accepted connections inherit that, and
    asyncio then leaves ``TCP_NODELAY`` unset, so each keep-alive response waits about 40 ms
    for the client's delayed ACK (Kludex/uvicorn#3149). These sockets are marked as TCP.
    """

    def bind_socket(self) -> socket.socket:
        """One listening socket for every worker, marked as TCP (``TCP_NODELAY``)."""
        bound = super().bind_socket()
        if bound.family not in (socket.AF_INET, socket.AF_INET6):
            return bound
        marked = socket.socket(bound.family, bound.type, socket.IPPROTO_TCP, bound.detach())
        marked.set_inheritable(True)
        return marked

    def bind_worker_sockets(self, count: int) -> list[socket.socket]:
        """``count`` listening sockets on one port, one per worker (``SO_REUSEPORT``).

        The port is first bound without ``SO_REUSEPORT``, so that a port another server
        already listens on is refused as it would be without it, not silently shared.

        Raises:
            OSError: the port cannot be bound, or ``SO_REUSEPORT`` is not available.
        """
        probe = self._socket()
        try:
            probe.bind((self.host, self.port))
            self.port = probe.getsockname()[1]  # port 0: the free port chosen for all
        finally:
            probe.close()
        bound: list[socket.socket] = []
        try:
            for _ in range(count):
                bound.append(self.bind_worker_socket())
        except OSError:
            for sock in bound:
                sock.close()
            raise
        return bound

    def bind_worker_socket(self) -> socket.socket:
        """One more listening socket on the workers' port (``SO_REUSEPORT``).

        It listens at once: connections queue in it until its worker accepts them.

        Raises:
            OSError: the port cannot be bound, or ``SO_REUSEPORT`` is not available.
        """
        sock = self._socket()
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((self.host, self.port))
            sock.listen(self.backlog)
        except (OSError, AttributeError) as error:  # AttributeError: no SO_REUSEPORT here
            sock.close()
            raise OSError(f"cannot bind a socket per worker: {error}") from error
        sock.set_inheritable(True)
        return sock

    def _socket(self) -> socket.socket:
        family = socket.AF_INET6 if self.host and ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        return sock


class Workers(Multiprocess):
    """uvicorn's supervisor, with a listening socket per worker process.

    Each worker is started on its own socket, and a replacement (after a crash, a restart on
    ``SIGHUP``) on the socket of the worker it replaces. ``SIGTTIN`` adds a worker with a
    new socket; ``SIGTTOU`` stops the last one and closes its socket.

    Args:
        config: the workers' settings.
        sockets: one listening socket per worker, from :meth:`TcpConfig.bind_worker_sockets`.
    """

    def __init__(self, config: TcpConfig, sockets: list[socket.socket]) -> None:
        super().__init__(config, sockets)
        self.bind = config.bind_worker_socket
        self.slots = list(sockets)  # the socket of self.processes[i] is self.slots[i]

    def init_processes(self) -> None:
        """Start one worker per socket."""
        for sock in self.slots:
            process = Process(self.config, [sock])
            process.start()
            self.processes.append(process)

    def keep_subprocess_alive(self) -> None:
        """Replace a worker that died or hangs with a new one on its socket."""
        if self.should_exit.is_set():
            return
        for index, process in enumerate(self.processes):
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()
            process.join()
            if process.exitcode == uvicorn.config.STARTUP_FAILURE:
                # It failed before serving: the application is broken, and a new one would
                # fail the same way.
                logger.error(f"Child process [{process.pid}] failed to start, stopping.")
                self.should_exit.set()
                return
            if self.should_exit.is_set():
                return
            logger.info(f"Child process [{process.pid}] died")
            replacement = Process(self.config, [self.slots[index]])
            replacement.start()
            self.processes[index] = replacement

    def restart_all(self) -> None:
        """Replace each worker in turn, the new one serving before the old one stops."""
        for index, old in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            new = Process(self.config, [self.slots[index]])
            new.start()
            if not new.wait_until_ready(self.config.timeout_worker_healthcheck, self.should_exit):
                new.kill()
                new.join()
                if not self.should_exit.is_set():
                    logger.error(
                        f"New child process [{new.pid}] was not ready in time; keeping worker"
                        f" [{old.pid}] and aborting the restart."
                    )
                return
            old.terminate()
            old.join()
            self.processes[index] = new

    def handle_ttin(self) -> None:
        """Add a worker, on a socket of its own."""
        logger.info("Received SIGTTIN, increasing the number of processes.")
        try:
            sock = self.bind()
        except OSError as error:
            logger.error(f"Cannot add a worker: {error}")
            return
        self.processes_num += 1
        process = Process(self.config, [sock])
        process.start()
        self.processes.append(process)
        self.slots.append(sock)

    def handle_ttou(self) -> None:
        """Stop the last worker and close its socket, so that no connection waits on it."""
        logger.info("Received SIGTTOU, decreasing number of processes.")
        if self.processes_num <= 1:
            logger.info("Already reached one process, cannot decrease the number of processes.")
            return
        self.processes_num -= 1
        process = self.processes.pop()
        process.terminate()
        process.join()
        self.slots.pop().close()


def serve_workers(host: str, port: int, workers: int) -> None:
    """Run ``workers`` server processes on ``host:port`` until stopped.

    Each builds its runtime from the ``PLEDGE_*`` environment and closes it when it stops.

    Args:
        host: the address to listen on.
        port: the port to listen on.
        workers: how many processes.
    """
    loop, http = event_loop(), http_protocol()
    if (loop, http) != ("uvloop", "httptools"):
        logger.warning(f"uvloop or httptools is missing: serving with {loop} and {http}")
    config = TcpConfig(
        "pledge.web.app:create_app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop=loop,
        http=http,
        log_level="info",
    )
    try:
        sockets = config.bind_worker_sockets(workers)
    except OSError as error:
        # uvicorn's shared socket; if the port itself is the problem, uvicorn says so and exits
        shared = config.bind_socket()
        logger.info(f"The workers share one socket: {error}")
        Multiprocess(config, sockets=[shared]).run()
        return
    logger.info(f"Uvicorn running on http://{host}:{config.port} ({workers} workers)")
    Workers(config, sockets).run()
