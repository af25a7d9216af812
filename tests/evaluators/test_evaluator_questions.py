"""The guided self-check API the chat bot uses: questions, typed answers, answers → profile."""

from __future__ import annotations

import re
from datetime import date

import pytest
from evaluator_helpers import passing_profile

from evaluators import DOMAINS, evaluate, parse_answer, profile_from_answers, questions_for, verdict_settled
from evaluators.checks import FAIL
from evaluators.profile import contract_fields
from evaluators.rulebook import load_rulebook
from zhibu.text import chinese_punctuation, quoted
from zhibu.errors import BadInput


def by_key(domain: str) -> dict:
    return {question.key: question for question in questions_for(domain)}


@pytest.mark.parametrize("domain", list(DOMAINS))
def test_every_profile_key_is_asked_with_its_clause(domain):
    questions = questions_for(domain)
    asked = {question.fact for question in questions}  # a split question asks one part of its fact
    expected = set(contract_fields(domain)) - {"domain", "year", "name"}
    if domain != "government_organ":
        expected.discard("social_review_exempt")  # only 机关党支部 may skip the social review
    expected.discard("team_annual_pay_yuan")  # still accepted, no longer asked: the 书记's own pay is instead
    if domain not in ("gacha_village", "community"):
        expected.discard("secretary_annual_pay_yuan")  # only feeds the 嘎查村/社区 one-off bonus
    if domain not in ("retired_staff", "private_enterprise", "social_organization"):
        expected.discard("basic.returned_dues_used")  # only these three use 返还党费
    assert asked == expected
    assert [q.key for q in questions][:2] == ["founded_on", "weak_and_lax"]  # common questions first
    for question in questions:
        assert question.prompt and quoted(chinese_punctuation(question.citation["quote"]).rstrip("；，、：")) in question.help
        assert question.kind in {"bool", "int", "number", "ratio", "date", "enum", "multi"}
        assert bool(question.choices) == (question.kind in {"enum", "multi"})
        assert question.hint


def test_conditional_questions():
    questions = by_key("university")
    double_leader = questions["facts.secretary_double_leader"]
    assert double_leader.applies({"facts.branch_kind": "teacher"})
    assert not double_leader.applies({"facts.branch_kind": "student"})
    excellent = questions["members_rating_excellent"]
    assert not excellent.applies({}) and excellent.applies({"members_reviewing": 30})
    adverse = by_key("government_organ")["social_review_adverse"]
    assert adverse.applies({"social_review_exempt": False}) and not adverse.applies({"social_review_exempt": True})


@pytest.mark.parametrize(
    ("key", "text", "value"),
    [
        ("weak_and_lax", "是", True),
        ("weak_and_lax", "否", False),
        ("weak_and_lax", "不确定", None),
        ("members_reviewing", "３０人", 30),
        ("facts.committee_college_graduates", "没有", 0),
        ("facts.collective_income_yuan", "8万", 80000),
        ("facts.collective_income_yuan", "80,000元", 80000),
        ("facts.collective_income_yuan", "1.5万元", 15000),
        ("points_score", "未实行", None),
        ("points_score", "92.5", 92.5),
        ("founded_on", "2015-06-01", date(2015, 6, 1)),
        ("founded_on", "2015年6月1日", date(2015, 6, 1)),
        ("org_rating", "优秀", "excellent"),
        ("org_rating", "2", "good"),
        ("facts.six_haves", "场所、设施、有党旗", ["场所", "设施", "党旗"]),
        ("facts.six_haves", "全部", ["场所", "设施", "标志", "党旗", "书报", "制度"]),
        ("facts.six_haves", "都没有", []),
    ],
)
def test_parse_answer(key, text, value):
    domain = "private_enterprise" if key.startswith("facts.six") else "gacha_village"
    assert parse_answer(by_key(domain)[key], text) == value


