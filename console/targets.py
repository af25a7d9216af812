"""年度目标: the rulebook's dated parameters, and the values staff add for new years with their clause.

The records store is the record. After every change the staff values are exported, atomically, to
`$ZHIBU_HOME/parameters.yaml`, the file the evaluator reads (re-read when it changes), so the bot and
the CLI use a new value at once. A value is accepted only with a clause that stands, word for word, in
a document of the knowledge base, and only when it is the figure that clause states (10万元 = 100000).
Replacing a year's value is confirmed first. A value whose document (or clause) later leaves the knowledge
base is exported with `without_basis`: the evaluator then does not apply it and says 待确认.
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from console import knowledge
from console.auth import Staff, admin_form, current_staff, records_of, redirect
from knowledge.clauses import clause_form
from records.models import Target
from records.store import Records
from zhibu.errors import BadInput, quoted
from zhibu.settings import Settings
from zhibu.text import chinese_punctuation

router = APIRouter()
STAFF_FILE = "parameters.yaml"
YEARS = range(2020, 2101)
_NUMBER = re.compile(r"^(\d+(?:\.\d+)?)\s*(%|％|万元|万|元)?$")
# Figures a clause states, after NFKC (％ → %, full-width digits → digits); a bare number (a year) is no figure.
_STATED = {"money": re.compile(r"(\d+(?:\.\d+)?)(万元|万|元)"), "share": re.compile(r"(\d+(?:\.\d+)?)%|百分之(\d+(?:\.\d+)?)")}
FORM_FIELDS = ("parameter", "year", "value", "doc_id", "section", "quote")


def dated_parameters() -> list[dict[str, Any]]:
    """Every dated parameter: name, label, kind (share | money), values [{from, until, value, source, origin}]."""
    from evaluators.parameters import known_parameters

    return known_parameters()


def parse_value(text: str, kind: str) -> float:
    """"60%" / "0.6" → 0.6 for a share; "6万" / "60000元" → 60000 for money."""
    match = _NUMBER.match(text.strip().replace(",", "").replace("，", ""))
    if not match:
        raise BadInput(f"数值看不懂：“{quoted(text)}”。比例可写 60% 或 0.6，金额可写 60000 或 6万。")
    number, unit = float(match.group(1)), match.group(2) or ""
    if kind == "share":
        share = number / 100 if unit in ("%", "％") or number > 1 else number
        if not 0 < share <= 1 or unit.startswith(("万", "元")):
            raise BadInput("比例应在 0 到 100% 之间，例如 60%。")
        return round(share, 6)
    if unit in ("%", "％"):
        raise BadInput("这是金额，请写元数，例如 60000 或 6万。")
    return number * 10_000 if unit.startswith("万") else number


def show_value(kind: str, value: float) -> str:
    if kind == "share":
        return f"{value * 100:g}%"
    return f"{value / 10_000:g}万元" if value >= 10_000 else f"{value:g}元"


def stated_figures(quote: str, kind: str) -> list[float]:
    """The figures of `kind` a clause states: "超过10万元" → [100000]; "达到60%以上" → [0.6]."""
    figures = []
    for match in _STATED[kind].finditer(clause_form(quote)):
        if kind == "share":
            figures.append(float(match.group(1) or match.group(2)) / 100)
        else:
            number, unit = float(match.group(1)), match.group(2)
            figures.append(number * 10_000 if unit.startswith("万") else number)
    return figures


def check_figure(value: float, quote: str, kind: str) -> None:
    """The value must be the figure its clause states; BadInput naming both when it is not."""
    stated = stated_figures(quote, kind)
    if not stated:
        raise BadInput(f"摘录的条款中没有写明{'比例' if kind == 'share' else '金额'}，请摘录写有这个数值的那句话。")
    if not any(abs(value - figure) < 1e-9 * max(1.0, figure) for figure in stated):
        says = "、".join(show_value(kind, figure) for figure in stated)
        raise BadInput(f"数值与条款不一致：您填写的是 {show_value(kind, value)}，条款写的是 {says}。请核对后重新填写。")


def without_basis(settings: Settings, targets: list[Target]) -> dict[tuple[str, int], str]:
    """(parameter, year) → why a staff value has lost its basis (its document or clause left the knowledge base)."""
    generation = knowledge.active_generation(settings)
    flagged = {}
    for target in targets:
        try:
            knowledge.check_clause(settings, target.doc_id, target.quote, generation)
        except BadInput:
            flagged[(target.parameter, target.year)] = chinese_punctuation(f"依据文件《{target.document}》或其中的条款已不在知识库中")
    return flagged


def export_staff_file(records: Records, settings: Settings) -> Path:
    """Write every staff value as the evaluator's YAML list, atomically (temp file, then os.replace)."""
    targets = records.targets()
    flagged = without_basis(settings, targets)
    entries = [_entry(target, settings, flagged.get((target.parameter, target.year))) for target in targets]
    home = settings.zhibu_home
    path = home / STAFF_FILE
    descriptor, temp = tempfile.mkstemp(dir=home, prefix=f".{STAFF_FILE}.", suffix=".tmp")
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write("# 由管理台根据数据库生成，请在管理台“年度目标”页修改，不要手工编辑。\n")
        yaml.safe_dump(entries, handle, allow_unicode=True, sort_keys=False)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)
    return path


