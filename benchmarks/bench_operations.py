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


def long_line(size_bytes: int) -> str:
    """One line of text with no punctuation at all: cut only by the hard limit."""
    words, size, n = [], 0, 0
    while size < size_bytes:
        n += 1
        words.append(f"第{n}项党员教育管理组织生活检查落实")
        size += len(words[-1].encode("utf-8"))
    return "关于基层党建工作的补充规定\n" + "".join(words)


def repeated_markers(size_bytes: int) -> str:
    """Line after line opening with the same outline marker, which never continues a numbering."""
    line = "一、党员教育管理和组织生活按季度检查落实"
    return "关于基层党建工作的补充规定\n" + "\n".join([line] * (size_bytes // len(line.encode("utf-8"))))


def repeated_paragraph(times: int) -> str:
    """One paragraph of about a passage's length, the same `times` times (same text, same heading)."""
    paragraph = "".join(SENTENCES) * 2
    return "关于基层党建工作的补充规定\n一、总体要求\n" + "\n".join([paragraph] * times)


# name → (document at each of three sizes, the sizes' labels): each size is twice the one before.
SHAPES = {
    "prose": (lambda scale: policy_text(scale * 1_000_000), ("1 MB", "2 MB", "4 MB")),
    "one long unpunctuated line": (lambda scale: long_line(scale * 500_000), ("0.5 MB", "1 MB", "2 MB")),
    "repeated outline markers": (lambda scale: repeated_markers(scale * 500_000), ("0.5 MB", "1 MB", "2 MB")),
    "one paragraph repeated": (lambda scale: repeated_paragraph(scale * 1000), ("1,000×", "2,000×", "4,000×")),
}


def _ingest_cpu(path: Path, home: Path) -> tuple[int, float, float]:
    """(passages, CPU s to load+clean+split, CPU s of the whole keyword-only ingest into an empty home)."""
    from ingest.documents import prepare_document

    start = time.process_time()
    prepared = prepare_document(path)
    prepare_s = time.process_time() - start
    start = time.process_time()
    _service(home, "none").ingest([path])
    return len(prepared.chunks), prepare_s, time.process_time() - start


def ingest_sizes(scratch: Path) -> None:
    """Keyword-only into an empty home, in CPU seconds (the machine may be shared): what grows with the
    text is loading, cleaning, splitting, tokenising and storing (embedding is batched, so linear by
    construction, and at ~1,100 tokens/s too slow to time at 4 MB). Each shape at 1×, 2× and 4×;
    "4× / linear" is the 4× time over four times the 1× time (1.00 is linear; the goal is ≤ 1.3)."""
    warm = scratch / "warm-up.txt"  # first-use imports are not part of any size's time
    warm.write_text(policy_text(10_000), encoding="utf-8")
    _service(scratch / "home-warm-up", "none").ingest([warm])
    for name, (make, labels) in SHAPES.items():
        rows = []
        for scale, label in zip((1, 2, 4), labels):
            path = scratch / f"shape-{len(rows)}.txt"
            path.write_text(make(scale), encoding="utf-8")
            rows.append((label, *_ingest_cpu(path, scratch / f"home-{name}-{scale}")))
        base = rows[0]
        for (label, passages, prepare_s, ingest_s), scale in zip(rows, (1, 2, 4)):
            print(f"[sizes] {name}, {label}: {passages} passages; load+clean+split {prepare_s:.2f} s CPU "
                  f"({prepare_s / base[2] / scale:.2f}× linear); whole ingest {ingest_s:.2f} s CPU "
                  f"({ingest_s / base[3] / scale:.2f}× linear)")


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
