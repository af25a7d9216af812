"""How the self-check takes replies as secretaries type them: approximate figures said back before they
count, 除了…都有, everyday yes/no (and a question back when a reply is unsure), openings, "第5题改成50",
a multi-select that keeps its ticks, and choices offered the second time a reply is not understood."""

from __future__ import annotations

from datetime import date

import pytest
from core_driver import INTERNAL, CoreUser, answer_compliantly, offline_dialogue

from bot.selfcheck import CheckState

TODAY = date(2026, 12, 6)


@pytest.fixture
def user(tmp_path) -> CoreUser:
    return CoreUser(offline_dialogue(tmp_path, lambda: TODAY))


async def reach(user: CoreUser, domain: str, year: str, key: str) -> CoreUser:
    """A compliant self-check up to the question `key` (pending, unanswered)."""
    await user.start(domain, year)
    while (question := user.question()).key != key:
        user = await answer_compliantly(user, question)
    return user


def state(user: CoreUser) -> CheckState:
    return CheckState(user.state)


async def test_an_approximate_income_is_said_back_and_counts_only_after_a_yes(user):
    user = await reach(user, "嘎查村", "2021", "facts.collective_income_yuan")
    await user.say("五万多")
    assert "您回答“五万多”，超过5万元，对吗？" in user.text
    assert "facts.collective_income_yuan" not in user.state["answers"]  # not counted yet
    await user.say("对")
    assert "✔ 已记录：超过5万元" in user.text and user.state["answers"]["facts.collective_income_yuan"] > 50_000
    income = next(r for r in user.evaluation().criteria if r.id == "gacha_village.collective_income")
    assert income.status == "pass"  # 超过5万元, the 2021 standard
    while (question := user.question()) is not None:
        user = await answer_compliantly(user, question)
    assert "集体经济年经营性收入：超过5万元" in user.text  # the review shows it in the words confirmed
    assert not INTERNAL.search(user.text)


async def test_a_figure_said_back_can_be_refused_or_replaced_by_the_exact_one(user):
    user = await reach(user, "嘎查村", "2021", "facts.collective_income_yuan")
    await user.say("将近十万")
    assert "不到10万元（按99,999元记），对吗？" in user.text
    await user.say("不对")
    assert "请重新回答" in user.text and state(user).offer is None
    await user.say("大概8万左右")
    assert "约8万元，按8万元记，对吗？" in user.text
    await user.say("82000")  # the exact figure instead of 对: taken as the answer
    assert user.state["answers"]["facts.collective_income_yuan"] == 82000 and "✔ 已记录：82,000元" in user.text


async def test_a_count_given_as_30多_asks_for_the_exact_number_then_offers_the_least(user):
    user = await reach(user, "社区", "2023", "members_reviewing")
    await user.say("30多")
    assert "请给出确切人数（超过30人）" in user.text and "members_reviewing" not in user.state["answers"]
    await user.say("三十多个")  # not refused twice: the choices come
    labels = [button.label for button in user.buttons()]
    assert labels == ["按31人记", "不确定"], labels
    await user.press("按31人记")
    assert user.state["answers"]["members_reviewing"] == 31


async def test_a_range_is_read_at_its_lower_end_and_said_back(user):
    user = await reach(user, "各级党和国家机关", "2023", "facts.volunteer_activities")
    await user.say("三四次")
    assert "3次到4次，按3次记，对吗？" in user.text
    await user.press("对，就这样记")
    assert user.state["answers"]["facts.volunteer_activities"] == 3


async def test_除了_all_but_and_a_reopened_multi_select_keeps_its_ticks(user):
    user = await reach(user, "非公有制企业", "2023", "facts.six_haves")
    assert "如“场所、设施”“都有”“除了制度都有”" in user.text  # the hint names real options
    await user.say("除了书报都有")
    assert "✔ 已记录：已具备：场所、设施、标志、党旗、制度；缺少：书报" in user.text
    number = len(state(user).scan()[1])
    await user.say(f"修改第{number}题")
    ticks = {button.label for button in user.buttons() if button.data.startswith("tog|")}
    assert "☑ 场所" in ticks and "☐ 书报" in ticks and "☑ 制度" in ticks
    await user.press("☐ 书报")
    await user.press("完成")
    assert user.state["answers"]["facts.six_haves"] == ["场所", "设施", "标志", "党旗", "书报", "制度"]


