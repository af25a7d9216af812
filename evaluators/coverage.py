"""What the rulebook's dated figures cover, in words: the year notes the chat and `zhibu check` show, the
parameter list of the staff console. (Kept apart from `parameters.py`, which the rulebook itself imports.)"""

from __future__ import annotations

from datetime import date
from typing import Any

from evaluators.parameters import year_span
from evaluators.rulebook import load_rulebook


FIRST_RATED_YEAR = 2020  # the 最强党支部 scheme starts with the 2020 documents (从2020年起)


def year_range_notice(year: int, today: date | None = None) -> str | None:
    """A warning when `year` lies outside 2020…this year (the chat refuses such a year; `zhibu check` warns)."""
    this_year = (today or date.today()).year
    if FIRST_RATED_YEAR <= year <= this_year:
        return None
    why = "“最强党支部”评定从2020年开始" if year < FIRST_RATED_YEAR else "这一年度还没有到"
    return (f"提示：评定年度{year}年不在{FIRST_RATED_YEAR}年至{this_year}年之间（{why}），请核对档案中的年度；"
            "以下结论照常给出，仅供参考。")


def known_parameters() -> list[dict[str, Any]]:
    """Every dated parameter with its values per year, for the staff console (rulebook and staff values)."""
    table = load_rulebook().parameters
    return [
        {
            "name": parameter.name,
            "label": parameter.label,
            "kind": parameter.kind,
            "unit": parameter.unit or "%",
            "domains": list(parameter.domains),
            "values": [
                {"from": value.start, "until": value.end, "value": value.value,
                 "shown": parameter.show(value.value), "source": dict(value.source), "origin": value.origin,
                 "entered_by": value.entered_by, "entered_at": value.entered_at}
                for value in sorted(table.values(name), key=lambda value: (value.start, value.origin != "staff"))
            ],
        }
        for name, parameter in table.parameters.items()
    ]


def year_coverage(domain: str | None = None) -> str:
    """What the texts (and staff entries) cover, to show before the user picks a year.

    e.g. "文件规定了2020—2023年的目标；2021年嘎查村集体经济年经营性收入标准为超过5万元。"
    """
    table = load_rulebook().parameters
    parts = [f"文件规定了{year_span(table.documented_years('targets.share'))}的目标"]
    per_branch = [p for p in table.parameters.values() if p.domains and (domain is None or domain in p.domains)]
    for parameter in per_branch:
        parts += [f"{year_span([value.start])}{parameter.label}为{parameter.show(value.value)}"
                  for value in sorted(table.values(parameter.name), key=lambda value: value.start)]
    if domain is not None and not per_branch:
        parts.append("本领域的评定条件不随年度变化")
    return "；".join(parts) + "。"


def year_notice(domain: str, year: int) -> str | None:
    """A note when `year` lies outside what the texts cover (None inside); the chat and `zhibu check` show it."""
    table = load_rulebook().parameters
    dated = table.for_domain(domain)
    notes = []
    for parameter in dated:
        resolved = table.resolve(parameter.name, year)
        if resolved.to_confirm:
            notes.append(f"{year}年没有文件规定的{parameter.label}：如知道上级公布的本年度标准可以填写，"
                         f"否则按{resolved.year_used}年的标准（{resolved.shown}）判断，结论中标为“待确认”")
    if not dated and year not in table.documented_years("targets.share"):
        target_years = year_span(table.documented_years("targets.share"))
        notes.append(f"文件规定了{target_years}的目标，没有{year}年的；本领域的评定条件不随年度变化，照常判断")
    return "提示：" + "；".join(notes) + "。" if notes else None