@pytest.mark.parametrize(("text", "value"), [("35%", 0.35), ("35", 0.35), ("0.35", 0.35)])
def test_parse_ratio(text, value):
    assert parse_answer(by_key("school")["facts.party_master_teacher_ratio"], text) == pytest.approx(value)


@pytest.mark.parametrize(
    ("key", "text", "message"),
    [
        ("weak_and_lax", "也许吧", "请回答“是”“否”或“不确定”"),
        ("members_reviewing", "-3", "参加评议党员总数不能为负数"),
        ("members_reviewing", "2.5", "不是整数"),
        ("facts.stars", "11", "不能大于10颗星"),
        ("facts.collective_income_yuan", "很多", "不是有效的数字"),
        ("founded_on", "2015-13-01", "不是有效的日期。请写日期，如“2015年6月1日”"),
        ("org_rating", "特别好", "不是可选项"),
    ],
)
def test_parse_answer_rejects_in_chinese(key, text, message):
    with pytest.raises(BadInput, match=message):
        parse_answer(by_key("gacha_village")[key], text)


def test_excellent_may_not_exceed_reviewing_when_answers_are_given():
    question = by_key("community")["members_rating_excellent"]
    with pytest.raises(BadInput, match="不能大于已填写的30人"):
        parse_answer(question, "31", {"members_reviewing": 30})


def test_answers_round_trip_into_a_profile_zhibu_check_accepts():
    profile = passing_profile("university")
    questions = questions_for("university")
    flat = {"founded_on": date(2015, 6, 1)}
    for question in questions:
        head, _, rest = question.key.partition(".")
        value = profile.get(head, {}).get(rest) if rest else profile.get(head)
        if value is not None and question.key != "founded_on":
            flat[question.key] = value
    rebuilt = profile_from_answers("university", 2021, flat | {"points_score": None})
    assert rebuilt["founded_on"] == "2015-06-01" and "points_score" not in rebuilt
    assert evaluate(rebuilt).verdict == "qualifies"


def test_verdict_settled_once_something_fails():
    assert not verdict_settled("community", 2021, {"weak_and_lax": False})
    assert verdict_settled("community", 2021, {"weak_and_lax": False, "negative.accountability": True})


def test_a_failure_against_another_years_figure_does_not_settle_the_verdict():
    answers = {"facts.collective_income_yuan": 40000}
    assert verdict_settled("gacha_village", 2021, answers)  # the 2021 standard is documented: 4万 fails
    assert not verdict_settled("gacha_village", 2026, answers)  # 2026 has no figure yet: to be confirmed


def test_unknown_domain_for_questions():
    with pytest.raises(BadInput, match="未知领域"):
        questions_for("village")


# —— Reaching every question in one pass, and a compliant branch reaching 符合 through the question API ——


def _one_pass(questions, answer_for) -> dict:
    """Ask in order, once, as the chat does: a question is asked if it applies to the answers so far."""
    answers: dict = {}
    for question in questions:
        if question.applies(answers):
            answers[question.key] = answer_for(question)
    return answers


def _sample_answer(question, chosen: dict):
    if question.key in chosen:
        return chosen[question.key]
    return {"bool": True, "int": 3, "number": 100000, "ratio": 0.5, "date": date(2015, 6, 1),
            "enum": question.choices[0][0] if question.choices else None,
            "multi": [value for value, _ in question.choices]}[question.kind]


def _branch_values(question) -> list:
    if question.kind == "enum":
        return [value for value, _ in question.choices]
    return [True, False] if question.kind == "bool" else [_sample_answer(question, {})]


