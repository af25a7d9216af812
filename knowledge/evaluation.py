"""Q&A quality on a JSONL question set: retrieval (hit@k), what the user reads (gold in the answer
text), the three outcomes against what was expected, multi-part coverage and follow-ups.

A line: {"id", "question", "gold": [alternatives], "answerable": bool, optional "parts": [[alternatives
for part 1], …] or [{"gold": [alternatives], "answer": …}, …] (every part must be answered), optional
"kind" (fact, yesno, list: a typed question whose "answer" the answer line must hold; open; uncovered;
offtopic), optional "answer" (the expected short answer), optional "conversation": lines with the same
value are one conversation, asked in order, each answer's context handed to the next question}.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from pathlib import Path

from knowledge.answer import ANSWERED, NOT_COVERED, PARTIAL, QUESTION
from zhibu.errors import BadInput, quoted
from zhibu.text import fold_for_match

STATUSES = (ANSWERED, PARTIAL, NOT_COVERED)
TYPED = ("fact", "yesno", "list")  # kinds whose expected short answer the answer line must hold
OFF_TOPIC = "offtopic"
LINE_RECALL = 0.6  # share of the expected answer's character pairs the answer line must hold
_FIGURES = re.compile(r"\d+")
# Polarity of a yes/no answer, by its first words: conditional before negative before positive.
_CONDITIONAL = re.compile(r"^(?:要看|看情况|分情况|视情况|不一定|得看)")
_NEGATIVE = re.compile(r"^(?:不|没|无|否|未|别)")


def read_utf8(path: Path, what: str) -> str:
    """A question file's text; a binary or non-UTF-8 file is a BadInput, not a traceback."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise BadInput(f"{what}不是 UTF-8 编码的文本文件：{quoted(path.name)}") from None
    if "\x00" in text:
        raise BadInput(f"{what}含有二进制内容，不是文本文件：{quoted(path.name)}")
    return text


