"""The 申报 document: a finished self-check as an editable Word file in Chinese (工作指南 五(三): 党支部自评
达到评定条件后向上一级党组织申报; the 材料目录 is set by the 县级以上党委（党组）, so the layout is a docxtpl
template staff may replace).

The template is found by `application_template()`: a replacement saved from the console
($ZHIBU_HOME/申报模板.docx, via `save_application_template`), else the file named by
ZHIBU_APPLICATION_TEMPLATE, else the one shipped in `evaluators/templates/申报表.docx`.
Its variables: name, domain, year, verdict, generated_on, criteria [{number, requirement, facts, clause,
status}], fixes [{number, requirement, reason, remedy}], review_note, review [text], next_step.
"""

from __future__ import annotations

import io
import os
import tempfile
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

from evaluators.checks import FAIL, NOT_APPLICABLE, PASS
from evaluators.engine import CriterionResult, Evaluation
from evaluators.parameters import staff_file
from evaluators.profile import DOMAINS
from evaluators.report import cite
from zhibu.errors import BadInput

SHIPPED_TEMPLATE = Path(__file__).with_name("templates") / "申报表.docx"
SAVED_TEMPLATE_NAME = "申报模板.docx"  # under $ZHIBU_HOME, written by the console
TEMPLATE_SETTING = "ZHIBU_APPLICATION_TEMPLATE"
MAX_TEMPLATE_BYTES = 5 * 1024 * 1024
# Status in the document's words (the 申报表's 状态 column).
REACHED, TO_CONFIRM, AWAITING_REVIEW, NOT_REACHED, NOT_APPLICABLE_TEXT = "达到", "待确认", "待四评", "未达到", "不适用"


def _saved(home: Path | None) -> Path:
    return (home / SAVED_TEMPLATE_NAME) if home else staff_file().with_name(SAVED_TEMPLATE_NAME)


def application_template(home: Path | None = None) -> Path:
    """The 申报模板 in force: the console's replacement, else the configured file, else the shipped one.

    `home` is ZHIBU_HOME (the console passes its settings'); by default read as the staff parameter file is."""
    saved = _saved(home)
    if saved.is_file():
        return saved
    configured = os.environ.get(TEMPLATE_SETTING) or _dotenv_setting(TEMPLATE_SETTING)
    return Path(configured).expanduser() if configured else SHIPPED_TEMPLATE


def _dotenv_setting(name: str) -> str | None:
    """A setting from `.env` (as zhibu.settings reads it), without loading the settings model."""
    env = Path(".env")
    if not env.is_file():
        return None
    from dotenv import dotenv_values

    return dotenv_values(env).get(name) or None


def status_text(result: CriterionResult) -> str:
    if result.status == PASS:
        return TO_CONFIRM if result.to_confirm else REACHED
    if result.status == FAIL:
        return NOT_REACHED
    if result.status == NOT_APPLICABLE:
        return NOT_APPLICABLE_TEXT
    return AWAITING_REVIEW if result.awaiting_review else TO_CONFIRM


def facts_in_words(evaluation: Evaluation, result: CriterionResult) -> str:
    """The branch's own answers this criterion read, as “label：value” (what is still unknown, said so)."""
    if result.awaiting_review:
        return "待上级党组织开展“四评”后填写"
    if result.status == NOT_APPLICABLE:
        return result.reason
    values = evaluation.values
    parts = []
    for key in result.facts + result.compared_with:
        shown = evaluation.show(key, values[key]) if key in values else "未填写"
        parts.append(f"{evaluation.label(key)}：{shown}")
    return "；".join(parts)


