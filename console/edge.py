"""The console's edge: what every request passes before a page sees it (an ASGI middleware around the app).

- Only the host names in `ZHIBU_CONSOLE_HOSTS` are served (a page fetched under another name is DNS
  rebinding, or a proxy sending what it should not).
- Every response carries the security headers: a Content-Security-Policy without inline script or style
  (the markup's scripts are in /static), no framing, no MIME sniffing, no referrer.
- A body must say its length, and may not be longer than the upload cap on the upload paths or
  `FORM_LIMIT` elsewhere: refused (413) before it is read.
- A POST other than the login form needs a live session before its body is read: an anonymous 300 MB
  upload is sent to /login with its body unread.
- Text with control characters (NUL and the like, which PostgreSQL refuses and no form contains) in the
  address or a form field is refused with 400 (`refuse_control_characters`, an app-wide dependency).
"""

from __future__ import annotations

import asyncio
import re
from typing import Awaitable, Callable

from fastapi import HTTPException, Request
from starlette.datastructures import Headers
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from console.auth import SESSION_COOKIE
from records.store import STORE_FAILURES, store_problem
from zhibu.http_headers import adding

SECURITY_HEADERS = (
    (b"content-security-policy", b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                 b"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
)
FORM_LIMIT = 256 * 1024  # a form without a file: the longest is a target's quoted clause
UPLOAD_PATHS = ("/documents/upload", "/batch")
OPEN_POSTS = ("/login",)  # the only form an anonymous browser may send
MULTIPART_OVERHEAD = 1024 * 1024  # the other fields and boundaries around an uploaded file
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # tab and line breaks are text
CONTROL_REFUSED = "输入中含有控制字符（如 NUL），无法处理。请删除后重新输入。"


def host_name(host_header: str) -> str:
    """'Example.org:8080' → 'example.org'; '[::1]:8080' → '::1'."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def page(status: int, message: str) -> Response:
    """A bare Chinese page for what is refused before the app (its templates) is reached."""
    return HTMLResponse(f'<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>{status}</title>'
                        f"<p>{message}</p></html>", status_code=status)


class Edge:
    def __init__(self, app: ASGIApp, *, hosts: frozenset[str], upload_limit: int,
                 signed_in: Callable[[str], Awaitable[bool]]) -> None:
        self.app = app
        self.hosts = hosts
        self.upload_limit = upload_limit + MULTIPART_OVERHEAD
        self.signed_in = signed_in

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        with_headers = adding(SECURITY_HEADERS, send)
        refusal = await self.refusal(scope, Headers(scope=scope))
        if refusal is not None:
            await refusal(scope, receive, with_headers)
            return
        await self.app(scope, receive, with_headers)

    async def refusal(self, scope: Scope, headers: Headers) -> Response | None:
        """The answer to a request refused at the edge, else None (let it in)."""
        if "*" not in self.hosts and host_name(headers.get("host", "")) not in self.hosts:
            return page(400, "此地址不在管理台允许的主机名中（ZHIBU_CONSOLE_HOSTS）。")
        if CONTROL_CHARACTERS.search(scope["path"]):
            return page(400, CONTROL_REFUSED)
        if scope["method"] not in ("POST", "PUT", "PATCH"):
            return None
        if scope["path"] not in OPEN_POSTS:
            token = _cookie(headers, SESSION_COOKIE)
            try:
                known = bool(token) and await self.signed_in(token)
            except STORE_FAILURES as error:
                return page(503, f"记录库暂时无法使用（{store_problem(error)}），请稍后再试。")
            if not known:
                return RedirectResponse("/login", status_code=303)
        length = headers.get("content-length", "")
        if not length.isdigit():
            return page(411, "请求须注明内容长度，未处理。")
        limit = self.upload_limit if scope["path"] in UPLOAD_PATHS else FORM_LIMIT
        if int(length) > limit:
            return page(413, f"提交的内容太大（{int(length) / 1024 / 1024:.1f} MB），上限约 {limit / 1024 / 1024:.1f} MB，未处理。")
        return None


def _cookie(headers: Headers, name: str) -> str:
    for part in headers.get("cookie", "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return ""


async def refuse_control_characters(request: Request) -> None:
    """400 for a query or form field with a control character (file contents are not text fields)."""
    values = list(request.query_params.values())
    if request.method == "POST":
        fields = (await request.form()).values()  # parsed once per request: the page reads the same form
        values += [field if isinstance(field, str) else field.filename or "" for field in fields]
    if any(CONTROL_CHARACTERS.search(value) for value in values):
        raise HTTPException(400, CONTROL_REFUSED)


def session_check(records) -> Callable[[str], Awaitable[bool]]:
    async def signed_in(token: str) -> bool:
        return await asyncio.to_thread(records.session_user, token) is not None

    return signed_in
