"""Dated parameters: what the texts cover, the staff file laid over the rulebook, and how a year's figure is chosen."""

from __future__ import annotations

import os

import pytest
import yaml
from evaluator_helpers import passing_profile

from evaluators import evaluate, known_parameters, year_coverage, year_notice
from evaluators.parameters import validate_staff_parameters
from evaluators.rulebook import load_rulebook

SOURCE = {"doc_id": "notice-2026", "document": "关于做好2026年度“最强党支部”评定工作的通知", "doc_number": "内组通字〔2026〕9号",
          "section": "二、评定标准", "quote": "嘎查村集体经济年经营性收入超过8万元"}


def staff_entry(**changes) -> dict:
    return {"parameter": "gacha_village.collective_income", "year": 2026, "value": 90000, "source": SOURCE,
            "entered_by": "张三", "entered_at": "2026-11-30T10:00:00+08:00"} | changes


@pytest.fixture
def staff_file(empty_zhibu_home):
    return empty_zhibu_home / "parameters.yaml"


def write(path, entries) -> None:
    text = yaml.safe_dump(entries, allow_unicode=True)
    path.write_text(text, encoding="utf-8")
    stat = path.stat()  # a new modification time even within the file system's timestamp granularity
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))


def income(year: int, **profile) -> object:
    evaluation = evaluate(passing_profile("gacha_village") | {"year": year} | profile)
    return next(result for result in evaluation.criteria if result.id == "gacha_village.collective_income")


def test_the_year_step_says_what_the_texts_cover():
    assert year_coverage("gacha_village") == "文件规定了2020—2023年的目标；2021年嘎查村集体经济年经营性收入标准为超过5万元。"
    assert year_coverage("community") == "文件规定了2020—2023年的目标；本领域的评定条件不随年度变化。"
    assert year_notice("gacha_village", 2021) is None and year_notice("community", 2023) is None
    assert "按2021年的标准（超过5万元）判断" in year_notice("gacha_village", 2026)


def test_known_parameters_for_the_staff_console():
    parameters = {item["name"]: item for item in known_parameters()}
    assert set(parameters) == {"targets.share", "gacha_village.collective_income"}
    target = parameters["targets.share"]
    assert target["label"] and target["kind"] == "share"
    assert [(v["from"], v["value"], v["origin"]) for v in target["values"]] == [
        (2020, 0.2, "rulebook"), (2021, 0.3, "rulebook"), (2022, 0.4, "rulebook"), (2023, 0.5, "rulebook")]
    assert target["values"][0]["source"]["quote"].startswith("比如,到2020年底,可达到20%以上")
    assert parameters["gacha_village.collective_income"]["unit"] == "元"


def test_a_staff_value_counts_as_documented_and_is_used_at_once(staff_file):
    assert income(2026).parameter.basis == "latest_documented"
    write(staff_file, [staff_entry()])
    used = income(2026).parameter  # no restart: the file is re-read when it changes
    assert (used.basis, used.value, used.year_used, used.entered_by) == ("staff", 90000, 2026, "张三")
    assert used.source["doc_number"] == "内组通字〔2026〕9号"
    evaluation = evaluate(passing_profile("gacha_village") | {"year": 2026})
    assert evaluation.verdict == "does_not_qualify" and evaluation.to_confirm == []  # 8万 is not more than 9万
    assert "2026年度标准为超过9万元（组织部门录入）" in income(2026).reason
    assert income(2027).parameter.year_used == 2026  # the latest documented figure is now the staff one
    console = {item["name"]: item for item in known_parameters()}["gacha_village.collective_income"]
    assert [(v["from"], v["origin"], v["entered_by"]) for v in console["values"]] == [
        (2021, "rulebook", None), (2026, "staff", "张三")]
    write(staff_file, [staff_entry(value=70000)])
    assert income(2026).parameter.value == 70000


def test_a_staff_value_overrides_the_rulebook_for_its_year_and_sets_the_batch_target(staff_file):
    write(staff_file, [staff_entry(parameter="targets.share", year=2021, value=0.35)])
    resolved = load_rulebook().target_share(2021)
    assert (resolved.value, resolved.basis) == (0.35, "staff")
    assert load_rulebook().target_share(2022).basis == "exact"


@pytest.mark.parametrize(("entry", "problem"), [
    (staff_entry(parameter="gacha.income"), "parameter（参数）'gacha.income' 不存在"),
    (staff_entry(year="明年"), "year（年度）应为四位年份"),
    (staff_entry(value="很多"), "value（数值）应为数字"),
    (staff_entry(parameter="targets.share", value=60), "是比例，应写0到1之间的小数"),
    (staff_entry(value=-1), "不能为负数"),
    (staff_entry(source={"section": "二"}), "source（依据）须写明文件名称 document"),
    ("2026: 90000", "应为键值对"),
])
def test_a_bad_staff_entry_is_named_in_chinese_and_skipped(staff_file, entry, problem):
    write(staff_file, [entry, staff_entry(year=2027)])
    used = income(2026).parameter
    assert used.basis == "latest_documented"  # the bad entry is not used; the check still runs
    assert income(2027).parameter.basis == "staff"  # the good one is
    problems = load_rulebook().parameters.staff_problems
    assert len(problems) == 1 and problem in problems[0] and problems[0].startswith("parameters.yaml 第1项")


def test_a_broken_staff_file_never_breaks_a_check(staff_file):
    staff_file.write_text("- parameter: [unclosed\n", encoding="utf-8")
    assert evaluate(passing_profile("gacha_village") | {"year": 2026}).verdict == "qualifies"
    assert "不是有效的 YAML" in load_rulebook().parameters.staff_problems[0]
    staff_file.write_text("parameter: x\n", encoding="utf-8")
    assert evaluate(passing_profile("gacha_village") | {"year": 2026}).verdict == "qualifies"
    assert "应为列表" in load_rulebook().parameters.staff_problems[0]


def test_validate_staff_parameters():
    entries, problems = validate_staff_parameters([staff_entry(), staff_entry(value=True)],
                                                  load_rulebook().parameters.parameters)
    assert [(name, value.value) for name, value in entries] == [("gacha_village.collective_income", 90000)]
    assert problems == ["parameters.yaml 第2项：value（数值）应为数字，收到 True，此项未采用"]


def test_a_profile_may_give_only_its_own_domains_standards():
    profile = passing_profile("community") | {"parameters": {"gacha_village.collective_income": 60000}}
    with pytest.raises(Exception, match="parameters.gacha_village.collective_income 不是本领域的年度标准"):
        evaluate(profile)


def test_a_year_covered_by_staff_needs_no_notice(staff_file):
    write(staff_file, [staff_entry()])
    assert year_notice("gacha_village", 2026) is None
    assert year_coverage("gacha_village").endswith("2021年嘎查村集体经济年经营性收入标准为超过5万元；"
                                                   "2026年嘎查村集体经济年经营性收入标准为超过9万元。")
