"""The staff console in a real Chromium (the system package) driven by Playwright, against the console served
by uvicorn on 127.0.0.1 with a real knowledge base and records store."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from docx import Document as DocxDocument
from openpyxl import load_workbook

from bot.feedback import wording_of
from records.store import BUDGETS, open_records
from tests.console.conftest import ADMIN, PASSWORD, VIEWER, log_in
from tests.evaluators.evaluator_helpers import flat, passing_profile

ZHIBU = str(Path(sys.executable).with_name("zhibu"))
NOTICE_TITLE = "关于做好2026年度“最强党支部”建设工作的通知"
NEW_QUESTION = "北疆先锋平台书记多久要登录一次？"  # a frequency asked as people ask it (多久…一次)
INCOME_CLAUSE = "嘎查村集体经济年经营性收入超过6万元"


def notice_docx(folder: Path) -> Path:
    """A 2026 notice the shipped texts know nothing of (the 北疆先锋 platform, a 6万元 income figure)."""
    document = DocxDocument()
    for line in (NOTICE_TITLE, "（内组通字〔2026〕5号）", "一、年度目标",
                 "到2026年底，全区达到“最强党支部”标准的党支部比例要达到60%以上。",
                 "二、集体经济", f"2026年度，{INCOME_CLAUSE}。",
                 "三、数字化建设", "党支部书记每季度至少登录一次“北疆先锋”数字平台，组织党员开展线上主题党日活动。"):
        document.add_paragraph(line)
    path = folder / "2026年度通知.docx"
    document.save(path)
    return path


def upload(page, path: Path, **fields: str) -> None:
    page.goto("/documents")
    page.set_input_files("input[name=file]", str(path))
    for name, value in fields.items():
        page.fill(f"input[name={name}]", value)
    page.click("form[action='/documents/upload'] button[type=submit]")
    page.wait_for_url("**/documents")


def ask_in_console(page, question: str) -> str:
    page.goto("/documents")
    page.fill("input[name=ask]", question)
    page.click("form[action='/documents'] button[type=submit]")
    return page.inner_text("#answer")


def document_ids(page) -> list[str]:
    """The ids behind the 删除 buttons (staff see titles only; an admin page carries the ids in its forms)."""
    page.goto("/documents")
    return [field.get_attribute("value") for field in page.locator("form[action='/documents/remove'] input[name=doc_id]").all()]


def test_login_sets_a_safe_cookie_and_logout_ends_the_session(page):
    log_in(page, ADMIN)
    page.wait_for_url("**/questions")
    assert page.inner_text("h1") == "待处理问题"
    [cookie] = [c for c in page.context.cookies() if c["name"] == "zhibu_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    page.click("text=退出登录")
    page.wait_for_url("**/login")
    page.goto("/stats")
    assert page.url.endswith("/login")  # everything but /login is behind the login


def test_repeated_wrong_passwords_slow_a_name_down_but_never_lock_its_owner_out(page, browser, console):
    owner = browser.new_context(base_url=console.url, locale="zh-CN").new_page()
    log_in(owner, ADMIN)  # the owner's browser signed in before (it keeps a signed cookie saying so)
    owner.wait_for_url("**/questions")
    owner.click("text=退出登录")
    log_in(page, ADMIN, "not the password")
    assert "用户名或密码错误" in page.inner_text("[role=alert]")
    assert page.url.endswith("/login")
    for _ in range(BUDGETS["name"].free + 6):  # each wait doubles: a slow browser meets one soon
        log_in(page, ADMIN, "still wrong")
        if "登录尝试过于频繁" in page.inner_text("[role=alert]"):
            break
    assert "登录尝试过于频繁" in page.inner_text("[role=alert]")
    log_in(page, ADMIN)  # the right password from the guessing browser waits too
    assert "登录尝试过于频繁" in page.inner_text("[role=alert]")
    log_in(owner, ADMIN)
    owner.wait_for_url("**/questions")
    owner.context.close()


def test_an_uploaded_document_answers_at_once_and_a_roll_back_takes_it_away(page, tmp_path, settings):
    log_in(page, ADMIN)
    before = ask_in_console(page, NEW_QUESTION)
    assert NOTICE_TITLE not in before  # (the texts' "北疆先锋网" clause may be quoted as the nearest one)
    upload(page, notice_docx(tmp_path), doc_number="内组通字〔2026〕5号", date="2026-03-01")
    assert "新增 1 篇" in page.inner_text(".flash")
    row = page.locator("#documents tbody tr", has_text=NOTICE_TITLE)
    assert "内组通字〔2026〕5号" in row.inner_text() and ADMIN in row.inner_text()

    answer = ask_in_console(page, NEW_QUESTION)
    assert "北疆先锋" in answer and NOTICE_TITLE in answer
    # Another process (the CLI, like the bot) sees the new generation too.
    cli = subprocess.run([ZHIBU, "ask", "--json", NEW_QUESTION], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "ZHIBU_HOME": str(settings.zhibu_home), "ZHIBU_EMBEDDING": "none"})
    reply = json.loads(cli.stdout)
    assert reply["found"] and reply["citations"][0]["document"] == NOTICE_TITLE

    page.goto("/documents")
    page.click("text=回滚到上一版本")
    page.wait_for_url("**/documents")
    assert "已回滚" in page.inner_text(".flash")
    assert not any(NOTICE_TITLE in text for text in page.locator("#documents").all_inner_texts())
    assert NOTICE_TITLE not in ask_in_console(page, NEW_QUESTION)
    audit = [json.loads(line) for line in (settings.zhibu_home / "logs" / "admin.log").read_text().splitlines()]
    assert [(e["user"], e["action"], e["outcome"]) for e in audit if e["action"] in ("upload", "rollback")] == [
        (f"console:{ADMIN}", "upload", "ok"), (f"console:{ADMIN}", "rollback", "ok")]


def test_a_bad_file_is_refused_and_the_knowledge_base_stays(page, tmp_path):
    log_in(page, ADMIN)
    before = document_ids(page)
    empty = tmp_path / "空文件.txt"
    empty.write_bytes(b"")
    upload(page, empty)
    assert "未完成" in page.inner_text(".flash")
    assert document_ids(page) == before


def test_a_2026_target_needs_its_clause_in_the_knowledge_base(page, tmp_path, settings):
    log_in(page, ADMIN)
    upload(page, notice_docx(tmp_path))
    doc_id = next(d for d in document_ids(page) if d not in ("guidance-2020-02", "plan-2020-04", "work-guide-2020"))

    def add(quote: str) -> str:
        page.goto("/targets")
        page.select_option("select[name=parameter]", "gacha_village.collective_income")
        page.fill("input[name=year]", "2026")
        page.fill("input[name=value]", "6万")
        page.select_option("select[name=doc_id]", doc_id)
        page.fill("input[name=section]", "二、集体经济")
        page.fill("textarea[name=quote]", quote)
        page.click("#add-target button[type=submit]")
        page.wait_for_url("**/targets")
        return page.inner_text(".flash")

    assert "找不到这段原文" in add("嘎查村集体经济年经营性收入超过8万元")
    assert not (settings.zhibu_home / "parameters.yaml").exists()
    assert "已保存" in add(INCOME_CLAUSE)
    row = page.locator("#p-gacha_village\\.collective_income tr.staff")
    assert "2026" in row.inner_text() and "6万元" in row.inner_text() and ADMIN in row.inner_text()
    [entry] = yaml.safe_load((settings.zhibu_home / "parameters.yaml").read_text(encoding="utf-8"))
    assert entry["parameter"] == "gacha_village.collective_income" and (entry["year"], entry["value"]) == (2026, 60000)
    assert entry["source"]["quote"] == INCOME_CLAUSE and entry["source"]["document"] == NOTICE_TITLE
    assert entry["entered_by"] == ADMIN and entry["entered_at"].endswith("+08:00")
    assert [(t.year, t.value) for t in open_records(settings).targets()] == [(2026, 60000)]


def test_a_2026_self_check_uses_the_target_entered_in_the_console(page, tmp_path, settings):
    log_in(page, ADMIN)
    upload(page, notice_docx(tmp_path))
    doc_id = next(d for d in document_ids(page) if d not in ("guidance-2020-02", "plan-2020-04", "work-guide-2020"))
    page.goto("/targets")
    page.select_option("select[name=parameter]", "gacha_village.collective_income")
    page.fill("input[name=year]", "2026")
    page.fill("input[name=value]", "60000")
    page.select_option("select[name=doc_id]", doc_id)
    page.fill("input[name=section]", "二、集体经济")
    page.fill("textarea[name=quote]", INCOME_CLAUSE)
    page.click("#add-target button[type=submit]")
    page.wait_for_url("**/targets")
    profile = passing_profile("gacha_village") | {"year": 2026}
    profile["facts"] = profile["facts"] | {"collective_income_yuan": 55000}  # above 2021's 5万, below 2026's 6万
    check = subprocess.run([ZHIBU, "check", "--json", "-"], input=json.dumps(profile, ensure_ascii=False, default=str),
                           capture_output=True, text=True, timeout=60,
                           env={**os.environ, "ZHIBU_HOME": str(settings.zhibu_home)})
    report = json.loads(check.stdout)
    [income] = [c for c in report["criteria"] if c["id"] == "gacha_village.collective_income"]
    assert income["status"] == "fail" and "6万" in income["reason"]


def test_batch_upload_shows_the_summary_and_downloads_the_report(page, tmp_path):
    rows = [flat(passing_profile("gacha_village")),
            flat(passing_profile("gacha_village")) | {"name": "巴彦嘎查党支部", "facts.stars": 7},
            flat(passing_profile("government_organ"))]
    roster = tmp_path / "支部名单.csv"
    with roster.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(dict.fromkeys(k for row in rows for k in row)))
        writer.writeheader()
        writer.writerows(rows)
    log_in(page, VIEWER)  # evaluating a roster changes nothing: viewers may do it
    page.goto("/batch")
    page.set_input_files("input[name=file]", str(roster))
    page.click("form[action='/batch'] button[type=submit]")
    summary = page.inner_text("#summary")
    assert "共 3 个党支部，符合评定条件 2 个" in summary and "巴彦嘎查党支部" in summary
    assert page.locator("#branches tbody tr").count() == 3
    assert page.locator("img.chart").evaluate("image => image.naturalWidth") > 100
    with page.expect_download() as download:
        page.click("text=下载评估报告")
    saved = tmp_path / "report.xlsx"
    download.value.save_as(saved)
    workbook = load_workbook(saved)
    assert workbook.sheetnames == ["汇总", "明细", "有误的行"] and workbook["明细"].max_row == 4


def test_a_viewer_sees_no_admin_forms_and_is_refused_an_admin_action(page):
    log_in(page, VIEWER)
    page.goto("/documents")
    assert page.locator("form[action='/documents/upload']").count() == 0
    assert page.locator("form[action='/documents/remove']").count() == 0
    token = page.locator("form[action='/logout'] input[name=csrf_token]").get_attribute("value")
    refused = page.request.post("/documents/remove", form={"csrf_token": token, "doc_id": "plan-2020-04"})
    assert refused.status == 403 and "只有管理员" in refused.text()
    refused = page.request.post("/targets", form={"csrf_token": token, "parameter": "targets.share", "year": "2026",
                                                  "value": "60%", "doc_id": "plan-2020-04", "section": "一", "quote": "x"})
    assert refused.status == 403
    page.goto("/documents")
    assert page.locator("#documents tbody tr").count() == 3  # nothing was removed


def test_a_form_without_its_csrf_token_is_refused(page):
    log_in(page, ADMIN)
    page.goto("/documents")
    remove = page.locator("form[action='/documents/remove']", has=page.locator("input[value='plan-2020-04']"))
    remove.locator("input[name=csrf_token]").evaluate("input => input.remove()")
    remove.locator("button").click()
    assert "缺少安全校验码" in page.inner_text("main")
    assert "plan-2020-04" in document_ids(page)
    login_without_token = page.request.post("/login", form={"name": ADMIN, "password": PASSWORD})
    assert login_without_token.status == 403


def test_pending_questions_are_grouped_and_can_be_marked_handled(page, settings):
    records = open_records(settings)
    asked = ["咱村集体经济收入要达到多少", "咱村集体经济收入要达到多少", "村集体经济收入要达到多少？"]
    for question in asked:
        records.log_question(channel="telegram", chat_id=7, user_id=7, question=question, answer="……",
                             status="not_covered", cited=[], generation="g", wording=wording_of(question))
    disliked = records.log_question(channel="telegram", chat_id=8, user_id=8, question="党员评议优秀比例要多少",
                                    answer="……", status="answered", cited=["x"], generation="g",
                                    wording=wording_of("党员评议优秀比例要多少"))
    records.rate(disliked, 8, 8, -1, "答非所问")
    log_in(page, VIEWER)
    page.wait_for_url("**/questions")
    groups = page.locator("article.group")
    assert groups.count() == 2
    first = groups.nth(0)
    assert "3 次" in first.inner_text() and "未覆盖 3" in first.inner_text()
    assert "知识库中没有相近的条文" in first.inner_text()
    assert "答非所问 1" in groups.nth(1).inner_text()
    first.locator("button", has_text="标记为已处理").click()
    page.wait_for_url("**/questions#g1")  # back at the same place in the list
    assert "已将 3 条问题标记为已处理" in page.inner_text(".flash")
    assert page.locator("article.group").count() == 1

    page.goto("/stats")
    assert page.inner_text("#total") == "4" and page.inner_text("#ratings") == "0 / 1"


PAYLOADS = ("<script>alert('xss-script')</script>", "<img src=x onerror=alert('xss-img')>",
            "\"><svg onload=alert('xss-svg')>")


def test_user_text_is_shown_literally_and_never_runs_on_any_page(page, settings, tmp_path):
    """Stored XSS against staff: secretaries' questions, document titles and roster branch names, each with
    the three payloads, shown as text; no dialog ever opens (the payloads call alert)."""
    dialogs = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    records = open_records(settings)
    for number, payload in enumerate(PAYLOADS):
        records.log_question(channel="telegram", chat_id=number, user_id=number, question=f"问题{number}{payload}",
                             answer="……", status="not_covered", cited=[], generation="g",
                             wording=f"w{number} {payload}")
    log_in(page, ADMIN)
    page.wait_for_url("**/questions")
    shown = page.inner_text("main")
    assert all(f"问题{number}{payload}" in shown for number, payload in enumerate(PAYLOADS))

    for number, payload in enumerate(PAYLOADS):
        text = tmp_path / f"通知{number}.txt"
        text.write_text(f"关于第{number}项工作的通知\n一、要求\n党支部每月开展第{number}次学习活动。\n", encoding="utf-8")
        upload(page, text, title=f"标题{number}{payload}")
    assert all(f"标题{number}{payload}" in page.inner_text("#documents") for number, payload in enumerate(PAYLOADS))
    page.goto("/targets")
    choices = page.inner_text("select[name=doc_id]")
    assert all(f"标题{number}{payload}" in choices for number, payload in enumerate(PAYLOADS))

    roster = tmp_path / "名单.csv"
    with roster.open("w", newline="", encoding="utf-8-sig") as handle:
        rows = [flat(passing_profile("gacha_village")) | {"name": f"支部{number}{payload}"}
                for number, payload in enumerate(PAYLOADS)]
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    page.goto("/batch")
    page.set_input_files("input[name=file]", str(roster))
    page.click("form[action='/batch'] button[type=submit]")
    assert all(f"支部{number}{payload}" in page.inner_text("#branches") for number, payload in enumerate(PAYLOADS))
    page.goto("/stats")
    assert page.evaluate("document.documentElement.classList.contains('js')")  # /static/console.js ran
    assert dialogs == []


def test_an_inline_script_is_refused_by_the_content_security_policy(page, console):
    """The policy itself, in Chromium: a page that did get an inline script in would not run it."""
    violations = []
    page.on("console", lambda message: violations.append(message.text))
    page.goto("/login")
    page.evaluate("""() => { const s = document.createElement('script'); s.textContent = 'window.ran = 1';
                             document.body.appendChild(s); }""")
    assert page.evaluate("() => window.ran") is None
    assert any("Content Security Policy" in text for text in violations)
