"""The guided self-check API the chat bot uses: questions, typed answers, answers → profile."""

from __future__ import annotations

from datetime import date

import pytest
from evaluator_helpers import passing_profile

from evaluators import DOMAINS, evaluate, parse_answer, profile_from_answers, questions_for, verdict_settled
from evaluators.profile import contract_fields
from evaluators.report import chinese_punctuation
from zhibu.errors import BadInput


def by_key(domain: str) -> dict:
    return {question.key: question for question in questions_for(domain)}


@pytest.mark.parametrize("domain", list(DOMAINS))
def test_every_profile_key_is_asked_with_its_clause(domain):
    questions = questions_for(domain)
    asked = {question.key for question in questions}
    expected = set(contract_fields(domain)) - {"domain", "year", "name"}
    if domain != "government_organ":
        expected.discard("social_review_exempt")  # only 机关党支部 may skip the social review
    if domain not in ("gacha_village", "community"):
        expected.discard("team_annual_pay_yuan")  # only feeds the 嘎查村/社区 one-off bonus
    assert asked == expected
    assert [q.key for q in questions][:2] == ["founded_on", "weak_and_lax"]  # common questions first
    for question in questions:
        assert question.prompt and chinese_punctuation(question.citation["quote"]) in question.help
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
        ("facts.stars", "11", "不能大于10星"),
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


def test_unknown_domain_for_questions():
    with pytest.raises(BadInput, match="未知领域"):
        questions_for("village")