@pytest.mark.parametrize("domain", list(DOMAINS))
@pytest.mark.parametrize("year", [2021, 2026])
def test_every_fact_a_rule_reads_is_reachable_in_one_pass(domain, year):
    """For every domain, each key a criterion reads is asked by some answer sequence (the answers other
    questions depend on take each of their values); one pass from the top is enough (dependency order)."""
    import itertools

    questions = questions_for(domain, year)
    depended = [q for q in questions if any(q.key in other.depends_on for other in questions)]
    reached: set[str] = set()
    for values in itertools.product(*(_branch_values(q) for q in depended)):
        chosen = {q.key: value for q, value in zip(depended, values)}
        asked = _one_pass(questions, lambda question: _sample_answer(question, chosen))
        reached |= {key.partition("#")[0] for key in asked}  # a split question reaches its fact
    rules = load_rulebook().domain(domain)
    read = {key for criterion in rules.criteria for key in criterion.reads}
    if domain != "government_organ":
        read.discard("social_review_exempt")  # only 机关党支部 may skip the social review; elsewhere it is 否
    assert read <= reached, sorted(read - reached)
    asked = {q.key for q in questions}
    for question in questions:  # and nothing is asked before what it depends on
        earlier = {q.key for q in questions[:questions.index(question)]}
        assert set(question.depends_on) & asked <= earlier, question.key


def _typed(question, value) -> str:
    """How a secretary would type the compliant value."""
    if question.kind == "bool":
        return "是" if value == question.yes_value else "没有" if question.yes_value is False else "否"
    if question.kind == "date":
        return f"{value.year}年{value.month}月{value.day}日"
    if question.kind == "ratio":
        return f"{value * 100:g}%"
    labels = dict(question.choices)
    if question.kind == "enum":
        return labels[value]
    if question.kind == "multi":
        return "、".join(labels[item] for item in value)
    return question.unit.format(value) if "{}" in question.unit else f"{value}{question.unit}"


@pytest.mark.parametrize("domain", list(DOMAINS))
@pytest.mark.parametrize("year", [2021, 2023, 2026])
def test_a_compliant_branch_answering_every_question_qualifies(domain, year):
    profile = evaluate(passing_profile(domain) | {"year": year})  # the same branch, as a validated profile
    values = profile._values
    answers = {}
    for question in questions_for(domain, year):
        if question.applies(answers):
            value = values.get(question.fact)  # each part of a split fact holds when the fact does
            if value is None and question.key == "founded_on":
                value = date(2015, 6, 1)
            text = "不确定" if value is None else _typed(question, value)
            answers[question.key] = parse_answer(question, text, answers)
    evaluation = evaluate(profile_from_answers(domain, year, answers))
    assert evaluation.verdict == "qualifies", [(c.id, c.status) for c in evaluation.criteria]
    assert evaluation.missing == ()
    confirm = [result.id for result in evaluation.to_confirm]
    assert confirm == (["gacha_village.collective_income"] if domain == "gacha_village" and year != 2021 else [])


def test_a_year_without_a_figure_asks_for_the_one_the_superiors_announced():
    questions = questions_for("gacha_village", 2026)
    keys = [q.key for q in questions]
    asked = questions[keys.index("parameters.gacha_village.collective_income")]
    assert keys.index(asked.key) == keys.index("facts.collective_income_yuan") + 1
    assert "文件只规定了2021年的嘎查村集体经济年经营性收入标准（超过5万元），没有2026年度的" in asked.prompt
    assert "不知道请答“不确定”，将按2021年的标准判断" in asked.prompt
    assert not asked.applies({}) and asked.applies({"facts.collective_income_yuan": 80000})
    answers = {"facts.collective_income_yuan": 80000, asked.key: parse_answer(asked, "6万元")}
    profile = profile_from_answers("gacha_village", 2026, answers)
    assert profile["parameters"] == {"gacha_village.collective_income": 60000}
    income = next(c for c in evaluate(profile).criteria if c.id == "gacha_village.collective_income")
    assert income.status == "pass" and income.parameter.basis == "user_supplied"
    assert "按您填写的上级公布的2026年度标准超过6万元" in income.reason
    assert "parameters.gacha_village.collective_income" not in {q.key for q in questions_for("gacha_village", 2021)}
    assert "parameters.gacha_village.collective_income" not in {q.key for q in questions_for("gacha_village")}


