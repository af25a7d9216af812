"""`zhibu check --template DOMAIN`: a fillable YAML profile with a Chinese comment on every key.

Valid as printed (every fact left empty is simply 待补充); filled in, it is the profile `zhibu check` reads.
"""

from __future__ import annotations

from datetime import date

from evaluators.parameters import year_span
from evaluators.profile import DOMAINS, IDENTITY_KEYS, ask_as, contract_fields
from evaluators.rulebook import load_rulebook

_KIND_NOTES = {
    "bool": "填 是 或 否",
    "int": "整数",
    "number": "数字",
    "ratio": "百分比，如 35%",
    "date": "日期，如 2015-06-01",
}
_COMMENT_COLUMN = 40


def profile_template(domain: str, year: int | None = None) -> str:
    rulebook = load_rulebook()
    rules = rulebook.domain(domain)
    year = year or date.today().year
    lines = [
        f"# “最强党支部”自查档案：{DOMAINS[domain]}党支部。填好后运行：zhibu check 本文件名",
        "# 每项冒号后面填写；不清楚的留空，结论中列为“待补充”（不会当作达标）。",
        "# 是非项填“是”或“否”，按注释中的说法填写；金额可写“8万”；日期写 2015-06-01。",
        _line("domain", domain, f"党支部所处领域：{DOMAINS[domain]}（不要改）"),
        _line("year", str(year), "评定年度"),
        _line("name", "", "党支部名称"),
    ]
    sections: dict[str, list[str]] = {"": [], "negative": [], "facts": []}
    for key, info in contract_fields(domain).items():
        spec = rules.facts.get(key)
        if key in IDENTITY_KEYS or spec is None or (spec.ask_domains is not None and domain not in spec.ask_domains):
            continue
        head, _, rest = key.rpartition(".")
        sections[head].append(_line(rest, "", _comment(spec, ask_as(info), key), indent="  " if head else ""))
    lines += sections[""]
    for head, title in (("negative", "负面情形（当年度）"), ("facts", f"{DOMAINS[domain]}党支部的参考标准（工作指南 附件2）")):
        lines += ["", f"{head}:{' ' * (_COMMENT_COLUMN - len(head) - 1)}# {title}"] + sections[head]
    lines += _parameter_lines(domain, rulebook)
    return "\n".join(lines) + "\n"


def _comment(spec, ask, key: str) -> str:
    if ask.kind == "bool":  # say what 是 records, in the chat's words: 是 never means "no problem" by surprise
        true_text, false_text = (spec.yes_text, spec.no_text) if spec.yes_value else (spec.no_text, spec.yes_text)
        return f"{spec.label}？填 是（{true_text}）或 否（{false_text}）" if true_text else f"{spec.label}？{_KIND_NOTES['bool']}"
    if ask.kind in ("enum", "multi"):
        choices = "、".join(label for _, label in ask.choices)
        how = "可选" if ask.kind == "enum" else "已具备的各项，用顿号隔开，可选"
        return f"{spec.label}（{how}：{choices}）"
    unit = f"，单位：{spec.unit.replace('第{}', '')}" if spec.unit else ""  # an ordinal "第{}名" is counted in 名
    note = "；未实行量化积分管理的留空" if key == "points_score" else ""
    return f"{spec.label}（{_KIND_NOTES[ask.kind]}{unit}{note}）"


def _parameter_lines(domain: str, rulebook) -> list[str]:
    parameters = rulebook.parameters.for_domain(domain)
    if not parameters:
        return []
    lines = ["", f"parameters:{' ' * (_COMMENT_COLUMN - 11)}# 只在文件没有规定评定年度的标准时填写：上级公布的本年度标准"]
    for parameter in parameters:
        shown = "；".join(f"{year_span([value.start])}{parameter.show(value.value)}"
                         for value in rulebook.parameters.values(parameter.name))
        lines.append(_line(parameter.name, "", f"{parameter.label}（{parameter.unit}；文件规定：{shown}）", indent="  "))
    return lines


def _line(key: str, value: str, comment: str, indent: str = "") -> str:
    text = f"{indent}{key}: {value}".rstrip() + " "
    return f"{text}{' ' * max(1, _COMMENT_COLUMN - len(text))}# {comment}"
