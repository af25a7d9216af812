"""The Chinese human report and the JSON shape of one evaluation."""

from __future__ import annotations

import json
import re

from evaluator_helpers import passing_profile

import pytest

from evaluators import DOMAINS, evaluate, render_details, render_report


def test_report_of_a_failing_branch_gives_reason_clause_and_remedy():
    profile = passing_profile("state_enterprise")
    profile["facts"]["party_funds_yuan"] = 100000
    report = render_report(evaluate(profile))
    assert "结论：暂不符合评定条件" in report
    assert "原因：党组织工作经费100,000元，只占上年度职工工资总额12,000,000元的0.8%，低于1%。" in report
    assert "依据：《内蒙古自治区“最强党支部”建设工作指南》附件2 三、国有企业和集体企业党支部 第4条" in report
    assert "建议：按上年度职工工资总额不低于1%的比例安排党组织工作经费" in report
    assert "评定后可享受的激励保障" not in report
    assert "找不足、补短板" in report
    assert "已达标 25 项，未达标 1 项，不适用 1 项。" in report


def test_report_of_a_qualifying_village_lists_benefits_and_next_step():
    profile = passing_profile("gacha_village") | {"team_annual_pay_yuan": 25000}
    evaluation = evaluate(profile)
    report = render_report(evaluation)
    assert "结论：符合评定条件，可以申报" in report
    assert f"已达标 {len(evaluation.by_status('pass'))} 项" in report  # passed items as a count
    assert "年下拨不少于5000元" in report
    assert "向上一级党组织申报" in report and "本自查结果不是评定结论" in report


def test_bonus_line_gives_the_clause_figures_first_and_the_computed_range_as_an_estimate():
    report = render_report(evaluate(passing_profile("gacha_village") | {"secretary_annual_pay_yuan": 25000}))
    clause = report.index("班子成员（可按党组织书记）年待遇报酬总额的10%—20%，一般可按2000元至3000元掌握，由评定的党委确定")
    estimate = report.index("估算（仅供参考，不是应发金额）：按您填写的党组织书记本人现行年待遇报酬25,000元×10%—20%，"
                            "为2,500元至5,000元；实际标准")
    assert clause < estimate and "实际标准由评定的县级以上党委确定" in report
    assert "约为" not in report  # no bare amount that reads as what the branch is owed


@pytest.mark.parametrize(("pay", "shown"), [
    ({"secretary_annual_pay_yuan": 200000}, "党组织书记本人现行年待遇报酬200,000元×10%—20%，为20,000元至40,000元，高于文件"),
    ({"secretary_annual_pay_yuan": 9000}, "党组织书记本人现行年待遇报酬9,000元×10%—20%，为900元至1,800元，低于文件"),
    ({"team_annual_pay_yuan": 175000}, "班子成员现行年待遇报酬总额175,000元×10%—20%，为17,500元至35,000元，高于文件"),
])
def test_a_bonus_estimate_outside_the_clause_figures_says_why(pay, shown):
    report = render_report(evaluate(passing_profile("community") | pay))
    assert shown in report and "县级以上党委可结合实际自行确定标准" in report


def test_a_bonus_estimate_overlapping_the_clause_figures_needs_no_note():
    report = render_report(evaluate(passing_profile("community") | {"secretary_annual_pay_yuan": 15000}))
    assert "为1,500元至3,000元；实际标准由评定的县级以上党委确定" in report


def test_report_of_an_incomplete_branch_names_the_missing_fact_in_words():
    profile = passing_profile("university")
    del profile["facts"]["secretary_double_leader"]
    report = render_report(evaluate(profile))
    assert "结论：信息不全，暂无法得出结论" in report
    assert "？ 教师党支部书记为党建、学术“双带头人”——待补充：「教师党支部书记为“双带头人”」" in report
    assert "facts." not in report  # no field keys reach a chat user


