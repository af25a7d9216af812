"""`zhibu console` (serve the pages) and `zhibu console add-user` (create or reset a staff account)."""

from __future__ import annotations

import getpass
import ipaddress
import sys

from zhibu.errors import BadInput
from zhibu.settings import Settings, get_settings

EXPOSED = ("注意：管理台监听 {host}，同一网络中的其他机器也能访问它。请只在 HTTPS 反向代理之后这样运行"
           "（用 --forwarded-allow-ips 写明代理的地址，用 ZHIBU_CONSOLE_HOSTS 写明对外的域名），"
           "否则密码和会话会以明文在网络上传输。")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def server_config(settings: Settings, host: str, port: int, forwarded_allow_ips: str | None = None, **options):
    """uvicorn's configuration of the console: no `server` header; the proxy's X-Forwarded-* headers (the
    client address, https) believed only from the addresses given."""
    import uvicorn

    from console.app import create_app

    return uvicorn.Config(create_app(settings), host=host, port=port, server_header=False,
                          proxy_headers=bool(forwarded_allow_ips), forwarded_allow_ips=forwarded_allow_ips or "",
                          **options)


def run_console(host: str, port: int, forwarded_allow_ips: str | None = None) -> None:
    import logging

    import uvicorn

    # The console's own progress (the knowledge base built at start, purges) beside uvicorn's lines.
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)

    shown = f"[{host}]" if ":" in host else host
    print(f"支部管理台：http://{shown}:{port}/ （Ctrl-C 停止）", file=sys.stderr)
    if not is_loopback(host):
        print(EXPOSED.format(host=host), file=sys.stderr)
    uvicorn.Server(server_config(get_settings(), host, port, forwarded_allow_ips, log_level="info")).run()


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
