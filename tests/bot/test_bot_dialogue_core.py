"""The dialogue core with everyday words: exit words, confirmations, 继续, 确认, 修改第N题, and nothing in
English or internal names on the way."""

from __future__ import annotations

import pytest

from core_driver import INTERNAL, CoreUser, offline_dialogue
from bot.selfcheck import CheckState
from evaluators import questions_for



@pytest.fixture
def user(tmp_path) -> CoreUser:
    return CoreUser(offline_dialogue(tmp_path))


def assert_plain_chinese(user: CoreUser) -> None:
    assert not INTERNAL.search(user.text), user.text


async def test_exit_words_ask_before_discarding_and_a_no_keeps_everything(user):
    await user.start("社区", "去年")
    await user.say("2015年6月1日")
    for word in ("不想自检了", "取消"):
        await user.say(word)
        assert "确定取消当前的自检" in user.text and "已答1题" in user.text
        assert_plain_chinese(user)
        await user.say("继续")  # "go on": nothing discarded, the same question again
        assert "接着自检" in user.text and questions_for("community", user.state["year"])[1].prompt in user.text
        assert user.state["answers"] == {"founded_on": "2015-06-01"}
    await user.say("/check")
    assert "重新开始会放弃已答的回答" in user.text
    await user.say("没有")  # neither yes nor no to restarting: the question is dropped and 没有 answers the step
    assert user.state["answers"]["weak_and_lax"] is False and "没有被列为软弱涣散党支部" in user.text
    await user.say("退出自检")
    await user.say("确定")
    assert "已取消自检" in user.text and CheckState(user.state).phase == "idle"


async def test_typed_words_drive_the_settled_step_the_review_and_a_change(user):
    await user.start("离退休干部职工", "2023年度")
    await user.say("2015年6月1日")
    await user.say("是")  # a weak and lax branch: the verdict is settled
    assert "已不能评为“最强党支部”" in user.text
    await user.say("继续")
    assert "第 3 题" in user.text
    while user.question() is not None:
        await user.say("不确定")
    assert "请核对您的回答（离退休干部职工，2023年度）" in user.text and "1. 组建日期：2015年6月1日" in user.text
    assert_plain_chinese(user)
    await user.say("修改第2题")
    assert "上次回答：被列为软弱涣散党支部" in user.text
    await user.say("否")
    assert "请核对" in user.text  # before the verdict a change returns to the review
    await user.say("确认")
    assert "信息不全" in user.text
    await user.say("修改第一题")
    await user.say("2026年6月1日")  # founded this year: less than a year old
    assert "按修改后的回答重新评定" in user.text and "暂不符合评定条件" in user.text


async def test_the_year_step_says_what_the_texts_cover_and_refuses_years_outside(user):
    await user.say("/check")
    await user.say("嘎查村党支部")
    assert "2020—2023年" in user.text and "2021年" in user.text and "5万元" in user.text
    for wrong in ("1999", "明年", "2099"):
        await user.say(wrong)
        assert "年份不对" in user.text and CheckState(user.state).phase == "year"
    await user.say("今年")
    assert "待确认" in user.text and "第 1 题" in user.text
    assert_plain_chinese(user)


async def test_export_is_a_chinese_named_profile_with_a_plain_note(user):
    for typed in ("/check", "村", "2021"):
        await user.say(typed)
    await user.say("2015年6月")
    replies = await user.say("/export")
    document = next(reply for reply in replies if reply.kind == "document")
    assert document.document.filename == "自检档案-嘎查村-2021年度.json"
    assert not INTERNAL.search(document.text) and "复核" in document.text


async def test_undoing_the_only_failure_after_an_early_verdict_asks_the_skipped_questions(user):
    await user.start("社区", "2025年")
    await user.say("2015年6月1日")
    await user.say("是")  # weak and lax: settled
    await user.press("直接看结果")
    assert "暂不符合评定条件" in user.text
    await user.say("修改第2题")
    await user.say("否")  # no failure left: the questions skipped by 直接看结果 now matter
    assert "第 3 题" in user.text and "重新评定" not in user.text
    while user.question() is not None:
        await user.say("不确定")
    assert "按修改后的回答重新评定" in user.text and "信息不全" in user.text
    assert CheckState(user.state).open_questions() == []


async def test_command_words_typed_in_chinese(user):
    await user.say("我要自检")
    assert "请选择党支部所处领域" in user.text
    await user.say("帮助")
    assert "/check" in user.text and "请选择党支部所处领域" in user.text  # the step again under the help
    await user.say("社区")
    await user.say("今年")
    await user.say("2015年6月")
    await user.say("自检")
    assert "重新开始会放弃已答的回答" in user.text
    await user.say("不")
    await user.say("导出")
    assert any(reply.kind == "document" for reply in user.last)
