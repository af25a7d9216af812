"""The console over HTTP without a browser (FastAPI's TestClient), its helpers, and `zhibu console add-user`."""

from __future__ import annotations

import io
import os
import re
import subprocess
import time
from datetime import datetime, timedelta, timezone

import pytest
import yaml
from fastapi.testclient import TestClient

from bot.dialogue import Dialogue
from bot.events import Event
from bot.feedback import Feedback, wording_of
from bot.library import Library
from bot.terminal import TerminalChat
from console.app import create_app
from console.questions import merge_similar
from console.stats import every_day
from console.targets import parse_value
from records.store import CHINA, PendingGroup, now, open_records
from tests.conftest import ZHIBU, run_zhibu
from tests.console.conftest import ADMIN, LOCAL, PASSWORD, free_port, login_page_of
from zhibu.errors import BadInput
from zhibu.settings import get_settings

PAGES = ("/questions", "/documents", "/targets", "/batch", "/stats")
SHIPPED = ("guidance-2020-02", "plan-2020-04", "work-guide-2020")


@pytest.fixture
def client(settings, records):
    with TestClient(create_app(settings), base_url=LOCAL) as test_client:
        yield test_client


def signed_in(client: TestClient, name: str = ADMIN) -> str:
    """Log in; returns the session's CSRF token."""
    login = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
    assert client.post("/login", data={"name": name, "password": PASSWORD, "csrf_token": token}).status_code == 200
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/questions").text).group(1)