# —— Plain yes/no questions and the recorded meaning in words ——

NEGATED = re.compile(r"是否(确实|真的)?(没有|未|不|无)|有没有不|是不是没")


@pytest.mark.parametrize("domain", list(DOMAINS))
def test_yes_no_questions_ask_plainly_and_say_what_was_recorded(domain):
    for question in questions_for(domain, 2026):
        assert not NEGATED.search(question.prompt), question.prompt
        if question.kind == "bool":
            assert question.yes_text and question.no_text and question.yes_text != question.no_text
            assert question.show(question.yes_value) == question.yes_text
            assert question.show(not question.yes_value) == question.no_text


@pytest.mark.parametrize("key", ["facts.committee_clean", "facts.no_clan_or_gang_control", "facts.no_inspection_notice"])
def test_an_honest_no_to_a_question_about_a_problem_records_no_problem(key):
    question = by_key("gacha_village")[key]
    assert question.prompt.startswith(("本嘎查村“两委”干部中，是否有人", "本嘎查村是否存在", "在中央")) and "是否" in question.prompt
    for no in ("否", "没有", "没", "无"):
        assert parse_answer(question, no) is True  # the fact (clean, no control, no notice) holds
    assert parse_answer(question, "有") is False and parse_answer(question, "是") is False
    assert question.show(True) == question.no_text and "没有" in question.show(True)
    profile = passing_profile("gacha_village")
    profile["facts"][key.removeprefix("facts.")] = parse_answer(question, "没有")
    assert evaluate(profile).verdict == "qualifies"


# —— Everyday answers, and hints that fit the question ——


@pytest.mark.parametrize(
    ("domain", "key", "text", "value"),
    [
        ("gacha_village", "founded_on", "2008年5月", date(2008, 5, 1)),
        ("gacha_village", "founded_on", "2008.5", date(2008, 5, 1)),
        ("gacha_village", "founded_on", "2008年5月1日", date(2008, 5, 1)),
        ("gacha_village", "founded_on", "今年", date(date.today().year, 1, 1)),
        ("gacha_village", "facts.stars", "9颗", 9),
        ("gacha_village", "facts.stars", "九颗星", 9),
        ("gacha_village", "facts.committee_college_graduates", "两名", 2),
        ("gacha_village", "members_reviewing", "三十人", 30),
        ("government_organ", "facts.internal_ranking", "第5名", 5),
        ("gacha_village", "facts.collective_income_yuan", "八万", 80000),
        ("gacha_village", "facts.collective_income_yuan", "大概8万左右", 80000),
        ("gacha_village", "facts.collective_income_yuan", "8万元", 80000),
        ("gacha_village", "facts.collective_income_yuan", "一万二", 12000),
        ("school", "facts.party_master_teacher_ratio", "百分之三十", 0.3),
        ("school", "facts.party_master_teacher_ratio", "30%。", 0.3),
        ("university", "facts.branch_kind", "教师", "teacher"),
        ("gacha_village", "facts.star_strong_team", "获得了", True),
        ("state_enterprise", "facts.has_activity_venue", "还没有", False),
    ],
)
def test_everyday_answers(domain, key, text, value):
    assert parse_answer(by_key(domain)[key], text) == pytest.approx(value) if isinstance(value, float) else \
        parse_answer(by_key(domain)[key], text) == value


