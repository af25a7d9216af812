"""A `zhibu console` process for the console benchmarks: started on a free loopback port, ready when /login answers."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ZHIBU = str(Path(sys.executable).with_name("zhibu"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_console(environment: dict[str, str], timeout_s: float = 60) -> tuple[subprocess.Popen, str]:
    """The console process and its base URL; the caller terminates it."""
    url = f"http://127.0.0.1:{free_port()}"
    server = subprocess.Popen([ZHIBU, "console", "--port", url.rsplit(":", 1)[1]], env=environment,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            httpx.get(url + "/login", timeout=2)
            return server, url
        except httpx.TransportError:
            if time.monotonic() > deadline:
                server.terminate()
                raise SystemExit("zhibu console did not start") from None
            time.sleep(0.2)
