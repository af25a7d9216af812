"""年度目标: the rulebook's dated parameters, and the values staff add for new years with their clause.

The records store is the record. After every change the staff values are exported, atomically, to
`$ZHIBU_HOME/parameters.yaml`, the file the evaluator reads (re-read when it changes), so the bot and
the CLI use a new value at once. A value is accepted only with a clause that stands, word for word, in
a document of the knowledge base.
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
from records.models import Target
from records.store import CHINA, Records
from zhibu.errors import BadInput

router = APIRouter()
STAFF_FILE = "parameters.yaml"
YEARS = range(2020, 2101)
_NUMBER = re.compile(r"^(\d+(?:\.\d+)?)\s*(%|％|万元|万|元)?$")


def dated_parameters() -> list[dict[str, Any]]:
    """Every dated parameter: name, label, kind (share | money), values [{from, until, value, source, origin}]."""
    from evaluators.coverage import known_parameters

    return known_parameters()


def parse_value(text: str, kind: str) -> float:
    """"60%" / "0.6" → 0.6 for a share; "6万" / "60000元" → 60000 for money."""
    match = _NUMBER.match(text.strip().replace(",", "").replace("，", ""))
    if not match:
        raise BadInput(f"数值看不懂：{text!r}。比例可写 60% 或 0.6，金额可写 60000 或 6万。")
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


def export_staff_file(records: Records, home: Path) -> Path:
    """Write every staff value as the evaluator's YAML list, atomically (temp file, then os.replace)."""
    entries = [_entry(target) for target in records.targets()]
    path = home / STAFF_FILE
    descriptor, temp = tempfile.mkstemp(dir=home, prefix=f".{STAFF_FILE}.", suffix=".tmp")
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write("# 由管理台根据数据库生成，请在管理台“年度目标”页修改，不要手工编辑。\n")
        yaml.safe_dump(entries, handle, allow_unicode=True, sort_keys=False)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)
    return path


def _entry(target: Target) -> dict[str, Any]:
    value = int(target.value) if float(target.value).is_integer() and target.value > 1 else target.value
    return {"parameter": target.parameter, "year": target.year, "value": value,
            "source": {"doc_id": target.doc_id, "document": target.document, "doc_number": target.doc_number,
                       "section": target.section, "quote": target.quote},
            "entered_by": target.entered_by,
            "entered_at": target.entered_at.astimezone(CHINA).isoformat(timespec="seconds")}


@router.get("/targets")
async def targets_page(request: Request, staff: Staff = Depends(current_staff)) -> Response:
    settings = request.app.state.settings
    parameters = await asyncio.to_thread(dated_parameters)
    generation = await asyncio.to_thread(knowledge.active_generation, settings)
    for parameter in parameters:
        parameter["rulebook_values"] = [v for v in parameter["values"] if v.get("origin") != "staff"]
    context = {"parameters": parameters, "staff_values": records_of(request).targets(),
               "labels": {p["name"]: p for p in parameters}, "show_value": show_value,
               "documents": sorted(generation.documents.items()) if generation else [],
               "this_year": datetime.now(CHINA).year}
    return request.app.state.render(request, "targets.html", context, staff)


@router.post("/targets")
async def add_target(request: Request, parameter: str = Form(""), year: str = Form(""), value: str = Form(""),
                     doc_id: str = Form(""), section: str = Form(""), quote: str = Form(""),
                     staff: Staff = Depends(admin_form)) -> Response:
    settings = request.app.state.settings
    known = {p["name"]: p for p in await asyncio.to_thread(dated_parameters)}
    try:
        if parameter not in known:
            raise BadInput("请选择一个参数。")
        if not year.strip().isdigit() or int(year) not in YEARS:
            raise BadInput(f"年度应为 {YEARS.start}–{YEARS.stop - 1} 之间的四位年份。")
        if not section.strip():
            raise BadInput("请写明条款所在的章节，例如“一、(二)”。")
        number = parse_value(value, known[parameter].get("kind", "money"))
        source = await asyncio.to_thread(knowledge.check_clause, settings, doc_id, quote)
    except BadInput as error:
        request.app.state.audit.record(f"console:{staff.user.name}", "target", "rejected", f"{parameter} {year} {error}")
        return redirect(request, "/targets", f"未保存：{error}", "error")
    source |= {"section": section.strip(), "quote": quote.strip()}
    records = records_of(request)
    records.set_target(parameter=parameter, year=int(year), value=number, source=source, entered_by=staff.user.name)
    export_staff_file(records, settings.zhibu_home)
    request.app.state.audit.record(f"console:{staff.user.name}", "target", "ok", f"{parameter} {year} = {number}")
    label = known[parameter]["label"]
    return redirect(request, "/targets", f"已保存：{year} 年度{label}为 {show_value(known[parameter].get('kind', 'money'), number)}。")


@router.post("/targets/delete")
async def delete_target(request: Request, parameter: str = Form(""), year: int = Form(0),
                        staff: Staff = Depends(admin_form)) -> Response:
    records = records_of(request)
    removed = records.delete_target(parameter, year)
    export_staff_file(records, request.app.state.settings.zhibu_home)
    request.app.state.audit.record(f"console:{staff.user.name}", "target-delete", "ok" if removed else "rejected",
                                   f"{parameter} {year}")
    return redirect(request, "/targets", f"已删除 {year} 年度的数值。" if removed else "没有这条数值。")