def test_a_year_the_texts_do_not_cover_gives_a_qualifying_verdict_with_what_to_confirm():
    evaluation = evaluate(passing_profile("gacha_village") | {"year": 2026})
    report = render_report(evaluation)
    assert "结论：符合评定条件（1项待确认）" in report
    assert "待确认" in report and "文件只规定到2021年（超过5万元），没有2026年度的；已按2021年的标准判断" in report
    assert "待补充" not in report and "请补充" not in report  # the gap is in the texts, not in the answers


def test_quotes_are_shown_with_chinese_punctuation():
    report = render_details(evaluate(passing_profile("gacha_village")))
    assert "“1.嘎查村党组织在年度‘十星级’评定中获得8星以上，且必须获得班子坚强星、和谐稳定星、群众满意星”" in report
    assert not re.search(r"[；，、：]”", report)  # an excerpt cut at a list's ；ends at the quote mark
    assert "附件2 一、嘎查村党支部" in report
    assert not re.search(r",(?!\d{3})|;|\(|\)", report)  # only thousands separators stay half-width
    assert "组建日期为2015年6月1日" in report  # dates in Chinese, not YYYY-MM-DD


@pytest.mark.parametrize("domain", list(DOMAINS))
def test_reports_fit_a_phone(domain):
    """A qualifying report fits about two phone screens; an all-unknown one fits one Telegram message."""
    qualifying = render_report(evaluate(passing_profile(domain) | {"team_annual_pay_yuan": 25000}
                                        if domain in ("gacha_village", "community") else passing_profile(domain)))
    assert qualifying.startswith("【“最强党支部”自查】") and len(qualifying) <= 1200, len(qualifying)
    unknown = render_report(evaluate({"domain": domain, "year": 2026}))
    assert "信息不全" in unknown and len(unknown) <= 4096, len(unknown)
    assert unknown.count("\n？ ") == len(evaluate({"domain": domain, "year": 2026}).to_fill)
    assert unknown.count("\n… ") == len(evaluate({"domain": domain, "year": 2026}).awaiting_review)
    assert unknown.count("\n□ ") == len(evaluate({"domain": domain, "year": 2026}).basic_not_assessed) > 0


def test_details_list_every_passed_criterion_with_its_clause():
    evaluation = evaluate(passing_profile("community"))
    details = render_details(evaluation)
    assert details.count("\n✓ ") == len(evaluation.by_status("pass"))
    assert details.count("依据：《") >= len(evaluation.criteria)


def test_json_shape_follows_the_cli_contract():
    profile = passing_profile("government_organ")
    profile["facts"]["volunteers"] = 18
    data = json.loads(json.dumps(evaluate(profile).to_dict(), ensure_ascii=False))
    assert {"verdict", "criteria", "missing", "benefits"} <= set(data)
    volunteers = next(c for c in data["criteria"] if c["id"] == "government_organ.volunteers")
    assert volunteers["status"] == "fail"
    assert volunteers["facts"] == ["facts.volunteers"]
    assert volunteers["compared_with"] == ["facts.in_service_members"]
    assert set(volunteers["citation"]) >= {"document", "doc_number", "section", "quote"}
    assert volunteers["reason"] and volunteers["remedy"]
    assert data["to_confirm"] == [] and "parameter" not in volunteers


def test_json_marks_a_criterion_judged_against_another_years_figure():
    data = evaluate(passing_profile("gacha_village") | {"year": 2026}).to_dict()
    assert data["verdict"] == "qualifies" and data["verdict_label"] == "符合评定条件（1项待确认）"
    income = next(c for c in data["criteria"] if c["id"] == "gacha_village.collective_income")
    assert income["parameter"] | {"source": None} == {
        "name": "gacha_village.collective_income", "label": "嘎查村集体经济年经营性收入标准", "year": 2026,
        "year_used": 2021, "value": 50000, "shown": "超过5万元", "basis": "latest_documented", "to_confirm": True,
        "source": None}
    assert income["parameter"]["source"]["section"] == "一、目标要求 2.主要目标"
    assert [item["criterion"] for item in data["to_confirm"]] == ["gacha_village.collective_income"]
    assert data["to_confirm"][0]["year_used"] == 2021 and "请向上级确认2026年度标准" in data["to_confirm"][0]["text"]
