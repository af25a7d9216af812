"""What a cold `zhibu ask` no longer does: tokenise every passage (tokens and BM25 index are saved with
the generation at ingest) or load jieba's whole dictionary (a SQLite lexicon). Both must give exactly
what the slow path gives."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import knowledge.retriever as retriever
from knowledge.retriever import HybridSearch, KeywordIndex
from knowledge.store import KnowledgeBase
from tests.conftest import run_zhibu

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = ["最强党支部多长时间评定一次？", "党员评议优秀比例要达到多少？", "嘎查村党组织书记每年培训多少学时？"]


@pytest.fixture(scope="module")
def keyword_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("kb") / "home"
    result = run_zhibu("ingest", home=home, env={"ZHIBU_EMBEDDING": "none"})
    assert result.returncode == 0, result.stderr
    return home


def test_a_generation_carries_its_tokens_and_keyword_index(keyword_home, monkeypatch):
    generation = KnowledgeBase(keyword_home).active()
    assert (generation.folder / KeywordIndex.TOKENS).is_file() and (generation.folder / KeywordIndex.FOLDER).is_dir()
    saved = HybridSearch(generation)
    monkeypatch.setattr(retriever, "passage_tokens", lambda passages: pytest.fail("passages tokenised again"))
    loaded = HybridSearch(generation)
    monkeypatch.undo()
    rebuilt_tokens = retriever.passage_tokens(generation.passages)
    rebuilt = KeywordIndex.build(rebuilt_tokens)
    for question in QUESTIONS:
        query = retriever.expand_query(question)
        assert loaded._bm25.get_scores(query) == rebuilt.get_scores(query)
        assert [hit.passage.chunk_id for hit in loaded.search(question)] == [hit.passage.chunk_id for hit in saved.search(question)]


def test_tokens_of_another_tokenizer_are_remade_in_memory_not_written(keyword_home, tmp_path):
    home = tmp_path / "home"
    subprocess.run(["cp", "-a", str(keyword_home), str(home)], check=True)
    generation = KnowledgeBase(home).active()
    tokens_file = generation.folder / KeywordIndex.TOKENS
    payload = json.loads(tokens_file.read_text(encoding="utf-8"))
    stale = {"tokenizer": "older", "tokens": [["党支部"]] * len(payload["tokens"])}
    tokens_file.write_text(json.dumps(stale), encoding="utf-8")
    before = tokens_file.read_bytes()
    tokens, _ = retriever.load_keyword_index(generation)
    assert tokens == payload["tokens"] and tokens_file.read_bytes() == before
    assert not generation.has_keyword_index  # so the next ingest builds a generation with fresh tokens
    result = run_zhibu("ingest", "--json", home=home, env={"ZHIBU_EMBEDDING": "none"})
    assert result.returncode == 0 and json.loads(result.stdout)["generation"] is not None
    assert KnowledgeBase(home).active().has_keyword_index


_TOKENS_OF = """
import json, sys
from pathlib import Path
import knowledge.text as text
if sys.argv[1] != "-":
    text.keep_dictionary_cache_in(Path(sys.argv[1]))
lines = [l for p in sorted(Path("knowledge/corpus").glob("*.txt")) for l in p.read_text(encoding="utf-8").splitlines() if l.strip()]
questions = json.loads(sys.argv[2])
print(json.dumps([[text.tokenize(l) for l in lines + questions], [text.key_terms(q) for q in questions],
                  [text.expand_query(q) for q in questions]], ensure_ascii=False))
"""


def test_the_lexicon_gives_jiebas_own_tokens_and_tags(tmp_path):
    """Tokens (search mode), posseg key terms and expansions: jieba as it comes, the run that makes the
    lexicon, and a run that only looks words up in it."""
    def tokens(cache: str) -> str:
        return subprocess.run([sys.executable, "-c", _TOKENS_OF, cache, json.dumps(QUESTIONS)], cwd=ROOT,
                              capture_output=True, text=True, check=True).stdout

    plain = tokens("-")
    assert tokens(str(tmp_path)) == plain
    assert list(tmp_path.glob("jieba-*.sqlite3"))
    assert tokens(str(tmp_path)) == plain
