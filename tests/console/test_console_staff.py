"""Each staff job end to end in Chromium, on a phone (390×844) and a desk (1366×768): every page is checked
for sideways scrolling, for buttons that cannot be clicked and with axe-core (no critical or serious
finding), and photographed into bench-results/console-screens/<size>/ (ignored by git) to be looked at."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from openpyxl import load_workbook

from bot.feedback import wording_of
from records.store import now, open_records
from tests.console.conftest import ADMIN, log_in
from tests.console.test_console_browser import INCOME_CLAUSE, NOTICE_TITLE, notice_docx, upload
from tests.evaluators.evaluator_helpers import passing_profile

ZHIBU = str(Path(sys.executable).with_name("zhibu"))
SIZES = {"phone": (390, 844), "desktop": (1366, 768)}
SHOTS = Path(os.environ.get("ZHIBU_SCREENSHOTS") or Path(__file__).resolve().parents[2] / "bench-results" / "console-screens")
AXE = Path(__file__).with_name("node_modules") / "axe-core" / "axe.min.js"
SHARE_CLAUSE_STRAIGHT_QUOTES = '到2026年底，全区达到"最强党支部"标准的党支部比例要达到60%以上'
SERIOUS = "['critical', 'serious'].includes(v.impact)"


@pytest.fixture(params=list(SIZES))
def sized(request, browser, console):
    """(page, size name): a browser context of that viewport; the CSP is bypassed only to inject axe-core."""
    width, height = SIZES[request.param]
    context = browser.new_context(base_url=console.url, locale="zh-CN", accept_downloads=True,
                                  viewport={"width": width, "height": height}, bypass_csp=True)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    yield page, request.param
    context.close()


def check_page(page, size: str, name: str) -> None:
    """No sideways scroll, every visible button clickable, no serious axe finding; a full-page screenshot."""
    if size == "phone" and page.locator(".menu-toggle").is_visible():
        page.click(".menu-toggle")  # the menu's own buttons count too
    folder = SHOTS / size
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    scroll, client = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert scroll <= client, f"{name}: {scroll} px wide in a {client} px window ({size})"
    for button in page.locator("button:visible, a.button:visible, input[type=file]:visible, summary:visible").all():
        button.scroll_into_view_if_needed()
        box = button.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= client + 1, f"{name}: a button off the screen"
        button.click(trial=True, timeout=3000)  # Playwright's checks: visible, enabled, stable, not covered
    if not AXE.exists():
        pytest.skip("axe-core is not installed (scripts/test.sh installs it with npm into tests/console/node_modules)")
    page.add_script_tag(path=str(AXE))
    findings = page.evaluate(
        "async () => (await axe.run(document)).violations.filter(v => " + SERIOUS + ")"
        ".map(v => v.id + ' ' + v.impact + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))")
    assert findings == [], f"{name} ({size}): {findings}"


def fill_roster(template: Path, out: Path) -> None:
    """As staff do it: keep the example row, add branches in Chinese, one with a wrong star count."""
    workbook = load_workbook(template)
    sheet = workbook["名单"]
    headers = [cell.value for cell in sheet[1]]
    example = [cell.value for cell in sheet[2]]

    def column(label: str) -> int:
        return next(number for number, header in enumerate(headers) if header.startswith(label))

    good = list(example)
    good[column("党支部名称")] = "乌兰嘎查党支部"
    wrong = list(good)
    wrong[column("党支部名称")] = "巴彦嘎查党支部"
    wrong[column("年度“十星级”评定星数")] = "八颗星吧"
    community = [None] * len(headers)
    community[column("所处领域")], community[column("评定年度")], community[column("党支部名称")] = "社区", 2026, "新华社区党支部"
    for row in (good, wrong, community):
        sheet.append(row)
    workbook.save(out)


def test_a_roster_from_the_template_gives_reasons_and_a_formatted_report(sized, tmp_path):
    page, size = sized
    log_in(page, ADMIN)
    page.goto("/batch")
    check_page(page, size, "batch")
    with page.expect_download() as download:
        page.click("#template")
    template = tmp_path / download.value.suggested_filename
    download.value.save_as(template)
    explained = load_workbook(template)["填写说明"]
    clauses = {row[0]: row[3] for row in explained.iter_rows(min_row=2, values_only=True) if row[0]}
    assert clauses["年度“十星级”评定星数（颗星）"].startswith("《")  # each column names its clause
    roster = tmp_path / "乌兰县支部名单.xlsx"
    fill_roster(template, roster)

    page.set_input_files("#roster", str(roster))
    page.click("form[action='/batch'] button[type=submit]")
    summary = page.inner_text("#summary")
    assert "《乌兰县支部名单.xlsx》" in summary and "共 2 个党支部，符合评定条件 1 个" in summary  # the example row is skipped
    [error] = page.locator("ul.errors li").all_inner_texts()
    assert error.startswith("第 4 行（巴彦嘎查党支部）：年度“十星级”评定星数：") and "“八颗星吧”" in error
    assert "facts." not in summary and "'" not in summary
    check_page(page, size, "batch-result")

    with page.expect_download() as download:
        page.click("text=下载评估报告")
    assert download.value.suggested_filename == f"乌兰县支部名单_评估报告_{date.today().isoformat()}.xlsx"
    saved = tmp_path / "report.xlsx"
    download.value.save_as(saved)
    report = load_workbook(saved)
    details, errors, totals = report["明细"], report["有误的行"], report["汇总"]
    for sheet in (details, errors, totals):
        assert sheet.freeze_panes == "A2" and all(cell.font.bold for cell in sheet[1] if cell.value)
    assert details.column_dimensions["F"].width == 60 and details["F2"].alignment.wrap_text
    assert totals["F2"].number_format == "0.0%"
    assert [cell.value for cell in errors[2]][:2] == [4, "巴彦嘎查党支部"] and "十星级" in errors["C2"].value
    assert [cell.value for cell in details["B"]][1:] == ["乌兰嘎查党支部", "新华社区党支部"]


def add_target(page, parameter: str, value: str, doc_title: str, section: str, quote: str) -> None:
    page.goto("/targets")
    page.select_option("#f-parameter", parameter)
    page.fill("#f-year", "2026")
    page.fill("#f-value", value)
    page.select_option("#f-doc", label=f"{doc_title}（内组通字〔2026〕5号）")
    page.fill("#f-section", section)
    page.fill("#f-quote", quote)
    page.click("#add-target button[type=submit]")


def test_a_target_must_state_its_clause_figure_and_loses_force_with_its_document(sized, tmp_path, settings):
    page, size = sized
    log_in(page, ADMIN)
    upload(page, notice_docx(tmp_path), doc_number="内组通字〔2026〕5号", date="2026-03-01")
    income = "gacha_village.collective_income"

    add_target(page, income, "8万", NOTICE_TITLE, "二、集体经济", INCOME_CLAUSE)
    assert "您填写的是 8万元，条款写的是 6万元" in page.inner_text("#target-error")
    assert (page.input_value("#f-value"), page.input_value("#f-quote")) == ("8万", INCOME_CLAUSE)  # inputs kept
    assert page.input_value("#f-section") == "二、集体经济"
    check_page(page, size, "targets-refused")
    page.fill("#f-value", "6万")
    page.click("#add-target button[type=submit]")
    assert "已保存：2026 年度" in page.inner_text(".flash")

    add_target(page, "targets.share", "60%", NOTICE_TITLE, "一、年度目标", SHARE_CLAUSE_STRAIGHT_QUOTES)
    assert "已保存" in page.inner_text(".flash")  # straight quotes match the document's “”

    add_target(page, income, "60000", NOTICE_TITLE, "二、集体经济", INCOME_CLAUSE)
    assert "已有数值" in page.inner_text("#confirm-replace")  # a year's value is replaced only when confirmed
    check_page(page, size, "targets-confirm")
    page.click("text=确定替换")
    assert "原为 6万元" in page.inner_text(".flash")

    page.goto("/documents")
    page.locator("#documents tbody tr", has_text=NOTICE_TITLE).locator("button", has_text="删除").click()
    assert "2026 年度" in page.inner_text("#ask-first")  # asked first, naming what cites it
    check_page(page, size, "documents-confirm")
    page.click("text=确定，继续")
    assert "2 个年度目标没有了依据" in page.inner_text(".flash")
    check_page(page, size, "documents")
    page.goto("/targets")
    assert page.locator("tr.lost").count() == 2 and "待确认" in page.inner_text("tr.lost >> nth=0")
    check_page(page, size, "targets")
    entries = yaml.safe_load((settings.zhibu_home / "parameters.yaml").read_text(encoding="utf-8"))
    assert all(entry["without_basis"] for entry in entries)

    profile = passing_profile("gacha_village") | {"year": 2026}
    profile["facts"] = profile["facts"] | {"collective_income_yuan": 55000}
    check = subprocess.run([ZHIBU, "check", "--json", "-"], input=json.dumps(profile, ensure_ascii=False, default=str),
                           capture_output=True, text=True, timeout=60,
                           env={**os.environ, "ZHIBU_HOME": str(settings.zhibu_home)})
    [criterion] = [c for c in json.loads(check.stdout)["criteria"] if c["id"] == income]
    assert criterion["status"] == "pass" and "待确认" in json.dumps(criterion, ensure_ascii=False)  # 2021's 5万, flagged


def test_the_inbox_filters_marks_handled_in_place_and_undoes(sized, settings):
    page, size = sized
    records = open_records(settings)

    def ask(question: str, status: str = "not_covered", days_ago: int = 0, answer: str = "文件中没有找到相关规定。") -> int:
        return records.log_question(channel="telegram", chat_id=7, user_id=7, question=question, answer=answer,
                                    status=status, cited=[], generation="g", wording=wording_of(question),
                                    asked_at=now() - timedelta(days=days_ago))

    for _ in range(3):
        ask("咱村集体经济收入要达到多少")
    ask("党费按什么比例交纳", days_ago=20)
    disliked = ask("党员评议优秀比例要多少", status="answered", answer="评议结果分为优秀、合格……")
    records.rate(disliked, 7, 7, -1, "答非所问")

    log_in(page, ADMIN)
    page.wait_for_url("**/questions")
    assert page.locator("article.group").count() == 3
    check_page(page, size, "questions")
    page.select_option("#q-period", "week")
    page.click("#filters button[type=submit]")
    assert page.locator("article.group").count() == 2  # the question of 20 days ago is not this week's
    page.select_option("#q-status", "down")
    page.click("#filters button[type=submit]")
    [group] = page.locator("article.group").all()
    group.locator("summary").click()
    assert "评议结果分为优秀、合格" in group.inner_text()  # the answer the secretary saw
    page.goto("/questions?q=党费")
    assert page.locator("article.group h2").all_inner_texts() == ["党费按什么比例交纳"]

    page.goto("/questions?period=week")
    page.locator("#g1 button", has_text="标记为已处理").click()
    page.wait_for_url("**/questions?period=week#g1")  # same list, same place
    assert "已将 3 条问题标记为已处理" in page.inner_text(".flash")
    assert page.locator("article.group").count() == 1
    assert "咱村集体经济收入要达到多少" in page.inner_text("#handled")
    check_page(page, size, "questions-handled")
    page.locator("#handled button", has_text="撤销").first.click()
    assert "已撤销：3 条问题回到待处理" in page.inner_text(".flash")
    assert page.locator("article.group").count() == 2


def test_the_login_stats_and_error_pages_fit_and_pass_the_checks(sized):
    page, size = sized
    page.goto("/login")
    check_page(page, size, "login")
    log_in(page, ADMIN)
    page.wait_for_url("**/questions")
    page.goto("/stats")
    assert "👍 有用 / 👎 没用" in page.inner_text("main")
    check_page(page, size, "stats")
    page.goto("/no-such-page")
    check_page(page, size, "error")


def test_a_filled_target_form_survives_a_logout_in_another_tab(page):
    log_in(page, ADMIN)
    page.goto("/targets")
    page.fill("#f-value", "6万")
    page.fill("#f-section", "二、集体经济")
    page.fill("#f-quote", INCOME_CLAUSE)
    other = page.context.new_page()
    other.goto("/questions")
    other.click("text=退出登录")
    page.click("#add-target button[type=submit]")
    page.wait_for_url("**/login")  # the session ended in the other tab
    log_in(page, ADMIN)
    page.wait_for_url("**/questions")
    page.goto("/targets")
    assert [page.input_value(field) for field in ("#f-value", "#f-section", "#f-quote")] == ["6万", "二、集体经济", INCOME_CLAUSE]