def load_cases(path: Path) -> list[dict]:
    if not path.is_file():
        raise BadInput(f"找不到评测文件 (no such file): {path}")
    cases = []
    for number, line in enumerate(read_utf8(path, "评测文件").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            case = json.loads(line)
            case["question"], case.setdefault("gold", []), case.setdefault("answerable", True)
        except (ValueError, KeyError, TypeError, RecursionError) as exc:
            raise BadInput(f"{path}:{number}: 需要 question/gold/answerable 字段 (bad JSONL line)") from exc
        case.setdefault("id", f"{path.stem}:{number}")
        cases.append(case)
    return cases


def conversations(cases: list[dict]) -> list[list[dict]]:
    """Cases grouped into conversations in file order; a case without "conversation" stands alone."""
    groups: dict[str, list[dict]] = {}
    for n, case in enumerate(cases):
        key = case.get("conversation")
        groups.setdefault(f"c:{key}" if key is not None else f"q:{n}", []).append(case)
    return list(groups.values())


def gold_rank(citations, gold: list[str]) -> int | None:
    """1-based rank of the first citation that contains any gold substring."""
    wanted = [fold_for_match(g) for g in gold]
    for rank, citation in enumerate(citations, start=1):
        text = fold_for_match(citation.text)
        if any(g in text for g in wanted):
            return rank
    return None


def contains(text: str, alternatives: list[str]) -> bool:
    folded = fold_for_match(text)
    return any(fold_for_match(g) in folded for g in alternatives)


def load_judgements(path: Path) -> dict[tuple[str, str], bool]:
    """A reader's verdicts on answer lines: JSONL {"question", "line", "right": bool, "why"}, keyed by
    (question, line) — a line that has changed since is not judged."""
    judged = {}
    for number, line in enumerate(read_utf8(path, "评判文件").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            judged[(row["question"], row["line"])] = bool(row["right"])
        except (ValueError, KeyError, TypeError, RecursionError) as exc:
            raise BadInput(f"{path}:{number}: 需要 question/line/right 字段 (bad JSONL line)") from exc
    return judged


def evaluate_questions(service, cases: list[dict], k: int = 5, judged: dict[tuple[str, str], bool] | None = None) -> dict:
    rows, latencies = [], []
    for conversation in conversations(cases):
        context = None
        for turn, case in enumerate(conversation):
            started = time.perf_counter()
            answer = service.ask(case["question"], k=k, context=context)
            latencies.append(time.perf_counter() - started)
            context = answer.context
            row = _row(case, answer, turn)
            row["judged"] = (judged or {}).get((row["question"], row["line"])) if row["typed"] else None
            rows.append(row)
    return _summary(rows, latencies)


def polarity(text: str) -> str:
    """"要看", "不" or "是" for a yes/no answer ("答：不能，…", "算，…")."""
    text = re.sub(r"^(?:一般|原则上|通常)", "", fold_for_match(text).removeprefix("答:"))  # "一般不能" is 不
    return "要看" if _CONDITIONAL.match(text) else "不" if _NEGATIVE.match(text) else "是"


def line_holds(line: str, expected: str, kind: str) -> bool:
    """The answer line holds the expected short answer's key content: a yes/no answer's polarity, else
    every figure of it and most of its wording (character pairs, folded)."""
    if not line:
        return False
    if kind == "yesno":
        return polarity(line) == polarity(expected)
    got, wanted = fold_for_match(line), fold_for_match(expected)
    if not set(_FIGURES.findall(wanted)) <= set(_FIGURES.findall(got)):
        return False
    pairs = {wanted[i:i + 2] for i in range(len(wanted) - 1)}
    return not pairs or len({p for p in pairs if p in got}) >= LINE_RECALL * len(pairs)


def _row(case: dict, answer, turn: int) -> dict:
    answerable = case["answerable"]
    parts = [p["gold"] if isinstance(p, dict) else p for p in case.get("parts") or []]
    gold = case["gold"] or [g for alternatives in parts for g in alternatives]
    parts_found = [contains(answer.answer, alternatives) for alternatives in parts]
    in_text = contains(answer.answer, gold) if gold else False
    if parts:
        in_text = all(parts_found)
    return {"id": case.get("id"), "question": case["question"], "answerable": answerable, "status": answer.status,
            "kind": case.get("kind", ""), "rank": gold_rank(answer.retrieved, gold) if answerable and gold else None,
            "in_text": in_text, "parts": len(parts), "parts_found": sum(parts_found),
            "has_gold": bool(gold), "follow_up": turn > 0, "conversation": case.get("conversation"),
            "typed": answerable and case.get("kind") in TYPED and bool(case.get("answer")),
            "line_right": line_holds(answer.line, case.get("answer") or "", case.get("kind", "")),
            "off_topic": case.get("kind") == OFF_TOPIC,
            "handled": answer.intent != QUESTION and not answer.citations, "caveat": answer.status == PARTIAL,
            "line": answer.line, "expected": case.get("answer") or "", "first_quote": _first_quote(answer)}


def _first_quote(answer) -> str:
    return answer.citations[0].text if answer.citations else ""


def _correct(row: dict) -> bool:
    """What the user reads is right: the gold for an answerable question, what Zhibu answers for small
    talk, no confident answer otherwise."""
    if row["off_topic"]:
        return row["handled"]
    return row["in_text"] and row["status"] != NOT_COVERED if row["answerable"] else row["status"] != ANSWERED


def _summary(rows: list[dict], latencies: list[float]) -> dict:
    answerable = [r for r in rows if r["answerable"] and not r["follow_up"]]
    uncovered = [r for r in rows if not r["answerable"] and not r["follow_up"] and not r["off_topic"]]
    off_topic = [r for r in rows if r["off_topic"]]
    typed = [r for r in rows if r["typed"]]
    ranked = [r for r in answerable if r["has_gold"]]
    multi = [r for r in rows if r["parts"]]
    follow_ups = [r for r in rows if r["follow_up"]]

    def share(hits: int, total: int) -> float:
        return hits / total if total else 0.0

    def hit_at(n: int) -> float:
        return share(sum(1 for r in ranked if r["rank"] and r["rank"] <= n), len(ranked))

    confusion = {expected: dict(Counter(r["status"] for r in group)) for expected, group in
                 (("answerable", answerable), ("uncovered", uncovered))}
    return {
        "questions": len(rows),
        "answerable": len(answerable),
        "uncovered": len(uncovered),
        "hit@1": hit_at(1),
        "hit@3": hit_at(3),
        "hit@5": hit_at(5),
        "mrr": share(sum(1 / r["rank"] for r in ranked if r["rank"]), len(ranked)) if ranked else 0.0,
        "gold_in_answer": share(sum(1 for r in answerable if r["in_text"] and r["status"] != NOT_COVERED), len(answerable)),
        "answered": sum(1 for r in answerable if r["status"] == ANSWERED),
        "answered_without_caveat": share(sum(1 for r in answerable if r["status"] == ANSWERED), len(answerable)),
        "typed": len(typed),
        "answer_line_right": share(sum(1 for r in typed if r["line_right"]), len(typed)),
        "lines_judged": sum(1 for r in typed if r["judged"] is not None),
        "answer_line_judged_right": share(sum(1 for r in typed if r["judged"]), sum(1 for r in typed if r["judged"] is not None)),
        "to_judge": [r for r in typed if r["judged"] is None],
        "off_topic": len(off_topic),
        "off_topic_handled": share(sum(1 for r in off_topic if r["handled"]), len(off_topic)),
        "confusion": confusion,
        "uncovered_not_answered": share(sum(1 for r in uncovered if r["status"] != ANSWERED), len(uncovered)),
        "uncovered_refused": sum(1 for r in uncovered if r["status"] == NOT_COVERED),
        "false_refusals": sum(1 for r in answerable if r["status"] == NOT_COVERED),
        "false_refusal_rate": share(sum(1 for r in answerable if r["status"] == NOT_COVERED), len(answerable)),
        "multi_part_questions": len(multi),
        "multi_part_coverage": share(sum(r["parts_found"] for r in multi), sum(r["parts"] for r in multi)),
        "multi_part_complete": share(sum(1 for r in multi if r["parts_found"] == r["parts"]), len(multi)),
        "follow_ups": len(follow_ups),
        "follow_up_accuracy": share(sum(1 for r in follow_ups if _correct(r)), len(follow_ups)),
        "latency_ms_mean": 1000 * sum(latencies) / len(latencies) if latencies else 0.0,
        "misses": [r for r in rows if not _correct(r)],
        "wrong_lines": [r for r in typed if not r["line_right"]],
    }


def format_report(report: dict) -> str:
    lines = [
        f"questions {report['questions']} (answerable {report['answerable']}, uncovered {report['uncovered']}, "
        f"follow-ups {report['follow_ups']})",
        f"hit@1 {report['hit@1']:.3f}  hit@3 {report['hit@3']:.3f}  hit@5 {report['hit@5']:.3f}  MRR {report['mrr']:.3f}",
        f"gold in answer text {report['gold_in_answer']:.3f}  (answered {report['answered']}/{report['answerable']})",
        f"answered without a caveat {report['answered_without_caveat']:.3f} of answerable",
        f"uncovered not presented as answered {report['uncovered_not_answered']:.3f}  "
        f"(refused {report['uncovered_refused']}/{report['uncovered']})" if report["uncovered"] else "no uncovered questions",
        f"false refusals {report['false_refusals']}/{report['answerable']} ({report['false_refusal_rate']:.3f})",
        "outcomes       " + "  ".join(f"{status:>11}" for status in STATUSES),
    ]
    for expected, counts in report["confusion"].items():
        lines.append(f"  {expected:<12} " + "  ".join(f"{counts.get(status, 0):>11}" for status in STATUSES))
    if report["typed"]:
        lines.append(f"answer line right {report['answer_line_right']:.3f} of {report['typed']} typed questions (automatic check)")
    if report["lines_judged"]:
        lines.append(f"answer line right {report['answer_line_judged_right']:.3f} of {report['lines_judged']} lines judged "
                     f"by a reader; {len(report['to_judge'])} lines not yet judged")
    if report["off_topic"]:
        lines.append(f"off-topic handled {report['off_topic_handled']:.3f} of {report['off_topic']}")
    if report["multi_part_questions"]:
        lines.append(f"multi-part: {report['multi_part_questions']} questions, parts answered {report['multi_part_coverage']:.3f}, "
                     f"all parts {report['multi_part_complete']:.3f}")
    if report["follow_ups"]:
        lines.append(f"follow-ups: {report['follow_ups']} turns, accuracy {report['follow_up_accuracy']:.3f}")
    lines.append(f"mean latency {report['latency_ms_mean']:.1f} ms")
    for miss in report["misses"]:
        where = f" [{miss['conversation']}]" if miss["conversation"] is not None else ""
        lines.append(f"  miss {miss['id']}{where}: status={miss['status']} rank={miss['rank']} "
                     f"gold_in_text={miss['in_text']}  {miss['question']}")
    for row in report["wrong_lines"]:
        lines.append(f"  line {row['id']}: {row['question']}")
    return "\n".join(lines)
