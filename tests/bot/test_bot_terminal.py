"""`zhibu chat` driven through a pseudo-terminal as a person would use it, and `zhibu bot` without a token."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pexpect

from evaluators import questions_for

ZHIBU = str(Path(sys.executable).with_name("zhibu"))


def offline_env(home: Path) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ZHIBU_", "TELEGRAM_"))}
    return env | {"ZHIBU_HOME": str(home), "ZHIBU_EMBEDDING": "none"}


def test_terminal_chat_question_short_self_check_export_and_quit(home, tmp_path):
    chat = pexpect.spawn(ZHIBU, ["chat"], env=offline_env(home), cwd=str(tmp_path), encoding="utf-8", timeout=60)
    try:
        chat.expect("终端对话")
        chat.expect("> ")

        chat.sendline("党员评议优秀比例要达到多少？")
        chat.expect("正在查阅政策文件")
        chat.expect("90%")
        chat.expect("出处")
        chat.expect(r"a\) 查看原文 \[1\]")
        chat.expect("> ")
        chat.sendline("a")  # an action is lettered: the first source in full
        chat.expect("《")
        chat.expect("> ")

        chat.sendline("check")
        chat.expect("请选择党支部所处领域")
        chat.expect(r"2\) 社区")
        chat.expect("> ")
        chat.sendline("2")
        chat.expect("请选择评定年度")
        chat.expect("> ")
        chat.sendline("2025")  # typed: a year is no choice number
        chat.expect("第 1 题")
        chat.expect(r"a\) 为什么问这个")
        chat.expect("> ")
        chat.sendline("a")
        chat.expect("为什么问这个：")
        chat.expect("> ")
        chat.sendline("2015-06-01")
        chat.expect("已记录：2015年6月1日")
        chat.expect("第 2 题")
        chat.expect(r"1\) 是")
        chat.expect("> ")
        chat.sendline("1")  # 是: listed as a weak and lax branch, so the verdict is settled
        chat.expect("已不能评为“最强党支部”")
        chat.expect(r"2\) 直接看结果")
        chat.expect("> ")
        chat.sendline("2")
        chat.expect("结论")
        chat.expect("> ")

        chat.sendline("export")
        chat.expect("已保存：")
        chat.expect("> ")
        chat.sendline("quit")
        chat.expect("再见")
        chat.expect(pexpect.EOF)
    finally:
        chat.close()
    assert chat.exitstatus == 0
    export = tmp_path / "自检档案-社区-2025年度.json"
    umask = os.umask(0)
    os.umask(umask)
    assert export.stat().st_mode & 0o777 == 0o666 & ~umask  # the user's umask, not the state's 077
    profile = json.loads(export.read_text(encoding="utf-8"))
    assert profile == {"domain": "community", "year": 2025, "founded_on": "2015-06-01", "weak_and_lax": True}


# A 嘎查村 secretary's everyday answers, by question; 2026 has no documented income standard.
GACHA_ANSWERS = {
    "founded_on": "2008年5月", "weak_and_lax": "2", "org_rating": "1", "members_reviewing": "三十人",
    "members_rating_excellent": "29", "public_dissatisfaction_verified": "没有", "social_review_adverse": "2",
    "negative.accountability": "否", "negative.major_negative_publicity": "2", "negative.leader_disciplined": "否",
    "negative.leader_under_investigation": "2", "points_score": "未实行", "facts.stars": "9颗",
    "facts.star_strong_team": "1", "facts.star_harmony_stability": "是", "facts.star_public_satisfaction": "1",
    "facts.collective_income_yuan": "大概8万左右", "parameters.gacha_village.collective_income": "不确定",
    "facts.service_center_up_to_standard": "是", "facts.three_affairs_public": "1",
    "facts.committee_college_graduates": "两名", "facts.committee_clean": "2", "facts.no_clan_or_gang_control": "没有",
    "facts.no_inspection_notice": "2", "team_annual_pay_yuan": "8万",
}


def test_terminal_self_check_with_everyday_answers_interruptions_and_a_change_after_the_verdict(home, tmp_path):
    year = date.today().year
    questions = questions_for("gacha_village", year)
    assert set(GACHA_ANSWERS) == {q.key for q in questions}
    chat = pexpect.spawn(ZHIBU, ["chat"], env=offline_env(home), cwd=str(tmp_path), encoding="utf-8", timeout=60)
    chat.logfile_read = transcript = io.StringIO()
    try:
        chat.expect_exact("> ")
        chat.sendline("check")
        chat.expect_exact("请选择党支部所处领域")
        chat.sendline("嘎查村党支部")
        chat.expect_exact("2021年嘎查村集体经济")  # what the texts cover, before the year is picked
        chat.expect_exact("请选择评定年度")
        chat.sendline("今年")
        chat.expect_exact(f"{year}年没有文件规定的")
        for number, question in enumerate(questions, 1):
            chat.expect_exact(f"第 {number} 题")
            chat.expect_exact(question.prompt)
            chat.expect_exact("> ")
            if question.key == "weak_and_lax":  # a question in the middle, then "2" still means 否
                chat.sendline("软弱涣散党支部能评最强党支部吗？")
                chat.expect_exact("出处")
                chat.expect_exact("接着自检")
                chat.expect_exact(question.prompt)
                chat.expect_exact("> ")
            if question.key == "facts.star_strong_team":  # /check asks first; "1" then still means 是
                chat.sendline("/check")
                chat.expect_exact("重新开始会放弃已答的回答")
                chat.expect_exact("2) 不，继续自检")
                chat.sendline("2")
                chat.expect_exact("接着自检")
                chat.expect_exact(question.prompt)
                chat.sendline("start")
                chat.expect_exact("您有一项自检尚未完成")
                chat.expect_exact("> ")
            chat.sendline(GACHA_ANSWERS[question.key])
            if question.key == "facts.collective_income_yuan":  # approximate: said back, counted after a yes
                chat.expect_exact("您回答“大概8万左右”，约8万元，按8万元记，对吗？")
                chat.sendline("对")
            chat.expect_exact("✔ 已记录：")
        chat.expect_exact("请核对您的回答")
        chat.expect_exact("“两委”干部没有刑事处罚、村霸、涉黑涉恶等问题")  # stands alone, no 无…：没有 label
        chat.expect_exact("> ")
        chat.sendline("确认")
        chat.expect_exact("符合评定条件（1项待确认）")
        chat.expect_exact("2021")
        chat.expect_exact("修改某题答案")
        chat.expect_exact("> ")
        number = [q.key for q in questions].index("facts.service_center_up_to_standard") + 1
        chat.sendline(f"修改第{number}题")
        chat.expect_exact("上次回答：党群服务中心达标")
        chat.sendline("2")
        chat.expect_exact("党群服务中心尚未达标")
        chat.expect_exact("按修改后的回答重新评定")
        chat.expect_exact("暂不符合评定条件")
        chat.expect_exact("> ")
        chat.sendline("export")
        chat.expect_exact("已保存：")
        chat.sendline("quit")
        chat.expect(pexpect.EOF)
    finally:
        chat.close()
    # No English, field keys or internal names reach the user (the sources' own text aside).
    shown = transcript.getvalue()
    assert [word for word in ("YYYY", "JSON", "zhibu", "按钮", "facts.", "parameters.", "Traceback") if word in shown] == []
    path = tmp_path / f"自检档案-嘎查村-{year}年度.json"
    profile = json.loads(path.read_text(encoding="utf-8"))
    assert profile["facts"]["committee_clean"] is True and profile["facts"]["collective_income_yuan"] == 80000
    assert profile["founded_on"] == "2008-05-01" and profile["facts"]["committee_college_graduates"] == 2
    assert profile["facts"]["star_strong_team"] is True and profile["weak_and_lax"] is False
    checked = subprocess.run([ZHIBU, "check", str(path), "--json"], capture_output=True, text=True, timeout=120)
    assert json.loads(checked.stdout)["verdict"] == "does_not_qualify"
    assert json.loads(checked.stdout)["failing_facts"] == ["facts.service_center_up_to_standard"]


def test_bot_command_without_a_token_exits_with_a_clear_message(home, tmp_path):
    result = subprocess.run([ZHIBU, "bot"], env=offline_env(home) | {"TELEGRAM_BOT_TOKEN": ""}, cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "TELEGRAM_BOT_TOKEN" in result.stderr and "Traceback" not in result.stderr
