"""Web chat benchmark: concurrent secretaries against `zhibu web --workers N` on 127.0.0.1.

Builds a fresh `ZHIBU_HOME` (the shipped corpus with `--embedding`, default e5-small), starts `zhibu web` with
`--workers` processes (on a throw-away PostgreSQL with `--postgres`, else SQLite) and lets `--sessions` browsers
(default 50), each with its own invitation, send `--messages` turns (default 20): a self-check on the 社区 domain
answered by typing, with a policy question and a follow-up every fourth turn, and /new at the end. Two load
models, one after the other on the same server, each with its own sessions (`--model` picks one):

- people (the figure the goal is about): every session waits a think time between a reply and its next message,
  drawn uniformly from `--think` (default 2–8 s, seeded by `--seed`), also before its first one, so 50 people
  use the chat at once as people do: reading the reply, tapping or typing the next message.
- burst (a throughput test): every session sends its next turn the moment the previous one is answered, in
  lockstep, so the 50 questions of every fourth turn arrive together. No group of people does this; the latency
  it gives is the queue of 50 waiting messages (sessions / throughput), not what one person waits.

Bounded: every request has a timeout, each model a deadline, the think time a ceiling. For each model it checks
that no turn was lost (every response 200, every session's row counts exactly its turns) and prints msg/s, p50 /
p95 / max per message and per kind (questions, self-check turns), the server's CPU per message (and
PostgreSQL's), the load script's own CPU, and the load average at the start and end; the goal is p95 ≤ 300 ms
with e5 under the people model.

    .venv/bin/python benchmarks/bench_webchat.py [--sessions 50] [--messages 20] [--workers 2] [--postgres]
                                                 [--model people|burst|both] [--think 2-8] [--seed 18]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
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
        yield f"postgresql+psycopg://zhibu@127.0.0.1:{port}/postgres", data / "db"
    finally:
        subprocess.run([*owner, str(binaries / "pg_ctl"), "-D", str(data / "db"), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(data, ignore_errors=True)


def postmaster(data: Path | None) -> int | None:
    """The PostgreSQL server's process (its backends are its children), from its pid file."""
    return int((data / "postmaster.pid").read_text().split()[0]) if data else None


def cpu_seconds(pid: int | None) -> float:
    """User and system CPU of a process and all its descendants (uvicorn's workers are its children)."""
    if pid is None:
        return 0.0
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


@dataclass
class Model:
    """How a session paces its messages: `think` (low, high) seconds before each one, or None (lockstep)."""

    name: str
    think: tuple[float, float] | None
    seed: int

    def pause(self, session: int) -> "Pauses":
        return Pauses(self.think, random.Random(f"{self.seed}-{session}"))


@dataclass
class Pauses:
    think: tuple[float, float] | None
    draw: random.Random

    async def wait(self) -> None:
        if self.think:
            await asyncio.sleep(self.draw.uniform(*self.think))


async def secretary(url: str, code: str, script: list[tuple[str, str]], pauses: Pauses,
                    timings: dict[str, list[float]], failures: list[str]) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        page = (await client.get(f"/i/{code}")).text
        entry = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        chat = await client.post(f"/i/{code}", data={"csrf_token": entry}, follow_redirects=True)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', chat.text).group(1)
        for number, (kind, text) in enumerate(script):
            await pauses.wait()  # reading the reply (or the page), then tapping or typing
            began = time.perf_counter()
            response = await client.post("/send", data={"csrf_token": csrf, "text": text, "nonce": f"{code}-{number}"},
                                         headers={"X-Zhibu-Fetch": "1"})
            timings[kind].append((time.perf_counter() - began) * 1000)
            if response.status_code != 200 or not response.json()["added"]:
                failures.append(f"{text}: {response.status_code} {response.text[:120]}")


@dataclass
class Run:
    timings: dict[str, list[float]]
    failures: list[str]
    took: float
    server_cpu: float
    database_cpu: float
    script_cpu: float
    load: tuple[float, float]


async def run_sessions(url: str, codes: list[str], messages: int, model: Model) -> tuple[dict[str, list[float]], list[str]]:
    timings: dict[str, list[float]] = {"check": [], "question": []}
    failures: list[str] = []
    await asyncio.wait_for(asyncio.gather(*(secretary(url, code, turns(messages, n), model.pause(n), timings, failures)
                                            for n, code in enumerate(codes))), DEADLINE_S)
    return timings, failures


def measured(url: str, codes: list[str], messages: int, model: Model, server: int, database: int | None) -> Run:
    load_before, script_before = os.getloadavg()[0], time.process_time()
    server_before, database_before = cpu_seconds(server), cpu_seconds(database)
    began = time.perf_counter()
    timings, failures = asyncio.run(run_sessions(url, codes, messages, model))
    return Run(timings, failures, time.perf_counter() - began, cpu_seconds(server) - server_before,
               cpu_seconds(database) - database_before, time.process_time() - script_before,
               (load_before, os.getloadavg()[0]))


