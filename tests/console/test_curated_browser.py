"""Curated answers in a real Chromium: staff write one from 待处理问题, a similar question gets it first
(marked 经审核, with its clause), and replacing the cited document suspends it until staff check it."""

from __future__ import annotations

from pathlib import Path

from bot.feedback import wording_of
from tests.console.conftest import ADMIN, VIEWER, log_in
from tests.console.test_console_browser import ask_in_console

CORPUS = Path(__file__).resolve().parents[2] / "knowledge" / "corpus"
ASKED = "融合党建先在哪个盟市搞"
SIMILAR = "融合党建最先在哪个盟市搞？"
CLAUSE = "在赤峰市深化推进全领域基层党建融合发展模式"


def log_unanswered(records, question: str) -> None:
    records.log_question(channel="telegram", chat_id=7, user_id=7, question=question, answer="……", status="partial",
                         cited=[], generation="", wording=wording_of(question))


def write_answer(page, question: str) -> None:
    page.goto("/questions")
    page.locator("article.group", has_text=question).locator("text=写标准答案").click()
    page.wait_for_url("**/answers/new**")
    assert page.input_value("input[name=question]") == question
    page.fill("textarea[name=answer]", "赤峰市。")
    page.locator("select[name=doc_id]").first.select_option("guidance-2020-02")
    page.locator("input[name=section]").first.fill("27、创新推进“融合党建”")
    page.locator("textarea[name=quote]").first.fill(CLAUSE)
    page.click("#answer-form button[type=submit]")
    page.wait_for_url("**/answers")


def test_a_curated_answer_from_the_inbox_answers_similar_questions_until_its_document_is_replaced(page, records, tmp_path):
    log_unanswered(records, ASKED)
    log_in(page, ADMIN)
    page.wait_for_url("**/questions")
    write_answer(page, ASKED)
    assert "已保存标准答案" in page.inner_text(".flash")
    assert "使用中" in page.inner_text("#answers") and CLAUSE in page.inner_text("#answers")
    page.goto("/questions")
    assert ASKED not in page.inner_text("main")  # writing the answer handled the group

    answer = ask_in_console(page, SIMILAR)
    assert answer.index("答：赤峰市。（经审核）") < answer.index(CLAUSE)

    changed = (CORPUS / "guidance-2020-02.txt").read_text(encoding="utf-8").replace("在赤峰市深化推", "在包头市深化推")
    revised = tmp_path / "指导意见修订稿.txt"
    revised.write_text(changed, encoding="utf-8")
    page.goto("/documents")
    page.set_input_files("input[name=file]", str(revised))
    page.select_option("select[name=replace]", "guidance-2020-02")
    page.click("form[action='/documents/upload'] button[type=submit]")
    page.wait_for_url("**/documents")
    assert "替换 1 篇" in page.inner_text(".flash")

    page.goto("/answers")
    row = page.locator("#answers tr.suspended")
    assert "已暂停" in row.inner_text() and "新版本" in row.inner_text()
    assert "经审核" not in ask_in_console(page, SIMILAR)
    page.goto("/answers")
    page.click("button:has-text('核对后恢复')")
    page.wait_for_url("**/answers")
    assert "未恢复" in page.inner_text(".flash") and "找不到这段原文" in page.inner_text(".flash")


def test_a_clause_not_in_the_document_is_refused_and_viewers_cannot_write(page, records):
    log_unanswered(records, ASKED)
    log_in(page, ADMIN)
    page.wait_for_url("**/questions")
    page.goto(f"/answers/new?question={ASKED}")
    page.fill("textarea[name=answer]", "赤峰市。")
    page.locator("textarea[name=quote]").first.fill("在呼和浩特市深化推进全领域基层党建融合发展模式")
    page.locator("input[name=section]").first.fill("27")
    page.click("#answer-form button[type=submit]")
    assert "未保存" in page.inner_text(".flash") and "找不到这段原文" in page.inner_text(".flash")
    page.click("text=退出登录")
    log_in(page, VIEWER)
    page.wait_for_url("**/questions")
    assert page.locator("text=写标准答案").count() == 0
    page.goto(f"/answers/new?question={ASKED}")
    assert page.locator("#answer-form button[type=submit]").count() == 0
