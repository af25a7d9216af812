"""文档: the knowledge base's documents and versions; upload, replace, remove, roll back, try a question.

Every change is written to the audit log the bot's admin commands use (`$ZHIBU_HOME/logs/admin.log`)
and, with the generation it made, to the records store (who added which document). Staff see titles,
文号 and dates, never document or generation ids. Removing or rolling back a document a yearly target
cites asks first; afterwards those targets are flagged (exported `without_basis`, so not applied).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Callable

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import Response

from console import knowledge
from console.auth import Staff, admin_form, current_staff, records_of, redirect
from console.targets import export_staff_file, without_basis
from knowledge.store import KnowledgeBase
from records.models import Target
from zhibu.errors import BadInput
from zhibu.text import chinese_punctuation

router = APIRouter()
ACTIONS = {"upload": "上传", "remove": "删除", "rollback": "回滚"}


def _added_by(request: Request, active: str | None) -> dict[str, tuple[str, str]]:
    """doc id → (who, when) of its latest console change still serving (a rolled-back one made a newer generation)."""
    zone = request.app.state.settings.timezone
    found: dict[str, tuple[str, str]] = {}
    for change in records_of(request).kb_changes(200):
        if active is None or change.generation > active:
            continue
        for doc_id in change.doc_ids:
            found.setdefault(doc_id, (change.actor, change.at.astimezone(zone).strftime("%Y-%m-%d %H:%M")))
    return found


def _local(stamp: str, request: Request) -> str:
    """The store's server-local “%Y-%m-%d %H:%M:%S” in the console's time zone."""
    try:
        moment = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S").astimezone()
    except (TypeError, ValueError):
        return stamp or "—"
    return moment.astimezone(request.app.state.settings.timezone).strftime("%Y-%m-%d %H:%M")


def _version_notes(request: Request, versions: list[knowledge.GenerationInfo]) -> dict[str, str]:
    """generation → what made it, in words: “管理员甲 上传《…》”; the oldest known one is the shipped set."""
    changes = {change.generation: change for change in records_of(request).kb_changes(200) if change.generation}
    titles = {doc_id: chinese_punctuation(title) for version in versions for doc_id, title in version.titles.items()}
    notes = {}
    for version in versions:
        change = changes.get(version.name)
        if change is None:
            notes[version.name] = "由命令行、机器人或首次启动生成"
        elif change.action == "rollback":
            notes[version.name] = f"{change.actor} 回滚到上一版本"
        else:
            named = "、".join(f"《{titles.get(doc_id, '已删除的文件')}》" for doc_id in change.doc_ids)
            notes[version.name] = f"{change.actor} {ACTIONS[change.action]}{named}"
    return notes


@router.get("/documents")
async def documents_page(request: Request, ask: str = "", staff: Staff = Depends(current_staff)) -> Response:
    settings = request.app.state.settings
    ready = request.app.state.knowledge.ready
    generation = await asyncio.to_thread(knowledge.active_generation, settings)
    answer = None
    if ask.strip() and ready:
        answer = await asyncio.to_thread(lambda: knowledge.service(settings).ask(ask))
    versions = await asyncio.to_thread(knowledge.generations, settings)
    cited = {target.doc_id for target in records_of(request).targets()}
    documents = sorted(generation.documents.items(), key=lambda item: (item[1].get("date") or "", item[0])) if generation else []
    context = {
        "documents": documents,
        "ingested": {doc_id: _local(meta.get("ingested_at", ""), request) for doc_id, meta in documents},
        "cited": cited,
        "generations": versions,
        "version_notes": _version_notes(request, versions),
        "added_by": _added_by(request, generation.name if generation else None),
        "ask": ask,
        "ask_waits": bool(ask.strip()) and not ready,
        "answer": answer,
        "max_mb": settings.zhibu_max_upload_mb,
        "can_roll_back": KnowledgeBase(settings.zhibu_home).previous_name() is not None,
    }
    return request.app.state.render(request, "documents.html", context, staff)


async def _change(request: Request, staff: Staff, action: str, detail: str, work: Callable[[], object]) -> Response:
    """Run one knowledge-base change, audit it, flag the targets it took the basis from, and come back."""
    audit = request.app.state.audit
    actor = f"console:{staff.user.name}"
    settings = request.app.state.settings
    records = records_of(request)
    before = await asyncio.to_thread(_titles, settings)
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
    targets = records.targets()
    if targets:  # their basis may have changed with the documents
        await asyncio.to_thread(export_staff_file, records, settings)
    lost = len(await asyncio.to_thread(without_basis, settings, targets))
    note = f"{lost} 个年度目标没有了依据，已标为“待确认”，暂不生效（见“年度目标”页）。" if lost else ""
    if action == "rollback":
        records.record_kb_change(staff.user.name, action, [], outcome)
        return redirect(request, "/documents", f"已回滚到上一版本。{note}")
    changed = outcome.added + outcome.replaced + outcome.removed
    records.record_kb_change(staff.user.name, action, changed, outcome.generation)
    titles = before | await asyncio.to_thread(_titles, settings)
    return redirect(request, "/documents", f"{_told(outcome, titles)}{note}")


def _titles(settings) -> dict[str, str]:
    generation = knowledge.active_generation(settings)
    return {doc_id: chinese_punctuation(meta["title"]) for doc_id, meta in generation.documents.items()} if generation else {}


def _told(outcome, titles: dict[str, str]) -> str:
    """What a change did, by title: “知识库已更新：新增 1 篇《…》。”"""
    parts = [f"{label} {len(ids)} 篇" + "".join(f"《{titles.get(doc_id, '未命名文件')}》" for doc_id in ids)
             for label, ids in (("新增", outcome.added), ("替换", outcome.replaced), ("删除", outcome.removed)) if ids]
    return f"知识库已更新：{'；'.join(parts)}。" if parts else "知识库无变化：上传的文件与已有的相同。"


def _ask_first(request: Request, staff: Staff, action: str, question: str, targets: list[Target],
               fields: dict[str, str]) -> Response:
    """The page that names the targets a change would leave without basis, with 确定 and 取消."""
    context = {"action": action, "question": question, "targets": targets, "fields": fields}
    return request.app.state.render(request, "documents_confirm.html", context, staff)


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
async def remove(request: Request, doc_id: str = Form(""), confirmed: str = Form(""),
                 staff: Staff = Depends(admin_form)) -> Response:
    settings = request.app.state.settings
    generation = knowledge.active_generation(settings)
    title = generation.documents[doc_id]["title"] if generation and doc_id in generation.documents else ""
    citing = [target for target in records_of(request).targets() if target.doc_id == doc_id]
    if citing and confirmed != "yes":
        return _ask_first(request, staff, "/documents/remove", f"确定删除《{title}》？", citing, {"doc_id": doc_id})
    return await _change(request, staff, "remove", doc_id, lambda: knowledge.service(settings).remove(doc_id))


@router.post("/documents/rollback")
async def rollback(request: Request, confirmed: str = Form(""), staff: Staff = Depends(admin_form)) -> Response:
    settings = request.app.state.settings
    previous = await asyncio.to_thread(knowledge.previous_generation, settings)
    citing = [target for target in records_of(request).targets()
              if _stands_in(settings, target, None) and not _stands_in(settings, target, previous)]
    if citing and confirmed != "yes":
        return _ask_first(request, staff, "/documents/rollback", "确定回滚到上一版本？", citing, {})
    return await _change(request, staff, "rollback", "", lambda: knowledge.service(settings).kb.roll_back())


def _stands_in(settings, target: Target, generation) -> bool:
    try:
        knowledge.check_clause(settings, target.doc_id, target.quote, generation)
    except BadInput:
        return False
    return True
