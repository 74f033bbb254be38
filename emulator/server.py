"""Serving the emulator with waitress (threads), in the foreground or a background thread.

Dropped connections: a fault with ``dropConnection`` marks the request; the WSGI wrapper
here then raises waitress's own ``ClientDisconnected`` before any byte is written. Waitress
treats that as "the client went away": it writes nothing and closes the socket, so the
client sees a connection closed without a response, exactly like a proxy dropping it. For
``"reset"`` drops the socket is first set to linger 0 s, so closing it sends a TCP RST
(the channel class below puts the socket into the WSGI environ for that).

Usage::

    from emulator.server import EmulatorServer

    with EmulatorServer(port=0) as srv:       # or srv.start() ... srv.stop()
        print(srv.api_url, srv.token)
"""

from __future__ import annotations

import logging
import socket
import struct
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

from waitress import wasyncore
from waitress.channel import ClientDisconnected, HTTPChannel
from waitress.server import create_server
from waitress.task import WSGITask

from emulator.app import DROP_FLAG, create_app
from emulator.core import Emulator
from emulator.seeding import load_seed

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


SOCKET_KEY = "emulator.socket"


class _SocketTask(WSGITask):  # type: ignore[misc]
    """A waitress task whose WSGI environ also holds the connection's socket."""

    def get_environment(self) -> dict[str, Any]:
        environ: dict[str, Any] = super().get_environment()
        environ[SOCKET_KEY] = self.channel.socket
        return environ


class _SocketChannel(HTTPChannel):  # type: ignore[misc]
    task_class = _SocketTask


def dropping(app: WSGIApp) -> WSGIApp:
    """Wrap ``app`` so requests flagged for a dropped connection close the socket unanswered."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        result = app(environ, start_response)
        mode = environ.get(DROP_FLAG)
        if mode:
            close = getattr(result, "close", None)
            if close is not None:
                close()
            sock = environ.get(SOCKET_KEY)
            if mode == "reset" and sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            raise ClientDisconnected("connection dropped by an emulator fault")
        return result

    return wrapped


class EmulatorServer:
    """An emulator served over HTTP by waitress.

    ``port=0`` picks a free port (see :attr:`url`). ``seed_file`` replaces the built-in
    seed; ``state_file`` keeps the state across restarts. Extra settings
    (``async_delay_ms``, ``job_run_ms``, ``max_upload_bytes``) set the start values of
    ``/__emulator__/config``.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str = "emulator-token",  # noqa: S107 - the emulator's documented default token
        seed_file: str | Path | None = None,
        state_file: str | Path | None = None,
        threads: int = 8,
        *,
        async_delay_ms: int | None = None,
        job_run_ms: int | None = None,
        max_upload_bytes: int | None = None,
    ) -> None:
        config = {
            k: v
            for k, v in (
                ("asyncDelayMs", async_delay_ms),
                ("jobRunMs", job_run_ms),
                ("maxUploadBytes", max_upload_bytes),
            )
            if v is not None
        }
        self.token = token
        self.emulator = Emulator(load_seed(seed_file), token, config, state_file)
        self.app = create_app(self.emulator)
        self._host = host
        self._server = create_server(
            dropping(self.app),
            host=host,
            port=port,
            threads=threads,
            ident="dr-emulator",
            clear_untrusted_proxy_headers=True,
            channel_timeout=60,
            outbuf_overflow=32 * 1024 * 1024,  # big list pages stay in memory, not temp files
            inbuf_overflow=16 * 1024 * 1024,
        )
        self._server.channel_class = _SocketChannel
        self._thread: threading.Thread | None = None
        self._stopping = False
        logging.getLogger("waitress.queue").setLevel(logging.ERROR)

    # -- addresses ----------------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self._server.effective_port)

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` of the running server."""
        return f"http://{self._host}:{self.port}"

    @property
    def api_url(self) -> str:
        """The API root clients use as their endpoint: :attr:`url` + ``/api/v2``."""
        return f"{self.url}/api/v2"

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> EmulatorServer:
        """Serve in a background thread; returns once the socket is listening."""
        if self._thread is None:
            if self.emulator.state_file:
                self.emulator.state_file.start()
            self._stopping = False
            self._thread = threading.Thread(target=self._serve, name="dr-emulator", daemon=True)
            self._thread.start()
        return self

    def _serve(self) -> None:
        try:
            self._server.run()
        except OSError:
            # Closing every socket from inside the loop can leave it polling a descriptor
            # that was just closed: harmless once stopping, a real error otherwise.
            if not self._stopping:
                raise

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (what ``dr-emulator`` does)."""
        if self.emulator.state_file:
            self.emulator.state_file.start()
        try:
            self._server.run()
        finally:
            self.emulator.close()

    def stop(self) -> None:
        """Stop serving, close every connection, and write the state file one last time."""
        server = self._server
        if self._thread is not None:
            self._stopping = True
            try:
                # Close the sockets from inside the serving loop (thread-safe), which then ends.
                server.trigger.pull_trigger(
                    lambda: wasyncore.close_all(server._map, ignore_all=True)
                )
            except OSError:  # the trigger itself is already closed: close from here
                wasyncore.close_all(server._map, ignore_all=True)
            self._thread.join(timeout=5)
            self._thread = None
        else:
            wasyncore.close_all(server._map, ignore_all=True)
        server.task_dispatcher.shutdown(timeout=5)
        self.emulator.close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object | TracebackType | None) -> None:
        self.stop()

    # -- conveniences (the same as the admin routes, without HTTP) ----------------------

    def reset(self) -> None:
        """State back to the seed, faults off, stats zeroed (``POST /__emulator__/reset``)."""
        self.emulator.reset()

    def set_faults(self, config: dict[str, Any]) -> dict[str, Any]:
        """Replace the fault configuration (``PUT /__emulator__/faults``)."""
        return self.emulator.faults.configure(config)

    def stats(self) -> dict[str, Any]:
        """Request counters (``GET /__emulator__/stats``)."""
        return self.emulator.stats.snapshot()

    def configure(self, **changes: Any) -> dict[str, Any]:
        """Change settings such as ``asyncDelayMs`` (``PUT /__emulator__/config``)."""
        return self.emulator.configure(changes)

    def state(self) -> dict[str, Any]:
        """The whole store (``GET /__emulator__/state``)."""
        return self.emulator.store.dump()
