"""标准答案: staff write a standard answer for a group of 待处理问题, with the clauses it rests on.

Similar questions then get it first, marked 经审核 (knowledge.curated). A clause must stand word for word
in a document of the knowledge base when saved; an answer whose document was replaced or removed is
suspended and listed first here, for staff to check it again (核对后恢复), change or delete it.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from console import knowledge
from console.auth import Staff, admin_form, current_staff, records_of, redirect
from console.questions import merge_similar
from knowledge.curated import MAX_CLAUSES, CuratedService
from zhibu.errors import BadInput

router = APIRouter()


def _service(request: Request) -> CuratedService:
    return CuratedService(request.app.state.settings)


def _group_of(request: Request, question: str):
    """The 待处理问题 group whose first question is `question` (its wordings become the answer's)."""
    return next((group for group in merge_similar(records_of(request).pending_groups())
                 if group.examples and group.examples[0] == question), None)


def _form(request: Request, staff: Staff, entry: dict, handled: list[str]) -> Response:
    settings = request.app.state.settings
    generation = knowledge.active_generation(settings)
    clauses = entry.get("clauses", [])
    rows = clauses + [{}] * (MAX_CLAUSES - len(clauses))
    context = {"entry": entry, "rows": rows, "handled": handled,
               "documents": sorted(generation.documents.items()) if generation else []}
    return request.app.state.render(request, "answer_form.html", context, staff)


@router.get("/answers")
async def answers_page(request: Request, staff: Staff = Depends(current_staff)) -> Response:
    rows = await asyncio.to_thread(_service(request).listing)
    return request.app.state.render(request, "answers.html", {"rows": rows}, staff)


@router.get("/answers/new")
def new_answer(request: Request, question: str = "", staff: Staff = Depends(current_staff)) -> Response:
    group = _group_of(request, question) if question else None
    wordings = group.examples[1:] if group else []
    return _form(request, staff, {"question": question, "wordings": wordings, "answer": ""},
                 group.wordings if group else [])


@router.get("/answers/{answer_id}")
def edit_answer(request: Request, answer_id: int, staff: Staff = Depends(current_staff)) -> Response:
    entry = _service(request).store.get(answer_id)
    if entry is None:
        return redirect(request, "/answers", "没有这条标准答案。", "error")
    return _form(request, staff, entry.as_dict(), [])


@router.post("/answers")
async def save_answer(request: Request, answer_id: str = Form(""), question: str = Form(""), answer: str = Form(""),
                      wordings: str = Form(""), doc_id: list[str] = Form([]), section: list[str] = Form([]),
                      quote: list[str] = Form([]), handled: list[str] = Form([]),
                      staff: Staff = Depends(admin_form)) -> Response:
    clauses = [{"doc_id": d, "section": s, "quote": q} for d, s, q in zip(doc_id, section, quote)]
    audit, actor = request.app.state.audit, f"console:{staff.user.name}"
    try:
        entry = await asyncio.to_thread(
            _service(request).save, question=question, answer=answer, wordings=wordings.splitlines(), clauses=clauses,
            by=staff.user.name, answer_id=int(answer_id) if answer_id.isdigit() else None)
    except BadInput as error:
        audit.record(actor, "curated", "rejected", f"{question[:40]} {error}")
        back = f"/answers/{answer_id}" if answer_id.isdigit() else "/answers"
        return redirect(request, back, f"未保存：{error}", "error")
    if handled:
        records_of(request).mark_handled(handled, staff.user.name)
    audit.record(actor, "curated", "ok", f"#{entry.id} {entry.question[:40]}")
    return redirect(request, "/answers", f"已保存标准答案：“{entry.question}”。相近的问题将先得到这条答案（经审核）。")


@router.post("/answers/check")
async def check_answer(request: Request, answer_id: int = Form(0), staff: Staff = Depends(admin_form)) -> Response:
    try:
        entry = await asyncio.to_thread(_service(request).check_again, answer_id, staff.user.name)
    except BadInput as error:
        request.app.state.audit.record(f"console:{staff.user.name}", "curated-check", "rejected", f"#{answer_id} {error}")
        return redirect(request, "/answers", f"未恢复：{error}请修改条款后保存。", "error")
    request.app.state.audit.record(f"console:{staff.user.name}", "curated-check", "ok", f"#{answer_id}")
    return redirect(request, "/answers", f"已核对并恢复：“{entry.question}”。")


@router.post("/answers/delete")
async def delete_answer(request: Request, answer_id: int = Form(0), staff: Staff = Depends(admin_form)) -> Response:
    removed = await asyncio.to_thread(_service(request).delete, answer_id)
    request.app.state.audit.record(f"console:{staff.user.name}", "curated-delete", "ok" if removed else "rejected",
                                   f"#{answer_id}")
    return redirect(request, "/answers", "已删除这条标准答案。" if removed else "没有这条标准答案。")
