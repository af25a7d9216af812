"""Console sign-in under a crowd of anonymous sign-ins: how long a real staff member waits, and the console's memory.

Serves `zhibu console` (a separate process, as deployed) on a fresh `ZHIBU_HOME` with one staff account, then
times the real sign-in (GET /login, POST /login and the page it lands on) alone, and again fired at the same
moment as 64 anonymous sign-ins with wrong names and passwords, `--rounds` times:
  - from one client address (the per-client budget answers most of them without hashing a password), and
  - from 64 client addresses (127.0.0.10 …: only the bounded argon2 hashing stands between them and the memory).
The real staff member signs in from her own address, with the browser cookie of an earlier sign-in.
Prints the real sign-in's time (median of `--rounds`) in each case and the console's resident memory (now, and
its peak). Goals: the crowd delays a real sign-in by at most 2 s; the console stays under 500 MiB.

    .venv/bin/python benchmarks/bench_console_login.py [--crowd 64] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import httpx
from console_process import ZHIBU, start_console

ROOT = Path(__file__).resolve().parents[1]
NAME, PASSWORD = "基准管理员", "benchmark-password"
GOAL_DELAY_S, GOAL_RSS_MIB = 2.0, 500



def memory_mib(pid: int) -> tuple[float, float]:
    """(resident now, peak resident) of a process, MiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    value = {key: int(re.search(rf"{key}:\s+(\d+)", status).group(1)) / 1024 for key in ("VmRSS", "VmHWM")}
    return value["VmRSS"], value["VmHWM"]


def sign_in(client: httpx.Client, name: str, password: str) -> httpx.Response:
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    return client.post("/login", data={"name": name, "password": password, "csrf_token": token})


def timed_real_sign_in(owner: httpx.Client) -> float:
    started = time.perf_counter()
    landed = sign_in(owner, NAME, PASSWORD)
    elapsed = time.perf_counter() - started
    assert landed.url.path == "/questions", landed.text[:300]
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', landed.text).group(1)
    owner.post("/logout", data={"csrf_token": csrf})
    return elapsed


def burst(url: str, owner: httpx.Client, size: int, addresses: list[str], round_number: int) -> float:
    """`size` anonymous sign-ins with wrong names fired at once, the real one among them: its time."""
    barrier = threading.Barrier(size + 1)

    def attack(number: int) -> None:
        transport = httpx.HTTPTransport(local_address=addresses[number % len(addresses)])
        with httpx.Client(base_url=url, transport=transport, follow_redirects=True, timeout=300) as client:
            token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
            barrier.wait()
            client.post("/login", data={"name": f"猜测{round_number}-{number}", "password": "wrong password",
                                        "csrf_token": token})

    threads = [threading.Thread(target=attack, args=(number,)) for number in range(size)]
    for thread in threads:
        thread.start()
    barrier.wait()
    elapsed = timed_real_sign_in(owner)
    for thread in threads:
        thread.join(300)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crowd", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="zhibu-bench-login-"))
    environment = {**os.environ, "ZHIBU_HOME": str(home), "ZHIBU_EMBEDDING": "none"}
    subprocess.run([ZHIBU, "console", "add-user", NAME, "--role", "admin"], input=PASSWORD + "\n", text=True,
                   env=environment, check=True, capture_output=True)
    server, url = start_console(environment)
    try:
        owner = httpx.Client(base_url=url, transport=httpx.HTTPTransport(local_address="127.0.0.2"),
                             follow_redirects=True, timeout=120)
        timed_real_sign_in(owner)  # the owner's browser has signed in before
        alone = statistics.median(timed_real_sign_in(owner) for _ in range(args.rounds))
        print(f"real sign-in alone: {alone:.2f} s (median of {args.rounds}); console RSS "
              f"{memory_mib(server.pid)[0]:.0f} MiB")
        worst = alone
        for label, addresses in (("one client address", ["127.0.0.1"]),
                                 (f"{args.crowd} client addresses", [f"127.0.0.{10 + n}" for n in range(args.crowd)])):
            during = statistics.median(burst(url, owner, args.crowd, addresses, number)
                                       for number in range(args.rounds))
            rss, peak = memory_mib(server.pid)
            worst = max(worst, during)
            print(f"{args.crowd} anonymous sign-ins from {label}: real sign-in {during:.2f} s "
                  f"(+{during - alone:.2f} s); console RSS {rss:.0f} MiB, peak {peak:.0f} MiB")
        peak = memory_mib(server.pid)[1]
        print(f"goal: delay ≤ {GOAL_DELAY_S:g} s → {'met' if worst - alone <= GOAL_DELAY_S else 'MISSED'} "
              f"(+{worst - alone:.2f} s); RSS < {GOAL_RSS_MIB} MiB → {'met' if peak < GOAL_RSS_MIB else 'MISSED'} "
              f"(peak {peak:.0f} MiB)")
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
