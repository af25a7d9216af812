"""The staff console: a FastAPI app of server-rendered Chinese pages over the packages' services.

It owns no rules and no retrieval: documents go through the knowledge service's ingest, targets through
the records store and the evaluator's staff parameter file, batches through `evaluators.batch`.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import shutil
import time
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp

from bot.admin import AuditLog
from console import auth, batch, curated, documents, invitations, knowledge, questions, stats, targets
from console.auth import FLASH_COOKIE, HashingGate, LoginRequired, Staff
from console.edge import Edge, refuse_control_characters, session_check
from evaluators.untrusted import os_reason
from records.privacy import secret_file
from records.store import STORE_FAILURES, open_records, store_problem
from zhibu.settings import Settings
from zhibu.text import chinese_punctuation

HERE = Path(__file__).parent
NAV = (("/questions", "待处理问题"), ("/answers", "标准答案"), ("/documents", "文档"), ("/targets", "年度目标"),
       ("/batch", "批量评估"), ("/stats", "统计"), ("/invitations", "邀请码"))
PURGE_EVERY_S = 24 * 3600
STALE_UPLOAD_S = 3600  # an upload folder this old belongs to a console that died mid-upload
log = logging.getLogger(__name__)


def local_time(moment: datetime | None, settings: Settings) -> str:
    """A stored (UTC) time as staff read it: “2026-12-01 14:05” in ZHIBU_TIMEZONE (Beijing by default)."""
    return moment.astimezone(settings.timezone).strftime("%Y-%m-%d %H:%M") if moment else ""


def sweep_stale_uploads(home: Path) -> None:
    """Upload folders a killed console left behind (a running one's are younger)."""
    uploads = home / "console" / "uploads"
    for folder in uploads.glob("tmp*") if uploads.is_dir() else ():
        if folder.is_dir() and time.time() - folder.stat().st_mtime > STALE_UPLOAD_S:
            shutil.rmtree(folder, ignore_errors=True)
            log.info("stale upload folder removed: %s", folder.name)


def console_secret(home: Path) -> str:
    """The key signing login tokens, flashes and browser cookies; on a read-only home one for this run only."""
    try:
        (home / "records").mkdir(parents=True, exist_ok=True)
        return secret_file(home / "records" / "console_secret").decode()
    except OSError as error:
        log.warning("console secret not kept (%s): sign-in forms last until the console restarts",
                    os_reason(error))
        return secrets.token_hex(32)


def create_app(settings: Settings) -> ASGIApp:
    """The console, wrapped in its edge (console.edge)."""
    records = open_records(settings)

    async def purge_daily() -> None:
        """Old questions leave the log on start and then daily, as in the bot (either may run alone)."""
        while True:
            try:
                removed = await asyncio.to_thread(records.purge)
                log.info("question log purge: %s old questions removed", removed)
            except STORE_FAILURES as error:
                log.warning("question log purge failed: %s", store_problem(error))
            await asyncio.sleep(PURGE_EVERY_S)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await asyncio.to_thread(sweep_stale_uploads, settings.zhibu_home)
        purging = asyncio.create_task(purge_daily())
        warming = asyncio.create_task(asyncio.to_thread(knowledge.warm_up, settings, app.state.knowledge))
        yield
        purging.cancel()
        warming.cancel()

    app = FastAPI(title="支部 Zhibu 管理台", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan,
                  dependencies=[Depends(refuse_control_characters)])
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.filters["local"] = lambda moment: local_time(moment, settings)
    templates.env.filters["zh"] = chinese_punctuation  # titles and passages are stored with half-width marks
    app.state.settings = settings
    app.state.records = records
    app.state.signer = URLSafeTimedSerializer(console_secret(settings.zhibu_home), salt="zhibu-console")
    app.state.audit = AuditLog(settings.zhibu_home / "logs" / "admin.log")  # shared with the bot's admin commands
    app.state.writing = asyncio.Lock()  # one knowledge-base change at a time from this console
    app.state.knowledge = knowledge.Readiness()  # the knowledge base is opened (or built) in the background
    app.state.hashing = HashingGate()
    app.state.batching = asyncio.Semaphore(batch.BATCHES_AT_ONCE)

    def render(request: Request, name: str, context: dict[str, Any], staff: Staff | None, status_code: int = 200) -> Response:
        page = {"request": request, "staff": staff, "nav": NAV, "path": request.url.path,
                "flash": auth.take_flash(request), "knowledge_building": not app.state.knowledge.ready, **context}
        response = templates.TemplateResponse(request, name, page, status_code=status_code)
        if page["flash"]:
            response.delete_cookie(FLASH_COOKIE, path="/")
        return response

    app.state.render = render
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for module in (auth, questions, curated, documents, targets, batch, stats, invitations):
        app.include_router(module.router)

    @app.get("/")
    def home() -> Response:
        return RedirectResponse("/questions", status_code=303)

    @app.get("/status")
    def status() -> Response:
        """Polled by the pages while the knowledge base is built at start (nothing private in it)."""
        return JSONResponse(app.state.knowledge.as_dict())

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        return render(request, "error.html", {"message": "请求的内容不完整或格式不对，请返回重试。", "status": 400},
                      staff=None, status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def error_page(request: Request, exc: HTTPException) -> Response:
        messages = {403: "没有权限执行这个操作。", 404: "页面不存在。", 405: "不支持这种请求。"}
        # The console's own words are Chinese; FastAPI's ("There was an error parsing the body") are not shown.
        ours = isinstance(exc.detail, str) and not exc.detail.isascii() and exc.status_code in (400, 403)
        detail = exc.detail if ours else messages.get(exc.status_code, "请求有误。")
        return render(request, "error.html", {"message": detail, "status": exc.status_code}, staff=None,
                      status_code=exc.status_code)

    @app.exception_handler(SQLAlchemyError)
    async def store_down(request: Request, exc: SQLAlchemyError) -> Response:
        """Locked, read-only, down or full: the page says so and the console keeps serving."""
        log.warning("records store unavailable on %s: %s (%s)", request.url.path, store_problem(exc),
                    type(getattr(exc, "orig", None) or exc).__name__)
        return bare_error(request, 503, f"记录库暂时无法使用（{store_problem(exc)}），请稍后再试；如持续出现，请联系系统管理员。")

    @app.exception_handler(OSError)
    async def disk_trouble(request: Request, exc: OSError) -> Response:
        log.warning("file system error on %s: %s (%s)", request.url.path, os_reason(exc), exc.filename or "")
        return bare_error(request, 507, f"服务器无法读写文件（{os_reason(exc)}），操作未完成。请联系系统管理员。")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("console error on %s", request.url.path)
        return bare_error(request, 500, "管理台出错了，操作可能未完成。请稍后重试；如持续出现，请联系系统管理员。")

    def bare_error(request: Request, status: int, message: str) -> Response:
        """The error page without the flash cookie (which a broken store may be why we are here)."""
        return templates.TemplateResponse(request, "error.html", {"request": request, "staff": None, "nav": NAV,
                                                                 "path": request.url.path, "flash": None,
                                                                 "message": message, "status": status},
                                          status_code=status)

    upload_limit = settings.zhibu_max_upload_mb * 1024 * 1024
    hosts = frozenset(host.strip().lower() for host in settings.zhibu_console_hosts.split(",") if host.strip())
    return Edge(app, hosts=hosts, upload_limit=upload_limit, signed_in=session_check(records))