@pytest.mark.parametrize(
    ("domain", "key", "hint", "not_in_hint"),
    [
        ("gacha_village", "facts.stars", "如“9”或“9颗”", "万"),
        ("gacha_village", "members_reviewing", "如“3”或“三人”", "万"),
        ("government_organ", "facts.internal_ranking", "如“第2名”", "万"),
        ("gacha_village", "facts.collective_income_yuan", "如“8万”或“80000元”", "颗"),
        ("school", "facts.party_master_teacher_ratio", "如“30%”或“百分之三十”", "元"),
        ("gacha_village", "founded_on", "如“2015年6月1日”或“2015年6月”", "YYYY"),
    ],
)
def test_a_rejected_answer_gets_a_hint_that_fits_the_question(domain, key, hint, not_in_hint):
    question = by_key(domain)[key]
    with pytest.raises(BadInput) as error:
        parse_answer(question, "好多好多")
    assert hint in str(error.value) and not_in_hint not in str(error.value)


def test_recorded_answers_read_in_chinese():
    questions = by_key("gacha_village")
    assert questions["founded_on"].show("2008-05-01") == "2008年5月1日"
    assert questions["facts.collective_income_yuan"].show(80000) == "80,000元"
    assert questions["facts.stars"].show(9) == "9颗星" and questions["weak_and_lax"].show(None) == "不确定"
    assert questions["weak_and_lax"].show(False) == "没有被列为软弱涣散党支部"
    ranking = by_key("government_organ")["facts.internal_ranking"]
    assert ranking.show(1) == "第1名"  # an ordinal, not "1名" (a head count)
    failed = evaluate({"domain": "government_organ", "year": 2023, "facts": {"internal_ranking": 5}}).by_status(FAIL)
    assert [result.reason for result in failed] == ["机关内部党支部年度考核排名第5名，未进入前三名。"]


# —— Replies as secretaries type them (evaluators/data/replies.yaml) ——

@pytest.mark.parametrize("domain, key, text, value, shown, confirm", [
    ("gacha_village", "facts.collective_income_yuan", "五万多", 50001, "超过5万元", True),
    ("gacha_village", "facts.collective_income_yuan", "一万出头", 10001, "超过1万元", True),
    ("gacha_village", "facts.collective_income_yuan", "将近5万", 49999, "不到5万元（按49,999元记）", True),
    ("gacha_village", "facts.collective_income_yuan", "差不多八万", 80000, "约8万元，按8万元记", True),
    ("gacha_village", "facts.collective_income_yuan", "说错了，改成五万整，刚好五万", 50000, "5万元", False),
    ("state_enterprise", "facts.last_year_payroll_yuan", "四百多万", 4000001, "超过400万元", True),
    ("government_organ", "facts.volunteer_activities", "三四次", 3, "3次到4次，按3次记", True),
    ("government_organ", "facts.internal_ranking", "记错了，是第四名", 4, "第4名", False),
    ("school", "facts.party_master_teacher_ratio", "三成多", 0.31, "超过30%", True),
    ("university", "facts.school_average_rate", "全校28%左右", 0.28, "约28%，按28%记", True),
    ("gacha_village", "founded_on", "08年3月", date(2008, 3, 1), "2008年3月", False),
    ("gacha_village", "founded_on", "1998年七一建的", date(1998, 7, 1), "1998年7月1日", False),
    ("gacha_village", "founded_on", "12年", date(2012, 1, 1), "2012年", False),
    ("gacha_village", "points_score", "没搞积分", None, "不适用（本地区未实行党支部量化积分管理）", False),
    ("gacha_village", "org_rating", "上级还没评，不清楚", None, "不确定", False),
    ("gacha_village", "org_rating", "镇党委给的优秀", "excellent", "优秀", False),
    ("university", "facts.branch_kind", "研究生支部，学生的", "student", "学生党支部", False),
    ("floating_members", "facts.lost_contact_members", "一个都没失联", 0, "0名", False),
    ("private_enterprise", "facts.six_haves", "除了书报都有", ["场所", "设施", "标志", "党旗", "制度"],
     "已具备：场所、设施、标志、党旗、制度；缺少：书报", False),
    ("social_organization", "facts.eight_haves", "就缺电教设备和计算机",
     ["党旗", "党员名册", "规章制度", "桌椅", "图书资料", "档案柜"],
     "已具备：党旗、党员名册、规章制度、桌椅、图书资料、档案柜；缺少：电教设备、计算机", False),
])
def test_read_answer_says_what_it_understood(domain, key, text, value, shown, confirm):
    from evaluators.questions import read_answer

    reading = read_answer(by_key(domain)[key], text)
    assert (reading.value, reading.shown, reading.confirm) == (pytest.approx(value) if isinstance(value, float) else value,
                                                             shown, confirm)


