"""Evaluate a CSV/XLSX of branch profiles: per-row verdicts, the share that qualifies against the year's
target (each branch counted once), and an XLSX report with a bar chart.

Rows are numbered from 1 (the first row under the header), as the CLI contract says; `sheet_row` is the
number Excel shows (one more, for the header). A bad row is reported and skipped, in staff's words: the
branch, the Excel row and each field's Chinese label, never a key.
"""

from __future__ import annotations

import os
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Iterator

from evaluators.checks import FAIL, percent
from evaluators.engine import DOES_NOT_QUALIFY, INCOMPLETE, QUALIFIES, ProfileError, evaluate
from evaluators.profile import DOMAINS, InvalidProfile, nest, validate_profile
from evaluators.roster import header_key, is_example, label_of
from evaluators.rulebook import load_rulebook
from evaluators.untrusted import (batch_limit, check_xlsx, csv_rows, read_capped, refuse_duplicate_columns, sheet_rows,
                                  store_text_as_text)
from zhibu.errors import BadInput

VERDICTS = (QUALIFIES, DOES_NOT_QUALIFY, INCOMPLETE)
_PARALLEL_FROM = 5000  # rows; below this, starting worker processes costs more than it saves
_CHUNK = 1000


@dataclass
class BatchResult:
    rows: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[dict[str, int]] = field(default_factory=list)
    branches: dict[tuple, dict[str, Any]] = field(default_factory=dict)  # identity → the row that counts

    def summary(self) -> dict[str, Any]:
        rulebook = load_rulebook()
        counted = list(self.branches.values())
        years = sorted({row["year"] for row in counted})
        resolved = rulebook.target_share(years[0]) if len(years) == 1 else None
        target = resolved.value if resolved else None
        counts = {verdict: sum(row["verdict"] == verdict for row in counted) for verdict in VERDICTS}
        share = counts[QUALIFIES] / len(counted) if counted else 0.0
        return {
            "total": len(counted),
            "qualifies": counts[QUALIFIES],
            "does_not_qualify": counts[DOES_NOT_QUALIFY],
            "incomplete": counts[INCOMPLETE],
            "share": share,
            "target": target,
            "target_met": share >= target if target is not None else None,
            "target_parameter": resolved.to_dict() if resolved else None,  # which year's target, and why
            "target_note": _target_note(resolved, years),
            "years": years,
            "target_citation": resolved.source if resolved else None,
            "counting_citation": rulebook.counting_citation.as_dict,
            "by_domain": _by_domain(counted, target),
            "rows": self.rows,
            "errors": self.errors,
            "duplicates": self.duplicates,
        }


def _target_note(resolved, years: list[int]) -> str:
    """Which year's target the share is compared with, or why there is none."""
    if resolved is None:
        return "含多个年度（" + "、".join(map(str, years)) + "），不与单一年度目标比较" if years else "没有可评定的党支部"
    if resolved.to_confirm:
        return (f"文件没有规定{resolved.year}年度的比例目标（只规定到{resolved.year_used}年），"
                f"按{resolved.year_used}年的目标（{resolved.shown}）比较，待确认")
    origin = "（组织部门录入）" if resolved.basis == "staff" else ""
    return f"{resolved.year}年度目标{resolved.shown}{origin}"


