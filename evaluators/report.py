"""The Chinese human report of one evaluation (used by `zhibu check` and by the chat bot)."""

from __future__ import annotations

from evaluators.checks import FAIL, NOT_APPLICABLE, PASS, UNKNOWN
from evaluators.engine import CriterionResult, Evaluation
from evaluators.profile import DOMAINS
from zhibu.text import chinese_punctuation, quoted

_CHINESE_NUMBERS = "一二三四五六七八九十"


def cite(citation: dict[str, str]) -> str:
    """《文件》（文号）章节：“原文”"""
    number = f"（{citation['doc_number']}）" if citation.get("doc_number") else ""
    return f"《{citation['document']}》{number}{chinese_punctuation(citation['section'])}：{quoted(chinese_punctuation(citation['quote']))}"


def render_report(evaluation: Evaluation) -> str:
    name = evaluation.name or "本党支部"
    counts = {status: len(evaluation.by_status(status)) for status in (FAIL, UNKNOWN, PASS, NOT_APPLICABLE)}
    lines = [
        f"【“最强党支部”自查】{name}（{DOMAINS[evaluation.domain]} · {evaluation.year}年度）",
        f"结论：{evaluation.verdict_label}"
        f"（未达标 {counts[FAIL]} 项，待补充 {counts[UNKNOWN]} 项，已达标 {counts[PASS]} 项，不适用 {counts[NOT_APPLICABLE]} 项）",
    ]
    sections = [
        ("未达标", [_criterion_block(result) for result in evaluation.by_status(FAIL)]),
        ("待补充", [_criterion_block(result, evaluation.missing_prompts) for result in evaluation.by_status(UNKNOWN)]),
        ("已达标与不适用", _passes(evaluation)),
        ("评定后可享受的激励保障", [_benefit_block(benefit) for benefit in evaluation.benefits]),
        ("下一步", [[evaluation.next_step["text"], f"依据：{cite(evaluation.next_step['citation'])}"]]),
    ]
    for number, (title, blocks) in enumerate((s for s in sections if s[1]), start=0):
        lines += ["", f"{_CHINESE_NUMBERS[number]}、{title}"]
        for block in blocks:
            lines += block
    return "\n".join(lines)


def _criterion_block(result: CriterionResult, prompts: dict[str, str] | None = None) -> list[str]:
    block = [f"✗ {result.requirement}" if result.status == FAIL else f"？ {result.requirement}",
             f"  原因：{result.reason}"]
    for key in result.missing:
        block.append(f"  请补充：{(prompts or {}).get(key) or key}（{key}）")
    block.append(f"  依据：{cite(result.citation)}")
    if result.parameter_citation:
        block.append(f"  年度要求依据：{cite(result.parameter_citation)}")
    block.append(f"  建议：{result.remedy}")
    return block


def _passes(evaluation: Evaluation) -> list[list[str]]:
    passed = evaluation.by_status(PASS)
    not_applicable = evaluation.by_status(NOT_APPLICABLE)
    blocks = []
    if passed:
        blocks.append([f"✓ 已达标 {len(passed)} 项：" + "；".join(result.requirement for result in passed)])
    blocks += [[f"－ 不适用：{result.reason}"] for result in not_applicable]
    return blocks


def _benefit_block(benefit) -> list[str]:
    block = [f"• {benefit.title}：{benefit.text}"]
    if benefit.amount_text:
        block.append(f"  {benefit.amount_text}")
    block.append(f"  依据：{cite(benefit.citation)}")
    return block
