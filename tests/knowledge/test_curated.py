"""Curated answers (问答对) through the real records store, the real keyword-only knowledge base and the
real `zhibu` command: export/import with every clause checked against the texts, similar questions get
the answer first (经审核), other questions do not, and a removed or replaced document suspends it."""

from __future__ import annotations

import shutil

import pytest
import yaml

from knowledge import curated
from knowledge.service import QAService
from tests.conftest import run_zhibu
from zhibu.settings import Settings

KEYWORD_ONLY = {"ZHIBU_EMBEDDING": "none"}
STARTER = yaml.safe_load(curated.STARTER.read_text(encoding="utf-8"))


@pytest.fixture
def home(keyword_kb_template, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(keyword_kb_template, home)
    return home


def ask(home, question: str):
    # A new service per question: the published file is read as another process (the bot) would.
    return QAService(Settings(_env_file=None, zhibu_home=home, zhibu_embedding="none")).ask(question)


def test_the_starter_set_is_imported_and_exported_with_its_clauses(home, tmp_path):
    imported = run_zhibu("answers", "import", "--starter", home=home, env=KEYWORD_ONLY)
    assert imported.returncode == 0, imported.stderr
    assert f"已导入 {len(STARTER)} 条标准答案" in imported.stdout
    exported = tmp_path / "answers.yaml"
    assert run_zhibu("answers", "export", str(exported), home=home, env=KEYWORD_ONLY).returncode == 0
    assert yaml.safe_load(exported.read_text(encoding="utf-8")) == STARTER  # the round trip keeps every entry
    again = run_zhibu("answers", "import", str(exported), home=home, env=KEYWORD_ONLY)
    assert again.returncode == 0 and len(curated.published(home)) == len(STARTER)  # same questions: updated


@pytest.mark.parametrize("entry, message", [
    ({"question": "融合党建在哪", "answer": "赤峰市。",
      "clauses": [{"doc_id": "guidance-2020-02", "section": "27", "quote": "在呼和浩特市深化推进全领域基层党建融合发展模式"}]},
     "找不到这段原文"),
    ({"question": "融合党建在哪", "answer": "赤峰市。",
      "clauses": [{"doc_id": "no-such-doc", "section": "27", "quote": "在赤峰市深化推进全领域基层党建融合发展模式"}]},
     "知识库中没有这份文件"),
    ({"question": "融合党建在哪", "answer": "", "clauses": []}, "请写简短的标准答案"),
    ({"question": "融合党建在哪", "answer": "赤峰市。"}, "clauses 应是依据条款的列表"),
])
def test_a_bad_entry_is_refused_in_chinese_and_nothing_is_imported(home, tmp_path, entry, message):
    good = STARTER[0]
    path = tmp_path / "answers.yaml"
    path.write_text(yaml.safe_dump([good, entry], allow_unicode=True), encoding="utf-8")
    result = run_zhibu("answers", "import", str(path), home=home, env=KEYWORD_ONLY)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr
    assert curated.published(home) == []


def test_a_similar_question_gets_the_curated_answer_first_and_another_question_does_not(home):
    assert run_zhibu("answers", "import", "--starter", home=home, env=KEYWORD_ONLY).returncode == 0
    answer = ask(home, "融合党建先在哪个盟市搞试点")
    assert answer.mode == "curated" and answer.status == "answered"
    assert answer.answer.startswith("答：赤峰市：在赤峰市深化推进全领域基层党建融合发展模式。（经审核）")
    assert answer.citations[0].chunk_id and answer.retrieved  # the clause's passage, and what retrieval found
    for other in ("山东那边的最强党支部是怎么评的", "2024年最强党支部比例要达到多少", "最强党支部有哪些标准？"):
        assert ask(home, other).mode != "curated", other


def test_a_follow_up_gets_a_curated_answer_only_for_what_it_asks_itself(home):
    """"这个钱由谁来出？" after a question on the reward is not the curated "最强党支部由谁来评？"."""
    assert run_zhibu("answers", "import", "--starter", home=home, env=KEYWORD_ONLY).returncode == 0
    service = QAService(Settings(_env_file=None, zhibu_home=home, zhibu_embedding="none"))
    first = service.ask("评上最强党支部的嘎查村有什么奖励？")
    follow_up = service.ask("这个钱由谁来出？", context=first.context)
    assert "预备党员审批权限" not in follow_up.answer.split("\n")[0]
    assert "谁评定谁发放" in follow_up.answer


def test_removing_or_replacing_the_cited_document_suspends_the_answer(home, tmp_path):
    assert run_zhibu("answers", "import", "--starter", home=home, env=KEYWORD_ONLY).returncode == 0
    assert ask(home, "最强党支部多长时间评一次？").mode == "curated"
    assert run_zhibu("ingest", "--no-corpus", "--remove", "work-guide-2020", home=home, env=KEYWORD_ONLY).returncode == 0
    assert ask(home, "最强党支部多长时间评一次？").mode != "curated"
    service = curated.CuratedService(Settings(_env_file=None, zhibu_home=home, zhibu_embedding="none"))
    reasons = {entry["question"]: why for entry, why in service.listing()}
    assert reasons["最强党支部多长时间评一次？"] == "《内蒙古自治区“最强党支部”建设工作指南》已从知识库移除"
    assert reasons["融合党建先在哪个盟市搞？"] is None