def _by_domain(counted: list[dict], target: float | None) -> dict[str, dict[str, Any]]:
    by_domain: dict[str, dict[str, Any]] = {}
    for domain, label in DOMAINS.items():
        rows = [row for row in counted if row["domain"] == domain]
        if rows:
            counts = {verdict: sum(row["verdict"] == verdict for row in rows) for verdict in VERDICTS}
            by_domain[domain] = {"label": label, "total": len(rows), **counts,
                                 "share": counts[QUALIFIES] / len(rows), "target": target}
    return by_domain


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number, {dotted key: cell}) for every non-blank data row; blank rows keep their number."""
    if not path.is_file():
        raise BadInput(f"找不到文件：{path}")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        records = _csv_records(path)
    elif suffix in (".xlsx", ".xlsm"):
        records = _xlsx_records(path)
    else:
        raise BadInput(f"只支持 .csv 和 .xlsx 文件：{path.name}")
    header = [header_key(cell) for cell in next(records, [])]
    if "domain" not in header:
        raise BadInput(f"《{path.name}》的第一行应为列名（所处领域、评定年度、党支部名称等，请用“下载名单模板”中的表头），"
                       "没有找到“所处领域”列")
    refuse_duplicate_columns(header, path.name)
    for number, record in enumerate(records, start=1):
        cells = {
            key: kept
            for key, value in zip(header, record)
            if key and (kept := value.strip() if type(value) is str else value) not in (None, "")
        }
        if cells and not is_example(cells):
            yield number, cells


def _csv_records(path: Path) -> Iterator[list[str]]:
    raw = read_capped(path, batch_limit(), "ZHIBU_MAX_BATCH_MB")
    for encoding in ("utf-8-sig", "gb18030"):  # Excel on Chinese Windows saves CSV as GBK
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise BadInput(f"{path.name} 不是 UTF-8 或 GBK 编码的 CSV")
    yield from csv_rows(text, path.name)


def _xlsx_records(path: Path) -> Iterator[tuple]:
    from openpyxl import load_workbook  # only batch needs it

    check_xlsx(path)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged or misnamed file
        raise BadInput(f"无法读取《{path.name}》：文件已损坏，或不是 Excel 的 .xlsx 文件") from None
    try:
        yield from sheet_rows(workbook.worksheets[0], path.name)
    finally:
        workbook.close()


def run_batch_file(path: Path, workers: int | None = None) -> BatchResult:
    """Evaluate every row; large files are shared among worker processes (one per core, at most 4)."""
    rows = list(read_rows(path))
    workers = workers or min(os.cpu_count() or 1, 4)
    if workers > 1 and len(rows) >= _PARALLEL_FROM:
        chunks = [rows[start:start + _CHUNK] for start in range(0, len(rows), _CHUNK)]
        with ProcessPoolExecutor(workers) as pool:
            outcomes = [outcome for chunk in pool.map(_evaluate_rows, chunks) for outcome in chunk]
    else:
        outcomes = _evaluate_rows(rows)
    result = BatchResult()
    for outcome in outcomes:
        if "message" in outcome:
            result.errors.append(outcome)
        else:
            result.rows.append(outcome)
            _count_once(result, outcome)
    return result


def _evaluate_rows(rows: list[tuple[int, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Each row's summary, or {"row", "message"} for a bad one; plain dicts, cheap to send between processes."""
    outcomes = []
    for number, cells in rows:
        try:
            evaluation = evaluate(nest(cells))
        except ProfileError as error:
            fields, message = _staff_problems(cells, error)
            outcomes.append({"row": number, "sheet_row": number + 1, "name": str(cells.get("name") or ""),
                             "message": message, "fields": fields})
            continue
        failed = evaluation.by_status(FAIL)
        labels = evaluation.label
        row = {
            "row": number,
            "sheet_row": number + 1,
            "name": evaluation.name or "",
            "domain": evaluation.domain,
            "year": evaluation.year,
            "verdict": evaluation.verdict,
            "verdict_label": evaluation.verdict_label,  # names how many items are to be confirmed
            "failing": [c.id for c in failed],
            "failing_requirements": [c.requirement for c in failed],
            "failing_reasons": [c.reason for c in failed],
            "failing_facts": evaluation.failing_facts,
            "failing_labels": [labels(key) for key in evaluation.failing_facts],
            "missing": list(evaluation.missing),
            "missing_labels": [labels(key) for key in evaluation.missing],
            "to_confirm": [_confirm_note(c.parameter) for c in evaluation.to_confirm],
        }
        row["reason"] = _row_reason(row)
        outcomes.append(row)
    return outcomes


