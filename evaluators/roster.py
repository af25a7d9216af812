"""The roster as staff fill it: Chinese column names, and the XLSX template they start from.

A roster's first row may name a column by its key (`facts.stars`, as `zhibu batch` always read) or by
its Chinese label as the rulebook gives it, with or without the unit in brackets ("年度“十星级”评定星数（颗星）").
The template carries every column of every domain with its unit, drop-down lists for the domain, the
是/否 and the choice columns, an example row (skipped when read) and a sheet naming each column's clause.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from evaluators.profile import DOMAINS, IDENTITY_KEYS, ask_as, contract_fields
from evaluators.rulebook import load_rulebook
from ingest.clean import normalize_chars
from zhibu.text import chinese_punctuation

IDENTITY_LABELS = {"domain": "所处领域", "year": "评定年度", "name": "党支部名称"}
EXAMPLE_NAME = "示例党支部（此行为示例，填写时请删除）"
EXAMPLE_FILE = Path(__file__).with_name("roster_example.yaml")
_UNIT_NOTE = re.compile(r"[（(][^（）()]*[）)]$")  # "星数（颗星）" → "星数"
_HOW = {"bool": "填 是 或 否（下拉选择）", "int": "整数", "number": "数字，金额可写“8万”", "ratio": "百分比，如 35%",
        "date": "日期，如 2015-06-01", "enum": "下拉选择", "multi": "已具备的各项，用顿号隔开"}


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    unit: str
    kind: str
    choices: tuple[str, ...]
    domains: tuple[str, ...]
    clause: str

    @property
    def header(self) -> str:
        return f"{self.label}（{self.unit}）" if self.unit else self.label


@lru_cache(maxsize=1)
def columns() -> tuple[Column, ...]:
    """Every roster column in contract order: identity first, then each key as the first domain names it."""
    rulebook = load_rulebook()
    found: dict[str, dict[str, Any]] = {
        "domain": {"label": IDENTITY_LABELS["domain"], "unit": "", "kind": "enum", "choices": tuple(DOMAINS.values()),
                   "domains": [], "clause": "《工作指南》附件2 各领域党支部的参考标准"},
        "year": {"label": IDENTITY_LABELS["year"], "unit": "年", "kind": "int", "choices": (), "domains": [], "clause": ""},
        "name": {"label": IDENTITY_LABELS["name"], "unit": "", "kind": "text", "choices": (), "domains": [], "clause": ""},
    }
    for domain in DOMAINS:
        rules = rulebook.domain(domain)
        clauses = {key: criterion.citation for criterion in reversed(rules.criteria) for key in criterion.reads}
        for key, info in contract_fields(domain).items():
            spec = rules.facts.get(key)
            if key in IDENTITY_KEYS or spec is None:
                continue
            column = found.setdefault(key, _column_fields(spec, ask_as(info), clauses.get(key)))
            column["domains"].append(domain)
    every = set(DOMAINS)
    return tuple(Column(key, item["label"], item["unit"], item["kind"], item["choices"],
                        () if set(item["domains"]) in (set(), every) else tuple(item["domains"]), item["clause"])
                 for key, item in found.items())


def _column_fields(spec, ask, citation) -> dict[str, Any]:
    kind = ask.kind if ask else "text"
    unit = spec.unit.replace("第{}", "") if spec.unit else ("%" if kind == "ratio" else "")
    choices = ("是", "否") if kind == "bool" else tuple(label for _, label in ask.choices) if ask else ()
    clause = chinese_punctuation(f"《{citation.document}》{citation.section}") if citation else ""
    return {"label": spec.label, "unit": unit, "kind": kind, "choices": choices, "domains": [], "clause": clause}


@lru_cache(maxsize=1)
def _keys_by_header() -> dict[str, str]:
    known: dict[str, str] = {}
    rulebook = load_rulebook()
    for domain in DOMAINS:  # every domain's label of a key: a roster may use any of them
        for key, label in rulebook.labels(domain).items():
            known.setdefault(_folded(label), key)
    for column in columns():
        known[_folded(column.label)] = column.key
        known[_folded(column.key)] = column.key
    return known


def _folded(text: str) -> str:
    return normalize_chars(text).replace(" ", "").replace("\u3000", "")


def header_key(cell: Any) -> str:
    """The key a header cell names: a key as written, or a Chinese label with or without its unit."""
    text = str(cell).strip() if cell is not None else ""
    if not text:
        return ""
    known = _keys_by_header()
    folded = _folded(text)
    return known.get(folded) or known.get(_UNIT_NOTE.sub("", folded)) or text


def label_of(key: str) -> str:
    """The Chinese label of a roster key, for messages (the key itself only for an unknown column)."""
    return next((column.label for column in columns() if column.key == key), key)


def is_example(cells: dict[str, Any]) -> bool:
    return cells.get("name") == EXAMPLE_NAME


def write_template(out: Path) -> Path:
    """The XLSX roster template: 名单 (headers, drop-downs, an example row) and 填写说明 (each column's clause)."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    every = columns()
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "名单"
    sheet.append([column.header for column in every])
    example = _example_row()
    sheet.append([example.get(column.key, "") for column in every])
    for number, column in enumerate(every, start=1):
        letter = get_column_letter(number)
        sheet.column_dimensions[letter].width = min(max(10, len(column.header) * 2 + 2), 40)
        listed = ",".join(column.choices)
        if column.choices and column.kind != "multi" and len(listed) <= 250:  # Excel's limit for a list
            check = DataValidation(type="list", formula1=f'"{listed}"', allow_blank=True, showErrorMessage=True,
                                   errorTitle="请从列表中选择", error=f"{column.label}：请从下拉列表中选择。")
            check.add(f"{letter}2:{letter}5000")
            sheet.add_data_validation(check)
    _style_header(sheet, wrap_body=False)
    notes = workbook.create_sheet("填写说明")
    notes.append(["列名", "怎么填", "适用领域", "依据条款"])
    for column in every:
        domains = "、".join(DOMAINS[d] for d in column.domains) if column.domains else "所有领域"
        how = _HOW.get(column.kind, "文字") + (f"，可选：{'、'.join(column.choices)}" if column.kind in ("enum", "multi") else "")
        notes.append([column.header, how, domains, column.clause])
    notes.append([])
    notes.append(["说明", f"一行一个党支部；不清楚的留空（结论为“待补充”，不会当作达标）。“{EXAMPLE_NAME}”一行不参与评估。"])
    for letter, width in zip("ABCD", (36, 40, 40, 50)):
        notes.column_dimensions[letter].width = width
    _style_header(notes, wrap_body=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(out)
    return out


def _example_row() -> dict[str, Any]:
    example = yaml.safe_load(EXAMPLE_FILE.read_text(encoding="utf-8"))
    return {"name": EXAMPLE_NAME, "year": date.today().year} | example


def _style_header(sheet, wrap_body: bool) -> None:
    """Bold, wrapped, frozen first row; body cells wrapped where they hold sentences."""
    from openpyxl.styles import Alignment, Font, PatternFill

    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="F2DCDB")
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    if wrap_body:
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
