"""Operations: question latency while an ingest embeds, ingest time against text size, and open files
and memory over many generation switches. Prints numbers; run on an otherwise idle machine.

    .venv/bin/python benchmarks/bench_operations.py [--only latency|sizes|switches]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from knowledge.service import QAService  # noqa: E402
from zhibu.settings import Settings  # noqa: E402

SENTENCES = ("党员教育管理和组织生活按季度检查落实，支部书记负责。", "嘎查村党组织书记每年参加培训不少于四十学时；",
             "评定结果在一定范围内公示，接受党员群众监督。", "党支部要健全“三会一课”制度，按期开展主题党日活动。")


def _service(home: Path, embedding: str) -> QAService:
    return QAService(Settings(_env_file=None, zhibu_home=home, zhibu_embedding=embedding))


def policy_text(size_bytes: int, topic: str = "补充规定") -> str:
    """A document of about `size_bytes` UTF-8 bytes laid out like the policy texts: numbered sections of prose."""
    parts, size, n = [f"关于基层党建工作的{topic}"], 0, 0
    while size < size_bytes:
        n += 1
        section = f"{n}、第{n}项{topic}\n" + "".join(SENTENCES[(n + i) % len(SENTENCES)] for i in range(8))
        parts.append(section)
        size += len(section.encode("utf-8")) + 1
    return "\n".join(parts)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _questions() -> list[str]:
    lines = (REPO / "tests" / "data" / "qa_own.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


def latency_during_ingest(home: Path, embedding: str) -> None:
    svc = _service(home, embedding)
    questions = _questions()
    svc.ask(questions[0])
    document = home.parent / "during.txt"
    document.write_text(policy_text(120_000, "期间规定"), encoding="utf-8")

    def timed(text: str) -> float:
        start = time.perf_counter()
        svc.ask(text)
        return (time.perf_counter() - start) * 1000

    idle = [timed(f"{q}（{i}）") for i, q in enumerate(questions)]
    done = threading.Event()
    report = {}
    worker = threading.Thread(target=lambda: (report.update(r=svc.ingest([document])), done.set()))
    started = time.perf_counter()
    worker.start()
    busy, n = [], 0
    while not done.is_set():
        busy.append(timed(f"{questions[n % len(questions)]}（忙{n}）"))
        n += 1
        time.sleep(0.05)  # a person does not ask back to back; leaves the ingest its share of the CPU
    worker.join()
    ingest_s = time.perf_counter() - started
    print(f"[latency, {embedding}] idle: p50 {statistics.median(idle):.1f} ms, p95 {_percentile(idle, 0.95):.1f} ms ({len(idle)} questions)")
    print(f"[latency, {embedding}] during an ingest of {report['r'].embedded} passages ({ingest_s:.1f} s): "
          f"p50 {statistics.median(busy):.1f} ms, p95 {_percentile(busy, 0.95):.1f} ms, max {max(busy):.1f} ms ({len(busy)} questions)")


def ingest_sizes(scratch: Path) -> None:
    """Keyword-only into an empty home: what grows with the text is loading, cleaning, splitting and storing
    (embedding is batched, so linear by construction, and at ~1,100 tokens/s too slow to time at 4 MB)."""
    from ingest.documents import prepare_document

    warm = scratch / "warm-up.txt"  # first-use imports are not part of any size's time
    warm.write_text(policy_text(10_000), encoding="utf-8")
    _service(scratch / "home-warm-up", "none").ingest([warm])
    rows = []
    for megabytes in (1, 2, 4):
        path = scratch / f"size-{megabytes}mb.txt"
        path.write_text(policy_text(megabytes * 1_000_000, f"第{megabytes}批规定"), encoding="utf-8")
        start = time.perf_counter()
        prepared = prepare_document(path)
        prepare_s = time.perf_counter() - start
        svc = _service(scratch / f"home-{megabytes}mb", "none")
        start = time.perf_counter()
        svc.ingest([path])
        ingest_s = time.perf_counter() - start
        rows.append((megabytes, len(prepared.chunks), prepare_s, ingest_s))
    base = rows[0]
    for megabytes, passages, prepare_s, ingest_s in rows:
        print(f"[sizes] {megabytes} MB: {passages} passages; load+clean+split {prepare_s:.2f} s "
              f"({prepare_s / base[2] / megabytes:.2f}× linear); whole ingest, keyword-only {ingest_s:.2f} s "
              f"({ingest_s / base[3] / megabytes:.2f}× linear)")


def _open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


def _rss_mib() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def switches(home: Path, embedding: str, count: int = 50) -> None:
    svc = _service(home, embedding)
    svc.ask(_questions()[0])
    document = home.parent / "switch.txt"
    print(f"[switches, {embedding}] before: {_open_files()} open files, RSS {_rss_mib():.0f} MiB")
    start = time.perf_counter()
    for switch in range(1, count + 1):
        document.write_text(f"关于第{switch}次调整的通知\n一、调整内容\n第{switch}次调整后，党员学习每月开展{switch}次。", encoding="utf-8")
        svc.ingest([document])
        svc.ask(_questions()[switch % 10])
        if switch in (1, 10, 25, count):
            print(f"[switches, {embedding}] after {switch:2}: {_open_files()} open files, RSS {_rss_mib():.0f} MiB")
    print(f"[switches, {embedding}] {count} switches in {time.perf_counter() - start:.1f} s; "
          f"generations on disk: {len(list((home / 'kb' / 'generations').iterdir()))}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=("latency", "sizes", "switches"))
    parser.add_argument("--embedding", default="e5-small")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        if args.only in (None, "sizes"):
            ingest_sizes(Path(scratch))
        if args.only == "sizes":
            return
        template = Path(scratch) / "template" / "home"
        _service(template, args.embedding).reload()
        for name, run in (("latency", latency_during_ingest), ("switches", switches)):
            if args.only in (None, name):
                home = Path(scratch) / name / "home"
                shutil.copytree(template, home)
                run(home, args.embedding)


if __name__ == "__main__":
    main()
