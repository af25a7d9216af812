"""The console's rules without a browser: a clause's figure, quote folding, roster headers, the roster
template's example, report names, and a target without basis left unapplied by the evaluator."""

from __future__ import annotations

from datetime import date

import pytest
import yaml

from knowledge.clauses import clause_form
from console.targets import check_figure, stated_figures
from evaluators.batch import report_name, run_batch_file
from evaluators.engine import evaluate
from evaluators.profile import nest
from evaluators.roster import _example_row, columns, header_key, write_template
from zhibu.errors import BadInput


@pytest.mark.parametrize(("quote", "kind", "figures"), [
    ("嘎查村集体经济年经营性收入超过10万元", "money", [100_000]),
    ("2026年度，收入超过6万元", "money", [60_000]),  # a year is no figure
    ("年收入达到８０００元以上", "money", [8000]),  # full-width digits
    ("比例要达到60%以上", "share", [0.6]),
    ("比例要达到６０％以上", "share", [0.6]),
    ("比例不低于百分之55", "share", [0.55]),
    ("到2026年底全区党支部全部达标", "share", []),
])
def test_the_figures_a_clause_states(quote, kind, figures):
    assert stated_figures(quote, kind) == pytest.approx(figures)


def test_a_value_that_contradicts_its_clause_is_refused_naming_both():
    check_figure(100_000, "收入超过10万元", "money")
    with pytest.raises(BadInput, match="您填写的是 8万元，条款写的是 10万元"):
        check_figure(80_000, "收入超过10万元", "money")
    with pytest.raises(BadInput, match="条款中没有写明金额"):
        check_figure(80_000, "嘎查村集体经济收入要稳步增长", "money")


def test_quotes_spaces_and_widths_are_one_form_before_a_clause_is_matched():
    document = "全区达到“最强党支部”标准的党支部比例要达到60%以上。"
    for typed in ('全区达到"最强党支部"标准的党支部 比例要达到60％以上', "全区达到「最强党支部」标准的党支部比例要达到60%以上"):
        assert clause_form(typed) in clause_form(document)


@pytest.mark.parametrize(("cell", "key"), [
    ("年度“十星级”评定星数（颗星）", "facts.stars"),
    ("年度“十星级”评定星数", "facts.stars"),
    ("嘎查村集体经济年经营性收入(元)", "facts.collective_income_yuan"),
    ("facts.stars", "facts.stars"),
    ("所处领域", "domain"),
    (" 评定年度（年） ", "year"),
    ("备注", "备注"),  # an unknown column stays as written (and is refused by name when evaluated)
])
def test_a_header_names_its_key_in_chinese_or_as_the_key(cell, key):
    assert header_key(cell) == key


def test_the_template_example_row_is_a_qualifying_branch_and_is_skipped_when_read(tmp_path):
    example = _example_row()
    assert evaluate(nest({key: value for key, value in example.items() if key != "name"})).verdict == "qualifies"
    summary = run_batch_file(write_template(tmp_path / "模板.xlsx")).summary()
    assert (summary["total"], summary["errors"]) == (0, [])  # the example row is not a branch


def test_every_fact_of_every_domain_has_a_column_with_its_clause():
    every = columns()
    assert len({column.header for column in every}) == len(every)  # headers are unique
    facts = [column for column in every if column.key.startswith("facts.")]
    assert facts and all(column.clause.startswith("《") for column in facts)


def test_the_report_is_named_after_the_roster_and_the_day():
    assert report_name("乌兰县名单.xlsx", date(2026, 12, 6)) == "乌兰县名单_评估报告_2026-12-06.xlsx"
    assert report_name("../a/b:c?.csv", date(2026, 12, 6)) == "bc_评估报告_2026-12-06.xlsx"
    assert report_name("", date(2026, 12, 6)) == "名单_评估报告_2026-12-06.xlsx"


def test_a_target_without_basis_is_not_applied_and_the_year_is_to_be_confirmed(tmp_path, monkeypatch):
    from evaluators.parameters import ParameterTable
    from evaluators.rulebook import load_rulebook

    staff = tmp_path / "parameters.yaml"
    entry = {"parameter": "gacha_village.collective_income", "year": 2026, "value": 60000,
             "source": {"document": "关于做好2026年度工作的通知", "section": "二", "quote": "收入超过6万元"}}
    table = ParameterTable(load_rulebook().parameters.parameters, lambda: staff)
    staff.write_text(yaml.safe_dump([entry], allow_unicode=True), encoding="utf-8")
    assert table.resolve("gacha_village.collective_income", 2026).basis == "staff"
    staff.write_text(yaml.safe_dump([entry | {"without_basis": "依据文件已删除"}], allow_unicode=True), encoding="utf-8")
    resolved = table.resolve("gacha_village.collective_income", 2026)
    assert (resolved.basis, resolved.to_confirm, resolved.year_used) == ("latest_documented", True, 2021)
    assert table.staff_problems == []


def test_this_week_and_this_month_are_calendar_periods_in_local_time():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from console.questions import Filters

    wednesday = datetime(2026, 12, 9, 15, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert Filters(period="week").since(wednesday) == datetime(2026, 12, 7, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert Filters(period="month").since(wednesday) == datetime(2026, 12, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert Filters(period="all").since(wednesday) is None
    assert Filters.read(period="year", status="bogus", reason="x") == Filters()  # unknown values: everything
