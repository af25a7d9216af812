"""Cold start: whole `zhibu ask` and `zhibu check` processes, each run 5 times under /usr/bin/time -v;
prints the median wall time, CPU time (user + system) and peak RSS, and the machine's load around them.

    .venv/bin/python benchmarks/bench_cold_start.py [--home DIR] [--embedding e5-small] [--runs 5] [--only check]

Without --home, a fresh $ZHIBU_HOME is built first with `zhibu ingest` (not timed; not for `--only check`).
Each command runs once untimed first: it fills $ZHIBU_HOME/cache/rules and writes the project's bytecode,
as an installed package has it (PYTHONDONTWRITEBYTECODE is dropped for the runs). Goals: cold `zhibu ask`
≤ 1.5 s, cold `zhibu check` ≤ 0.3 s (wall, median, on an otherwise idle machine).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ZHIBU = str(ROOT / ".venv" / "bin" / "zhibu")
PROFILE = '{"domain": "community", "year": 2024, "name": "新华社区党支部", "org_rating": "优秀", "weak_and_lax": "否"}'
COMMANDS = {
    "ask": ["ask", "最强党支部多长时间评定一次？"],
    "check": ["check", "PROFILE"],
}
GOALS = {"ask": 1.5, "check": 0.3}
_FIELDS = {
    "wall": re.compile(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)"),
    "user": re.compile(r"User time \(seconds\): ([\d.]+)"),
    "system": re.compile(r"System time \(seconds\): ([\d.]+)"),
    "rss_kib": re.compile(r"Maximum resident set size \(kbytes\): (\d+)"),
}


def run_once(args: list[str], env: dict) -> dict[str, float]:
    """One process under GNU time -v: wall and CPU seconds, peak RSS in MiB."""
    result = subprocess.run(["/usr/bin/time", "-v", ZHIBU, *args], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"zhibu {' '.join(args)} failed:\n{result.stderr[-2000:]}")
    found = {name: pattern.search(result.stderr) for name, pattern in _FIELDS.items()}
    hours, minutes, seconds = found["wall"].groups()
    return {
        "wall": int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds),
        "cpu": float(found["user"][1]) + float(found["system"][1]),
        "rss_mib": int(found["rss_kib"][1]) / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", type=Path, help="an existing $ZHIBU_HOME with a built knowledge base")
    parser.add_argument("--embedding", default="e5-small")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", choices=sorted(COMMANDS), help="time one command")
    args = parser.parse_args()
    if not Path("/usr/bin/time").is_file():
        sys.exit("needs GNU time: apt-get install -y time")
    scratch = Path(tempfile.mkdtemp(prefix="zhibu-cold-"))
    home = args.home or scratch / "home"
    env = {**os.environ, "ZHIBU_HOME": str(home), "ZHIBU_EMBEDDING": args.embedding}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    commands = {args.only: COMMANDS[args.only]} if args.only else COMMANDS
    if args.home is None and "ask" in commands:
        subprocess.run([ZHIBU, "ingest"], env=env, check=True, capture_output=True)
    profile = scratch / "profile.json"
    profile.write_text(PROFILE, encoding="utf-8")
    print(f"load before: {' / '.join(f'{x:.2f}' for x in os.getloadavg())} (1/5/15 min), {os.cpu_count()} cores")
    for name, command in commands.items():
        command = [str(profile) if part == "PROFILE" else part for part in command]
        run_once(command, env)
        runs = [run_once(command, env) for _ in range(args.runs)]
        median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        walls = ", ".join(f"{run['wall']:.2f}" for run in runs)
        print(f"cold zhibu {name}: median {median['wall']:.2f} s wall (runs {walls}), {median['cpu']:.2f} s CPU, "
              f"peak {median['rss_mib']:.0f} MiB; goal ≤ {GOALS[name]} s")
    print(f"load after: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
