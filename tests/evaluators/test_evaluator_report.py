"""The Chinese human report and the JSON shape of one evaluation."""

from __future__ import annotations

import json

from evaluator_helpers import passing_profile

from evaluators import evaluate, render_report


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


def test_report_of_a_qualifying_village_lists_benefits_and_next_step():
    profile = passing_profile("gacha_village") | {"team_annual_pay_yuan": 25000}
    report = render_report(evaluate(profile))
    assert "结论：符合评定条件，可以申报" in report
    assert "一次性专项绩效奖励" in report and "约为2,500元至5,000元" in report
    assert "年下拨经费不少于5000元" in report
    assert "向上一级党组织申报" in report and "本自查结果不是评定结论" in report


def test_report_of_an_incomplete_branch_asks_for_the_missing_fact():
    profile = passing_profile("university")
    del profile["facts"]["secretary_double_leader"]
    report = render_report(evaluate(profile))
    assert "结论：信息不全，暂无法得出结论" in report
    assert "请补充：教师党支部书记是否为党建、学术“双带头人”？（facts.secretary_double_leader）" in report


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
