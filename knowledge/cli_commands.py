"""`zhibu ingest`, `zhibu ask` and `zhibu eval-qa`: parse, call the service, print."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from zhibu.output import emit_json
from zhibu.errors import BadInput
from zhibu.settings import get_settings


def _service():
    from knowledge.service import get_qa_service

    return get_qa_service(get_settings())


def _progress_bar():
    """A tqdm bar on a terminal (stderr), nothing when piped."""
    from tqdm import tqdm

    bar = tqdm(total=0, unit="段", desc="嵌入", disable=not sys.stderr.isatty(), file=sys.stderr)

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    return bar, update


def run_ingest(paths: list[Path], *, remove: list[str], include_corpus: bool, as_json: bool) -> None:
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise BadInput(f"找不到文件 (no such file or folder): {', '.join(missing)}")
    bar, update = _progress_bar()
    with bar:
        report = _service().ingest([p.resolve() for p in paths], include_corpus=include_corpus, remove=remove, progress=update)
    if as_json:
        emit_json(report.to_dict())
        return
    for label, ids in (("added", report.added), ("replaced", report.replaced), ("removed", report.removed), ("unchanged", report.unchanged)):
        print(f"{label:9} {len(ids):3}  {' '.join(ids)}")
    print(f"embedded {report.embedded} passages, reused {report.reused}; generation {report.generation or '(unchanged)'}")


def format_answer(answer) -> str:
    """The answer, its numbered sources, and the other retrieved clauses folded under one line."""
    lines = [answer.answer]
    if answer.citations:  # a refusal names its pointers in the text already
        lines += ["", "出处："] + [f"[{n}] {c.label}" for n, c in enumerate(answer.citations, start=1)]
    if answer.related:
        lines += ["", "更多相关条文：" + "；".join(dict.fromkeys(c.label for c in answer.related))]
    return "\n".join(lines)


def _read_questions(path: Path) -> list[tuple[str, str | None]]:
    """(question, conversation) pairs: one question per line, or JSONL with "question" and an optional
    "conversation" (lines with the same value are one conversation, asked in order)."""
    if not path.is_file():
        raise BadInput(f"找不到问题文件 (no such file): {path}")
    questions = []
    from knowledge.evaluation import read_utf8

    for number, line in enumerate(read_utf8(path, "问题文件").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        conversation = None
        if line.startswith("{"):
            try:
                row = json.loads(line)
                line, conversation = row["question"], row.get("conversation")
            except (ValueError, KeyError, TypeError, RecursionError) as exc:
                raise BadInput(f"{path}:{number}: JSONL 行需要 question 字段 (needs a 'question' field)") from exc
        questions.append((line, None if conversation is None else str(conversation)))
    return questions


def run_ask(question: str | None, *, as_json: bool, k: int, questions_file: Path | None) -> None:
    if questions_file is not None:
        service = _service()
        contexts: dict[str, dict | None] = {}  # the last answer's context per conversation
        for text, conversation in _read_questions(questions_file):
            answer = service.ask(text, k=k, context=contexts.get(conversation) if conversation else None)
            if conversation:
                contexts[conversation] = answer.context
            emit_json(answer.to_dict() | ({"conversation": conversation} if conversation else {}))
        return
    if question is None or not question.strip():
        raise BadInput("请给出问题，例如：zhibu ask \"最强党支部多长时间评定一次？\" (question is empty)")
    answer = _service().ask(question, k=k)
    if as_json:
        emit_json(answer.to_dict())
    else:
        print(format_answer(answer))


def run_eval_qa(file: Path, *, k: int, as_json: bool, min_hit5: float, judged: Path | None = None,
                to_judge: Path | None = None) -> None:
    from knowledge.evaluation import evaluate_questions, format_report, load_cases, load_judgements

    report = evaluate_questions(_service(), load_cases(file), k=k, judged=load_judgements(judged) if judged else None)
    if to_judge is not None:  # the lines a reader has not judged yet, with what they rest on
        fields = ("id", "question", "expected", "line", "first_quote")
        to_judge.write_text("".join(json.dumps({key: row[key] for key in fields}, ensure_ascii=False) + "\n"
                                    for row in report["to_judge"]), encoding="utf-8")
    if as_json:
        emit_json(report)
    else:
        print(format_report(report))
    if report["hit@5"] < min_hit5:
        sys.stderr.write(f"hit@5 {report['hit@5']:.3f} is below the floor {min_hit5:.3f}\n")
        raise SystemExit(1)
