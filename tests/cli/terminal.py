"""Running ``dr-gitops`` on a pseudo-terminal, as a person at a keyboard would."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from collections.abc import Mapping

from tests.fixtures.workspace import NAMESPACE, Workspace


class Terminal:
    """``python -m controller.cli ARGS`` with stdin, stdout and stderr on one pty."""

    def __init__(self, args: list[str], env: Mapping[str, str]) -> None:
        master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "controller.cli", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env={**os.environ, **env},
            close_fds=True,
        )
        os.close(slave)
        self._master = master
        self._seen = b""

    @property
    def output(self) -> str:
        return self._seen.decode("utf-8", "replace").replace("\r\n", "\n")

    def read_until(self, text: str, timeout: float = 120.0) -> str:
        """Everything shown so far, once ``text`` is among it (or the process ended)."""
        deadline = time.monotonic() + timeout
        while text not in self.output and time.monotonic() < deadline:
            ready, _, _ = select.select([self._master], [], [], 0.2)
            if not ready:
                if self.proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(self._master, 65536)
            except OSError:  # EIO: the other side closed
                break
            if not chunk:
                break
            self._seen += chunk
        return self.output

    def type(self, line: str) -> None:
        os.write(self._master, line.encode() + b"\n")

    def finish(self, timeout: float = 120.0) -> int:
        self.read_until("\0never\0", timeout=timeout)
        code = self.proc.wait(timeout=timeout)
        os.close(self._master)
        return code


def on_terminal(workspace: Workspace, *args: str) -> Terminal:
    """``dr-gitops ARGS`` on a terminal, against the workspace's emulator."""
    env = {
        "DATAROBOT_ENDPOINT": workspace.emulator.api_url,
        "DATAROBOT_API_TOKEN": workspace.emulator.token,
        "DR_GITOPS_NAMESPACE": NAMESPACE,
        "DR_GITOPS_CACHE_DIR": str(workspace.cache),
        "NO_COLOR": "1",
    }
    return Terminal(list(args), env)
