"""Profile input: lenient value spellings, strict keys, Chinese error messages that name the English key."""

from __future__ import annotations

import re

import pytest
import yaml
from evaluator_helpers import passing_profile, set_dotted

from evaluators import DOMAINS, ProfileError, evaluate
from evaluators.profile import contract_fields
from zhibu.errors import BadInput


def problems_of(profile: dict) -> list[str]:
    with pytest.raises(ProfileError) as caught:
        evaluate(profile)
    assert isinstance(caught.value, BadInput)
    return caught.value.problems


def test_more_excellent_than_reviewing_names_both_keys_in_chinese():
    profile = passing_profile("community") | {"members_reviewing": 20, "members_rating_excellent": 25}
    [problem] = problems_of(profile)
    assert problem.startswith("members_rating_excellent (评价“优秀”人数) 不能大于 members_reviewing")


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("facts.collective_income_yuan", -5, "facts.collective_income_yuan (嘎查村集体经济年经营性收入) 不能为负数"),
        ("facts.stars", 11, "facts.stars (年度“十星级”评定星数) 不能大于 10"),
        ("facts.stars", "很多", "facts.stars (年度“十星级”评定星数) 应为整数"),
        ("weak_and_lax", "也许", "weak_and_lax (是否被列为软弱涣散党支部) 应为 是/否"),
        ("founded_on", "前些年", "founded_on (组建日期) “前些年”不是有效日期"),
        ("org_rating", "很好", "org_rating (组织评定等次) 取值无效，可选：excellent（优秀）"),
        ("year", 1990, "year (评定年度) 不能小于 2000"),
    ],
)
def test_wrong_values_are_named(key, value, expected):
    profile = passing_profile("gacha_village")
    set_dotted(profile, key, value)
    assert any(problem.startswith(expected) for problem in problems_of(profile)), problems_of(profile)


def test_unknown_key_is_rejected_with_a_suggestion():
    profile = passing_profile("gacha_village")
    profile["facts"]["starz"] = 9
    [problem] = problems_of(profile)
    assert problem.startswith("facts.starz 是未知字段") and "facts.stars" in problem


def test_a_fact_of_another_domain_is_an_unknown_key():
    profile = passing_profile("community")
    profile["facts"]["stars"] = 9
    assert problems_of(profile)[0].startswith("facts.stars 是未知字段（community 档案中没有这个字段")


def test_unknown_domain_lists_the_domains():
    [problem] = problems_of({"domain": "village", "year": 2021})
    assert problem.startswith("domain (所处领域) 取值无效") and "gacha_village（嘎查村）" in problem


def test_domain_and_year_are_required_everything_else_may_be_missing():
    assert {p.split(" ")[0] for p in problems_of({})} == {"domain", "year"}
    evaluation = evaluate({"domain": "retired_staff", "year": 2021})
    assert evaluation.verdict == "incomplete"
    assert "founded_on" in evaluation.missing and "facts.conveys_policy" in evaluation.missing
    assert "points_score" not in evaluation.missing and "social_review_exempt" not in evaluation.missing


def test_every_problem_is_reported_at_once():
    profile = passing_profile("gacha_village")
    profile.update({"org_rating": "?", "members_reviewing": -1})
    profile["facts"].update({"stars": 99, "typo": True})
    keys = {problem.split(" ")[0] for problem in problems_of(profile)}
    assert keys == {"org_rating", "members_reviewing", "facts.stars", "facts.typo"}


def test_not_a_mapping():
    assert problems_of(["not", "a", "profile"]) == ["档案应为一个对象（JSON/YAML 键值对）"]


def test_cell_spellings_from_csv_and_xlsx():
    """Strings as a CSV gives them: 是/否, true/false, 1/0, lists with 、,;, 万, %, empty = missing."""
    profile = {
        "domain": "嘎查村", "year": "2021", "founded_on": "2015/6/1", "weak_and_lax": "否", "org_rating": "优秀",
        "members_reviewing": "30", "members_rating_excellent": "29", "public_dissatisfaction_verified": "0",
        "social_review_adverse": "FALSE", "points_score": "",
        "negative": {"accountability": "否", "major_negative_publicity": "false", "leader_disciplined": "0",
                     "leader_under_investigation": "否"},
        "facts": {"stars": "9", "star_strong_team": "是", "star_harmony_stability": "1",
                  "star_public_satisfaction": "TRUE", "collective_income_yuan": "８万",
                  "service_center_up_to_standard": "是", "three_affairs_public": "是", "committee_college_graduates": "2", "committee_clean": "是",
                  "no_clan_or_gang_control": "是", "no_inspection_notice": "是"},
        "basic": {"done": "按期换届、书记轮训,三会一课;组织生活会、民主评议党员、主题党日、谈心谈话、党费收缴管理",
                  "five_strong": "政治功能强、队伍建设强、组织生活强、作用发挥强、群众工作强"},
    }
    evaluation = evaluate(profile)
    assert evaluation.verdict == "qualifies" and evaluation.domain == "gacha_village"


def test_list_cells_accept_the_three_separators():
    profile = passing_profile("private_enterprise")
    profile["facts"]["six_haves"] = "场所,设施;标志、党旗，书报；制度"
    assert evaluate(profile).verdict == "qualifies"


def test_ratio_above_one_is_rejected_with_a_hint():
    profile = passing_profile("school")
    profile["facts"]["party_master_teacher_ratio"] = 40
    assert problems_of(profile)[0].startswith("facts.party_master_teacher_ratio (支部内党员名师比例) 不能大于 1")


@pytest.mark.parametrize("domain", list(DOMAINS))
def test_every_domain_template_is_a_valid_profile_with_a_comment_on_every_key(domain):
    from evaluators.template import profile_template

    template = profile_template(domain, 2026)
    keys = [line for line in template.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert all(re.search(r"# \S", line) for line in keys)
    profile = yaml.safe_load(template)
    assert profile["domain"] == domain and profile["year"] == 2026
    assert set(profile["facts"]) == {key.removeprefix("facts.") for key in contract_fields(domain) if key.startswith("facts.")}
    assert evaluate(profile).verdict == "incomplete"
