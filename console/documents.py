"""文档: the knowledge base's documents and generations; upload, replace, remove, roll back, try a question.

Every change is written to the audit log the bot's admin commands use (`$ZHIBU_HOME/logs/admin.log`)
and, with the generation it made, to the records store (who added which document).
"""

from __future__ import annotations

import asyncio
from typing import Callable

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import FileResponse, Response

from console import knowledge
from console.auth import Staff, admin_form, current_staff, records_of, redirect
from evaluators.application import (SHIPPED_TEMPLATE, application_template, remove_application_template,
                                    save_application_template)
from knowledge.store import KnowledgeBase
from records.store import CHINA
from zhibu.errors import BadInput

router = APIRouter()


def _added_by(request: Request, active: str | None) -> dict[str, tuple[str, str]]:
    """doc id → (who, when) of its latest console change still serving (a rolled-back one made a newer generation)."""
    found: dict[str, tuple[str, str]] = {}
    for change in records_of(request).kb_changes(200):
        if active is None or change.generation > active:
            continue
        for doc_id in change.doc_ids:
            found.setdefault(doc_id, (change.actor, change.at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")))
    return found


@router.get("/documents")
async def documents_page(request: Request, ask: str = "", staff: Staff = Depends(current_staff)) -> Response:
    settings = request.app.state.settings
    generation = await asyncio.to_thread(knowledge.active_generation, settings)
    answer = await asyncio.to_thread(lambda: knowledge.service(settings).ask(ask)) if ask.strip() else None
    context = {
        "documents": sorted(generation.documents.items()) if generation else [],
        "generations": await asyncio.to_thread(knowledge.generations, settings),
        "added_by": _added_by(request, generation.name if generation else None),
        "changes": records_of(request).kb_changes(10),
        "ask": ask,
        "answer": answer,
        "max_mb": settings.zhibu_max_upload_mb,
        "can_roll_back": KnowledgeBase(settings.zhibu_home).previous_name() is not None,
        "own_template": application_template(settings.zhibu_home) != SHIPPED_TEMPLATE,
        "china": CHINA,
    }
    return request.app.state.render(request, "documents.html", context, staff)


async def _change(request: Request, staff: Staff, action: str, detail: str, work: Callable[[], object]) -> Response:
    """Run one knowledge-base change, audit it, and come back to the page with what happened."""
    audit = request.app.state.audit
    actor = f"console:{staff.user.name}"
    try:
        async with request.app.state.writing:
            outcome = await asyncio.to_thread(work)
    except BadInput as error:
        audit.record(actor, action, "rejected", f"{detail} {error}".strip())
        return redirect(request, "/documents", f"未完成：{error}", "error")
    except Exception as error:
        audit.record(actor, action, "failed", f"{detail} {type(error).__name__}".strip())
        raise
    audit.record(actor, action, "ok", detail)
    if action == "rollback":
        records_of(request).record_kb_change(staff.user.name, action, [], outcome)
        return redirect(request, "/documents", f"已回滚到上一版本（{outcome}）。")
    changed = outcome.added + outcome.replaced + outcome.removed
    records_of(request).record_kb_change(staff.user.name, action, changed, outcome.generation)
    return redirect(request, "/documents", str(outcome))


@router.post("/documents/upload")
async def upload(request: Request, file: UploadFile, title: str = Form(""), doc_number: str = Form(""),
                 date: str = Form(""), issuer: str = Form(""), replace: str = Form(""),
                 staff: Staff = Depends(admin_form)) -> Response:
    content = await file.read()
    meta = {"doc_id": replace, "title": title, "doc_number": doc_number, "date": date, "issuer": issuer}
    settings = request.app.state.settings
    detail = repr(file.filename) + (f" 替换 {replace}" if replace else "")
    return await _change(request, staff, "upload", detail,
                         lambda: knowledge.ingest_upload(settings, file.filename, content, meta))


@router.post("/documents/remove")
async def remove(request: Request, doc_id: str = Form(""), staff: Staff = Depends(admin_form)) -> Response:
    settings = request.app.state.settings
    return await _change(request, staff, "remove", doc_id, lambda: knowledge.service(settings).remove(doc_id))


@router.post("/documents/rollback")
async def rollback(request: Request, staff: Staff = Depends(admin_form)) -> Response:
    settings = request.app.state.settings
    return await _change(request, staff, "rollback", "", lambda: knowledge.service(settings).kb.roll_back())


# ---- 申报模板: the Word template of the 申报表 (the 材料目录 is the 县级以上党委's to set) --------------------
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@router.get("/documents/application-template.docx")
def download_application_template(request: Request, staff: Staff = Depends(current_staff)) -> Response:
    """The template in force, to edit in Word and upload again."""
    return FileResponse(application_template(request.app.state.settings.zhibu_home), filename="申报模板.docx",
                        media_type=DOCX_TYPE)


@router.post("/documents/application-template")
async def upload_application_template(request: Request, file: UploadFile,
                                      staff: Staff = Depends(admin_form)) -> Response:
    content = await file.read()
    home = request.app.state.settings.zhibu_home
    try:
        await asyncio.to_thread(save_application_template, content, home)
    except BadInput as error:
        request.app.state.audit.record(f"console:{staff.user.name}", "application-template", "rejected", str(error))
        return redirect(request, "/documents", f"申报模板未更换：{error}", "error")
    request.app.state.audit.record(f"console:{staff.user.name}", "application-template", "ok", repr(file.filename))
    return redirect(request, "/documents", "申报模板已更换：此后生成的申报表都使用新模板。")


@router.post("/documents/application-template/reset")
async def reset_application_template(request: Request, staff: Staff = Depends(admin_form)) -> Response:
    await asyncio.to_thread(remove_application_template, request.app.state.settings.zhibu_home)
    request.app.state.audit.record(f"console:{staff.user.name}", "application-template", "ok", "reset")
    return redirect(request, "/documents", "已恢复默认申报模板。")
