"""The service's HTTP listeners (the only user of waitress): the main one and the probes'.

waitress serves a bounded number of connections (``connection_limit``); past it, it stops
accepting and new connections wait in the kernel's backlog until an idle one is dropped,
``channel_timeout`` seconds after its last byte. 98 half-open connections (a request begun
and never finished) were enough to make ``/healthz`` time out with waitress's defaults (100
connections, 120 s), and Kubernetes restarts a pod whose liveness probe times out. So the
limits are set deliberately (``ServiceSettings.http_connection_limit``,
``http_channel_timeout_seconds``), and the probes can have a listener of their own
(``--probe-listen``), with its own connections and threads, which a flood of the main
listener (the one webhooks reach) cannot starve. ``bench/bench_probe_flood.py`` measures it.

Each listener runs waitress's loop in a thread of ours (closing its sockets from another
thread races its ``select``/``poll``, so the loop is closed from its own thread).
"""

from __future__ import annotations

import threading
from typing import Any
from wsgiref.types import WSGIApplication

from waitress.server import create_server

from controller.errors import ConfigError
from controller.logs import get_logger

log = get_logger(__name__)


class Listener:
    """One waitress server on ``host:port`` in its own thread (see the module docstring)."""

    def __init__(
        self,
        app: WSGIApplication,
        *,
        name: str,
        host: str,
        port: int,
        threads: int,
        connection_limit: int,
        channel_timeout: int,
        max_body_bytes: int,
        flag: str,
    ) -> None:
        self.name = name
        self.host = host
        try:
            self._server: Any = create_server(
                app,
                host=host,
                port=port,
                threads=threads,
                ident="dr-gitops",
                connection_limit=connection_limit,
                channel_timeout=channel_timeout,
                # Idle connections are looked for this often (waitress: every 30 s).
                cleanup_interval=max(1, min(30, channel_timeout // 2)),
                # poll(), not select(): no FD_SETSIZE ceiling whatever the limit.
                asyncore_use_poll=True,
                # waitress refuses larger bodies itself, from Content-Length, before reading.
                max_request_body_size=max_body_bytes + 1,
                clear_untrusted_proxy_headers=True,
            )
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {host}:{port}: {exc.strerror or exc}; choose another {flag}"
            ) from exc
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=f"dr-gitops-{name}", daemon=True)

    @property
    def port(self) -> int:
        """The bound port (useful with port 0)."""
        return int(self._server.effective_port)

    def start(self) -> None:
        if not self._thread.is_alive():
            self._thread.start()
            log.info("http_listening", listener=self.name, host=self.host, port=self.port)

    def close(self) -> None:
        self._closing.set()
        if self._thread.is_alive():
            self._server.pull_trigger()  # wake the loop from poll()
            self._thread.join(timeout=5)
        else:
            self._server.close()

    def _serve(self) -> None:
        server = self._server
        try:
            while not self._closing.is_set():
                server.asyncore.loop(
                    timeout=server.adj.asyncore_loop_timeout,
                    map=server._map,
                    use_poll=server.adj.asyncore_use_poll,
                    count=1,
                )
        finally:
            server.asyncore.close_all(server._map)
            server.task_dispatcher.shutdown(timeout=2)
