"""Web chat benchmark: concurrent secretaries against `zhibu web --workers N` on 127.0.0.1.

Builds a fresh `ZHIBU_HOME` (the shipped corpus with `--embedding`, default e5-small), makes one invitation per
session, starts `zhibu web` with `--workers` processes (on a throw-away PostgreSQL with `--postgres`, else SQLite)
and lets `--sessions` browsers (default 50) each send `--messages` turns (default 20): a self-check on the
社区 domain answered by typing, with a policy question and a follow-up every few turns, and /new at the end.
All sessions run at once; each sends its next turn when the previous one is answered. Bounded: every request
has a timeout and the run a deadline. Checks that no turn was lost (every response 200, every session's row
counts exactly its turns) and prints p50 / p95 / max per message; the goal is p95 ≤ 300 ms with e5.

    .venv/bin/python benchmarks/bench_webchat.py [--sessions 50] [--messages 20] [--workers 2] [--postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ZHIBU = str(Path(sys.executable).with_name("zhibu"))
GOAL_MS = 300
DEADLINE_S = 900
QUESTIONS = ("党员评议优秀比例要达到多少？", "那社区呢？", "哪些情形不能评为最强党支部？", "第三种情形具体指什么？",
             "嘎查村集体经济收入要达到多少？", "评上最强党支部有什么奖励？")


def turns(count: int, seed: int) -> list[tuple[str, str]]:
    """(kind, text) of one session: the check started, then 不清楚 answers with a question every fourth turn."""
    script = [("check", "自检"), ("check", "社区"), ("check", "今年")]
    asked = 0
    while len(script) < count - 1:
        if len(script) % 4 == 2:
            script.append(("question", QUESTIONS[(seed + asked) % len(QUESTIONS)]))
            asked += 1
        else:
            script.append(("check", "不清楚"))
    return (script + [("check", "/new")])[:count]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def throwaway_postgres():
    """A PostgreSQL server in a temp dir on a free port (as tests/console/conftest.py starts one)."""
    binaries = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))[-1].parent
    owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    data = Path(tempfile.mkdtemp(prefix="zhibu-bench-pg-"))
    if owner:
        shutil.chown(data, "postgres")
    port = free_port()
    subprocess.run([*owner, str(binaries / "initdb"), "-D", str(data / "db"), "-U", "zhibu", "--auth=trust", "-E", "UTF8",
                    "--locale=C"], check=True, capture_output=True)
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c max_connections=200"
    subprocess.run([*owner, str(binaries / "pg_ctl"), "-D", str(data / "db"), "-o", options, "-l", str(data / "log"), "-w",
                    "start"], check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://zhibu@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*owner, str(binaries / "pg_ctl"), "-D", str(data / "db"), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(data, ignore_errors=True)


def cpu_seconds(pid: int) -> float:
    """User and system CPU of a process and all its descendants (uvicorn's workers are its children)."""
    ticks = 0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return ticks / os.sysconf("SC_CLK_TCK") + sum(cpu_seconds(int(child)) for child in children)


def start_server(port: int, workers: int) -> subprocess.Popen:
    import httpx

    server = subprocess.Popen([ZHIBU, "web", "--port", str(port), "--workers", str(workers)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(server.stderr.read())
        try:  # the chat page answers once a worker has warmed its knowledge base
            if httpx.get(f"http://127.0.0.1:{port}/static/chat.css", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.3)
    server.kill()
    raise SystemExit("zhibu web did not start")


async def secretary(url: str, code: str, script: list[tuple[str, str]], timings: dict[str, list[float]],
                    failures: list[str]) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        page = (await client.get(f"/i/{code}")).text
        entry = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        chat = await client.post(f"/i/{code}", data={"csrf_token": entry}, follow_redirects=True)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', chat.text).group(1)
        for number, (kind, text) in enumerate(script):
            began = time.perf_counter()
            response = await client.post("/send", data={"csrf_token": csrf, "text": text, "nonce": f"{code}-{number}"},
                                         headers={"X-Zhibu-Fetch": "1"})
            timings[kind].append((time.perf_counter() - began) * 1000)
            if response.status_code != 200 or not response.json()["added"]:
                failures.append(f"{text}: {response.status_code} {response.text[:120]}")


async def run_sessions(url: str, codes: list[str], messages: int) -> tuple[dict[str, list[float]], list[str], float]:
    timings: dict[str, list[float]] = {"check": [], "question": []}
    failures: list[str] = []
    began = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(secretary(url, code, turns(messages, n), timings, failures)
                                            for n, code in enumerate(codes))), DEADLINE_S)
    return timings, failures, time.perf_counter() - began


def counted_turns() -> list[int]:
    from sqlalchemy import select

    from records.database import session_factory
    from webchat.models import WebSession
    from zhibu.settings import get_settings

    with session_factory(get_settings())() as session:
        return list(session.scalars(select(WebSession.turns)))


def bench(args, database_url: str | None) -> None:
    from webchat.store import WebStore
    from zhibu.settings import get_settings

    if database_url:
        os.environ["ZHIBU_DATABASE_URL"] = database_url
    get_settings.cache_clear()
    store = WebStore(get_settings())
    codes = [store.create_invitation(f"基准支部{n}", "branch", 1, 1, by="基准")[1] for n in range(args.sessions)]
    port = free_port()
    server = start_server(port, args.workers)
    try:
        cpu_before = cpu_seconds(server.pid)
        timings, failures, took = asyncio.run(run_sessions(f"http://127.0.0.1:{port}", codes, args.messages))
        cpu = cpu_seconds(server.pid) - cpu_before
    finally:
        server.terminate()
        server.wait(30)
    counted = counted_turns()
    every = timings["check"] + timings["question"]
    lost = args.sessions * args.messages - sum(counted)
    print(f"{args.sessions} sessions × {args.messages} messages, {args.workers} workers, "
          f"{'PostgreSQL' if database_url else 'SQLite'}, {args.embedding}: {len(every)} answered in {took:.1f} s "
          f"({len(every) / took:.1f} msg/s); failed {len(failures)}; lost {lost}")
    print(f"server CPU {cpu:.1f} s: {1000 * cpu / max(1, len(every)):.1f} ms per message; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for failure in failures[:5]:
        print("  failed:", failure)
    print(f"{'turns':<12}{'n':>6}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
    for label, values in (("all", every), ("self-check", timings["check"]), ("questions", timings["question"])):
        p95 = statistics.quantiles(values, n=20)[18]
        print(f"{label:<12}{len(values):>6}{statistics.median(values):>9.1f}{p95:>9.1f}{max(values):>9.1f}")
    p95 = statistics.quantiles(every, n=20)[18]
    print(f"p95 per message {p95:.1f} ms — goal ≤ {GOAL_MS} ms: {'met' if p95 <= GOAL_MS else 'MISSED'}; "
          f"none lost: {'yes' if lost == 0 and not failures else 'NO'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--embedding", default="e5-small")
    parser.add_argument("--postgres", action="store_true", help="run on a throw-away PostgreSQL server")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="zhibu-bench-web-") as home:
        os.environ.update({"ZHIBU_HOME": home, "ZHIBU_EMBEDDING": args.embedding})
        os.environ.pop("ZHIBU_DATABASE_URL", None)
        began = time.perf_counter()
        subprocess.run([ZHIBU, "ingest"], check=True, capture_output=True)
        print(f"knowledge base built in {time.perf_counter() - began:.1f} s")
        if args.postgres:
            with throwaway_postgres() as url:
                bench(args, url)
        else:
            bench(args, None)


if __name__ == "__main__":
    main()
