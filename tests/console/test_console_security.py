"""The console under attack, over real HTTP (uvicorn as `zhibu console` configures it): headers, hosts,
cookies behind a proxy, sign-in throttling, bodies refused before they are read, control characters."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time

import httpx
import pytest

from console.edge import FORM_LIMIT
from records.store import BUDGETS
from tests.conftest import ZHIBU, run_zhibu
from tests.console.conftest import ADMIN, PASSWORD, VIEWER, ServedConsole, free_port

PAGES = ("/login", "/questions", "/static/console.css", "/static/console.js", "/no-such-page")


def login_token(client: httpx.Client) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)


def try_login(client: httpx.Client, name: str, password: str) -> httpx.Response:
    return client.post("/login", data={"name": name, "password": password, "csrf_token": login_token(client)})


def signed_in(url: str, name: str = ADMIN, **options) -> tuple[httpx.Client, str]:
    """A client signed in as `name`, and its session's CSRF token."""
    client = httpx.Client(base_url=url, follow_redirects=True, **options)
    assert try_login(client, name, PASSWORD).url.path == "/questions"
    return client, re.search(r'name="csrf_token" value="([^"]+)"', client.get("/questions").text).group(1)


def audit_entries(settings) -> list[dict]:
    return [json.loads(line) for line in (settings.zhibu_home / "logs" / "admin.log").read_text().splitlines()]


def test_every_response_carries_the_security_headers_and_no_server_name(console):
    for path in PAGES:
        response = httpx.get(console.url + path)
        policy = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "server" not in response.headers


def test_only_the_configured_host_names_are_served(console):
    rebound = httpx.get(console.url + "/login", headers={"host": "attacker.example:8080"})
    assert rebound.status_code == 400 and "ZHIBU_CONSOLE_HOSTS" in rebound.text and "登录" not in rebound.text
    assert "content-security-policy" in rebound.headers
    assert httpx.get(console.url + "/login", headers={"host": "localhost:8080"}).status_code == 200


@pytest.mark.parametrize("trusted, proto, secure", [("127.0.0.1", "https", True), ("127.0.0.1", None, False),
                                                    (None, "https", False)])
def test_cookies_are_secure_when_a_trusted_proxy_says_https(settings, records, trusted, proto, secure):
    headers = {"x-forwarded-proto": proto} if proto else {}
    with ServedConsole(settings, forwarded_allow_ips=trusted) as served:
        response = httpx.get(served.url + "/login", headers=headers)
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("zhibu_login=") and ("; secure" in cookie.lower()) == secure


def test_a_password_reset_ends_the_sessions_opened_with_the_old_one(console, settings):
    client, _ = signed_in(console.url)
    assert client.get("/stats").url.path == "/stats"
    reset = run_zhibu("console", "add-user", ADMIN, "--role", "admin", home=settings.zhibu_home,
                      input="a new password 2026\n")
    assert reset.returncode == 0
    assert client.get("/stats").url.path == "/login"


def test_unknown_and_known_names_get_the_same_answers_and_are_slowed_down_alike(console, settings):
    answers = {}
    for name, address in ((ADMIN, "127.0.0.2"), ("无此人", "127.0.0.3")):  # each from its own client address
        client = httpx.Client(base_url=console.url, follow_redirects=True,
                              transport=httpx.HTTPTransport(local_address=address))
        replies = [try_login(client, name, "wrong password") for _ in range(BUDGETS["name"].free + 1)]
        answers[name] = [(reply.status_code, re.search(r'role="alert">([^<]+)<', reply.text).group(1).split("请")[0])
                         for reply in replies]
    assert answers[ADMIN] == answers["无此人"]
    assert answers[ADMIN][0] == (401, "用户名或密码错误。") and answers[ADMIN][-1] == (429, "登录尝试过于频繁，")
    refused = [entry["user"] for entry in audit_entries(settings) if entry["outcome"] != "ok"]
    assert set(refused) == {f"console:{ADMIN}", "console:未知用户名"}


