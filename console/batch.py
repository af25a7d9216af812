"""批量评估: a 旗县's roster (CSV/XLSX) evaluated with `evaluators.batch`, as `zhibu batch` does.

The upload and its XLSX report live in `$ZHIBU_HOME/console/batch/<random id>/` for a day, so the
report can be downloaded (named after the roster staff uploaded and the day); older runs are swept at the
next upload. Staff start from the roster template (Chinese headers, drop-downs, the clause of each column).
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import shutil
import time
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, Response

from console.auth import Staff, checked_form, current_staff
from evaluators.batch import report_name, run_batch_file, write_report
from evaluators.roster import write_template
from evaluators.checks import percent
from zhibu.errors import BadInput

router = APIRouter()
KEPT_S = 24 * 3600
REPORT = "报告.xlsx"
ROSTER_NAME = "roster_name.txt"  # the name staff gave the file: shown and used for the report, never a path
TEMPLATE = "党支部名单模板.xlsx"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_RUN_ID = 24  # characters of a run id: random, so one run's report cannot be guessed from another's


def _runs(request: Request) -> Path:
    folder = request.app.state.settings.zhibu_home / "console" / "batch"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _sweep(folder: Path) -> None:
    for run in folder.iterdir():
        if run.is_dir() and time.time() - run.stat().st_mtime > KEPT_S:
            shutil.rmtree(run, ignore_errors=True)


def evaluate_roster(folder: Path, name: str, content: bytes) -> dict:
    """Evaluate the roster; the summary (as `zhibu batch --json`) with the report written beside it."""
    suffix = Path(name or "").suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise BadInput("只支持 .csv 和 .xlsx 文件（第一行为字段名）。")
    if not content:
        raise BadInput("文件是空的。")
    roster = folder / f"名单{suffix}"
    roster.write_bytes(content)
    (folder / ROSTER_NAME).write_text(Path(name).name[:120], encoding="utf-8")
    summary = run_batch_file(roster).summary()
    chart = write_report(summary, folder / REPORT)
    summary["chart"] = base64.b64encode(chart.read_bytes()).decode()
    return summary


@lru_cache(maxsize=1)
def _template(folder: str) -> Path:
    """Written once per process: the rulebook it describes does not change while the console runs."""
    return write_template(Path(folder) / TEMPLATE)


@router.get("/batch/template.xlsx")
async def template(request: Request, staff: Staff = Depends(current_staff)) -> Response:
    path = await asyncio.to_thread(_template, str(_runs(request).parent))
    return FileResponse(path, filename=TEMPLATE, media_type=XLSX)


@router.get("/batch")
def batch_page(request: Request, staff: Staff = Depends(current_staff)) -> Response:
    return request.app.state.render(request, "batch.html", {"summary": None, "percent": percent}, staff)


@router.post("/batch")
async def run_batch(request: Request, file: UploadFile, staff: Staff = Depends(checked_form)) -> Response:
    runs = _runs(request)
    await asyncio.to_thread(_sweep, runs)
    run_id = secrets.token_urlsafe(18)[:_RUN_ID]
    folder = runs / run_id
    folder.mkdir()
    content = await file.read()
    try:
        limit = request.app.state.settings.zhibu_max_upload_mb
        if len(content) > limit * 1024 * 1024:
            raise BadInput(f"文件太大（{len(content) / 1024 / 1024:.1f} MB），上限是 {limit} MB。")
        summary = await asyncio.to_thread(evaluate_roster, folder, file.filename, content)
    except BadInput as error:
        shutil.rmtree(folder, ignore_errors=True)
        context = {"summary": None, "error": str(error), "percent": percent}
        return request.app.state.render(request, "batch.html", context, staff, status_code=400)
    context = {"summary": summary, "run_id": run_id, "filename": file.filename, "percent": percent}
    return request.app.state.render(request, "batch.html", context, staff)


@router.get("/batch/{run_id}/report.xlsx")
def download(request: Request, run_id: str, staff: Staff = Depends(current_staff)) -> Response:
    if len(run_id) != _RUN_ID or not run_id.replace("-", "").replace("_", "").isalnum():
        raise HTTPException(404)
    folder = _runs(request) / run_id
    report = folder / REPORT
    if not report.is_file():
        raise HTTPException(404)
    zone = request.app.state.settings.timezone
    made = datetime.fromtimestamp(report.stat().st_mtime, zone).date()
    return FileResponse(report, filename=report_name((folder / ROSTER_NAME).read_text(encoding="utf-8"), made),
                        media_type=XLSX)
