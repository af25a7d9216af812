"""Sign-in, sessions, roles and CSRF for the console.

The session cookie holds a random token (HttpOnly, SameSite=Strict, Secure over HTTPS; the table keeps only
its hash), so logging out ends it on the server. Every form carries a CSRF token: the session's own once
signed in; on the login form a signed, time-limited token tied to a cookie (double submit). A missing or
wrong token is refused with 403 before the form is acted on.

Sign-in attempts are throttled, never locked (records.store.BUDGETS): per client address and per name,
or, for a browser that signed in as that name before (a signed cookie), per browser only. A wrong name
and a wrong password get the same answer. At most `HASHING_AT_ONCE` passwords are hashed at a time
(argon2 takes 64 MiB each), plus one for browsers that signed in before: a crowd of anonymous sign-ins
queues (at most `STRANGERS_WAITING`, the rest are told to come back) instead of taking the memory, and
never stands in front of a staff member's own browser.
"""

from __future__ import annotations

import asyncio
import secrets
import unicodedata
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import AsyncIterator

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.concurrency import run_in_threadpool

from records.models import ADMIN, ConsoleUser
from records.store import SESSION_LIFETIME, Records

SESSION_COOKIE = "zhibu_session"
LOGIN_COOKIE = "zhibu_login"
FLASH_COOKIE = "zhibu_flash"
DEVICE_COOKIE = "zhibu_device"  # "this browser signed in as <name> before": its own sign-in budget
DEVICE_AGE_S = 365 * 24 * 3600
LOGIN_TOKEN_AGE_S = 3600
HASHING_AT_ONCE = 1  # of two cores: the other stays free for staff whose browser signed in before
STRANGERS_WAITING = 8
BUSY = "登录的人太多，请稍后再试。"
WRONG = "用户名或密码错误。"
UNKNOWN_NAME = "未知用户名"  # what the audit log keeps of a name that is no account (it may be a password)
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


class HashingGate:
    """Bounded password hashing: `at_once` slots for strangers, with at most `queue` of them waiting, and one
    slot of its own for browsers that signed in before."""

    def __init__(self, at_once: int = HASHING_AT_ONCE, queue: int = STRANGERS_WAITING) -> None:
        self._strangers = asyncio.Semaphore(at_once)
        self._known = asyncio.Semaphore(1)
        self._waiting = 0
        self._queue = queue

    @asynccontextmanager
    async def slot(self, known_browser: bool) -> AsyncIterator[bool]:
        """Yields whether a slot was given (False: too many strangers wait already)."""
        if known_browser:
            async with self._known:
                yield True
            return
        if self._waiting >= self._queue:
            yield False
            return
        self._waiting += 1
        try:
            await self._strangers.acquire()
        finally:
            self._waiting -= 1
        try:
            yield True
        finally:
            self._strangers.release()


# ---- pages ---------------------------------------------------------------------------------
@router.get("/login")
def login_page(request: Request) -> Response:
    return login_form(request)


def login_form(request: Request, error: str = "", status_code: int = 200) -> Response:
    """The sign-in form with a fresh login token (and, after a refused attempt, why)."""
    nonce = secrets.token_urlsafe(16)
    response = request.app.state.render(request, "login.html", {"login_token": signer(request).dumps(nonce),
                                                                  "error": error}, staff=None, status_code=status_code)
    set_cookie(request, response, LOGIN_COOKIE, nonce, LOGIN_TOKEN_AGE_S)
    return response


def plain_name(name: str) -> str:
    """One budget per name however it is typed (full-width, upper case)."""
    return unicodedata.normalize("NFKC", name.strip()).casefold()


def budget_keys(request: Request, name: str) -> dict[str, str]:
    """The budgets this attempt counts against: the browser's, when it signed in as `name` before; else the
    client address's and the name's (unknown names too, so they answer as known ones do)."""
    try:
        device_name, device = signer(request).loads(request.cookies.get(DEVICE_COOKIE, ""), max_age=DEVICE_AGE_S)
    except (BadSignature, ValueError, TypeError):  # no cookie, a forged one, or one of another shape
        device_name = device = None
    if device and device_name == name:
        return {"device": device}
    return {"client": request.client.host if request.client else "", "name": name}


@router.post("/login")
async def login(request: Request, name: str = Form(""), password: str = Form(""),
                csrf_token: str = Form("")) -> Response:
    try:
        nonce = signer(request).loads(csrf_token, max_age=LOGIN_TOKEN_AGE_S)
    except BadSignature:
        nonce = None
    if nonce is None or not secrets.compare_digest(str(nonce), request.cookies.get(LOGIN_COOKIE, "")):
        raise HTTPException(403, CSRF_REFUSED)
    records, audit = records_of(request), request.app.state.audit
    keys = budget_keys(request, plain_name(name))
    wait = await run_in_threadpool(records.login_wait, keys)
    if wait:
        known = await run_in_threadpool(records.is_account, name)
        audit.record(f"console:{name.strip()[:80] if known else UNKNOWN_NAME}", "login", "throttled", f"{wait}s")
        return login_form(request, error=f"登录尝试过于频繁，请 {wait} 秒后再试。", status_code=429)
    async with request.app.state.hashing.slot("device" in keys) as given:
        if not given:
            return login_form(request, error=BUSY, status_code=503)
        user, known = await run_in_threadpool(records.check_password, name, password)
    if user is None:
        audit.record(f"console:{name.strip()[:80] if known else UNKNOWN_NAME}", "login", "refused", WRONG)
        return login_form(request, error=WRONG, status_code=401)
    await run_in_threadpool(records.login_succeeded, keys)
    token, _ = await run_in_threadpool(records.open_session, user)
    response = redirect(request, "/questions")
    set_cookie(request, response, SESSION_COOKIE, token, int(SESSION_LIFETIME.total_seconds()))
    device = keys.get("device") or secrets.token_urlsafe(16)
    set_cookie(request, response, DEVICE_COOKIE, signer(request).dumps([plain_name(name), device]), DEVICE_AGE_S)
    response.delete_cookie(LOGIN_COOKIE, path="/")
    audit.record(f"console:{user.name}", "login", "ok")
    return response


@router.post("/logout")
def logout(request: Request, staff: Staff = Depends(checked_form)) -> Response:
    records_of(request).close_session(request.cookies.get(SESSION_COOKIE, ""))
    response = redirect(request, "/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
