"""The Chinese reports of one evaluation (used by `zhibu check` and by the chat bot).

`render_report` is phone-sized: the verdict, what is to be confirmed, each failed criterion with its
reason, clause and remedy, each unknown one on one line with what to find out, passed items as a count,
the benefits in one line each (the clause's figures first) and the next step. `render_details` is the
long form the user may ask for: every criterion with its reason and clause, the benefits with their clauses.
"""

from __future__ import annotations

import re

from evaluators.checks import FAIL, NOT_APPLICABLE, PASS
from evaluators.engine import CriterionResult, Evaluation
from evaluators.profile import DOMAINS
from zhibu.text import chinese_punctuation, quoted

_CHINESE_NUMBERS = "一二三四五六七八九十"
def cite(citation: dict[str, str]) -> str:
    """《文件》（文号）章节：“原文”"""
    number = f"（{citation['doc_number']}）" if citation.get("doc_number") else ""
    section = chinese_punctuation(citation.get("section") or "")
    # An excerpt cut at a list's ；/，keeps no dangling mark before the closing quote (no “…；”；).
    excerpt = chinese_punctuation(citation.get("quote") or "").rstrip("；，、：;,")
    quote = f"：{quoted(excerpt)}" if excerpt else ""
    return f"《{citation['document']}》{number}{section}{quote}"


def _heading(evaluation: Evaluation) -> list[str]:
    name = evaluation.name or "本党支部"
    return [f"【“最强党支部”自查】{name}（{DOMAINS[evaluation.domain]} · {evaluation.year}年度）",
            f"结论：{evaluation.verdict_label}"]


def sorted_results(evaluation: Evaluation) -> dict[str, list[CriterionResult]]:
    """Every criterion once, under the one heading it belongs to (a pass judged against another year's
    figure is 待确认, not also 已达标; an unknown 四评 result is 待四评, not 待补充)."""
    passed = evaluation.by_status(PASS)
    return {
        "未达标": evaluation.by_status(FAIL),
        "待确认": [result for result in passed if result.to_confirm],
        "待补充": evaluation.to_fill,
        "待四评": evaluation.awaiting_review,
        "已达标": [result for result in passed if not result.to_confirm],
        "不适用": evaluation.by_status(NOT_APPLICABLE),
    }


def _counts(evaluation: Evaluation) -> str:
    groups = sorted_results(evaluation)
    order = ("已达标", "待确认", "未达标", "待补充", "待四评", "不适用")
    parts = [f"{title} {len(groups[title])} 项" for title in order if groups[title] or title == "已达标"]
    return "，".join(parts) + "。"


def render_report(evaluation: Evaluation) -> str:
    lines = _heading(evaluation) + [_counts(evaluation)]
    groups = sorted_results(evaluation)
    confirm = [text for result, text in zip(evaluation.to_confirm, evaluation.to_confirm_texts()) if result.status == PASS]
    sections = [
        ("待确认", [[f"！ {text}"] for text in confirm]),
        ("未达标", [_failed_block(result) for result in groups["未达标"]]),
        ("待补充（弄清后重新自查）", [[_unknown_line(result)] for result in groups["待补充"]]),
        ("待四评（上级党组织年底前后开展，结果出来后补填）", [[f"… {result.requirement}"] for result in groups["待四评"]]),
        ("基本标准未自评（工作指南四、（一）（二），申报前请逐项对照）",
         [[f"□ {result.requirement}"] for result in evaluation.basic_not_assessed]),
        ("评定后可享受的激励保障（由上级党委评定后落实）", [_benefit_lines(benefit) for benefit in evaluation.benefits]),
        ("下一步", [[evaluation.next_step["text"]]]),
    ]
    for number, (title, blocks) in enumerate((s for s in sections if s[1]), start=0):
        lines += ["", f"{_CHINESE_NUMBERS[number]}、{title}"]
        for block in blocks:
            lines += block
    return "\n".join(lines)


def _failed_block(result: CriterionResult) -> list[str]:
    return [f"✗ {result.requirement}", f"  原因：{result.reason}", f"  依据：{cite(result.citation)}",
            f"  建议：{result.remedy}"]


def _unknown_line(result: CriterionResult) -> str:
    words = result.rule.check.words
    missing = "、".join(f"「{words.label(key)}」" for key in result.missing)
    return f"？ {result.requirement}——待补充：{missing}" if missing else f"？ {result.reason}"


def _benefit_lines(benefit) -> list[str]:
    lines = [f"• {benefit.short or benefit.title}"]
    if benefit.amount_text:
        lines.append(f"  {benefit.amount_text}")
    return lines


def render_details(evaluation: Evaluation) -> str:
    """Every criterion with its reason and clause, then the benefits with theirs: the report's long form."""
    lines = _heading(evaluation) + [_counts(evaluation)]
    marks = {"未达标": "✗", "待确认": "！", "待补充": "？", "待四评": "…", "已达标": "✓", "不适用": "－"}
    for title, results in sorted_results(evaluation).items():
        if results:
            lines += ["", f"【{title}】"]
        for result in results:
            lines += [f"{marks[title]} {result.requirement}", f"  {result.reason}",
                      f"  依据：{cite(result.citation)}"]
            if result.parameter and result.parameter.source:
                lines.append(f"  {result.parameter.year_used}年标准的依据：{cite(result.parameter.source)}")
    if evaluation.benefits:
        lines += ["", "【评定后可享受的激励保障】"]
        for benefit in evaluation.benefits:
            lines += [f"• {benefit.title}：{benefit.text}"] + ([f"  {benefit.amount_text}"] if benefit.amount_text else [])
            lines.append(f"  依据：{cite(benefit.citation)}")
    lines += ["", "【下一步】", evaluation.next_step["text"], f"依据：{cite(evaluation.next_step['citation'])}"]
    return "\n".join(lines)