_CHOICE_KEY = re.compile(r"[a-z_]+（([^（）]+)）")  # "gacha_village（嘎查村）" in a list of choices → 嘎查村
_SHORT_QUOTE = re.compile(r"收到 '([^']*)'")


def _staff_problems(cells: dict[str, Any], error: ProfileError) -> tuple[list[str], str]:
    """(the keys at fault, each problem as “label：problem”): staff read labels, a program the keys."""
    try:
        validate_profile(nest(cells))
    except InvalidProfile as invalid:
        fields = [key for key, _ in invalid.problems if key]
        lines = [f"{label_of(key)}：{text}" if key else text for key, text in invalid.problems]
    else:
        fields, lines = [], error.problems  # a problem found after validation (a yearly standard for another domain)
    return fields, "；".join(_SHORT_QUOTE.sub(r"收到“\1”", _CHOICE_KEY.sub(r"\1", line)) for line in lines)


def _confirm_note(parameter) -> str:
    return f"{parameter.label}按{parameter.year_used}年的标准（{parameter.shown}）判断，待确认"


def _row_reason(row: dict[str, Any]) -> str:
    """One line saying why: what failed, what is missing, or what is to be confirmed."""
    parts = [reason.rstrip("。") for reason in row["failing_reasons"]]
    if row["missing_labels"]:
        parts.append("待补充：" + "、".join(row["missing_labels"]))
    return "；".join(parts + row["to_confirm"])


def _count_once(result: BatchResult, row: dict[str, Any]) -> None:
    """A branch listed twice is counted once, as qualifying if any of its rows does (工作指南 三(三))."""
    identity = (row["domain"], row["year"], row["name"]) if row["name"] else ("row", row["row"])
    first = result.branches.get(identity)
    if first is None:
        result.branches[identity] = row
        return
    result.duplicates.append({"row": row["row"], "same_as_row": first["row"]})
    if row["verdict"] == QUALIFIES:
        result.branches[identity] = row


def render_summary(summary: dict[str, Any]) -> str:
    target = summary["target"]
    met = "" if target is None else "；已达到" if summary["target_met"] else "；未达到"
    lines = [
        f"共 {summary['total']} 个党支部（同名同领域同年度只计一次），符合评定条件 {summary['qualifies']} 个，"
        f"占 {percent(summary['share'])}；暂不符合 {summary['does_not_qualify']} 个，信息不全 {summary['incomplete']} 个",
        f"年度目标：{summary['target_note']}{met}",
        "",
        "按领域：",
    ]
    lines += [
        f"  {item['label']}：{item['qualifies']}/{item['total']}（{percent(item['share'])}）"
        for item in summary["by_domain"].values()
    ]
    lines += ["", "明细："]
    for row in summary["rows"]:
        lines.append(f"  第{row['row']}行 {row['name'] or '（未填名称）'}：{row['verdict_label']}"
                     + (f"（{row['reason']}）" if row["reason"] else ""))
    for duplicate in summary["duplicates"]:
        lines.append(f"  第{duplicate['row']}行与第{duplicate['same_as_row']}行是同一党支部，只计一次")
    if summary["errors"]:
        lines += ["", "有误、已跳过的行："]
        lines += [f"  第{error['row']}行：{error['message']}" for error in summary["errors"]]
    return "\n".join(lines)


REPORT_WIDTHS = {"汇总": (20, 10, 10, 10, 10, 10, 10), "明细": (10, 26, 18, 8, 22, 60, 30, 30, 40),
                 "有误的行": (10, 26, 80)}


