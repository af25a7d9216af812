"""Sign-in, sessions, roles and CSRF for the console.

The session cookie holds a random token (HttpOnly, SameSite=Strict; the table keeps only its hash), so
logging out ends it on the server. Every form carries a CSRF token: the session's own once signed in;
on the login form a signed, time-limited token tied to a cookie (double submit). A missing or wrong
token is refused with 403 before the form is acted on.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from records.models import ADMIN, ConsoleUser
from records.store import SESSION_LIFETIME, Records

SESSION_COOKIE = "zhibu_session"
LOGIN_COOKIE = "zhibu_login"
FLASH_COOKIE = "zhibu_flash"
LOGIN_TOKEN_AGE_S = 3600
CSRF_REFUSED = "表单已失效或来源不明（缺少安全校验码），操作未执行。请刷新页面后重试。"

router = APIRouter()


class LoginRequired(Exception):
    """Raised by a page that needs a signed-in user: the app redirects to /login."""


@dataclass(frozen=True)
class Staff:
    user: ConsoleUser
    csrf: str

    @property
    def is_admin(self) -> bool:
        return self.user.role == ADMIN


def records_of(request: Request) -> Records:
    return request.app.state.records


def signer(request: Request) -> URLSafeTimedSerializer:
    return request.app.state.signer


def current_staff(request: Request) -> Staff:
    token = request.cookies.get(SESSION_COOKIE)
    found = records_of(request).session_user(token) if token else None
    if found is None:
        raise LoginRequired
    return Staff(*found)


async def checked_form(request: Request, staff: Staff = Depends(current_staff)) -> Staff:
    """A signed-in user's form submission with its CSRF token."""
    form = await request.form()
    if not secrets.compare_digest(str(form.get("csrf_token", "")), staff.csrf):
        raise HTTPException(403, CSRF_REFUSED)
    return staff


async def admin_form(staff: Staff = Depends(checked_form)) -> Staff:
    if not staff.is_admin:
        raise HTTPException(403, "只有管理员可以修改文件库、年度目标和标准答案。您的账号是查看权限，如需修改请联系管理员。")
    return staff


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/")


def flash(request: Request, response: Response, message: str, kind: str = "ok") -> Response:
    """A one-time message for the next page (signed, so it cannot be forged by a link)."""
    set_cookie(request, response, FLASH_COOKIE, signer(request).dumps([kind, message]), 60)
    return response


def take_flash(request: Request) -> tuple[str, str] | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    try:
        kind, message = signer(request).loads(raw, max_age=60)
    except (BadSignature, ValueError):
        return None
    return kind, message


def redirect(request: Request, to: str, message: str = "", kind: str = "ok") -> Response:
    response = RedirectResponse(to, status_code=303)
    return flash(request, response, message, kind) if message else response


# ---- pages ---------------------------------------------------------------------------------
@router.get("/login")
def login_page(request: Request, error: str = "") -> Response:
    nonce = secrets.token_urlsafe(16)
    response = request.app.state.render(request, "login.html", {"login_token": signer(request).dumps(nonce),
                                                                  "error": error}, staff=None)
    set_cookie(request, response, LOGIN_COOKIE, nonce, LOGIN_TOKEN_AGE_S)
    return response


@router.post("/login")
def login(request: Request, name: str = Form(""), password: str = Form(""), csrf_token: str = Form("")) -> Response:
    try:
        nonce = signer(request).loads(csrf_token, max_age=LOGIN_TOKEN_AGE_S)
    except BadSignature:
        nonce = None
    if nonce is None or not secrets.compare_digest(str(nonce), request.cookies.get(LOGIN_COOKIE, "")):
        raise HTTPException(403, CSRF_REFUSED)
    records = records_of(request)
    user, problem = records.authenticate(name, password)
    if user is None:
        request.app.state.audit.record(f"console:{name.strip()[:80]}", "login", "refused", problem)
        return login_page(request, error=problem)
    token, _ = records.open_session(user)
    response = redirect(request, "/questions")
    set_cookie(request, response, SESSION_COOKIE, token, int(SESSION_LIFETIME.total_seconds()))
    response.delete_cookie(LOGIN_COOKIE, path="/")
    request.app.state.audit.record(f"console:{user.name}", "login", "ok")
    return response


@router.post("/logout")
def logout(request: Request, staff: Staff = Depends(checked_form)) -> Response:
    records_of(request).close_session(request.cookies.get(SESSION_COOKIE, ""))
    response = redirect(request, "/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