def counted_turns(prefix: str) -> int:
    """Turns applied, as the session rows of one model's invitations count them."""
    from sqlalchemy import func, select

    from records.database import session_factory
    from webchat.models import WebInvitation, WebSession
    from zhibu.settings import get_settings

    with session_factory(get_settings())() as session:
        return session.scalar(select(func.coalesce(func.sum(WebSession.turns), 0)).join(WebInvitation)
                              .where(WebInvitation.name.startswith(prefix)))


def report(args, model: Model, run: Run, lost: int) -> None:
    every = run.timings["check"] + run.timings["question"]
    pace = (f"think {model.think[0]:g}–{model.think[1]:g} s before each message (seed {model.seed})" if model.think
            else f"lockstep, no pause ({args.sessions} questions together every 4th turn)")
    print(f"\n== {model.name}: {args.sessions} sessions × {args.messages} messages, {pace}")
    print(f"{len(every)} answered in {run.took:.1f} s ({len(every) / run.took:.1f} msg/s); failed {len(run.failures)}; "
          f"lost {lost}; load average {run.load[0]:.1f} at start, {run.load[1]:.1f} at end ({os.cpu_count()} cores)")
    per_message = 1000 / max(1, len(every))
    database = f"; PostgreSQL {run.database_cpu * per_message:.1f} ms" if args.postgres else ""
    print(f"CPU per message: server {run.server_cpu * per_message:.1f} ms{database}; "
          f"this load script {run.script_cpu * per_message:.1f} ms (same cores)")
    for failure in run.failures[:5]:
        print("  failed:", failure)
    print(f"{'turns':<12}{'n':>6}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
    for label, values in (("all", every), ("self-check", run.timings["check"]), ("questions", run.timings["question"])):
        p95 = statistics.quantiles(values, n=20, method="inclusive")[18]
        print(f"{label:<12}{len(values):>6}{statistics.median(values):>9.1f}{p95:>9.1f}{max(values):>9.1f}")
    p95 = statistics.quantiles(every, n=20, method="inclusive")[18]
    verdict = ("met" if p95 <= GOAL_MS else "MISSED") if model.think else "not the goal's model"
    print(f"p95 per message {p95:.1f} ms — goal ≤ {GOAL_MS} ms: {verdict}; "
          f"none lost: {'yes' if lost == 0 and not run.failures else 'NO'}")


def bench(args, models: list[Model], database_url: str | None, database_dir: Path | None) -> None:
    from webchat.store import WebStore
    from zhibu.settings import get_settings

    if database_url:
        os.environ["ZHIBU_DATABASE_URL"] = database_url
    get_settings.cache_clear()
    store = WebStore(get_settings())
    invitations = {model.name: [store.create_invitation(f"{model.name}-{n}", "branch", 1, 1, by="基准")[1]
                                for n in range(args.sessions)] for model in models}
    port = free_port()
    server = start_server(port, args.workers)
    print(f"zhibu web, {args.workers} workers, {'PostgreSQL' if database_url else 'SQLite'}, {args.embedding}")
    try:
        for model in models:
            run = measured(f"http://127.0.0.1:{port}", invitations[model.name], args.messages, model, server.pid,
                           postmaster(database_dir))
            report(args, model, run, args.sessions * args.messages - counted_turns(f"{model.name}-"))
    finally:
        server.terminate()
        server.wait(30)


def think_range(text: str) -> tuple[float, float]:
    low, _, high = text.partition("-")
    think = (float(low), float(high or low))
    if not 0 <= think[0] <= think[1] <= 60:
        raise argparse.ArgumentTypeError("think time: LOW-HIGH seconds, 0 ≤ LOW ≤ HIGH ≤ 60")
    return think


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--embedding", default="e5-small")
    parser.add_argument("--postgres", action="store_true", help="run on a throw-away PostgreSQL server")
    parser.add_argument("--model", choices=("people", "burst", "both"), default="both")
    parser.add_argument("--think", type=think_range, default=(2.0, 8.0), help="seconds between a reply and the next message")
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args()
    models = [Model(name, think, args.seed) for name, think in (("people", args.think), ("burst", None))
              if args.model in (name, "both")]
    with tempfile.TemporaryDirectory(prefix="zhibu-bench-web-") as home:
        os.environ.update({"ZHIBU_HOME": home, "ZHIBU_EMBEDDING": args.embedding})
        os.environ.pop("ZHIBU_DATABASE_URL", None)
        began = time.perf_counter()
        subprocess.run([ZHIBU, "ingest"], check=True, capture_output=True)
        print(f"knowledge base built in {time.perf_counter() - began:.1f} s")
        if args.postgres:
            with throwaway_postgres() as (url, data):
                bench(args, models, url, data)
        else:
            bench(args, models, None, None)


if __name__ == "__main__":
    main()
