"""The web chat over HTTP without a browser: headers, CSRF, the flood limit, the intranet mode, the turn record,
`zhibu web invite`, and the console's 邀请码 page (create, list, revoke; admins only)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from records.store import open_records
from tests.conftest import run_zhibu
from tests.console.conftest import ADMIN, LOCAL, PASSWORD, VIEWER
from webchat.app import create_app
from webchat.security import CSP
from zhibu.settings import get_settings

FETCH = {"X-Zhibu-Fetch": "1"}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def client(settings):
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def entered(client: TestClient, code: str) -> str:
    """Redeem the invitation; returns the session's CSRF token."""
    entry = CSRF.search(client.get(f"/i/{code}").text).group(1)
    page = client.post(f"/i/{code}", data={"csrf_token": entry})
    assert page.status_code == 200 and 'id="say"' in page.text
    return CSRF.search(page.text).group(1)


def test_every_response_carries_the_security_headers_and_the_cookie_is_strict(client, store):
    _, code = store.create_invitation("甲支部", "branch", 7, 1, by="测试")
    page = client.get(f"/i/{code}")
    for response in (page, client.get("/"), client.get("/static/chat.js"), client.get("/nowhere")):
        assert response.headers["content-security-policy"] == CSP
        assert "unsafe-inline" not in CSP and "frame-ancestors 'none'" in CSP
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
    entry = CSRF.search(page.text).group(1)
    redeemed = client.post(f"/i/{code}", data={"csrf_token": entry}, follow_redirects=False)
    chat = client.get("/").text
    for html in (page.text, chat):  # all script in static files: no inline script, no event attributes
        assert "<script>" not in html and not re.search(r"\son[a-z]+=", html) and "style=" not in html
    assert '<script src="/static/chat.js" defer></script>' in chat
    cookie = next(c for c in redeemed.headers.get_list("set-cookie") if c.startswith("zhibu_web="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie  # plain http here


def test_a_post_without_the_sessions_csrf_token_or_from_another_site_is_refused(client, store):
    _, code = store.create_invitation("甲支部", "branch", 7, 1, by="测试")
    csrf = entered(client, code)
    refused = client.post("/send", data={"csrf_token": "forged", "text": "自检"}, headers=FETCH)
    assert refused.status_code == 403 and "安全校验码" in refused.json()["notice"]
    foreign = client.post("/send", data={"csrf_token": csrf, "text": "自检"},
                          headers={**FETCH, "Origin": "https://evil.example"})
    assert foreign.status_code == 403
    assert client.post("/send", data={"csrf_token": csrf, "text": "自检"}, headers=FETCH).status_code == 200
    # The invitation form has its own signed token: without it nothing is redeemed.
    _, other = store.create_invitation("乙支部", "branch", 7, 1, by="测试")
    assert client.post(f"/i/{other}", data={"csrf_token": "forged"}).status_code == 403
    assert store.invitation_for(other).uses == 0


def test_without_javascript_a_form_post_redirects_back_to_the_page(client, store):
    _, code = store.create_invitation("甲支部", "branch", 7, 1, by="测试")
    csrf = entered(client, code)
    sent = client.post("/send", data={"csrf_token": csrf, "command": "check"}, follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"] == "/#end"
    page = client.get("/").text
    assert "请选择党支部所处领域" in page and 'value="dom|community"' in page


def test_the_flood_limit_refuses_in_chinese_and_keeps_the_state(home, monkeypatch, store):
    monkeypatch.setenv("ZHIBU_FLOOD_MESSAGES", "3")
    get_settings.cache_clear()
    with TestClient(create_app(get_settings())) as client:
        csrf = entered(client, store.create_invitation("甲支部", "branch", 7, 1, by="测试")[1])
        statuses = [client.post("/send", data={"csrf_token": csrf, "text": "帮助", "nonce": f"n{n}"}, headers=FETCH)
                    for n in range(5)]
    assert [s.status_code for s in statuses] == [200, 200, 200, 429, 429]
    assert statuses[3].json()["notice"] == "您发送得太快了，请稍等片刻再继续。"
    assert statuses[4].json()["added"] == []  # not applied: the browser keeps the text to send again


def test_a_resent_turn_is_answered_from_the_record_not_applied_twice(client, store):
    csrf = entered(client, store.create_invitation("甲支部", "branch", 7, 1, by="测试")[1])
    first = client.post("/send", data={"csrf_token": csrf, "text": "自检", "nonce": "same"}, headers=FETCH).json()
    again = client.post("/send", data={"csrf_token": csrf, "text": "自检", "nonce": "same"}, headers=FETCH).json()
    assert again["added"] == first["added"] and len(first["added"]) == 2
    assert client.get("/").text.count("开始自检。") == 1


def test_bad_input_is_told_in_chinese(client, store):
    csrf = entered(client, store.create_invitation("甲支部", "branch", 7, 1, by="测试")[1])
    for data, expected in (({"text": "  "}, "请输入内容"), ({"text": "问" * 2001}, "最多 2000 字"),
                           ({"command": "rm"}, "没有这个操作")):
        response = client.post("/send", data={"csrf_token": csrf, **data}, headers=FETCH)
        assert response.status_code == 400 and expected in response.json()["notice"]
    stale = client.post("/send", data={"csrf_token": csrf, "button": "ans|99|yes"}, headers=FETCH).json()
    assert stale["notice"] == "这个选项已失效，请按最新的消息操作。"
    assert client.get("/files/not-a-token").status_code == 404


def test_the_intranet_mode_opens_without_an_invitation_and_says_so(settings, monkeypatch):
    monkeypatch.setenv("ZHIBU_WEB_OPEN", "1")  # on the test's own home (`settings`), not the machine's
    get_settings.cache_clear()
    with TestClient(create_app(get_settings())) as client:
        page = client.get("/")
        assert page.status_code == 200 and "内网开放模式" in page.text and 'id="say"' in page.text


def test_leaving_deletes_the_session_and_its_conversation(client, store, settings):
    csrf = entered(client, store.create_invitation("甲支部", "branch", 7, 1, by="测试")[1])
    client.post("/send", data={"csrf_token": csrf, "text": "自检"}, headers=FETCH)
    left = client.post("/leave", data={"csrf_token": csrf})
    assert "对话记录已删除" in left.text
    assert client.get("/").status_code == 401
    assert [count for _, count in store.invitations()] == [0]


def test_zhibu_web_invite_prints_a_link_once_and_the_store_keeps_only_its_hash(home, store):
    made = run_zhibu("web", "invite", "巴彦嘎查党支部", "--days", "3", "--uses", "2", home=home,
                     env={"ZHIBU_WEB_URL": "https://zhibu.example.gov.cn/", "ZHIBU_EMBEDDING": "none"})
    assert made.returncode == 0, made.stderr
    link = made.stdout.strip().splitlines()[-1]
    code = re.fullmatch(r"https://zhibu\.example\.gov\.cn/i/([\w-]+)", link).group(1)
    [(invitation, _)] = store.invitations()
    assert (invitation.name, invitation.max_uses, invitation.kind) == ("巴彦嘎查党支部", 2, "branch")
    assert code not in invitation.code_hash and store.invitation_for(code).id == invitation.id
    assert "可用 2 次" in made.stderr
    wrong = run_zhibu("web", "invite", "甲", "--for", "everyone", home=home)
    assert wrong.returncode == 2 and "只能是 branch" in wrong.stderr


def test_the_console_creates_lists_and_revokes_invitations_for_admins_only(settings, store):
    from console.app import create_app as create_console

    records = open_records(settings)
    records.add_user(ADMIN, PASSWORD, "admin")
    records.add_user(VIEWER, PASSWORD, "viewer")
    with TestClient(create_console(settings), base_url=LOCAL) as console, TestClient(create_app(settings)) as web:
        def sign_in(name: str) -> str:
            token = CSRF.search(console.get("/login").text).group(1)
            console.post("/login", data={"name": name, "password": PASSWORD, "csrf_token": token})
            return CSRF.search(console.get("/questions").text).group(1)

        viewer_csrf = sign_in(VIEWER)
        assert console.get("/invitations").status_code == 403
        assert console.post("/invitations", data={"csrf_token": viewer_csrf, "name": "甲"}).status_code == 403
        csrf = sign_in(ADMIN)
        assert console.post("/invitations", data={"name": "甲"}).status_code == 403  # no CSRF token
        made = console.post("/invitations", data={"csrf_token": csrf, "name": "张书记", "kind": "person", "days": "3",
                                                  "uses": "1"})
        code = re.search(r'id="new-link">/i/([\w-]+)<', made.text).group(1)
        bad = console.post("/invitations", data={"csrf_token": csrf, "name": "乙", "days": "999", "uses": "1"})
        assert bad.status_code == 400 and "有效天数应在 1—365 之间" in bad.text

        web_csrf = entered(web, code)
        assert web.post("/send", data={"csrf_token": web_csrf, "text": "自检"}, headers=FETCH).status_code == 200
        listed = console.get("/invitations").text
        assert "张书记" in listed and "1/1" in listed and code not in listed
        [(invitation, sessions)] = store.invitations()
        assert sessions == 1
        revoked = console.post(f"/invitations/{invitation.id}/revoke", data={"csrf_token": csrf})
        assert "已收回“张书记”的邀请链接" in revoked.text and "已收回" in console.get("/invitations").text
        ended = web.post("/send", data={"csrf_token": web_csrf, "text": "自检"}, headers=FETCH)
        assert ended.status_code == 401 and ended.json()["ended"]
        assert "已被组织部收回" in web.get(f"/i/{code}").text
    audit = (settings.zhibu_home / "logs" / "admin.log").read_text(encoding="utf-8")
    assert '"action": "invite"' in audit and '"action": "revoke-invite"' in audit


def test_a_link_opened_from_another_app_reloads_once_to_send_the_strict_cookie(client):
    # From a chat app the browser holds the SameSite=Strict session cookie back but sends the Lax marker.
    client.cookies.set("zhibu_web_seen", "1")
    first = client.get("/")
    assert first.status_code == 200 and 'http-equiv="refresh" content="0; url=/?again=1"' in first.text
    again = client.get("/?again=1")  # still no session: the gate, and the marker goes
    assert again.status_code == 401 and "zhibu_web_seen=\"\"" in again.headers["set-cookie"]
