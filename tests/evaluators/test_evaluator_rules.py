"""The rulebook stays true to the corpus and the contract: `check_rulebook` on the real and on tampered copies."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from evaluators.rulebook import RULES_DIR, RulebookError, load_rulebook
from evaluators.rules_check import check_rulebook


@pytest.fixture
def rules_copy(tmp_path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(RULES_DIR, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_shipped_rulebook_passes():
    problems, stats = check_rulebook()
    assert problems == []
    assert stats["clauses"] >= 80 and stats["criteria"] >= 70


def test_a_quote_that_is_not_in_the_corpus_is_reported(rules_copy):
    edit(rules_copy / "sources.yaml", "参加评议党员总数的90%以上", "参加评议党员总数的80%以上")
    problems, _ = check_rulebook(rules_copy)
    assert len(problems) == 1 and problems[0].startswith("条款 wg.5.2.2: 原文在《内蒙古自治区“最强党支部”建设工作指南》中找不到")


def test_quotes_are_compared_after_normalisation(rules_copy):
    # Full-width digits, spaces and a line break inside the quote still match the raw PDF text.
    edit(rules_copy / "sources.yaml", "参加评议党员总数的90%以上", "参加评议党员 总数的９０％以上")
    assert check_rulebook(rules_copy)[0] == []


def test_a_misspelt_fact_key_and_the_unread_contract_key_are_reported(rules_copy):
    edit(rules_copy / "gacha_village.yaml", "fact: facts.stars,", "fact: facts.starz,")
    problems, _ = check_rulebook(rules_copy)
    assert "gacha_village: 规则读取的 facts.starz 不是档案字段" in problems
    assert "gacha_village: 档案字段 facts.stars 没有被任何规则读取" in problems


def test_an_unknown_template_variable_is_reported(rules_copy):
    edit(rules_copy / "government_organ.yaml", "排名{value}", "排名{valeu}")
    problems, _ = check_rulebook(rules_copy)
    assert problems == ["government_organ.internal_ranking: fail 文字中有未知变量 ['valeu']"]


def test_wrong_document_metadata_is_reported(rules_copy):
    edit(rules_copy / "sources.yaml", "doc_number: 内组通字〔2020〕4号", "doc_number: 内组通字〔2020〕5号")
    problems, _ = check_rulebook(rules_copy)
    assert problems and "plan-2020-04: doc_number" in problems[0]


def test_a_broken_check_is_reported_not_crashed(rules_copy):
    edit(rules_copy / "school.yaml", "type: compare,", "type: comparison,")
    problems, _ = check_rulebook(rules_copy)
    assert any("school.master_teacher_ratio: check.type 应为" in problem for problem in problems)


def test_loading_a_broken_file_raises_rulebook_error(rules_copy):
    (rules_copy / "common.yaml").write_text("messages: [unclosed", encoding="utf-8")
    with pytest.raises(RulebookError, match="common.yaml: 无法读取"):
        load_rulebook(rules_copy)


def test_every_criterion_cites_a_clause_and_gives_a_remedy():
    rulebook = load_rulebook()
    for rules in rulebook.all_domains().values():
        for criterion in rules.criteria:
            assert criterion.citation.quote and criterion.citation.section and criterion.remedy


def test_dated_parameters_are_data_with_their_clause():
    rulebook = load_rulebook()
    income = next(c for c in rulebook.domain("gacha_village").criteria if c.id == "gacha_village.collective_income")
    assert income.check.op == ">" and income.check.parameter == "gacha_village.collective_income"
    spec = yaml.safe_load((RULES_DIR / "parameters.yaml").read_text(encoding="utf-8"))
    assert {value["from"]: value["value"] for value in spec["targets.share"]["values"]} == {
        2020: 0.2, 2021: 0.3, 2022: 0.4, 2023: 0.5}
    assert {value["clause"] for value in spec["targets.share"]["values"]} == {"wg.3.2"}
    assert [(v.start, v.end, v.value) for v in rulebook.parameters.values("gacha_village.collective_income")] == [
        (2021, 2021, 50000)]
    assert "2021年" in rulebook.parameters.values("gacha_village.collective_income")[0].source["quote"]
