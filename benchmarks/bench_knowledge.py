"""Knowledge-base benchmark: full ingest, unchanged re-ingest, cold `zhibu ask`, warm latency, memory.

Each step runs the real `zhibu` command in a fresh process on a fresh $ZHIBU_HOME, so numbers include
start-up. Warm latency is measured in-process over the dev questions plus our own.

    .venv/bin/python benchmarks/bench_knowledge.py [--embedding e5-small] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ZHIBU = str(ROOT / ".venv" / "bin" / "zhibu")
QUESTION_FILES = [ROOT.parent / "shared" / "eval" / "qa_dev.jsonl", ROOT / "tests" / "data" / "qa_own.jsonl",
                  ROOT / "tests" / "data" / "qa_fresh.jsonl"]
CONVERSATIONS = ROOT / "tests" / "data" / "qa_fresh_followups.jsonl"


_MEASURE = "import resource,subprocess,sys; subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"


def timed(args: list[str], env: dict) -> tuple[float, int]:
    """Wall time and peak RSS (MiB) of one zhibu command, measured in its own parent process."""
    started = time.perf_counter()
    peak_kib = subprocess.run([sys.executable, "-c", _MEASURE, ZHIBU, *args], env=env, check=True, capture_output=True, text=True).stdout
    return round(time.perf_counter() - started, 2), int(peak_kib) // 1024


def questions() -> list[str]:
    found = []
    for path in QUESTION_FILES:
        if path.is_file():
            found += [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return found


def _percentiles(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    return round(statistics.median(samples), 1), round(samples[max(0, int(len(samples) * 0.95) - 1)], 1)


def warm_latency(env: dict, rounds: int) -> dict:
    """First pass: every question new (its vector computed); later passes: repeated questions (cached)."""
    os.environ.update(env)
    from knowledge.service import get_qa_service
    from zhibu.settings import Settings

    service = get_qa_service(Settings())
    asked = questions()
    service.ask("党支部")  # load the model and the index
    passes = []
    started = time.perf_counter()
    for _ in range(rounds):
        samples = []
        for question in asked:
            t = time.perf_counter()
            service.ask(question)
            samples.append((time.perf_counter() - t) * 1000)
        passes.append(samples)
    elapsed = time.perf_counter() - started
    follow_ups = follow_up_latency(service)
    first_p50, first_p95 = _percentiles(passes[0])
    repeat_p50, repeat_p95 = _percentiles([x for samples in passes[1:] for x in samples] or passes[0])
    return {
        "questions": len(asked),
        "new_question_p50_ms": first_p50,
        "new_question_p95_ms": first_p95,
        "repeated_question_p50_ms": repeat_p50,
        "repeated_question_p95_ms": repeat_p95,
        "throughput_qps": round(rounds * len(asked) / elapsed, 1),
        "follow_up_p50_ms": follow_ups[0],
        "follow_up_p95_ms": follow_ups[1],
        "in_process_peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    }


def follow_up_latency(service) -> tuple[float, float]:
    """Each conversation asked in order, every answer's context handed to the next question."""
    if not CONVERSATIONS.is_file():
        return 0.0, 0.0
    rows = [json.loads(line) for line in CONVERSATIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    contexts: dict[str, dict | None] = {}
    samples = []
    for row in rows:
        t = time.perf_counter()
        answer = service.ask(row["question"], context=contexts.get(row["conversation"]))
        samples.append((time.perf_counter() - t) * 1000)
        contexts[row["conversation"]] = answer.context
    return _percentiles(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--embedding", default="e5-small")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="zhibu-bench-")
    env = {**os.environ, "ZHIBU_HOME": home, "ZHIBU_EMBEDDING": args.embedding}
    results = {"embedding": args.embedding, "cpus": os.cpu_count()}
    results["full_ingest_s"], results["full_ingest_peak_mib"] = timed(["ingest"], env)
    results["unchanged_reingest_s"], _ = timed(["ingest"], env)
    cold = [timed(["ask", "最强党支部多长时间评定一次？", "--json"], env) for _ in range(3)]
    results["cold_ask_s"] = round(statistics.median(t for t, _ in cold), 2)
    results["cold_ask_peak_mib"] = max(m for _, m in cold)
    results.update(warm_latency(env, args.rounds))
    for key, value in results.items():
        print(f"{key:24} {round(value, 2) if isinstance(value, float) else value}")
    print(json.dumps(results), file=sys.stderr)


if __name__ == "__main__":
    main()
