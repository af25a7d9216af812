"""Profile input: lenient value spellings, strict keys, Chinese error messages that name the English key."""

from __future__ import annotations

import re

import pytest
import yaml
from evaluator_helpers import passing_profile, set_dotted
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evaluators import DOMAINS, ProfileError, evaluate
from evaluators.profile import _without_blanks, contract_fields, nest, read_plain, read_with_pydantic
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


# ---- a profile already in its final form is read without pydantic, with the same result ---------------

_SPELLINGS = ["是", "否", "true", "0", "优秀", "较差", "excellent", "8万", "8万元", "35%", "百分之三十", "0.5", "120",
              "2015年6月", "2015-06-01", "去年", "场所、设施", "有党旗", "党旗", "第5名", "两名", "-3", "abc", "", " "]
_WRITTEN = {  # values people write for each kind, final forms among them
    "bool": st.one_of(st.booleans(), st.sampled_from(["是", "否", "true", "0", "FALSE"])),
    "int": st.integers(0, 60),
    "number": st.one_of(st.integers(0, 200_000), st.floats(0, 200_000), st.sampled_from(["8万", "8万元", "120", "两名"])),
    "ratio": st.one_of(st.floats(0, 1), st.integers(0, 1), st.sampled_from(["35%", "百分之三十", "0.5"])),
    "date": st.one_of(st.dates(), st.datetimes(), st.sampled_from(["2015年6月", "2015-06-01", "去年"])),
    "name": st.one_of(st.text(max_size=6), st.integers()),
}


def _written(spec) -> st.SearchStrategy:
    if spec.kind in _WRITTEN:
        return _WRITTEN[spec.kind]
    words = list(spec.choices) + list(spec.choices.values())
    if spec.kind == "multi":
        return st.one_of(st.lists(st.sampled_from(words), max_size=3), st.just("、".join(words[:2])))
    return st.sampled_from(words)


def _anything(spec) -> st.SearchStrategy:
    """Everything else people and spreadsheets write."""
    words = list(spec.choices or {}) + ["x", 3]
    return st.one_of(
        st.none(), st.booleans(), st.integers(-3, 130), st.integers(2**52, 2**64), st.sampled_from(_SPELLINGS),
        st.floats(allow_nan=True, allow_infinity=True), st.floats(-1, 120), st.dates(), st.datetimes(),
        st.text(max_size=4), st.lists(st.sampled_from(words), max_size=3), st.tuples(st.sampled_from(words)),
        st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
    )


@st.composite
def _raw_profiles(draw):
    """Mostly values as people write them (so that many profiles are plain), sometimes anything."""
    domain = draw(st.sampled_from(list(DOMAINS)))
    flat = {"domain": draw(st.sampled_from([domain, domain, DOMAINS[domain], f"{DOMAINS[domain]}党支部", "nowhere", 3])),
            "year": draw(st.one_of(st.integers(2000, 2100), st.integers(2000, 2100),
                                   st.sampled_from([1999, 2101, "2024", 2024.0, True])))}
    for key, spec in contract_fields(domain).items():
        if key not in flat and draw(st.integers(0, 2)) == 0:
            flat[key] = draw(_anything(spec) if draw(st.integers(0, 14)) == 0 else _written(spec))
    if draw(st.booleans()):
        flat["name"] = draw(st.one_of(st.text(max_size=6), st.integers(), st.sampled_from(["支部\x00", "a\n", "\x85"])))
    for parameter in draw(st.lists(st.sampled_from(["targets.share", "gacha_village.collective_income"]), max_size=2)):
        flat[f"parameters.{parameter}"] = draw(st.one_of(st.integers(0, 10**6), st.sampled_from(["6万", -1, "x"])))
    if draw(st.integers(0, 9)) == 0:
        flat[draw(st.sampled_from(["nosuch", "facts.nosuch", "negative.nosuch"]))] = 1
    profile = nest(flat)
    if draw(st.integers(0, 19)) == 0:
        profile[draw(st.sampled_from(["negative", "basic", "facts", "parameters"]))] = draw(st.sampled_from([[], "是", 1]))
    return profile


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_raw_profiles())
def test_a_plain_profile_reads_as_pydantic_reads_it(profile):
    data = _without_blanks(profile)
    plain = read_plain(data)
    if plain is not None:
        typed = [(key, type(value), value) for key, value in read_with_pydantic(data).items()]
        assert [(key, type(value), value) for key, value in plain.items()] == typed


def test_usual_profiles_are_read_without_pydantic():
    for domain in DOMAINS:
        assert read_plain(_without_blanks(passing_profile(domain))) is not None, domain
    spelled = {"domain": "社区", "year": 2024, "name": "新华社区党支部", "org_rating": "优秀", "weak_and_lax": "否",
               "founded_on": "2015年6月", "team_annual_pay_yuan": "8万元", "facts": {"grid_five_in_place": "是"}}
    assert read_plain(_without_blanks(spelled)) == read_with_pydantic(_without_blanks(spelled))