@pytest.mark.parametrize("reply, recorded", [("就缺书报和制度", ["场所", "设施", "标志", "党旗"]),
                                             ("有场所和党旗", ["场所", "党旗"]), ("都有", None), ("一样也没有", [])])
async def test_everyday_list_replies(user, reply, recorded):
    user = await reach(user, "非公有制企业", "2021", "facts.six_haves")
    await user.say(reply)
    expected = recorded if recorded is not None else ["场所", "设施", "标志", "党旗", "书报", "制度"]
    assert user.state["answers"]["facts.six_haves"] == expected


@pytest.mark.parametrize("key, reply, recorded", [
    ("negative.accountability", "没发生过", False), ("negative.leader_under_investigation", "不存在", False),
    ("social_review_adverse", "没反馈", False), ("negative.major_negative_publicity", "应该没有", False),
    ("public_dissatisfaction_verified", "有人投诉过，但查了不属实", False),
    ("facts.star_strong_team", "得了", True), ("facts.service_center_up_to_standard", "达标了", True),
    ("facts.committee_clean", "都干净，没问题", True), ("facts.no_clan_or_gang_control", "没有宗族派系那些事", True),
    ("facts.three_affairs_public", "不太清楚", None), ("facts.three_affairs_public", "记不清了", None),
    ("points_score", "没搞积分", None), ("founded_on", "08年3月", "2008-03-01"), ("founded_on", "2015.6", "2015-06-01"),
    ("founded_on", "去年五月", "2025-05-01"), ("founded_on", "12年", "2012-01-01"),
])
async def test_everyday_answers_are_taken_and_echoed(user, key, reply, recorded):
    user = await reach(user, "嘎查村", "2021", key)
    await user.say(reply)
    assert user.state["answers"][key] == recorded, user.text
    assert "✔ 已记录：" in user.text


async def test_an_unsure_yes_is_asked_about_not_guessed(user):
    user = await reach(user, "嘎查村", "2021", "facts.three_affairs_public")
    await user.say("基本上是")
    assert "“基本上是”是指哪一种？" in user.text and "facts.three_affairs_public" not in user.state["answers"]
    await user.press("只做到一部分")
    assert user.state["answers"]["facts.three_affairs_public"] is False
    assert "✔ 已记录：只做到一部分：“三务”公开尚未落实到位" in user.text


async def test_a_reply_not_understood_is_explained_once_then_the_choices_are_offered(user):
    user = await reach(user, "嘎查村", "2021", "facts.three_affairs_public")
    await user.say("这个嘛")
    assert "请回答“是”“否”或“不确定”" in user.text
    await user.say("这个嘛")
    assert [b.label for b in user.buttons() if b.data.startswith("pick|")] == [
        "是：“三务”公开落实到位", "否：“三务”公开尚未落实到位", "不确定"]


@pytest.mark.parametrize("opening", ["自查", "自评", "测一测", "我们支部能评最强党支部吗？"])
async def test_natural_openings_start_the_self_check(user, opening):
    await user.say(opening)
    assert "请选择党支部所处领域" in user.text


async def test_重新开始_asks_before_discarding_and_第N题改成_edits_in_one_message(user):
    user = await reach(user, "社区", "2023", "negative.accountability")
    await user.say("重新开始")
    assert "重新开始会放弃已答的回答" in user.text
    await user.say("不")
    await user.say("第1题改成2010年5月")
    assert "第1题已修改" in user.text and user.state["answers"]["founded_on"] == "2010-05-01"
    assert state(user).pending == "negative.accountability"  # and on with the question it was at
    await user.say("把第2题改成是")
    assert user.state["answers"]["weak_and_lax"] is True


async def test_对的_confirms_the_review_screen(user):
    user = await reach(user, "离退休干部职工", "2023", "facts.care_for_sick_and_poor")
    await user.say("对，生病的都去看了")
    for basic in ("全部", "是", "全部"):  # the basic standards (五个基本, 返还党费, 五强) come last
        await user.say(basic)
    assert state(user).phase == "review"
    await user.say("对的")
    assert state(user).phase == "done" and "结论" in user.text


async def test_a_question_typed_at_a_yes_no_question_is_answered_not_taken_for_a_yes(home):
    user = await reach(CoreUser(offline_dialogue(home, lambda: TODAY)), "嘎查村", "2021", "facts.three_affairs_public")
    await user.say("有什么要求吗？")  # begins with 有, but asks
    assert "facts.three_affairs_public" not in user.state["answers"]
    assert "出处" in user.text and "接着自检" in user.text and state(user).pending == "facts.three_affairs_public"
