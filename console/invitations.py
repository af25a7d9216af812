"""邀请码: the invitation links of the secretaries' web chat (`zhibu web`) — list, create, revoke; admins only.

A code is shown once, on the page that created it (only its hash is kept). Revoking ends at once every
browser session opened with it. Every creation and revocation goes to the audit log.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import Response

from console.auth import Staff, admin_form, current_staff, redirect
from records.store import now
from webchat.models import BRANCH, PERSON, WebInvitation
from webchat.server import invitation_link
from webchat.store import WebStore, beijing
from zhibu.errors import BadInput

router = APIRouter()
KINDS = ((BRANCH, "党支部"), (PERSON, "个人"))
ADMINS_ONLY = "只有管理员可以管理网页对话的邀请码。"


def web_store(request: Request) -> WebStore:
    if not hasattr(request.app.state, "web_store"):
        request.app.state.web_store = WebStore(request.app.state.settings)
    return request.app.state.web_store


def admin(staff: Staff = Depends(current_staff)) -> Staff:
    if not staff.is_admin:
        raise HTTPException(403, ADMINS_ONLY)
    return staff


def status_of(invitation: WebInvitation, moment: datetime) -> str:
    if invitation.revoked_at is not None:
        return "已收回"
    if invitation.expires_at <= moment:
        return "已过期"
    if invitation.uses >= invitation.max_uses:
        return "已用满"
    return "有效"


def render(request: Request, staff: Staff, created: dict | None = None, error: str = "", status_code: int = 200) -> Response:
    moment = now()
    rows = [{"invitation": invitation, "sessions": sessions, "status": status_of(invitation, moment),
             "created": beijing(invitation.created_at), "expires": beijing(invitation.expires_at)}
            for invitation, sessions in web_store(request).invitations()]
    context = {"rows": rows, "kinds": KINDS, "created": created, "error": error,
               "has_url": bool(request.app.state.settings.zhibu_web_url)}
    return request.app.state.render(request, "invitations.html", context, staff, status_code=status_code)


@router.get("/invitations")
def invitations_page(request: Request, staff: Staff = Depends(admin)) -> Response:
    return render(request, staff)


@router.post("/invitations")
def create(request: Request, name: str = Form(""), kind: str = Form(BRANCH), days: int = Form(7), uses: int = Form(1),
           staff: Staff = Depends(admin_form)) -> Response:
    try:
        invitation, code = web_store(request).create_invitation(name, kind, days, uses, by=staff.user.name)
    except BadInput as problem:
        return render(request, staff, error=str(problem), status_code=400)
    request.app.state.audit.record(f"console:{staff.user.name}", "invite", "ok",
                                   f"{invitation.name}（{dict(KINDS)[kind]}，{days}天，{uses}次）")
    created = {"name": invitation.name, "link": invitation_link(request.app.state.settings.zhibu_web_url, code),
               "expires": beijing(invitation.expires_at), "uses": uses}
    return render(request, staff, created=created)


@router.post("/invitations/{invitation_id}/revoke")
def revoke(request: Request, invitation_id: int, staff: Staff = Depends(admin_form)) -> Response:
    invitation = web_store(request).revoke(invitation_id, by=staff.user.name)
    if invitation is None:
        raise HTTPException(404)
    request.app.state.audit.record(f"console:{staff.user.name}", "revoke-invite", "ok", invitation.name)
    return redirect(request, "/invitations", f"已收回“{invitation.name}”的邀请链接，用它打开的网页对话已全部结束。")