@pytest.mark.parametrize("key, text, offered", [
    ("points_score", "9颗", "按9分记"),  # stars typed at the points question
    ("facts.stars", "8分", "按8颗星记"),
    ("facts.collective_income_yuan", "5次", "按5元记"),
])
def test_a_reply_in_another_unit_is_asked_back_not_recorded_in_the_questions(key, text, offered):
    from evaluators.questions import Unclear, read_answer

    with pytest.raises(Unclear, match="的单位和这一题不一样") as raised:
        read_answer(by_key("gacha_village")[key], text)
    assert [option.shown for option in raised.value.options] == [offered, "不确定"]
    assert read_answer(by_key("gacha_village")["facts.stars"], "8个").value == 8  # 个 counts anything
    assert read_answer(by_key("gacha_village")["facts.collective_income_yuan"], "五万块").value == 50000


def test_a_count_said_as_30多_is_not_taken_as_30_and_所有人_follows_its_whole():
    from evaluators.questions import Unclear, read_answer

    reviewing = by_key("gacha_village")["members_reviewing"]
    with pytest.raises(Unclear, match="请给出确切人数（超过30人）") as raised:
        read_answer(reviewing, "30多")
    assert [option.value for option in raised.value.options] == [31, None]
    excellent = by_key("gacha_village")["members_rating_excellent"]
    assert read_answer(excellent, "都是优秀", {"members_reviewing": 12}).value == 12


@pytest.mark.parametrize("key, text, offered", [
    ("facts.themed_activities_culture", "基本上是", [True, False, None]),
    # to "是否发生过事故或群体性事件？": 不错 says all is well, 出过 says it happened
    ("facts.good_performance_no_accidents#2", "效益不错，出过一次事故", [False, True, None]),
])
def test_a_reply_that_could_mean_either_is_asked_about(key, text, offered):
    from evaluators.questions import Unclear, read_answer

    with pytest.raises(Unclear) as raised:
        read_answer(by_key("private_enterprise")[key], text)
    assert raised.value.ask_now and [option.value for option in raised.value.options] == offered


def test_split_questions_join_into_their_fact():
    parts = [q for q in questions_for("government_organ", 2023) if q.fact == "facts.mechanism_and_secretary"]
    assert [q.key for q in parts] == ["facts.mechanism_and_secretary#1", "facts.mechanism_and_secretary#2"]
    both = {"facts.mechanism_and_secretary#1": True, "facts.mechanism_and_secretary#2": True}
    one = {"facts.mechanism_and_secretary#1": True, "facts.mechanism_and_secretary#2": False}
    half = {"facts.mechanism_and_secretary#1": True}
    facts = [profile_from_answers("government_organ", 2023, answers).get("facts", {}) for answers in (both, one, half)]
    assert [f.get("mechanism_and_secretary") for f in facts] == [True, False, None]


def test_a_not_in_use_reply_at_a_question_without_it_is_said_not_read_as_unsure():
    """“没搞积分” typed at the 组织评定 question (a step out of turn) was recorded as 不确定 without a word."""
    from evaluators.questions import Unclear, read_answer

    with pytest.raises(Unclear, match="没有“不适用”") as refused:
        read_answer(by_key("gacha_village")["org_rating"], "没搞积分")
    assert [option.shown for option in refused.value.options] == ["不确定"]
    assert read_answer(by_key("gacha_village")["points_score"], "没搞积分").value is None
