"""Hybrid retrieval: BM25 over jieba tokens fused with dense similarity by reciprocal rank fusion.

`HybridSearch` does the work on one generation and returns langchain `Document`s via
`hit_to_document`; `knowledge.langchain_retriever.PolicyRetriever` is its `BaseRetriever` face.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.clean import normalize_for_match
from knowledge.store import Generation, Passage
from knowledge.text import expand_query, tokenize, tokenizer_fingerprint

if TYPE_CHECKING:
    from langchain_core.documents import Document

log = logging.getLogger(__name__)

# Measured by a sweep on the dev set plus our own questions (`zhibu eval-qa`; README, Q&A quality).
# Keyword matching is the stronger signal on these texts (e5 similarities are compressed into
# 0.84–0.95); dense ranks break ties and catch paraphrases.
RRF_K = 10
KEYWORD_WEIGHT = 1.0
DENSE_WEIGHT = 0.5
CANDIDATES = 30
SECTION_WEIGHT = 0.5  # a section headed by the question's domain: enough to be a candidate, not to lead


class KeywordIndex:
    """BM25 as Lucene scores it (bm25s's "lucene" method; Kamphuis et al. 2020), k1 1.5, b 0.75.

    Built at ingest over the passages' tokens and saved with the generation (`keyword/`, bm25s's own
    format, beside `tokens.json`); a reader loads both instead of tokenising every passage with jieba
    again (1.7 s of a cold `zhibu ask` before). bm25s (with scipy.sparse) is imported when needed.
    """

    K1, B = 1.5, 0.75
    FOLDER, TOKENS = "keyword", "tokens.json"

    def __init__(self, bm25, size: int) -> None:
        self._bm25, self.size = bm25, size

    @classmethod
    def build(cls, documents: list[list[str]]) -> "KeywordIndex":
        import bm25s

        bm25 = bm25s.BM25(method="lucene", k1=cls.K1, b=cls.B)
        if documents:
            bm25.index(documents, show_progress=False)
        return cls(bm25, len(documents))

    @classmethod
    def load(cls, folder: Path, size: int) -> "KeywordIndex":
        import bm25s

        return cls(bm25s.BM25.load(str(folder / cls.FOLDER)), size)

    def save(self, folder: Path) -> None:
        if self.size:
            self._bm25.save(str(folder / self.FOLDER))

    def get_scores(self, query: list[str]) -> list[float]:
        """One score per passage; a repeated query word counts again, a word no passage holds adds nothing."""
        known = self._bm25.get_tokens_ids(query) if self.size else []
        if not known:
            return [0.0] * self.size
        return [float(score) for score in self._bm25.get_scores_from_ids(known)]


def passage_tokens(passages: list[Passage]) -> list[list[str]]:
    return [tokenize(f"{p.section}\n{p.text}") for p in passages]


def save_keyword_index(folder: Path, passages: list[Passage]) -> None:
    """At ingest: the passages' tokens and their BM25 index, beside the passages (the writer's side)."""
    tokens = passage_tokens(passages)
    KeywordIndex.build(tokens).save(folder)
    payload = {"tokenizer": tokenizer_fingerprint(), "tokens": tokens}
    (folder / KeywordIndex.TOKENS).write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")


def has_keyword_index(folder: Path, passages: int) -> bool:
    """Whether `folder` holds tokens made by today's tokenizer (and, for passages, their index)."""
    return _saved_tokens(folder) is not None and (not passages or (folder / KeywordIndex.FOLDER).is_dir())