def application_context(evaluation: Evaluation, today: date | None = None) -> dict[str, Any]:
    """What the template is rendered with (plain strings and lists; no internal keys)."""
    criteria = [
        {"number": number, "requirement": result.requirement, "facts": facts_in_words(evaluation, result),
         "clause": cite(result.citation), "status": status_text(result)}
        for number, result in enumerate(evaluation.criteria, start=1)
    ]
    to_fix = evaluation.by_status(FAIL) + evaluation.to_fill
    fixes = [
        {"number": number, "requirement": result.requirement, "reason": result.reason,
         "remedy": result.remedy if result.status == FAIL else "弄清后重新自查并补填。"}
        for number, result in enumerate(to_fix, start=1)
    ]
    confirm = [text for result, text in zip(evaluation.to_confirm, evaluation.to_confirm_texts())]
    fixes += [{"number": len(fixes) + n, "requirement": "年度标准待确认", "reason": text, "remedy": "向上级党组织确认本年度标准。"}
              for n, text in enumerate(confirm, start=1)]
    review = [result.requirement for result in evaluation.criteria if result.stage == "review"]
    waiting = bool(evaluation.awaiting_review)
    return {
        "name": evaluation.name or "（请填写党支部名称）",
        "domain": DOMAINS[evaluation.domain],
        "year": evaluation.year,
        "verdict": evaluation.verdict_label,
        "generated_on": _chinese_day(today or date.today()),
        "criteria": criteria,
        "fixes": fixes,
        "review_note": "以下各项结果尚未产生，申报后由上级党组织综合评定：" if waiting else "以下各项的结果已按填写情况列入上表：",
        "review": review,
        "next_step": evaluation.next_step["text"],
    }


def _chinese_day(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def render_application(evaluation: Evaluation, template: Path | None = None, today: date | None = None) -> bytes:
    """The 申报 document of one evaluation as .docx bytes."""
    from docxtpl import DocxTemplate  # only when a document is asked for

    document = DocxTemplate(str(template or application_template()))
    document.render(application_context(evaluation, today), autoescape=True)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def application_filename(evaluation: Evaluation) -> str:
    """申报表-<name or domain>-<year>年度.docx, safe as a file name (no path separators)."""
    label = "".join(char for char in (evaluation.name or DOMAINS[evaluation.domain]) if char not in '\\/:*?"<>|\x00')
    return f"申报表-{label[:40] or DOMAINS[evaluation.domain]}-{evaluation.year}年度.docx"


def save_application_template(content: bytes, home: Path | None = None) -> Path:
    """Check an uploaded 申报模板 (a .docx that renders a sample self-check) and make it the one in force."""
    if len(content) > MAX_TEMPLATE_BYTES:
        raise BadInput(f"模板文件太大（超过 {MAX_TEMPLATE_BYTES // 1024 // 1024} MB）。")
    if not zipfile.is_zipfile(io.BytesIO(content)):
        raise BadInput("上传的不是 Word 文档（.docx）。")
    target = _saved(home)
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temp = tempfile.mkstemp(dir=target.parent, prefix=".申报模板.", suffix=".docx")
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
    try:
        render_application(_sample_evaluation(), Path(temp))
    except Exception as error:  # docx, zip, XML and Jinja errors alike: the template is refused, never saved
        os.unlink(temp)
        raise BadInput(f"模板无法生成申报表：{_first_line(error)}。请检查模板中的 {{{{ }}}} 与 {{% %}} 标记。") from None
    os.replace(temp, target)
    return target


def remove_application_template(home: Path | None = None) -> None:
    """Go back to the configured or shipped template."""
    _saved(home).unlink(missing_ok=True)


def _sample_evaluation() -> Evaluation:
    from evaluators.engine import evaluate

    return evaluate({"domain": "community", "year": 2021, "name": "示例社区党支部", "org_rating": "excellent"})


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else type(error).__name__


MAX_BATCH_DOCUMENTS = 300  # one document takes 0.1–0.2 s: about a minute at most; larger rosters go by 旗县


def applications_zip(roster: Path, home: Path | None = None) -> bytes:
    """One 申报 document per valid row of a batch roster (CSV/XLSX), zipped; bad rows are left out
    (the batch report names them)."""
    from evaluators.batch import read_rows
    from evaluators.engine import ProfileError, evaluate
    from evaluators.profile import nest

    rows = list(read_rows(roster))
    if len(rows) > MAX_BATCH_DOCUMENTS:
        raise BadInput(f"名单有 {len(rows)} 行，一次最多生成 {MAX_BATCH_DOCUMENTS} 份申报表：请按旗县或领域分开上传。")
    template = application_template(home)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for number, cells in rows:
            try:
                evaluation = evaluate(nest(cells))
            except ProfileError:
                continue
            archive.writestr(f"第{number}行-{application_filename(evaluation)}", render_application(evaluation, template))
    return buffer.getvalue()
