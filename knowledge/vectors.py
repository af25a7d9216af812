"""Chroma behind one small class: one collection per knowledge-base generation.

Embedded `PersistentClient` by default (one folder per generation); a Chroma server via `HttpClient`
when `ZHIBU_CHROMA_HOST` is set (one collection name per generation). Never Chroma's default
embedding function (it downloads a model): vectors always come from our own backend.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

_BATCH = 256


def _client(path: Path | None, host: str | None, port: int):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if host:
        return chromadb.HttpClient(host=host, port=port, settings=chroma_settings)
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


class VectorCollection:
    """The dense side of one generation: ids, vectors and the metadata needed to cite them."""

    def __init__(self, name: str, path: Path | None, host: str | None = None, port: int = 8000) -> None:
        self.name = name
        self._client = _client(path, host, port)
        self._collection = self._client.get_or_create_collection(
            name, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
        )

    def add(self, ids: Sequence[str], vectors: Sequence[Sequence[float]]) -> None:
        for start in range(0, len(ids), _BATCH):
            self._collection.add(ids=list(ids[start : start + _BATCH]), embeddings=list(vectors[start : start + _BATCH]))

    def vectors(self, ids: Sequence[str]) -> dict[str, list[float]]:
        if not ids:
            return {}
        found = self._collection.get(ids=list(ids), include=["embeddings"])
        return {chunk_id: list(map(float, vector)) for chunk_id, vector in zip(found["ids"], found["embeddings"])}

    def count(self) -> int:
        return self._collection.count()

    def query(self, vector: Sequence[float], n: int, size: int) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity), best first; `size` is the collection's known size."""
        n = min(n, size)
        if n == 0:
            return []
        found = self._collection.query(query_embeddings=[list(vector)], n_results=n, include=["distances"])
        return [(chunk_id, 1.0 - distance) for chunk_id, distance in zip(found["ids"][0], found["distances"][0])]

    def drop(self) -> None:
        self._client.delete_collection(self.name)