def _saved_tokens(folder: Path) -> list[list[str]] | None:
    try:
        payload = json.loads((folder / KeywordIndex.TOKENS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    fresh = isinstance(payload, dict) and payload.get("tokenizer") == tokenizer_fingerprint()
    return payload.get("tokens") if fresh else None


def load_keyword_index(generation: Generation) -> tuple[list[list[str]], KeywordIndex]:
    """The saved tokens and index; made in memory when absent or stale (a generation built by an older
    version, or a vocabulary changed since): the next ingest saves them."""
    size = len(generation.passages)
    tokens = _saved_tokens(generation.folder)
    if tokens is not None and len(tokens) == size:
        try:
            return tokens, KeywordIndex.load(generation.folder, size) if size else KeywordIndex.build([])
        except (OSError, ValueError, KeyError) as error:
            log.warning("keyword index of %s unreadable (%s): rebuilt in memory", generation.name, error)
    else:
        log.info("generation %s has no keyword index for this tokenizer: tokenising its passages", generation.name)
    tokens = passage_tokens(generation.passages)
    return tokens, KeywordIndex.build(tokens)


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float  # fused RRF score, comparable within one query
    keyword: float  # BM25 score
    dense: float | None  # cosine similarity; 0 outside the dense candidates; None when keyword-only
    coverage: float  # IDF-weighted share of the question's words found in the passage


class HybridSearch:
    def __init__(self, generation: Generation, vectors=None, embeddings=None) -> None:
        self.generation = generation
        self.passages = generation.passages
        self._vectors = vectors
        # Embedding the question is most of a warm query's time, and chats repeat questions.
        self._query_vector = lru_cache(maxsize=1024)(embeddings.embed_query) if embeddings else None
        tokens, self._bm25 = load_keyword_index(generation)
        document_frequency = Counter(token for t in tokens for token in set(t))
        total = max(1, len(self.passages))
        self._idf = {token: math.log(1 + total / df) for token, df in document_frequency.items()}
        # A word the texts never use (often colloquial) weighs like a typical word, not the rarest.
        self._unseen_idf = sorted(self._idf.values())[len(self._idf) // 2] if self._idf else 1.0
        self._token_sets = [set(t) for t in tokens]
        self.words = frozenset(token for t in tokens for token in t)  # every token of the texts (and headings)
        self._texts = [normalize_for_match(p.text) for p in self.passages]
        self._position = {p.chunk_id: i for i, p in enumerate(self.passages)}
        self._passage_counts: dict[str, int] = {}
        self._sections = [normalize_for_match(p.section) for p in self.passages]
        # What the texts speak of at all: a question naming a year or body outside them is not covered.
        self.corpus_text = "\n".join(self._texts)
        self.corpus_years = frozenset(int(y) for y in re.findall(r"(20\d{2})年", self.corpus_text))

    def idf(self, word: str) -> float:
        return self._idf.get(word, self._unseen_idf)

    def passages_with(self, word: str) -> int:
        """How many passages contain `word` (as text, not as a token)."""
        if word not in self._passage_counts:
            folded = normalize_for_match(word)
            self._passage_counts[word] = sum(folded in text for text in self._texts)
        return self._passage_counts[word]

    def _coverage(self, words: list[str], index: int) -> float:
        # dict.fromkeys, not set: float sums in a fixed order give the same ties under any hash seed.
        weights = {w: self.idf(w) for w in dict.fromkeys(words)}
        total = sum(weights.values())
        return sum(weight for w, weight in weights.items() if w in self._token_sets[index]) / total if total else 0.0

    def _distinct(self, ranked: list[int], k: int) -> list[int]:
        """The first k passages whose text is not already contained in (or containing) a better one:
        the same clause uploaded twice, or quoted whole in another document, is cited once."""
        chosen: list[int] = []
        for index in ranked:
            text = self._texts[index]
            if not any(text in self._texts[c] or self._texts[c] in text for c in chosen):
                chosen.append(index)
                if len(chosen) == k:
                    break
        return chosen

    def search(self, question: str, k: int = 5, boost: tuple[str, ...] = (), sections: tuple[str, ...] = ()) -> list[Hit]:
        """The k best passages; `boost` adds words (the user's branch domain) to the keyword query only,
        `sections`: names (a branch domain's) whose sections rank as a best keyword match would, so that
        domain's own clauses ("二、社区党支部") are among the candidates. Coverage is judged on the question."""
        if not self.passages:
            return []
        keyword_scores = self._bm25.get_scores(expand_query(question) + [t for word in boost for t in tokenize(word)])
        keyword_rank = sorted(range(len(self.passages)), key=lambda i: (-keyword_scores[i], i))[:CANDIDATES]
        fused: dict[int, float] = {}
        for rank, index in enumerate(keyword_rank):
            if keyword_scores[index] > 0:
                fused[index] = KEYWORD_WEIGHT / (RRF_K + rank + 1)
        dense_scores: dict[int, float] = {}
        if self._vectors is not None and self._query_vector is not None:
            nearest = self._vectors.query(self._query_vector(question), CANDIDATES, len(self.passages))
            for rank, (chunk_id, similarity) in enumerate(nearest):
                index = self._position[chunk_id]
                dense_scores[index] = similarity
                fused[index] = fused.get(index, 0.0) + DENSE_WEIGHT / (RRF_K + rank + 1)
        for index, section in enumerate(self._sections):
            if any(name in section for name in sections):
                fused[index] = fused.get(index, 0.0) + SECTION_WEIGHT / (RRF_K + 1)
        words = tokenize(question)
        missing_dense = 0.0 if self._query_vector else None
        best = self._distinct(sorted(fused, key=lambda i: (-fused[i], i)), k)
        return [
            Hit(self.passages[i], fused[i], float(keyword_scores[i]), dense_scores.get(i, missing_dense), self._coverage(words, i))
            for i in best
        ]


def hit_to_document(hit: Hit) -> "Document":
    from langchain_core.documents import Document  # only the langchain face needs it (0.27 s to import)

    p = hit.passage
    return Document(
        id=p.chunk_id,
        page_content=p.text,
        metadata={
            "chunk_id": p.chunk_id,
            "doc_id": p.doc_id,
            "document": p.document,
            "short_title": p.short_title,
            "doc_number": p.doc_number,
            "section": p.section,
            "score": hit.score,
            "keyword": hit.keyword,
            "dense": hit.dense,
            "coverage": hit.coverage,
        },
    )
