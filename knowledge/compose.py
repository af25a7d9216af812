"""The composer: the reply text from the answered parts — the direct answer line first, then each quote
with its source and number; a caveat before a partial answer; a refusal with at most three pointers.
Citations are numbered [1], [2]… in the order first quoted; other retrieved clauses are "related"."""

from __future__ import annotations

import re

from knowledge.answer import ANSWERED, NOT_COVERED, PARTIAL, Answer, Citation, PartAnswer
from knowledge.messages import COVERAGE_NOTE, not_covered_text, self_check_hint
from zhibu.text import quoted

POINTER_COVERAGE = 0.30  # a refusal points to a clause only when it is plausibly related
_CHINESE_ORDINALS = "一二三四五六七八九十"
_NUMBER = re.compile(r"\[(\d+)\]")


def compose(question: str, parts: list[PartAnswer], resolved: str = "", channel: str | None = None,
            note: str = "") -> Answer:
    """The reply text, the citations in the order they are first quoted, the rest as related;
    `note`: what was read differently from what was typed ("（按“最强”理解）")."""
    cited: dict[str, Citation] = {}
    blocks = [_part_block(part, cited, alone=len(parts) == 1, channel=channel) for part in parts]
    statuses = {part.status for part in parts}
    status = statuses.pop() if len(statuses) == 1 else PARTIAL
    if len(parts) > 1:
        text = "\n\n".join(f"{_CHINESE_ORDINALS[n] if n < 10 else n + 1}、{p.asked or p.question}\n{block}"
                           for n, (p, block) in enumerate(zip(parts, blocks)))
        if NOT_COVERED in {p.status for p in parts}:
            text += f"\n\n{COVERAGE_NOTE}{self_check_hint(channel)}"
    else:
        text = blocks[0]
    if note:
        text = f"{note}\n{text}"
    retrieved = _retrieved(parts)
    related = [c for c, coverage in retrieved if c.chunk_id not in cited and coverage >= POINTER_COVERAGE]
    if status == NOT_COVERED:
        related = []  # a refusal names its pointers in the text already
    line = parts[0].line if len(parts) == 1 else ""
    return Answer(question=question, found=status == ANSWERED, answer=text, citations=list(cited.values()),
                  status=status, related=related, retrieved=[c for c, _ in retrieved], resolved=resolved, line=line)


def _part_block(part: PartAnswer, cited: dict[str, Citation], alone: bool, channel: str | None) -> str:
    if part.given is not None:
        return _renumbered(part.given, cited)
    lines = []
    for quote in part.quotes:
        chunk = quote.doc.metadata["chunk_id"]
        if chunk not in cited:
            cited[chunk] = Citation.from_document(quote.doc, quote.item)
        number = list(cited).index(chunk) + 1
        lines.append(f"{quote.doc.metadata['short_title']}·{cited[chunk].place}：{quoted(quote.text)}[{number}]")
    return _part_text(part, lines, alone, channel)


def _renumbered(given: Answer, cited: dict[str, Citation]) -> str:
    """An answer given before retrieval, its citation numbers continued from the parts before it."""
    numbers = {}
    for n, citation in enumerate(given.citations, start=1):
        cited.setdefault(citation.chunk_id, citation)
        numbers[n] = list(cited).index(citation.chunk_id) + 1
    return _NUMBER.sub(lambda m: f"[{numbers.get(int(m.group(1)), m.group(1))}]", given.answer)


def _part_text(part: PartAnswer, lines: list[str], alone: bool, channel: str | None) -> str:
    if part.status == ANSWERED:
        return "\n".join(([part.line] if part.line else []) + lines)
    if part.status == PARTIAL:
        opening = f"文件没有直接规定{part.caveat}" if part.caveat else "文件没有直接回答这一问"
        return f"{opening}；最接近的规定是：\n" + "\n".join(lines)
    text = not_covered_text(channel) if alone else "现有政策文件没有直接回答这个问题，我不能凭空作答。"
    pointers = [Citation.from_document(d) for d in part.documents[:3] if d.metadata["coverage"] >= POINTER_COVERAGE]
    if pointers:
        text += "\n可能相关的条文（仅供参考，并非直接答案）：" + "；".join(p.label for p in pointers)
    return text


def _retrieved(parts: list[PartAnswer]) -> list[tuple[Citation, float]]:
    """Every passage retrieved for any part, best first, with its coverage of the question."""
    seen: dict[str, tuple[Citation, float]] = {}
    for part in parts:
        for doc in part.documents:
            seen.setdefault(doc.metadata["chunk_id"], (Citation.from_document(doc), doc.metadata["coverage"]))
    return list(seen.values())


def refusal(question: str, reason: str, intent: str) -> Answer:
    return Answer(question=question, found=False, answer=reason, status=NOT_COVERED, intent=intent)
