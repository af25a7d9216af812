"""批量评估: a 旗县's roster (CSV/XLSX) evaluated as `zhibu batch` does — by `zhibu batch` itself, in a child
process with a memory limit (ZHIBU_BATCH_MEMORY_MB) and a deadline, `BATCHES_AT_ONCE` at a time: no roster,
however built, takes the console's own memory (a spreadsheet bomb is refused from its zip directory first).

The upload and its XLSX report live in `$ZHIBU_HOME/console/batch/<random id>/` for a day, so the
report can be downloaded (named after the roster staff uploaded and the day); older runs are swept at the
next upload. Staff start from the roster template (Chinese headers, drop-downs, the clause of each column).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import resource
import secrets
import shutil
import sys
import time
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, Response

from console.auth import Staff, checked_form, current_staff
from evaluators.application import applications_zip
from evaluators.batch import report_name
from evaluators.checks import percent
from evaluators.roster import write_template
from evaluators.untrusted import os_reason
from zhibu.errors import BadInput
from zhibu.settings import Settings

router = APIRouter()
KEPT_S = 24 * 3600
REPORT = "报告.xlsx"
ROSTER_NAME = "roster_name.txt"  # the name staff gave the file: shown and used for the report, never a path
TEMPLATE = "党支部名单模板.xlsx"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_RUN_ID = 24  # characters of a run id: random, so one run's report cannot be guessed from another's
BATCHES_AT_ONCE = 2
BATCH_DEADLINE_S = 300
_COPY_CHUNK = 1024 * 1024
# The child's JSON summary is read at most this far: a roster whose cells hold megabytes of text would
# otherwise reach the console through it.
SUMMARY_LIMIT = 16 * 1024 * 1024
_ERRORS_LIMIT = 64 * 1024
log = logging.getLogger(__name__)


def _runs(request: Request) -> Path:
    folder = request.app.state.settings.zhibu_home / "console" / "batch"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _sweep(folder: Path) -> None:
    for run in folder.iterdir():
        if run.is_dir() and time.time() - run.stat().st_mtime > KEPT_S:
            shutil.rmtree(run, ignore_errors=True)


def save_roster(folder: Path, name: str | None, upload, limit_mb: int) -> Path:
    """The uploaded roster copied to disk in chunks (never whole in memory), under a name we build."""
    suffix = Path(name or "").suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise BadInput("只支持 .csv 和 .xlsx 文件（第一行为字段名）。")
    roster = folder / f"名单{suffix}"
    copied = 0
    try:
        with roster.open("wb") as out:
            while chunk := upload.read(_COPY_CHUNK):
                copied += len(chunk)
                if copied > limit_mb * 1024 * 1024:
                    raise BadInput(f"文件太大（超过 {limit_mb} MB），上限是 {limit_mb} MB。")
                out.write(chunk)
    except OSError as error:
        raise BadInput(f"无法保存上传的文件：{os_reason(error)}。") from None
    if not copied:
        raise BadInput("文件是空的。")
    (folder / ROSTER_NAME).write_text(Path(name or "").name[:120], encoding="utf-8")
    return roster


async def evaluate_in_child(settings: Settings, roster: Path) -> dict:
    """`zhibu batch --json` on the roster, the report beside it; the summary with the chart as base64."""
    environment = {**os.environ, "ZHIBU_HOME": str(settings.zhibu_home),
                   "ZHIBU_MAX_BATCH_MB": str(settings.zhibu_max_batch_mb),
                   "ZHIBU_MAX_BATCH_ROWS": str(settings.zhibu_max_batch_rows),
                   "ZHIBU_MAX_UNPACKED_MB": str(settings.zhibu_max_unpacked_mb)}
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "zhibu", "batch", str(roster), "--out", str(roster.with_name(REPORT)), "--json",
        cwd=roster.parent, env=environment, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    memory = settings.zhibu_batch_memory_mb * 1024 * 1024
    try:
        resource.prlimit(child.pid, resource.RLIMIT_AS, (memory, memory))  # before it has read the roster
    except ProcessLookupError:
        pass  # it has already ended: its exit status tells
    try:
        reading = asyncio.gather(_bounded(child, child.stdout, SUMMARY_LIMIT),
                                 _bounded(child, child.stderr, _ERRORS_LIMIT))
        out, err = await asyncio.wait_for(reading, BATCH_DEADLINE_S)
        if out is None:
            raise BadInput(f"名单的内容太长（结果超过 {SUMMARY_LIMIT // 1024 // 1024} MB，例如某个单元格有上百万字），"
                           "不像是党支部名单。请检查文件。")
        await child.wait()
    except asyncio.TimeoutError:
        raise BadInput(f"名单处理超过 {BATCH_DEADLINE_S // 60} 分钟，已停止。请拆分后再试。") from None
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
    errors = (err or b"").decode("utf-8", "replace").strip()
    if child.returncode == 2:  # the file's problem, in Chinese
        raise BadInput(errors.removeprefix("错误：").strip() or "名单无法读取。")
    if child.returncode != 0:
        log.error("batch child exited with %s: %s", child.returncode, errors[-2000:])
        cause = "超出内存上限" if "MemoryError" in errors else "出错"
        raise BadInput(f"处理这份名单时{cause}，已停止。请检查文件，或拆分成几个文件再试。")
    summary = json.loads(out)
    summary["chart"] = base64.b64encode(Path(summary["report"]["chart"]).read_bytes()).decode()
    return summary


async def _bounded(child: asyncio.subprocess.Process, stream: asyncio.StreamReader, limit: int) -> bytes | None:
    """All of the child's `stream`; None once it passes `limit` bytes, and the child is stopped (it would
    wait for ever on a pipe nobody reads)."""
    data = bytearray()
    while chunk := await stream.read(65536):
        data += chunk
        if len(data) > limit:
            child.kill()
            return None
    return bytes(data)


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
    settings = request.app.state.settings
    runs = _runs(request)
    await asyncio.to_thread(_sweep, runs)
    run_id = secrets.token_urlsafe(18)[:_RUN_ID]
    folder = runs / run_id
    folder.mkdir()
    try:
        roster = await asyncio.to_thread(save_roster, folder, file.filename, file.file, settings.zhibu_max_upload_mb)
        async with request.app.state.batching:
            summary = await evaluate_in_child(settings, roster)
    except BadInput as error:
        shutil.rmtree(folder, ignore_errors=True)
        context = {"summary": None, "error": str(error), "percent": percent}
        return request.app.state.render(request, "batch.html", context, staff, status_code=400)
    context = {"summary": summary, "run_id": run_id, "filename": file.filename, "percent": percent}
    return request.app.state.render(request, "batch.html", context, staff)


def _run_folder(request: Request, run_id: str) -> Path:
    if len(run_id) != _RUN_ID or not run_id.replace("-", "").replace("_", "").isalnum():
        raise HTTPException(404)
    return _runs(request) / run_id


@router.get("/batch/{run_id}/applications.zip")
async def download_applications(request: Request, run_id: str, staff: Staff = Depends(current_staff)) -> Response:
    """Each branch's 申报表 (Word), from the roster of this run, in the template in force now."""
    roster = next(iter(sorted(_run_folder(request, run_id).glob("名单.*"))), None)
    if roster is None:
        raise HTTPException(404)
    try:
        content = await asyncio.to_thread(applications_zip, roster, request.app.state.settings.zhibu_home)
    except BadInput as error:
        return Response(str(error), status_code=400, media_type="text/plain; charset=utf-8")
    return Response(content, media_type="application/zip",
                    headers={"Content-Disposition": "attachment; filename*=UTF-8''%E7%94%B3%E6%8A%A5%E8%A1%A8.zip"})


@router.get("/batch/{run_id}/report.xlsx")
def download(request: Request, run_id: str, staff: Staff = Depends(current_staff)) -> Response:
    folder = _run_folder(request, run_id)
    report = folder / REPORT
    if not report.is_file():
        raise HTTPException(404)
    zone = request.app.state.settings.timezone
    made = datetime.fromtimestamp(report.stat().st_mtime, zone).date()
    return FileResponse(report, filename=report_name((folder / ROSTER_NAME).read_text(encoding="utf-8"), made),
                        media_type=XLSX)
