"""`zhibu console` (serve the pages) and `zhibu console add-user` (create or reset a staff account)."""

from __future__ import annotations

import getpass
import sys

from zhibu.errors import BadInput
from zhibu.settings import get_settings


def run_console(host: str, port: int) -> None:
    import logging

    import uvicorn

    # The console's own progress (the knowledge base built at start, purges) beside uvicorn's lines.
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)

    from console.app import create_app

    print(f"支部管理台：http://{host}:{port}/ （Ctrl-C 停止）", file=sys.stderr)
    uvicorn.run(create_app(get_settings()), host=host, port=port, log_level="info", proxy_headers=False)


def read_password() -> str:
    """From a prompt (asked twice) on a terminal, else the first line of stdin (scripts, tests)."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass("密码（至少 8 位）：")
    if getpass.getpass("再输入一次：") != password:
        raise BadInput("两次输入的密码不一致。")
    return password


def add_user(name: str, role: str) -> None:
    from records.store import open_records

    open_records(get_settings()).add_user(name, read_password(), role)
    print(f"已保存账号 {name.strip()}（{'管理员' if role == 'admin' else '查看'}）。")
