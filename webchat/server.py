"""`zhibu web` (serve the chat) and `zhibu web invite` (an invitation link from the command line)."""

from __future__ import annotations

import logging
import sys

from zhibu.errors import BadInput
from zhibu.settings import get_settings

OPEN_MODE_WARNING = ("注意：内网开放模式（ZHIBU_WEB_OPEN=1）——不需要邀请，能访问本页的任何人都可以使用。"
                     "只在单位内网中这样运行。")


def app_from_environment():
    """The app factory uvicorn's workers call (each worker builds its own, settings from the environment)."""
    from webchat.app import create_app

    return create_app(get_settings())


def run_web(host: str, port: int, workers: int) -> None:
    import uvicorn

    settings = get_settings()
    if workers > 1 and settings.zhibu_database_url is None:
        print("提示：多个进程共用 SQLite 时，每条消息都要排队写同一个文件；人多时请改用 PostgreSQL（ZHIBU_DATABASE_URL）。",
              file=sys.stderr)
    if settings.zhibu_web_open:
        print(OPEN_MODE_WARNING, file=sys.stderr)
    from records.store import open_records

    open_records(settings)  # the migrations run once here, not in every worker at the same time
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    print(f"支部网页对话：http://{host}:{port}/ （{workers} 个进程，Ctrl-C 停止）", file=sys.stderr)
    # proxy_headers with uvicorn's default trusted proxy (127.0.0.1): behind nginx the scheme is https,
    # so the session cookie is marked Secure.
    uvicorn.run("webchat.server:app_from_environment", factory=True, host=host, port=port, workers=workers,
                log_level="warning", proxy_headers=True)


def invite(name: str, days: int, uses: int, kind: str) -> None:
    from webchat.store import WebStore, beijing

    settings = get_settings()
    invitation, code = WebStore(settings).create_invitation(name, kind, days, uses, by="命令行")
    link = invitation_link(settings.zhibu_web_url, code)
    who = "党支部" if invitation.kind == "branch" else "个人"
    print(f"邀请链接（只显示这一次，请妥善转交）：\n{link}")
    print(f"邀请对象：{invitation.name}（{who}）；有效期至 {beijing(invitation.expires_at)}；可用 {invitation.max_uses} 次。",
          file=sys.stderr)
    if not settings.zhibu_web_url:
        print("提示：未设置 ZHIBU_WEB_URL，链接前请加上本站地址（如 https://zhibu.example.gov.cn）。", file=sys.stderr)


def invitation_link(base_url: str | None, code: str) -> str:
    return f"{(base_url or '').rstrip('/')}/i/{code}"


def check_kind(kind: str) -> str:
    kinds = {"branch": "branch", "党支部": "branch", "person": "person", "个人": "person"}
    if kind not in kinds:
        raise BadInput("--for 只能是 branch（党支部）或 person（个人）。")
    return kinds[kind]
