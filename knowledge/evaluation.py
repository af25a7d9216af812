"""Retrieval and refusal quality on a JSONL question set (format of qa_dev.jsonl)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from ingest.clean import normalize_for_match
from zhibu.errors import BadInput


def load_cases(path: Path) -> list[dict]:
    if not path.is_file():
        raise BadInput(f"找不到评测文件 (no such file): {path}")
    cases = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            case = json.loads(line)
            case["question"], case.setdefault("gold", []), case.setdefault("answerable", True)
        except (ValueError, KeyError, TypeError, RecursionError) as exc:
            raise BadInput(f"{path}:{number}: 需要 question/gold/answerable 字段 (bad JSONL line)") from exc
        cases.append(case)
    return cases


def gold_rank(citations, gold: list[str]) -> int | None:
    """1-based rank of the first citation that contains any gold substring."""
    wanted = [normalize_for_match(g) for g in gold]
    for rank, citation in enumerate(citations, start=1):
        text = normalize_for_match(citation.text)
        if any(g in text for g in wanted):
            return rank
    return None


def evaluate_questions(service, cases: list[dict], k: int = 5) -> dict:
    rows, latencies = [], []
    for case in cases:
        started = time.perf_counter()
        answer = service.ask(case["question"], k=k)
        latencies.append(time.perf_counter() - started)
        rank = gold_rank(answer.citations, case["gold"]) if case["answerable"] else None
        rows.append({"id": case.get("id"), "question": case["question"], "answerable": case["answerable"],
                     "found": answer.found, "rank": rank})
    answerable = [r for r in rows if r["answerable"]]
    uncovered = [r for r in rows if not r["answerable"]]

    def hit_at(n: int) -> float:
        return sum(1 for r in answerable if r["rank"] and r["rank"] <= n) / len(answerable) if answerable else 0.0

    return {
        "questions": len(rows),
        "answerable": len(answerable),
        "hit@1": hit_at(1),
        "hit@3": hit_at(3),
        "hit@5": hit_at(5),
        "mrr": sum(1 / r["rank"] for r in answerable if r["rank"]) / len(answerable) if answerable else 0.0,
        "uncovered": len(uncovered),
        "uncovered_refused": sum(1 for r in uncovered if not r["found"]),
        "false_refusals": sum(1 for r in answerable if not r["found"]),
        "latency_ms_mean": 1000 * sum(latencies) / len(latencies) if latencies else 0.0,
        "misses": [r for r in rows if (r["answerable"] and (not r["rank"] or not r["found"])) or (not r["answerable"] and r["found"])],
    }


def format_report(report: dict) -> str:
    lines = [
        f"questions {report['questions']} (answerable {report['answerable']}, uncovered {report['uncovered']})",
        f"hit@1 {report['hit@1']:.3f}  hit@3 {report['hit@3']:.3f}  hit@5 {report['hit@5']:.3f}  MRR {report['mrr']:.3f}",
        f"uncovered refused {report['uncovered_refused']}/{report['uncovered']}  false refusals {report['false_refusals']}/{report['answerable']}",
        f"mean latency {report['latency_ms_mean']:.1f} ms",
    ]
    for miss in report["misses"]:
        lines.append(f"  miss {miss['id']}: rank={miss['rank']} found={miss['found']}  {miss['question']}")
    return "\n".join(lines)