def test_every_page_but_login_and_static_files_needs_a_login(client):
    for page in PAGES:
        response = client.get(page, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/login"
    assert client.get("/static/console.css").status_code == 200
    assert "登录管理台" in client.get("/login").text


def test_roll_back_without_a_previous_generation_says_so(client):
    csrf = signed_in(client)
    page = client.post("/documents/rollback", data={"csrf_token": csrf})
    assert "没有可以回滚的上一版本" in page.text
    assert "/documents" in str(page.url)


def test_a_roster_that_is_not_csv_or_xlsx_gets_a_chinese_message(client):
    csrf = signed_in(client)
    response = client.post("/batch", data={"csrf_token": csrf}, files={"file": ("名单.pdf", b"%PDF-1.4", "application/pdf")})
    assert response.status_code == 400 and "只支持 .csv 和 .xlsx 文件" in response.text


@pytest.mark.parametrize("text, kind, expected", [
    ("60%", "share", 0.6), ("0.6", "share", 0.6), ("60", "share", 0.6), ("６０％", "share", 0.6),
    ("6万", "money", 60000), ("60,000元", "money", 60000), ("5.5万元", "money", 55000),
])
def test_values_are_read_the_way_staff_write_them(text, kind, expected):
    assert parse_value(text, kind) == pytest.approx(expected)


@pytest.mark.parametrize("text, kind", [("六万", "money"), ("150%", "share"), ("6万", "share"), ("60%", "money"), ("", "share")])
def test_values_that_make_no_sense_are_refused(text, kind):
    with pytest.raises(BadInput):
        parse_value(text, kind)


def test_near_wordings_merge_and_different_ones_stay_apart():
    def group(question: str, count: int) -> PendingGroup:
        return PendingGroup(wording_of(question), count, count, 0, 0, now(), question, [], {})

    merged = merge_similar([group("咱村集体经济收入要达到多少", 5), group("咱村集体经济年收入要达到多少", 2),
                            group("党费怎么交", 3), group("最强党支部多久评一次", 2), group("评上最强党支部有什么奖励", 1)])
    assert [(g.count, g.examples) for g in merged] == [
        (7, ["咱村集体经济收入要达到多少", "咱村集体经济年收入要达到多少"]), (3, ["党费怎么交"]),
        (2, ["最强党支部多久评一次"]), (1, ["评上最强党支部有什么奖励"])]  # same words 最强党支部、评; different questions


def test_word_order_particles_and_punctuation_do_not_change_the_wording():
    assert wording_of("集体经济收入要达到多少？") == wording_of("要达到多少集体经济收入呀") != wording_of("党费怎么交")


def test_add_user_reads_the_password_from_stdin_and_checks_the_role(settings, tmp_path):
    home = settings.zhibu_home
    created = run_zhibu("console", "add-user", "王五", "--role", "admin", home=home, input="a long password\n")
    assert created.returncode == 0 and "王五" in created.stdout
    get_settings.cache_clear()
    user, _ = open_records(get_settings()).check_password("王五", "a long password")
    assert user is not None and user.role == "admin"
    bad_role = run_zhibu("console", "add-user", "赵六", "--role", "boss", home=home, input="a long password\n")
    assert bad_role.returncode == 2 and "角色只能是" in bad_role.stderr
    short = run_zhibu("console", "add-user", "赵六", home=home, input="short\n")
    assert short.returncode == 2 and "至少 8 位" in short.stderr


async def test_an_unreachable_database_never_stops_an_answer(settings, monkeypatch):
    monkeypatch.setenv("ZHIBU_DATABASE_URL", f"postgresql://nobody@127.0.0.1:{free_port()}/zhibu")
    get_settings.cache_clear()
    unreachable = get_settings()
    out = io.StringIO()
    chat = TerminalChat(Dialogue(Library(unreachable), feedback=Feedback(unreachable)), out, unreachable.zhibu_home)
    await chat.turn(Event(text="党员评议优秀比例要达到多少？"))
    await chat.turn(Event(command="check"))
    assert "90%" in out.getvalue() and "出处" in out.getvalue()
    assert "请输入 +" not in out.getvalue()  # nothing stored, so nothing to rate
    assert "请选择党支部所处领域" in out.getvalue()


def test_an_upload_can_replace_a_document_chosen_by_staff(client, tmp_path):
    csrf = signed_in(client)
    first = "关于数字党建的通知\n一、总体要求\n党支部每月至少开展一次线上主题党日活动。\n".encode()
    added = client.post("/documents/upload", data={"csrf_token": csrf, "title": "关于数字党建的通知"},
                        files={"file": ("数字党建.txt", first, "text/plain")})
    assert "新增 1 篇" in added.text
    doc_id = next(code for code in re.findall(r'name="doc_id" value="([^"]+)"', added.text) if code not in SHIPPED)
    second = "关于数字党建的通知（修订）\n一、总体要求\n党支部每两周至少开展一次线上主题党日活动。\n".encode()
    replaced = client.post("/documents/upload", data={"csrf_token": csrf, "replace": doc_id},
                           files={"file": ("修订稿.txt", second, "text/plain")})
    assert "知识库已更新：替换 1 篇《关于数字党建的通知（修订）》" in replaced.text and "新增" not in replaced.text
    answer = client.get("/documents", params={"ask": "线上主题党日多久开展一次？"}).text
    assert "每两周" in answer


def test_zhibu_console_serves_the_pages_with_one_command(settings):
    port = free_port()
    env = {**os.environ, "ZHIBU_HOME": str(settings.zhibu_home), "ZHIBU_EMBEDDING": "none"}
    server = subprocess.Popen([ZHIBU, "console", "--port", str(port)], env=env, stderr=subprocess.PIPE, text=True)
    try:
        login = login_page_of(server, port)
        assert login.status_code == 200 and "登录管理台" in login.text
    finally:
        server.terminate()
        server.wait(10)


def test_the_console_runs_on_postgresql(postgres_url, settings, monkeypatch):
    import psycopg

    database = f"console_{free_port()}"  # a database of its own on the session's server
    with psycopg.connect(postgres_url.replace("+psycopg", ""), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {database}")
    monkeypatch.setenv("ZHIBU_DATABASE_URL", postgres_url.rsplit("/", 1)[0] + f"/{database}")
    get_settings.cache_clear()
    on_postgres = get_settings()
    records = open_records(on_postgres)
    records.add_user(ADMIN, PASSWORD, "admin")
    records.log_question(channel="telegram", chat_id=9, user_id=9, question="党费怎么交", answer="……",
                         status="not_covered", cited=[], generation="g", wording=wording_of("党费怎么交"))
    with TestClient(create_app(on_postgres), base_url=LOCAL) as client:
        signed_in(client)
        assert "党费怎么交" in client.get("/questions").text
        assert '<span class="value" id="total">1</span>' in client.get("/stats").text
    assert not (on_postgres.zhibu_home / "records" / "records.sqlite3").exists()


def test_days_without_questions_show_as_zero_up_to_today():
    today = datetime.now(CHINA).date()
    asked = [((today - timedelta(days=3)).isoformat(), 4), (today.isoformat(), 1)]
    assert [count for _, count in every_day(asked, 30)] == [4, 0, 0, 1]
    assert every_day([], 30) == []


def test_a_partial_answer_on_the_documents_page_shows_the_sources_it_quotes(client):
    signed_in(client)
    page = client.get("/documents", params={"ask": "2026年的比例是多少"}).text  # targets stop at 2023: partial
    answer = page[page.index('id="answer"'):]
    assert "文件没有直接规定2026年的要求" in answer
    assert '<ol class="sources">' in answer and "《" in answer.split('<ol class="sources">')[1]


def test_the_pages_say_the_knowledge_base_is_being_built_until_it_is_ready(client):
    from console.knowledge import Readiness

    deadline = time.monotonic() + 60  # the start-up build finishes first, so that it cannot flip the state below
    while not client.get("/status").json()["ready"] and time.monotonic() < deadline:
        time.sleep(0.1)
    building = Readiness()  # a build in progress, held there by the test
    building.progress = (120, 480)
    client.app.app.state.knowledge = building  # the FastAPI app inside the edge middleware
    assert client.get("/status").json() == {
        "ready": False,
        "message": "正在建立知识库…（已处理 120/480 段，第一次启动需要几分钟，完成后即可试问）",
    }
    assert "正在建立知识库" in client.get("/login").text
    building.set_ready()
    assert client.get("/status").json() == {"ready": True, "message": "知识库已就绪，可以试问了。"}
    assert "正在建立知识库" not in client.get("/login").text


def test_times_are_shown_in_the_configured_zone(settings):
    from console.app import local_time

    moment = datetime(2026, 12, 1, 6, 5, tzinfo=timezone.utc)
    assert local_time(moment, settings) == "2026-12-01 14:05"  # stored in UTC, shown in Beijing time
    assert local_time(moment, settings.model_copy(update={"zhibu_timezone": "Asia/Ulaanbaatar"})) == "2026-12-01 14:05"
    assert local_time(moment, settings.model_copy(update={"zhibu_timezone": "UTC"})) == "2026-12-01 06:05"


def test_rolling_back_the_document_a_target_cites_asks_first_then_flags_it(client, settings):
    csrf = signed_in(client)
    notice = "关于2026年度集体经济的通知\n一、目标\n2026年度，嘎查村集体经济年经营性收入超过6万元。\n".encode()
    added = client.post("/documents/upload", data={"csrf_token": csrf}, files={"file": ("通知.txt", notice, "text/plain")})
    doc_id = next(code for code in re.findall(r'name="doc_id" value="([^"]+)"', added.text) if code not in SHIPPED)
    saved = client.post("/targets", data={"csrf_token": csrf, "parameter": "gacha_village.collective_income", "year": "2026",
                                          "value": "6万", "doc_id": doc_id, "section": "一、目标",
                                          "quote": "2026年度，嘎查村集体经济年经营性收入超过6万元"})
    assert "已保存" in saved.text
    asked = client.post("/documents/rollback", data={"csrf_token": csrf})
    assert "确定回滚到上一版本？" in asked.text and "2026 年度" in asked.text
    assert doc_id in re.findall(r'name="doc_id" value="([^"]+)"', client.get("/documents").text)  # nothing done yet
    done = client.post("/documents/rollback", data={"csrf_token": csrf, "confirmed": "yes"})
    assert "已回滚到上一版本。1 个年度目标没有了依据" in done.text
    [entry] = yaml.safe_load((settings.zhibu_home / "parameters.yaml").read_text(encoding="utf-8"))
    assert entry["without_basis"].startswith("依据文件《关于2026年度集体经济的通知》")
    assert "此数值暂不生效" in client.get("/targets").text
