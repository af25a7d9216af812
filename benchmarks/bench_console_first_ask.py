"""First 试问 on a fresh install: `zhibu console` on an empty `ZHIBU_HOME` builds the knowledge base in the
background at start; this measures how long until the console reports it ready (GET /status), then how long
the first 试问 on the 文档 page takes. The goal: the first question answers within 5 s of “ready”.

Uses the configured embedding (the bundled e5 model by default), as a real first start does.

    .venv/bin/python benchmarks/bench_console_first_ask.py [--embedding e5-small]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ZHIBU = str(Path(sys.executable).with_name("zhibu"))
QUESTION = "最强党支部多长时间评定一次？"
NAME, PASSWORD = "基准管理员", "benchmark-password"
GOAL_S = 5.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_ready(url: str, console: subprocess.Popen, limit_s: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        if console.poll() is not None:
            raise SystemExit("the console stopped before it was ready")
        try:
            if httpx.get(f"{url}/status", timeout=2).json()["ready"]:
                return time.monotonic() - started
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"not ready after {limit_s:.0f} s")


def first_ask(url: str) -> float:
    with httpx.Client(base_url=url, timeout=120, follow_redirects=True) as client:
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
        client.post("/login", data={"name": NAME, "password": PASSWORD, "csrf_token": token})
        started = time.monotonic()
        page = client.get("/documents", params={"ask": QUESTION}).text
        took = time.monotonic() - started
    if 'id="answer"' not in page:
        raise SystemExit("the first 试问 gave no answer")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embedding", default=os.environ.get("ZHIBU_EMBEDDING", "e5-small"))
    parser.add_argument("--limit", type=float, default=900, help="seconds to wait for the knowledge base")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="zhibu-first-ask-"))
    env = {**os.environ, "ZHIBU_HOME": str(home), "ZHIBU_EMBEDDING": args.embedding}
    subprocess.run([ZHIBU, "console", "add-user", NAME, "--role", "admin"], input=PASSWORD + "\n", text=True,
                   env=env, check=True, capture_output=True)
    port = free_port()
    log = (home / "console.log").open("w")
    console = subprocess.Popen([ZHIBU, "console", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        ready = wait_ready(f"http://127.0.0.1:{port}", console, args.limit)
        asked = first_ask(f"http://127.0.0.1:{port}")
    finally:
        console.terminate()
        console.wait(30)
        log.close()
    progress = [line.strip() for line in (home / "console.log").read_text().splitlines() if "knowledge base" in line]
    shutil.rmtree(home, ignore_errors=True)
    print(f"embedding {args.embedding}: ready after {ready:.1f} s; first 试问 {asked:.2f} s after ready "
          f"(goal ≤ {GOAL_S:.0f} s: {'met' if asked <= GOAL_S else 'NOT met'})")
    print("log:", *progress, sep="\n  ")


if __name__ == "__main__":
    main()
