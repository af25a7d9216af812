"""The guided self-check through the real Application and the fake Telegram server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bot_harness import RunningBot
from fake_telegram import button_data, buttons_of

from evaluators import evaluate, questions_for, render_report
from bot.dialogue import STALE
from bot.text import MESSAGE_LIMIT

YEAR = 2025
COMMON_GOOD = {
    "founded_on": "2015-06-01", "weak_and_lax": False, "org_rating": "excellent", "members_reviewing": 30,
    "members_rating_excellent": 29, "public_dissatisfaction_verified": False, "social_review_adverse": False,
    "negative.accountability": False, "negative.major_negative_publicity": False,
    "negative.leader_disciplined": False, "negative.leader_under_investigation": False,
}
COMMUNITY_GOOD = COMMON_GOOD | {
    "facts.implements_party_line": True, "facts.member_posts_and_pledges": True, "facts.grid_five_in_place": True,
    "facts.co_building_mechanism": True, "facts.service_center_and_funding": True, "team_annual_pay_yuan": 60000,
}
RETIRED_GOOD = COMMON_GOOD | {
    "facts.conveys_policy": True, "facts.has_venue_and_activities": True, "facts.flexible_study": True,
    "facts.heart_to_heart_talks": True, "facts.care_for_sick_and_poor": True,
}
PRIVATE_WEAK = COMMON_GOOD | {
    "weak_and_lax": True, "facts.no_labor_disputes": True, "facts.themed_activities_culture": True,
    "facts.good_performance_no_accidents": True, "facts.six_haves": ["场所", "设施", "标志", "党旗", "书报"],
}


async def verdict_after(person, message: dict, label: str) -> str:
    """Press `label` and collect the report (it may come in several pieces; the last has the buttons)."""
    mark = person.fake.last_message_id
    await person.fake.press(person.user_id, message, button_data(message, label))
    await person.fake.wait_for(lambda: any(m["message_id"] > mark and buttons_of(m) and
                                           button_data(m, "导出自检档案") for m in person.fake.bot_messages(person.chat_id)))
    pieces = [m["text"] for m in person.fake.bot_messages(person.chat_id) if m["message_id"] > mark]
    assert all(len(piece) <= MESSAGE_LIMIT for piece in pieces)
    return "\n".join(pieces)


async def export(person) -> dict:
    mark = len(person.fake.calls_of("sendDocument"))
    await person.fake.send_text(person.user_id, "/export", person.chat)
    call = (await person.fake.wait_for(lambda: person.fake.calls_of("sendDocument")[mark:]))[0]
    assert call.params["document"]["filename"].endswith(".json")
    return json.loads(call.params["document"]["content"].decode("utf-8"))


def same_text(report: str, expected: str) -> bool:
    return report.replace("\n", "") == expected.replace("\n", "")


async def test_full_self_check_that_qualifies_then_export_is_accepted_by_zhibu_check(bot, tmp_path):
    alice = bot.person(2101)
    questions = questions_for("community", YEAR)
    step = await alice.start_check("社区", YEAR)
    assert "第 1 题" in step["text"]
    review = await alice.answer_all(step, questions, COMMUNITY_GOOD | {"points_score": None})
    assert "请核对您的回答（社区，2025年度）" in review["text"]
    assert f"{len(questions)}. " in review["text"] and "没有被列为软弱涣散党支部" in review["text"]
    assert not any(question.prompt in review["text"] for question in questions)  # short labels, not prompts

    report = await verdict_after(alice, review, "确认，查看结果")
    profile = await export(alice)
    evaluation = evaluate(profile)
    assert evaluation.verdict == "qualifies"
    assert same_text(report, render_report(evaluation))
    assert profile["facts"]["grid_five_in_place"] is True and "points_score" not in profile

    path = tmp_path / "profile.json"
    path.write_text(json.dumps(profile, ensure_ascii=False), encoding="utf-8")
    checked = subprocess.run([str(Path(sys.executable).with_name("zhibu")), "check", str(path), "--json"],
                             capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout)["verdict"] == "qualifies"


async def test_self_check_that_cannot_qualify_offers_to_go_on_or_stop(bot):
    questions = questions_for("private_enterprise", YEAR)
    # One secretary looks for every shortcoming (a multi-select question included)…
    bob = bot.person(2102)
    step = await bob.start_check("非公有制企业", YEAR)
    settled = await bob.answer_all(step, questions, PRIVATE_WEAK)
    assert "已不能评为“最强党支部”" in settled["text"] and "软弱涣散" in settled["text"]
    assert [label for label, _ in buttons_of(settled)] == ["继续检查其余条件（找全短板）", "直接看结果"]
    mark = bot.fake.last_message_id
    await bot.fake.press(bob.user_id, settled, button_data(settled, "继续检查"))
    review = await bob.answer_all(await bob.step_after(mark), questions, PRIVATE_WEAK)
    assert "场所、设施、标志、党旗、书报" in review["text"]
    report = await verdict_after(bob, review, "确认，查看结果")
    evaluation = evaluate(await export(bob))
    assert evaluation.verdict == "does_not_qualify"
    assert set(evaluation.failing_facts) >= {"weak_and_lax", "facts.six_haves"}
    assert same_text(report, render_report(evaluation))

    # …another wants the result at once.
    carol = bot.person(2103)
    step = await carol.start_check("非公有制企业", YEAR)
    settled = await carol.answer_all(step, questions, PRIVATE_WEAK)
    report = await verdict_after(carol, settled, "直接看结果")
    assert evaluate(await export(carol)).verdict == "does_not_qualify"
    assert "软弱涣散" in report


async def test_self_check_with_an_unsure_answer_is_incomplete(bot):
    dave = bot.person(2104)
    step = await dave.start_check("离退休干部职工", YEAR)
    review = await dave.answer_all(step, questions_for("retired_staff", YEAR), RETIRED_GOOD | {"facts.flexible_study": None})
    assert "不确定" in review["text"]
    report = await verdict_after(dave, review, "确认，查看结果")
    evaluation = evaluate(await export(dave))
    assert evaluation.verdict == "incomplete"
    assert same_text(report, render_report(evaluation))


async def test_question_in_the_middle_of_a_check_is_answered_then_the_check_resumes(bot):
    erin = bot.person(2105)
    step = await erin.start_check("社区", YEAR)
    step = await erin.answer(step, questions_for("community", YEAR)[0], "2015-06-01")
    pending = button_data(step, "为什么问这个")
    answer = await erin.say("软弱涣散党支部能直接评为最强党支部吗？", expect="出处")
    assert "软弱涣散" in answer["text"]
    resumed = await bot.fake.reply(erin.chat_id, "接着自检", after=answer["message_id"])
    assert button_data(resumed, "为什么问这个") == pending
    assert step["text"].split("\n", 2)[-1] in resumed["text"]  # the same question, word for word


async def test_why_back_review_change_and_cancel(bot):
    questions = questions_for("community", YEAR)
    frank = bot.person(2106)
    step = await frank.start_check("社区", YEAR)
    why = await frank.press(step, "为什么问这个", expect="为什么问这个")
    assert questions[0].citation["quote"][:10] in why["text"]

    step = await frank.answer(step, questions[0], "2015-06-01")
    step = await frank.answer(step, questions[1], False)
    back = await frank.say("/back", expect="回到上一题")
    assert questions[1].prompt in back["text"] and "上次回答：没有被列为软弱涣散党支部" in back["text"]
    back = await frank.say("返回", expect="回到上一题")  # the everyday word works as /back
    assert questions[0].prompt in back["text"] and "上次回答：2015年6月1日" in back["text"]
    year = await frank.say("/back", expect="评定年度")
    domain = await frank.say("/back", expect="请选择党支部所处领域")
    first = await frank.say("/back", expect="已经是第一步")
    assert buttons_of(first) == buttons_of(domain) and year

    await frank.press(first, "社区", expect="评定年度")
    step = await frank.say(str(YEAR), expect="第 1 题")
    review = await frank.answer_all(step, questions, COMMUNITY_GOOD)
    await frank.press(review, "修改答案", expect="要修改哪一题")
    again = await frank.say("2", expect=questions[1].prompt)
    mark = bot.fake.last_message_id
    await bot.fake.press(frank.user_id, again, button_data(again, "是"))
    review = await frank.step_after(mark)
    assert "请核对" in review["text"]
    assert "2. 被列为软弱涣散党支部" in review["text"]

    asked = await frank.say("/cancel", expect="确定取消")  # nothing is discarded without a yes
    assert frank.chat_id and [label for label, _ in buttons_of(asked)] == ["确定取消", "不，继续自检"]
    resumed = await frank.press(asked, "不，继续自检", expect="请核对")
    assert "接着自检" in resumed["text"]
    await frank.say("取消", expect="确定取消")
    cancelled = await frank.say("确定", expect="已取消自检")
    assert cancelled and "没有进行中的自检" in (await frank.say("/back"))["text"]


async def test_garbage_in_every_state_gets_a_reason_and_the_same_step_again(bot):
    questions = questions_for("community", YEAR)
    gina = bot.person(2107)
    picker = await gina.say("/check", expect="请选择党支部所处领域")
    assert "没有找到这个领域" in (await gina.say("火星", expect="请选择党支部所处领域"))["text"]
    year = await gina.say("社区", expect="评定年度")  # a typed domain works too
    assert "年份不对" in (await gina.say("明年吧", expect="评定年度"))["text"]
    assert "年份不对" in (await gina.say("1999", expect="评定年度"))["text"]

    # A stale button (the domain picker) and forged data are refused with a toast, nothing else.
    await gina.press_only(picker, "嘎查村")
    answers = bot.fake.calls_of("answerCallbackQuery")
    assert answers[-1].params.get("text") == STALE
    await bot.fake.press(gina.user_id, year, "ans|999|yes")
    await bot.fake.settle()
    assert bot.fake.calls_of("answerCallbackQuery")[-1].params.get("text") == STALE

    step = await gina.say(str(YEAR), expect="第 1 题")
    assert "日期" in (await gina.say("去年春天", expect="第 1 题"))["text"]
    step = await gina.answer(step, questions[0], "2015-06-01")
    assert "请回答“是”“否”或“不确定”" in (await gina.say("也许", expect="第 2 题"))["text"]
    step = await gina.answer(step, questions[1], False)
    assert "不是可选项" in (await gina.say("特别好", expect="第 3 题"))["text"]
    step = await gina.answer(step, questions[2], "excellent")
    assert "不是有效的数字" in (await gina.say("很多人", expect="第 4 题"))["text"]
    assert "不能为负数" in (await gina.say("-3", expect="第 4 题"))["text"]
    step = await gina.answer(step, questions[3], 30)
    assert "不能大于已填写的30人" in (await gina.say("31", expect="第 5 题"))["text"]

    settled = await gina.answer(step, questions[4], 10)
    assert "已不能评为" in settled["text"]
    assert "请选择：继续检查其余条件" in (await gina.say("嗯", expect="已不能评为"))["text"]
    mark = bot.fake.last_message_id
    await bot.fake.press(gina.user_id, settled, button_data(settled, "继续检查"))
    review = await gina.answer_all(await gina.step_after(mark), questions, COMMUNITY_GOOD)
    assert "请选择“确认，查看结果”" in (await gina.say("随便吧", expect="请核对"))["text"]
    await gina.press(review, "修改答案", expect="要修改哪一题")
    assert "没有第99题" in (await gina.say("99", expect="要修改哪一题"))["text"]
    assert "请输入要修改的题号" in (await gina.say("第几题来着", expect="要修改哪一题"))["text"]
    assert "没有 /nonsense 这个命令" in (await gina.say("/nonsense"))["text"]


async def test_a_check_survives_a_restart_of_the_bot(settings, fake):
    questions = questions_for("retired_staff", YEAR)
    first = await RunningBot.start(settings, fake)
    harry = first.person(2108)
    step = await harry.start_check("离退休干部职工", YEAR)
    for question in questions[:2]:
        step = await harry.answer(step, question, RETIRED_GOOD[question.key])
    await first.stop()
    first.assert_no_errors()
    assert (settings.zhibu_home / "bot" / "state.sqlite3").is_file()

    second = await RunningBot.start(settings, fake)
    try:
        harry = second.person(2108)
        assert questions[2].kind == "enum"  # answered on the keyboard sent before the restart
        step = await harry.answer(step, questions[2], RETIRED_GOOD[questions[2].key])
        assert "第 4 题" in step["text"]
        review = await harry.answer_all(step, questions, RETIRED_GOOD)
        await verdict_after(harry, review, "确认，查看结果")
        profile = await export(harry)
        assert profile["founded_on"] == "2015-06-01" and profile["org_rating"] == "excellent"
        assert evaluate(profile).verdict == "qualifies"
    finally:
        await second.stop()
    second.assert_no_errors()


async def test_forged_button_data_is_read_like_typed_input(bot):
    ivan = bot.person(2109)
    picker = await ivan.say("/check", expect="请选择党支部所处领域")
    typed = await ivan.say("火星", expect="没有找到这个领域")
    mark = bot.fake.last_message_id
    await bot.fake.press(ivan.user_id, picker, "dom|火星")
    assert (await bot.fake.reply(ivan.chat_id, "没有找到这个领域", after=mark))["text"] == typed["text"]
    picker_year = await ivan.say("社区党支部", expect="评定年度")
    assert "2020—2023年" in picker_year["text"]  # what the texts cover, before the year is picked
    refusals = {}
    for forged in ("year|1999", "year|2099", "year|-1", "year|2025|x"):
        mark = bot.fake.last_message_id
        await bot.fake.press(ivan.user_id, picker_year, forged)
        await bot.fake.settle()
        replies = [m["text"] for m in bot.fake.bot_messages(ivan.chat_id) if m["message_id"] > mark]
        toast = bot.fake.calls_of("answerCallbackQuery")[-1].params.get("text")
        refusals[forged] = replies[0] if replies else toast
    typed = await ivan.say("1999", expect="年份不对")
    assert refusals["year|1999"] == refusals["year|2099"] == typed["text"]  # refused exactly as typed 1999
    assert refusals["year|-1"] == typed["text"] and refusals["year|2025|x"] == STALE
    step = await ivan.say("去年", expect="第 1 题")
    for forged in (f"ans|{-1}|0", "ans|0|yes", "why|-1", "chg|1", "tog|999|0", "review|confirm"):
        await bot.fake.press(ivan.user_id, step, forged)
        await bot.fake.settle()
        assert bot.fake.calls_of("answerCallbackQuery")[-1].params.get("text") == STALE, forged
    assert "第 1 题" in step["text"] and ivan.chat_id


async def test_in_a_group_a_check_keyboard_answers_only_its_owner(bot):
    group = bot.fake.group_chat(-4001)
    anna, ben = bot.person(2201, group), bot.person(2202, group)
    picker = await anna.say("/check@zhibu_test_bot", expect="请选择党支部所处领域")
    await ben.say("/check@zhibu_test_bot", expect="请选择党支部所处领域")  # Ben has a check of his own
    before = len(bot.fake.bot_messages(group["id"]))
    await bot.fake.press(ben.user_id, picker, button_data(picker, "社区"))
    await bot.fake.settle()
    toast = bot.fake.calls_of("answerCallbackQuery")[-1].params.get("text")
    assert toast and "其他成员" in toast
    assert len(bot.fake.bot_messages(group["id"])) == before  # nothing sent, nothing changed
    assert not bot.fake.calls_of("editMessageText") or all(
        call.params.get("message_id") != picker["message_id"] for call in bot.fake.calls_of("editMessageText"))
    await anna.press(picker, "社区", expect="评定年度")  # the owner's press works

    answer = await anna.say("@zhibu_test_bot 党员评议优秀比例要达到多少？", expect="出处")
    passage = await ben.press(answer, "查看原文 [1]", expect="《")  # reading a source changes nobody's check
    assert passage["text"].split("\n", 1)[0] in answer["text"]


async def test_change_one_answer_after_the_verdict_gives_the_new_verdict_at_once(bot):
    questions = questions_for("community", YEAR)
    jane = bot.person(2110)
    step = await jane.start_check("社区", YEAR)
    review = await jane.answer_all(step, questions, COMMUNITY_GOOD)
    report = await verdict_after(jane, review, "确认，查看结果")
    assert "符合评定条件" in report
    number = [q.key for q in questions].index("facts.grid_five_in_place") + 1
    again = await jane.say(f"修改第{number}题", expect=questions[number - 1].prompt)
    new_report = await verdict_after(jane, again, "否")
    assert "按修改后的回答重新评定" in new_report and "暂不符合评定条件" in new_report
    evaluation = evaluate(await export(jane))
    assert evaluation.verdict == "does_not_qualify" and evaluation.failing_facts == ["facts.grid_five_in_place"]

    restart = await jane.say("/check", expect="重新自检会清除")  # a finished check is not dropped silently
    kept = await jane.press(restart, "不，保留结果", expect="保留")
    assert kept and evaluate(await export(jane)).verdict == "does_not_qualify"