def write_report(summary: dict[str, Any], out: Path) -> Path:
    """Write the XLSX report and, beside it, the PNG chart (embedded in the first sheet); return the PNG.

    Every sheet has a bold, frozen header, set column widths and wrapped text; shares are formatted as %."""
    from openpyxl import Workbook
    from openpyxl.drawing.image import Image

    out.parent.mkdir(parents=True, exist_ok=True)
    chart = out.with_suffix(".png")
    draw_chart(summary, chart)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "汇总"
    sheet.append(["领域", "党支部数", "符合条件", "暂不符合", "信息不全", "符合比例", "年度目标"])
    for item in summary["by_domain"].values():
        sheet.append([item["label"], item["total"], item["qualifies"], item["does_not_qualify"],
                      item["incomplete"], item["share"], item["target"]])
    sheet.append(["合计", summary["total"], summary["qualifies"], summary["does_not_qualify"], summary["incomplete"],
                  summary["share"], summary["target"]])
    for row in sheet.iter_rows(min_row=2, min_col=6, max_col=7):
        for cell in row:
            cell.number_format = "0.0%"
    sheet.append([])
    sheet.append(["年度目标说明", summary["target_note"]])
    sheet.add_image(Image(str(chart)), "I2")
    details = workbook.create_sheet("明细")
    details.append(["表格行号", "党支部", "领域", "年度", "结论", "原因", "未达标字段", "待补充字段", "待确认"])
    for row in summary["rows"]:
        details.append([row["sheet_row"], row["name"], DOMAINS[row["domain"]], row["year"], row["verdict_label"],
                        row["reason"], "、".join(row["failing_labels"]), "、".join(row["missing_labels"]),
                        "；".join(row["to_confirm"])])
    errors = workbook.create_sheet("有误的行")
    errors.append(["表格行号", "党支部", "问题"])
    for error in summary["errors"]:
        errors.append([error["sheet_row"], error["name"], error["message"]])
    for each in workbook.worksheets:
        _format_sheet(each, REPORT_WIDTHS[each.title])
    store_text_as_text(workbook)
    workbook.save(out)
    return chart


def _format_sheet(sheet, widths: tuple[int, ...]) -> None:
    """Bold frozen header, the widths given (in characters), wrapped top-aligned cells."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    for number, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(number)].width = width
    for row in sheet.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="F2DCDB")
    sheet.freeze_panes = "A2"


def report_name(roster_name: str, day: date) -> str:
    """“<roster>_评估报告_2026-12-06.xlsx”: staff find a report by the roster it came from."""
    stem = re.sub(r'[\\/:*?"<>|\x00-\x1f]', "", Path(roster_name or "").stem).strip() or "名单"
    return f"{stem[:60]}_评估报告_{day.isoformat()}.xlsx"


def draw_chart(summary: dict[str, Any], path: Path) -> None:
    """Bar chart of the qualifying share by domain, with the year's target as a dashed line."""
    import logging

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)  # font fallback chatter
    pyplot.rcParams["font.sans-serif"] = ["WenQuanYi Zen Hei", "Noto Sans CJK SC", "SimHei", "Microsoft YaHei",
                                          "DejaVu Sans"]
    pyplot.rcParams["axes.unicode_minus"] = False
    items = list(summary["by_domain"].values())
    figure, axes = pyplot.subplots(figsize=(max(6, 1.1 * len(items) + 2), 4.5), dpi=100)
    bars = axes.bar([item["label"] for item in items], [item["share"] * 100 for item in items], color="#c0392b")
    axes.bar_label(bars, labels=[f"{item['qualifies']}/{item['total']}" for item in items], padding=2)
    if summary["target"] is not None:
        used = summary["target_parameter"]
        note = "" if not used["to_confirm"] else f"（按{used['year_used']}年目标，待确认）"
        axes.axhline(summary["target"] * 100, color="#2c3e50", linestyle="--",
                     label=f"年度目标 {percent(summary['target'])}{note}")
        axes.legend(loc="upper right")
    axes.set_ylim(0, 120)
    axes.set_yticks(range(0, 101, 20))
    axes.set_ylabel("符合条件的比例（%）")
    axes.set_title(f"各领域符合“最强党支部”评定条件的比例（共 {summary['total']} 个党支部）")
    pyplot.setp(axes.get_xticklabels(), rotation=30, ha="right")
    figure.tight_layout()
    figure.savefig(path)
    pyplot.close(figure)
