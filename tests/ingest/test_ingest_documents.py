"""Documents: metadata from sidecars or inferred, folders, versions, the shipped corpus."""

from __future__ import annotations

import re
import shutil

import pytest

from ingest.documents import iter_documents, prepare_document, shipped_corpus_paths, slugify
from ingest_helpers import CORPUS, raw_text
from zhibu.errors import BadInput


def test_shipped_corpus_is_the_three_texts():
    assert [path.name for path in shipped_corpus_paths()] == ["guidance-2020-02.txt", "plan-2020-04.txt", "work-guide-2020.txt"]


def test_sidecar_metadata_is_used():
    metas = {document.meta.doc_id: document.meta for document in iter_documents(shipped_corpus_paths())}
    assert set(metas) == {"guidance-2020-02", "plan-2020-04", "work-guide-2020"}
    plan = metas["plan-2020-04"]
    assert (plan.short_title, plan.doc_number, plan.date, plan.source) == ("方案", "内组通字〔2020〕4号", "2020-03-04", "plan-2020-04.txt")
    assert metas["work-guide-2020"].doc_number == ""  # stated empty: the number in its first lines is another document's


def test_metadata_is_inferred_without_a_sidecar(tmp_path):
    path = tmp_path / "最强党支部方案.txt"
    path.write_text(raw_text("plan-2020-04"), encoding="utf-8")
    meta = prepare_document(path).meta
    assert re.fullmatch(r"doc-[0-9a-f]{8}", meta.doc_id)
    assert meta.title == "内蒙古自治区党委组织部关于印发«筑牢新时代北疆基层战斗堡垒建设“最强党支部”方案»的通知"
    assert (meta.short_title, meta.doc_number, meta.date, meta.issuer) == ("最强党支部方案", "内组通字〔2020〕4号", "2020-03-04", "")


def test_a_document_cited_in_the_first_lines_is_not_taken_for_its_number(tmp_path):
    path = tmp_path / "guide.txt"
    path.write_text(raw_text("work-guide-2020"), encoding="utf-8")
    meta = prepare_document(path).meta
    assert (meta.doc_id, meta.title, meta.doc_number) == ("guide", "内蒙古自治区“最强党支部”建设工作指南", "")
    assert meta.short_title == "内蒙古自治区“最强党支部”建设…"


def test_a_partial_sidecar_is_completed_by_inference(tmp_path):
    path = tmp_path / "plan.txt"
    path.write_text(raw_text("plan-2020-04"), encoding="utf-8")
    (tmp_path / "plan.yaml").write_text("short_title: 方案\ndate: 2020-03-04\n", encoding="utf-8")
    meta = prepare_document(path).meta
    assert (meta.doc_id, meta.short_title, meta.date, meta.doc_number) == ("plan", "方案", "2020-03-04", "内组通字〔2020〕4号")


def test_a_broken_sidecar_is_refused(tmp_path):
    path = tmp_path / "plan.txt"
    path.write_text(raw_text("plan-2020-04"), encoding="utf-8")
    (tmp_path / "plan.yaml").write_text("title: [unclosed\n", encoding="utf-8")
    with pytest.raises(BadInput, match="元数据"):
        prepare_document(path)


@pytest.mark.parametrize(
    ("stem", "slug"),
    [("Plan 2020_v2", "plan-2020-v2"), ("work-guide-2020", "work-guide-2020"), ("..", None), ("方案2020", None), ("方案", None)],
)
def test_slugs_are_safe_and_deterministic(stem, slug):
    result = slugify(stem)
    assert re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", result)
    assert result == slugify(stem)
    if slug:
        assert result == slug
    else:
        assert re.search(r"-[0-9a-f]{8}$", result) and result != slugify(stem + "x")


def test_folders_give_their_supported_files_in_order(tmp_path):
    shutil.copy(CORPUS["plan-2020-04"], tmp_path / "b-plan.txt")
    shutil.copy(CORPUS["plan-2020-04"].with_suffix(".yaml"), tmp_path / "b-plan.yaml")
    (tmp_path / "a-notes.md").write_text("# 学习笔记\n\n一、要点\n坚持标准.\n", encoding="utf-8")
    (tmp_path / "c-table.xlsx").write_bytes(b"PK")
    (tmp_path / ".hidden.txt").write_text("隐藏文件.", encoding="utf-8")
    (tmp_path / "d-link.txt").symlink_to(CORPUS["work-guide-2020"])
    documents = iter_documents([tmp_path])
    assert [document.meta.source for document in documents] == ["a-notes.md", "b-plan.txt"]
    assert documents[1].meta.doc_id == "plan-2020-04"  # from the sidecar beside it


def test_a_folder_without_documents_is_refused(tmp_path):
    (tmp_path / "meta.yaml").write_text("title: x\n", encoding="utf-8")
    with pytest.raises(BadInput, match="没有可导入的文件"):
        iter_documents([tmp_path])


def test_two_files_with_one_doc_id_are_refused(tmp_path):
    (tmp_path / "x").mkdir()
    shutil.copy(CORPUS["plan-2020-04"], tmp_path / "plan.txt")
    shutil.copy(CORPUS["plan-2020-04"], tmp_path / "x" / "plan.txt")
    with pytest.raises(BadInput, match="plan"):
        iter_documents([tmp_path / "plan.txt", tmp_path / "x" / "plan.txt"])


def test_version_follows_the_text_only(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    for folder in (first, second):
        folder.mkdir()
        shutil.copy(CORPUS["plan-2020-04"], folder / "plan.txt")
    (second / "plan.txt").write_text(raw_text("plan-2020-04").replace("\n", "\r\n"), encoding="utf-8")
    same = [prepare_document(folder / "plan.txt").version for folder in (first, second)]
    assert same[0] == same[1]
    (second / "plan.txt").write_text(raw_text("plan-2020-04").replace("不少于５０００元", "不少于６０００元"), encoding="utf-8")
    assert prepare_document(second / "plan.txt").version != same[0]


def test_a_linked_sidecar_is_not_followed(tmp_path):
    shutil.copy(CORPUS["plan-2020-04"], tmp_path / "plan.txt")
    (tmp_path / "elsewhere.yaml").write_text("title: 不应读取\n", encoding="utf-8")
    (tmp_path / "plan.yaml").symlink_to(tmp_path / "elsewhere.yaml")
    assert prepare_document(tmp_path / "plan.txt").meta.title != "不应读取"