def test_a_sprayed_client_is_slowed_down_and_a_password_in_the_name_field_is_not_logged(console, settings):
    client = httpx.Client(base_url=console.url, follow_redirects=True)
    statuses = [try_login(client, f"Adm1n-pass-long-{number}", "guess").status_code for number in range(20)]
    assert statuses[:BUDGETS["client"].free] == [401] * BUDGETS["client"].free
    assert set(statuses[BUDGETS["client"].free:]) == {429}
    assert "Adm1n-pass-long" not in (settings.zhibu_home / "logs" / "admin.log").read_text()


def test_an_attacker_slowing_a_name_down_does_not_keep_its_owner_out(console):
    owner, _ = signed_in(console.url)  # this browser signed in before: it carries the signed device cookie
    owner.post("/logout", data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"',
                                                        owner.get("/questions").text).group(1)})
    attacker = httpx.Client(base_url=console.url, follow_redirects=True, cookies={})
    for _ in range(BUDGETS["name"].free + 3):
        last = try_login(attacker, ADMIN, "guess")
    assert last.status_code == 429
    assert try_login(owner, ADMIN, PASSWORD).url.path == "/questions"


def test_an_anonymous_upload_is_sent_to_login_before_its_body_is_read(console):
    announced = 300 * 1024 * 1024
    with socket.create_connection(("127.0.0.1", console.port)) as connection:
        head = (f"POST /batch HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=x\r\n"
                f"Content-Length: {announced}\r\n\r\n")
        connection.sendall(head.encode() + b"x" * 65536)  # the first 64 KB of 300 MB
        connection.settimeout(30)
        answer = connection.recv(4096).decode("latin-1")
    assert answer.startswith("HTTP/1.1 303") and "location: /login" in answer.lower()


def test_bodies_past_the_limits_are_refused_before_they_are_read(console):
    client, csrf = signed_in(console.url, VIEWER)
    too_big = client.post("/questions/handled", data={"csrf_token": csrf, "wording": "x" * (FORM_LIMIT + 1)})
    assert too_big.status_code == 413 and "太大" in too_big.text
    limit_mb = console.settings.zhibu_max_upload_mb
    with socket.create_connection(("127.0.0.1", console.port)) as connection:
        cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
        connection.sendall(f"POST /batch HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n"
                           f"Content-Type: multipart/form-data; boundary=x\r\n"
                           f"Content-Length: {(limit_mb + 2) * 1024 * 1024}\r\n\r\n".encode())
        connection.settimeout(30)
        assert connection.recv(4096).decode("latin-1").startswith("HTTP/1.1 413")


@pytest.mark.parametrize("path, field", [("/login", "name"), ("/questions/handled", "wording"),
                                         ("/targets", "section")])
def test_control_characters_are_refused_at_the_edge(console, path, field):
    client, csrf = signed_in(console.url)
    form = {"csrf_token": csrf if path != "/login" else login_token(client), "name": ADMIN, "password": PASSWORD,
            "parameter": "targets.share", "year": "2026", "value": "60%", "doc_id": "plan-2020-04", "quote": "x",
            "section": "一", "wording": "党费"}
    response = client.post(path, data=form | {field: "一\x00二"})
    assert response.status_code == 400 and "控制字符" in response.text
    assert client.get("/questions?x=%01").status_code == 400


def test_a_console_on_a_network_address_warns_that_it_needs_https(settings):
    port = free_port()
    server = subprocess.Popen([ZHIBU, "console", "--host", "0.0.0.0", "--port", str(port)], stderr=subprocess.PIPE,
                              text=True, env={**os.environ, "ZHIBU_HOME": str(settings.zhibu_home),
                                              "ZHIBU_EMBEDDING": "none"})
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/login", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None and time.monotonic() < deadline, "zhibu console did not start"
                time.sleep(0.2)
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=10)
    assert "同一网络中的其他机器也能访问它" in errors and "HTTPS" in errors
