"""The secretaries' web chat: a FastAPI app of server-rendered Chinese pages over the dialogue core.

Who may chat: a browser that opened an invitation link (created by staff in the console or with
`zhibu web invite`) holds a signed session cookie; in the intranet mode (`ZHIBU_WEB_OPEN=1`) any browser
that reaches the page gets one. Every POST carries the session's CSRF token (the invitation form a signed
double-submit token). Without JavaScript the forms still work (each POST redirects back to the page);
with it (static/chat.js) the page sends them in the background and swaps in the server-rendered messages.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import secrets
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, Signer, URLSafeTimedSerializer
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot.library import Library
from records.privacy import secret_file
from records.store import now, open_records
from webchat.chat import Message, WebChat, actions_for
from webchat.security import SecurityHeaders
from webchat.store import Busy, Refused, SignedIn, WebStore, refusal
from webchat.transcript import is_source
from zhibu.errors import BadInput
from zhibu.settings import Settings

HERE = Path(__file__).parent
SESSION_COOKIE = "zhibu_web"
SEEN_COOKIE = "zhibu_web_seen"  # not secret, SameSite=Lax: tells a link opened from another app to reload same-site
ENTRY_COOKIE = "zhibu_web_entry"
ENTRY_AGE_S = 3600
PURGE_EVERY_S = 24 * 3600
WARM_UP_QUESTION = "最强党支部的评定条件是什么？"
THREADS = 16  # retrieval and database calls run in threads; the default pool (cores + 4) queues them on 2 cores
NO_INVITATION = "请使用组织部发给您的邀请链接打开本页。如果没有收到，请联系本旗县（市、区）组织部。"
CSRF_REFUSED = "页面已失效（缺少安全校验码），消息未发送。请刷新页面后重试。"
APOLOGY = "抱歉，处理您的消息时出了点问题，请稍后再试。"
BUSY = "上一条消息还在处理中，请稍候再发。"
LEFT = "您已退出，本页的对话记录已删除。需要时请重新打开组织部发给您的邀请链接。"
log = logging.getLogger(__name__)


def create_app(settings: Settings, library: Library | None = None) -> FastAPI:
    store = WebStore(settings)
    chat = WebChat(settings, store, library)
    records = open_records(settings)
    secret = secret_file(settings.zhibu_home / "records" / "web_secret").decode()
    cookie_signer = Signer(secret, salt="zhibu-web-session")
    entry_signer = URLSafeTimedSerializer(secret, salt="zhibu-web-entry")
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.auto_reload = False  # not a stat() of each template file per render: a new version restarts

    async def purge_daily() -> None:
        while True:
            try:
                removed = await asyncio.to_thread(records.purge)
                ended = await asyncio.to_thread(store.sweep)
                log.info("purge: %s old questions, %s ended web sessions removed", removed, ended)
            except SQLAlchemyError as error:
                log.warning("purge failed: %s", error)
            await asyncio.sleep(PURGE_EVERY_S)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(THREADS))
        await chat.library.warm_up()
        await asyncio.to_thread(warm_up_search, settings)
        await asyncio.to_thread(warm_up_readers)
        purging = asyncio.create_task(purge_daily())
        yield
        purging.cancel()

    app = FastAPI(title="支部", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    # ---- helpers -------------------------------------------------------------------------------
    def page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
        return templates.TemplateResponse(request, name, {"open_mode": settings.zhibu_web_open, **context},
                                          status_code=status_code)

    def gate(request: Request, message: str, status_code: int) -> Response:
        return page(request, "gate.html", {"message": message}, status_code)

    def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int,
                   samesite: str = "strict", httponly: bool = True) -> None:
        response.set_cookie(name, value, max_age=max_age, httponly=httponly, samesite=samesite,
                            secure=request.url.scheme == "https", path="/")

    def sign_in(request: Request, response: Response, token: str) -> Response:
        age = settings.zhibu_web_session_days * 86400
        set_cookie(request, response, SESSION_COOKIE, cookie_signer.sign(token).decode(), age)
        set_cookie(request, response, SEEN_COOKIE, "1", age, samesite="lax", httponly=False)
        return response

    def token_of(request: Request) -> str | None:
        raw = request.cookies.get(SESSION_COOKIE)
        if not raw:
            return None
        try:
            return cookie_signer.unsign(raw).decode()
        except BadSignature:
            return None

    def session_of(request: Request) -> SignedIn | None:
        token = token_of(request)
        return store.session_for(token) if token else None

    def fragments(csrf: str, transcript: list[dict], ids: list[int]) -> list[str]:
        render = templates.env.get_template("_message.html").module.message
        by_id = {message["id"]: message for message in transcript}
        return [str(render(by_id[i], csrf)) for i in ids if i in by_id]

    def toolbar(csrf: str, state: dict) -> str:
        return str(templates.env.get_template("_message.html").module.toolbar(actions_for(state), csrf))

    def wants_json(request: Request) -> bool:
        return request.headers.get("x-zhibu-fetch") == "1"

    def notice(request: Request, text: str, status_code: int, **extra: Any) -> Response:
        if wants_json(request):
            return JSONResponse({"notice": text, **extra}, status_code=status_code)
        return gate(request, text, status_code)

    def same_origin(request: Request) -> bool:
        """A browser's POST names its page's origin; one from another site is refused whatever it carries."""
        origin = request.headers.get("origin")
        return origin is None or origin == f"{request.url.scheme}://{request.headers.get('host', '')}"

    # ---- pages ---------------------------------------------------------------------------------
    @app.get("/")
    def chat_page(request: Request, again: int = 0) -> Response:
        found = session_of(request)
        if found is None and settings.zhibu_web_open:
            token, _ = store.open_session(None)
            return sign_in(request, RedirectResponse("/", status_code=303), token)
        if found is None:
            if request.cookies.get(SEEN_COOKIE) and not again:
                # Opened from another app: the SameSite=Strict cookie was held back; a same-site reload sends it.
                return page(request, "reload.html", {})
            response = gate(request, NO_INVITATION, 401)
            response.delete_cookie(SEEN_COOKIE, path="/")  # reloaded once, still no session: stop reloading
            return response
        transcript, state = store.conversation(found.id)
        context = {"session": found, "messages": transcript, "tools": actions_for(state)}
        return page(request, "chat.html", context)

    @app.get("/i/{code}")
    def invitation_page(request: Request, code: str) -> Response:
        invitation = store.invitation_for(code) if len(code) <= 64 else None
        problem = refusal(invitation, now())
        if problem:
            return gate(request, problem, 403)
        nonce = secrets.token_urlsafe(16)
        response = page(request, "invite.html", {"invitation": invitation, "code": code,
                                                 "entry_token": entry_signer.dumps(nonce)})
        set_cookie(request, response, ENTRY_COOKIE, nonce, ENTRY_AGE_S)
        return response

    @app.post("/i/{code}")
    async def redeem(request: Request, code: str) -> Response:
        form = await request.form()
        try:
            nonce = entry_signer.loads(str(form.get("csrf_token", "")), max_age=ENTRY_AGE_S)
        except BadSignature:
            nonce = None
        if (not same_origin(request) or nonce is None
                or not secrets.compare_digest(str(nonce), request.cookies.get(ENTRY_COOKIE, ""))):
            return gate(request, CSRF_REFUSED, 403)
        try:
            token, _ = await asyncio.to_thread(store.redeem, code[:64])
        except Refused as refused:
            return gate(request, str(refused), 403)
        response = sign_in(request, RedirectResponse("/", status_code=303), token)
        response.delete_cookie(ENTRY_COOKIE, path="/")
        return response

    @app.post("/send")
    async def send(request: Request) -> Response:
        found = await asyncio.to_thread(session_of, request)
        if found is None:
            return notice(request, NO_INVITATION, 401, ended=True)
        form = await request.form()
        if not same_origin(request) or not secrets.compare_digest(str(form.get("csrf_token", "")), found.csrf):
            return notice(request, CSRF_REFUSED, 403)
        message = Message(text=str(form.get("text", "")), command=_text_or_none(form.get("command")),
                          change=_number_or_none(form.get("change")), button=_text_or_none(form.get("button")),
                          pressed=_number_or_none(form.get("message")), nonce=str(form.get("nonce", ""))[:64])
        try:
            outcome = await chat.send(found.id, message)
        except BadInput as problem:
            return notice(request, str(problem), 400)
        except Busy:
            return notice(request, BUSY, 503)
        except Refused as refused:
            return notice(request, str(refused), 401, ended=True)
        except Exception:
            log.exception("web chat turn failed")
            return notice(request, APOLOGY, 500)
        if not wants_json(request):
            return RedirectResponse("/#end", status_code=303)
        changes = outcome.changes
        body = {"added": fragments(found.csrf, outcome.transcript, changes.added),
                "rewritten": dict(zip(map(str, changes.rewritten),
                                      fragments(found.csrf, outcome.transcript, changes.rewritten))),
                "notice": changes.notice, "toolbar": toolbar(found.csrf, outcome.state),
                "opened": message.button if is_source(message.button) else None}
        return JSONResponse(body, status_code=429 if outcome.refused else 200)

    @app.get("/files/{token}")
    def download(request: Request, token: str) -> Response:
        found = session_of(request)
        document = store.document(found.id, token) if found is not None and len(token) <= 32 else None
        if document is None:
            return gate(request, "文件不存在或已过期。请在对话中重新导出。", 404)
        kind = mimetypes.guess_type(document.filename)[0] or "application/octet-stream"
        disposition = f"attachment; filename*=UTF-8''{quote(document.filename)}"
        return Response(document.content, media_type=kind, headers={"content-disposition": disposition})

    @app.post("/leave")
    async def leave(request: Request) -> Response:
        found = await asyncio.to_thread(session_of, request)
        form = await request.form()
        if found is None or not secrets.compare_digest(str(form.get("csrf_token", "")), found.csrf):
            return gate(request, CSRF_REFUSED, 403)
        await asyncio.to_thread(store.end_session, token_of(request))
        response = gate(request, LEFT, 200)
        response.delete_cookie(SESSION_COOKIE, path="/")
        response.delete_cookie(SEEN_COOKIE, path="/")
        return response

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        return notice(request, "请求的内容不完整或格式不对，请刷新页面后重试。", 400)

    @app.exception_handler(StarletteHTTPException)
    async def error_page(request: Request, exc: StarletteHTTPException) -> Response:
        messages = {404: "页面不存在。", 405: "不支持这种请求。"}
        return notice(request, messages.get(exc.status_code, "请求有误。"), exc.status_code)

    return app


def warm_up_search(settings: Settings) -> None:
    """A first search loads the tokenizer's dictionary and the retrieval models (about a second): paid at start,
    not by the first secretary who asks. Retrieval only: a configured LLM is not called."""
    from knowledge.service import get_qa_service

    get_qa_service(settings).retriever().invoke(WARM_UP_QUESTION)


def warm_up_readers() -> None:
    """The first Chinese numeral a secretary types (三十) loads the numeral reader (about 0.3 s): paid at start."""
    from evaluators.profile import parse_number

    parse_number("三十")


def _text_or_none(value) -> str | None:
    return str(value) if value not in (None, "") else None


def _number_or_none(value) -> int | None:
    text = str(value or "")
    return int(text) if text.isdigit() and len(text) < 9 else None
