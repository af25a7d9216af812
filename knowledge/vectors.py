"""The dense side of a generation: Chroma, where it is built, and a read-only export, where it is read.

An ingest writes each generation's vectors into Chroma — an embedded `PersistentClient` in the
generation's folder by default, a Chroma server via `HttpClient` when `ZHIBU_CHROMA_HOST` is set (one
collection per generation) — and exports the same vectors as `vectors.npy` beside `passages.jsonl`.

Readers in embedded mode query the export, never Chroma: Chroma 1.5's embedded client opens
`chroma.sqlite3` read-write and runs a write transaction (journal, fsync) before it serves a query,
with no read-only mode (`chromadb/api/rust.py` always passes the store to the Rust bindings as a
writable SQLite URL; the migrations "validate" mode changes nothing). Measured: on a full disk
`PersistentClient(path)` fails with "database or disk is full", and every open rewrote the HNSW files
with O_TRUNC. The export is read whole into memory and its file closed, so a reader holds no file
handle (deleted generations free their disk), writes nothing, and `ask` does not import chromadb.
Search over the export is exact cosine similarity; ties keep the passages' order.
Readers in server mode query the server, through one client per process.

Never Chroma's default embedding function (it downloads a model): vectors come from our own backend.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

_BATCH = 256
EXPORT_NAME = "vectors.npy"


def chroma_settings():
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


def chroma_server(host: str, port: int):
    import chromadb

    return chromadb.HttpClient(host=host, port=port, settings=chroma_settings())


class ChromaCollection:
    """One generation's collection in Chroma: written by the ingest, read by server-mode readers."""

    def __init__(self, name: str, client, owns_client: bool, create: bool) -> None:
        self.name = name
        self._client, self._owns_client = client, owns_client
        if create:
            self._collection = client.get_or_create_collection(name, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None)
        else:
            self._collection = client.get_collection(name, embedding_function=None)

    @classmethod
    def embedded(cls, name: str, folder: Path) -> "ChromaCollection":
        """A collection in its own embedded store; `close()` releases the store's files."""
        import chromadb

        folder.mkdir(parents=True, exist_ok=True)
        return cls(name, chromadb.PersistentClient(path=str(folder), settings=chroma_settings()), owns_client=True, create=True)

    def add(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        for start in range(0, len(ids), _BATCH):
            self._collection.add(ids=list(ids[start : start + _BATCH]), embeddings=vectors[start : start + _BATCH])

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        if not ids:
            return {}
        found = self._collection.get(ids=list(ids), include=["embeddings"])
        return {chunk_id: np.asarray(vector, dtype=np.float32) for chunk_id, vector in zip(found["ids"], found["embeddings"])}

    def count(self) -> int:
        return self._collection.count()

    def query(self, vector: Sequence[float], n: int, size: int) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity), best first; `size` is the collection's known size."""
        n = min(n, size)
        if n == 0:
            return []
        found = self._collection.query(query_embeddings=[list(vector)], n_results=n, include=["distances"])
        return [(chunk_id, 1.0 - distance) for chunk_id, distance in zip(found["ids"][0], found["distances"][0])]

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> "ChromaCollection":
        return self

    def __exit__(self, *_) -> None:
        self.close()


class ExportedVectors:
    """A generation's vectors read whole from its export: exact cosine search, no file kept open.

    Held as unit vectors (cosine only needs directions; a reused vector is stored normalised)."""

    def __init__(self, ids: Sequence[str], matrix: np.ndarray) -> None:
        self._ids = list(ids)
        self._row = {chunk_id: row for row, chunk_id in enumerate(self._ids)}
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        self._unit = (matrix / np.where(norms == 0, 1, norms)).astype(np.float32)

    @classmethod
    def load(cls, folder: Path, ids: Sequence[str]) -> "ExportedVectors":
        matrix = np.load(folder / EXPORT_NAME, allow_pickle=False)
        if matrix.shape[0] != len(ids):
            raise ValueError(f"{folder / EXPORT_NAME} holds {matrix.shape[0]} vectors for {len(ids)} passages")
        return cls(ids, matrix)

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        return {chunk_id: self._unit[self._row[chunk_id]] for chunk_id in ids if chunk_id in self._row}

    def count(self) -> int:
        return len(self._ids)

    def query(self, vector: Sequence[float], n: int, size: int) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity), best first; equal scores in passage order."""
        query = np.asarray(vector, dtype=np.float32)
        query = query / (np.linalg.norm(query) or 1.0)
        scores = self._unit @ query
        best = np.argsort(-scores, kind="stable")[: min(n, size, len(self._ids))]
        return [(self._ids[row], float(scores[row])) for row in best]


def write_export(folder: Path, matrix: np.ndarray) -> None:
    """`vectors.npy`, flushed to disk before it gets its name (a reader sees all of it or nothing)."""
    target = folder / EXPORT_NAME
    partial = folder / f".{EXPORT_NAME}.partial"
    with open(partial, "wb") as handle:
        np.save(handle, np.ascontiguousarray(matrix, dtype=np.float32), allow_pickle=False)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, target)
