"""The staff console: a FastAPI app of server-rendered Chinese pages over the packages' services.

It owns no rules and no retrieval: documents go through the knowledge service's ingest, targets through
the records store and the evaluator's staff parameter file, batches through `evaluators.batch`.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot.admin import AuditLog
from console import auth, batch, documents, invitations, questions, stats, targets
from console.auth import FLASH_COOKIE, LoginRequired, Staff
from records.privacy import secret_file
from records.store import open_records
from zhibu.settings import Settings

HERE = Path(__file__).parent
NAV = (("/questions", "待处理问题"), ("/documents", "文档"), ("/targets", "年度目标"), ("/batch", "批量评估"),
       ("/stats", "统计"), ("/invitations", "邀请码"))
PURGE_EVERY_S = 24 * 3600
log = logging.getLogger(__name__)


def create_app(settings: Settings) -> FastAPI:
    records = open_records(settings)

    async def purge_daily() -> None:
        """Old questions leave the log on start and then daily, as in the bot (either may run alone)."""
        while True:
            try:
                removed = await asyncio.to_thread(records.purge)
                log.info("question log purge: %s old questions removed", removed)
            except SQLAlchemyError as error:
                log.warning("question log purge failed: %s", error)
            await asyncio.sleep(PURGE_EVERY_S)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        purging = asyncio.create_task(purge_daily())
        yield
        purging.cancel()

    app = FastAPI(title="支部 Zhibu 管理台", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    templates = Jinja2Templates(directory=HERE / "templates")
    app.state.settings = settings
    app.state.records = records
    app.state.signer = URLSafeTimedSerializer(secret_file(settings.zhibu_home / "records" / "console_secret").decode(),
                                              salt="zhibu-console")
    app.state.audit = AuditLog(settings.zhibu_home / "logs" / "admin.log")  # shared with the bot's admin commands
    app.state.writing = asyncio.Lock()  # one knowledge-base change at a time from this console

    def render(request: Request, name: str, context: dict[str, Any], staff: Staff | None, status_code: int = 200) -> Response:
        page = {"request": request, "staff": staff, "nav": NAV, "path": request.url.path,
                "flash": auth.take_flash(request), **context}
        response = templates.TemplateResponse(request, name, page, status_code=status_code)
        if page["flash"]:
            response.delete_cookie(FLASH_COOKIE, path="/")
        return response

    app.state.render = render
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for module in (auth, questions, documents, targets, batch, stats, invitations):
        app.include_router(module.router)

    @app.get("/")
    def home() -> Response:
        return RedirectResponse("/questions", status_code=303)

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
        detail = exc.detail if isinstance(exc.detail, str) and exc.status_code == 403 else messages.get(exc.status_code, "请求有误。")
        return render(request, "error.html", {"message": detail, "status": exc.status_code}, staff=None,
                      status_code=exc.status_code)

    return app