def _entry(target: Target, settings: Settings, lost: str | None) -> dict[str, Any]:
    value = int(target.value) if float(target.value).is_integer() and target.value > 1 else target.value
    entry = {"parameter": target.parameter, "year": target.year, "value": value,
             "source": {"doc_id": target.doc_id, "document": target.document, "doc_number": target.doc_number,
                        "section": target.section, "quote": target.quote},
             "entered_by": target.entered_by,
             "entered_at": target.entered_at.astimezone(settings.timezone).isoformat(timespec="seconds")}
    return entry | {"without_basis": lost} if lost else entry


async def _page(request: Request, staff: Staff, form: dict[str, str] | None = None, error: str = "",
                replacing: Target | None = None, replacing_with: float | None = None, status_code: int = 200) -> Response:
    settings = request.app.state.settings
    parameters = await asyncio.to_thread(dated_parameters)
    generation = await asyncio.to_thread(knowledge.active_generation, settings)
    for parameter in parameters:
        parameter["rulebook_values"] = [v for v in parameter["values"] if v.get("origin") != "staff"]
    staff_values = records_of(request).targets()
    context = {"parameters": parameters, "staff_values": staff_values,
               "flagged": await asyncio.to_thread(without_basis, settings, staff_values),
               "labels": {p["name"]: p for p in parameters}, "show_value": show_value,
               "documents": sorted(generation.documents.items()) if generation else [],
               "form": form or {"year": str(datetime.now(settings.timezone).year)}, "error": error,
               "replacing": replacing, "replacing_with": replacing_with}
    return request.app.state.render(request, "targets.html", context, staff, status_code=status_code)


@router.get("/targets")
async def targets_page(request: Request, staff: Staff = Depends(current_staff)) -> Response:
    return await _page(request, staff)


@router.post("/targets")
async def add_target(request: Request, parameter: str = Form(""), year: str = Form(""), value: str = Form(""),
                     doc_id: str = Form(""), section: str = Form(""), quote: str = Form(""), replace: str = Form(""),
                     staff: Staff = Depends(admin_form)) -> Response:
    settings = request.app.state.settings
    form = dict(zip(FORM_FIELDS, (parameter, year, value, doc_id, section, quote)))
    known = {p["name"]: p for p in await asyncio.to_thread(dated_parameters)}
    records = records_of(request)
    try:
        if parameter not in known:
            raise BadInput("请选择一个参数。")
        if not year.strip().isdigit() or int(year) not in YEARS:
            raise BadInput(f"年度应为 {YEARS.start}–{YEARS.stop - 1} 之间的四位年份。")
        if not section.strip():
            raise BadInput("请写明条款所在的章节，例如“一、（二）”。")
        kind = known[parameter].get("kind", "money")
        number = parse_value(value, kind)
        source = await asyncio.to_thread(knowledge.check_clause, settings, doc_id, quote)
        check_figure(number, quote, kind)
    except BadInput as error:
        request.app.state.audit.record(f"console:{staff.user.name}", "target", "rejected", f"{parameter} {year} {error}")
        return await _page(request, staff, form, f"未保存：{error}", status_code=400)
    existing = next((t for t in records.targets() if (t.parameter, t.year) == (parameter, int(year))), None)
    if existing is not None and replace != "yes":
        return await _page(request, staff, form, replacing=existing, replacing_with=number)
    source |= {"section": section.strip(), "quote": quote.strip()}
    records.set_target(parameter=parameter, year=int(year), value=number, source=source, entered_by=staff.user.name)
    export_staff_file(records, settings)
    request.app.state.audit.record(f"console:{staff.user.name}", "target", "ok", f"{parameter} {year} = {number}")
    label = known[parameter]["label"]
    replaced = f"（原为 {show_value(kind, existing.value)}）" if existing is not None else ""
    return redirect(request, "/targets", f"已保存：{year} 年度{label}为 {show_value(kind, number)}{replaced}。")


@router.post("/targets/delete")
async def delete_target(request: Request, parameter: str = Form(""), year: int = Form(0),
                        staff: Staff = Depends(admin_form)) -> Response:
    records = records_of(request)
    removed = records.delete_target(parameter, year)
    export_staff_file(records, request.app.state.settings)
    request.app.state.audit.record(f"console:{staff.user.name}", "target-delete", "ok" if removed else "rejected",
                                   f"{parameter} {year}")
    return redirect(request, "/targets", f"已删除 {year} 年度的数值。" if removed else "没有这条数值。")
