"""The knowledge base on disk: immutable generations and an atomically switched pointer.

    $ZHIBU_HOME/kb/active.json            → {"generation": "g…", "history": ["g…", …]}   (os.replace)
    $ZHIBU_HOME/kb/generations/g…/        manifest.json, passages.jsonl, vectors.npy, chroma/ (embedded)

An ingest builds a complete new generation next to the serving one, reusing the vectors of
unchanged passages, and only then moves the pointer. A failed or killed ingest therefore leaves
the previous generation serving; readers notice a moved pointer and reopen. Readers only read
(`knowledge.vectors` says why they never open Chroma's embedded store); writers hold a file lock.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import re
import shutil
import time
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Callable, Iterator

from zhibu.errors import BadInput

log = logging.getLogger(__name__)
ProgressFn = Callable[[int, int], None]
_KEEP_OLD_GENERATIONS = 1  # the previous serving one stays for readers that have not reopened yet
_HISTORY = 5  # previous serving generations remembered in active.json, newest first
DISK_FULL = "磁盘空间不足，知识库未更新，仍使用原来的内容；本次写入的文件已清理。请腾出磁盘空间后重试。(no space left on device)"


@dataclass(frozen=True)
class Passage:
    """One stored chunk with everything needed to cite it."""

    chunk_id: str
    doc_id: str
    document: str
    short_title: str
    doc_number: str
    section: str
    text: str
    ordinal: int

    @property
    def heading(self) -> str:
        return f"{self.short_title} > {self.section}" if self.section else self.short_title


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    embedded: int = 0
    reused: int = 0
    generation: str | None = None

    @property
    def changed(self) -> bool:
        return bool(self.added or self.replaced or self.removed)

    def to_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        parts = [("新增", self.added), ("替换", self.replaced), ("删除", self.removed), ("未变", self.unchanged)]
        summary = "；".join(f"{label} {len(ids)} 篇" + (f"（{'、'.join(ids)}）" if ids and label != "未变" else "") for label, ids in parts)
        return f"知识库已更新：{summary}。" if self.changed else f"知识库无变化：{summary}。"


def _write_atomic(path: Path, text: str) -> None:
    """Write, flush to disk, then rename: a reader sees the old file or the whole new one."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _write_json_atomic(path: Path, payload: dict) -> None:
    _write_atomic(path, json.dumps(payload, ensure_ascii=False, indent=1))


class Generation:
    """One immutable, complete knowledge base: manifest, passages and (optionally) vectors."""

    def __init__(self, root: Path, name: str, manifest: dict, passages: list[Passage]) -> None:
        self.root, self.name, self.manifest, self.passages = root, name, manifest, passages
        self.by_id = {p.chunk_id: p for p in passages}

    @classmethod
    def load(cls, root: Path, name: str) -> "Generation":
        folder = root / "generations" / name
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        with open(folder / "passages.jsonl", encoding="utf-8") as lines:
            passages = [Passage(**row) for row in map(json.loads, lines)]
        return cls(root, name, manifest, passages)

    @property
    def folder(self) -> Path:
        return self.root / "generations" / self.name

    @property
    def has_export(self) -> bool:
        from knowledge.vectors import EXPORT_NAME

        return (self.folder / EXPORT_NAME).is_file()

    @property
    def has_keyword_index(self) -> bool:
        """Saved passage tokens of today's tokenizer (older versions did not save them; a changed
        vocabulary makes them stale): the next ingest builds a generation with them."""
        from knowledge.retriever import has_keyword_index

        return has_keyword_index(self.folder, len(self.passages))

    @property
    def documents(self) -> dict[str, dict]:
        return self.manifest["documents"]

    @property
    def embedding(self) -> str:
        return self.manifest["embedding"]


class KnowledgeBase:
    """Reads the active generation and builds new ones. Safe across processes (flock on ingest)."""

    def __init__(self, home: Path, chroma_host: str | None = None, chroma_port: int = 8000) -> None:
        self.root = home / "kb"
        self.chroma_host, self.chroma_port = chroma_host, chroma_port
        (self.root / "generations").mkdir(parents=True, exist_ok=True)

    # ---- reading -------------------------------------------------------------------------
    @property
    def pointer(self) -> Path:
        return self.root / "active.json"

    def _pointer_state(self) -> dict:
        """{"generation": name or None, "history": [names]} as the pointer says, every name checked;
        a pointer that is garbage, empty, not an object, or names a path (`../../etc`) reads as empty."""
        try:
            state = json.loads(self.pointer.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"generation": None, "history": []}
        except (OSError, ValueError):  # unreadable, not UTF-8, not JSON
            state = None
        if not isinstance(state, dict):
            state = {}
        history = state.get("history")
        return {"generation": _valid_name(state.get("generation")),
                "history": [name for name in history if _valid_name(name)] if isinstance(history, list) else []}

    def active_name(self) -> str | None:
        """The serving generation: the pointer's, or — when the pointer is damaged or names a generation
        that is not on disk complete — the newest complete one (logged once per damaged pointer)."""
        named = self._pointer_state()["generation"]
        if named is not None and self._is_complete(named):
            return named
        complete = self.generation_names()
        if not complete:
            return None
        self._log_fallback(complete[-1])
        return complete[-1]

    def _is_complete(self, name: str) -> bool:
        """The manifest is written last: a generation with one is whole."""
        return (self.root / "generations" / name / "manifest.json").is_file()

    def _log_fallback(self, name: str) -> None:
        try:
            seen = self.pointer.read_bytes()[:200]
        except OSError as error:
            seen = repr(error).encode()
        if _reported_pointers.get(self.root) != seen:
            _reported_pointers[self.root] = seen
            log.warning("知识库指针 kb/active.json 已损坏或指向不存在的版本（%r），改用最新的完整版本 %s 继续回答；"
                        "下次导入知识库时会重写指针。", seen[:80], name)

    def active(self) -> Generation | None:
        name = self.active_name()
        return Generation.load(self.root, name) if name else None

    @cached_property
    def _server(self):
        """One client per process for the Chroma server (unused in embedded mode)."""
        from knowledge.vectors import chroma_server

        return chroma_server(self.chroma_host, self.chroma_port)

    def vectors_of(self, generation: Generation):
        """The generation's vectors for searching: the server's collection, else the export in memory."""
        from knowledge.vectors import ChromaCollection, ExportedVectors

        if self.chroma_host:
            return ChromaCollection(_collection_name(generation.name), self._server, owns_client=False, create=False)
        if not generation.has_export:  # built before exports existed: the next ingest adds one
            return ChromaCollection.embedded(_collection_name(generation.name), generation.folder / "chroma")
        return ExportedVectors.load(generation.folder, [p.chunk_id for p in generation.passages])

    def _chroma_for_writing(self, name: str):
        from knowledge.vectors import ChromaCollection

        if self.chroma_host:
            return ChromaCollection(_collection_name(name), self._server, owns_client=False, create=True)
        return ChromaCollection.embedded(_collection_name(name), self.root / "generations" / name / "chroma")

    def _stored_vectors(self, generation: Generation, ids: list[str]) -> dict:
        from knowledge.vectors import ExportedVectors

        if generation.has_export:
            return ExportedVectors.load(generation.folder, [p.chunk_id for p in generation.passages]).vectors(ids)
        with self._chroma_for_writing(generation.name) as stored:
            return stored.vectors(ids)

    # ---- writing -------------------------------------------------------------------------
    @contextmanager
    def _lock(self) -> Iterator[None]:
        with open(self.root / "ingest.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def sync(
        self,
        documents: list,
        *,
        origins: dict[str, str] | None = None,
        remove: list[str] = (),
        prune_origin: str | None = None,
        embeddings=None,
        progress: ProgressFn | None = None,
    ) -> IngestReport:
        """Make the knowledge base hold `documents` (PreparedDocument), minus `remove`.

        `origins` maps doc ids to "shipped" (the corpus in the package) or "user" (the default).
        `prune_origin`: documents of that origin ("shipped") absent from `documents` are removed too,
        so a corpus that dropped a file is mirrored. Unchanged documents keep their vectors.
        """
        from knowledge.embeddings import embedding_id

        with self._lock():
            current = self.active()
            known = current.documents if current else {}
            space = embedding_id(embeddings)
            report = _diff(known, documents, remove, prune_origin, same_space=current is not None and current.embedding == space)
            lacks_export = current is not None and embeddings is not None and not current.has_export
            if not report.changed and current is not None and not lacks_export and current.has_keyword_index:
                self._collect_garbage()  # what a killed ingest left behind
                return report
            name = time.strftime("g%Y%m%d%H%M%S") + uuid.uuid4().hex[:6]
            try:
                self._build(name, current, documents, origins or {}, report, embeddings, space, progress)
            except BaseException as error:
                self._sweep(name)
                log.warning("ingest failed (%s); swept the unfinished generation %s", type(error).__name__, name)
                if _is_disk_full(error):
                    raise BadInput(DISK_FULL) from error
                raise
            report.generation = name
            self._collect_garbage()
            return report

    def _build(self, name, current, documents, origins, report, embeddings, space, progress) -> None:
        from knowledge.retriever import save_keyword_index

        folder = self.root / "generations" / name
        folder.mkdir()
        keep = set(report.unchanged)
        kept_docs = {doc_id: meta for doc_id, meta in (current.documents.items() if current else []) if doc_id in keep}
        incoming = [doc for doc in documents if doc.meta.doc_id not in keep]
        passages = [p for p in (current.passages if current else []) if p.doc_id in keep]
        passages += [_passage(doc, chunk) for doc in incoming for chunk in doc.chunks]
        manifest_docs = {**kept_docs, **{doc.meta.doc_id: _doc_entry(doc, origins.get(doc.meta.doc_id, "user")) for doc in incoming}}
        if embeddings is not None:
            same_space = current is not None and current.embedding == space
            reused = self._stored_vectors(current, [p.chunk_id for p in passages if p.doc_id in keep]) if same_space else {}
            todo = [p for p in passages if p.chunk_id not in reused]
            fresh = _embed(embeddings, todo, progress)
            self._store_vectors(name, folder, [p.chunk_id for p in passages], {**reused, **fresh})
            report.embedded, report.reused = len(todo), len(reused)
        _write_atomic(folder / "passages.jsonl", "".join(json.dumps(asdict(p), ensure_ascii=False) + "\n" for p in passages))
        save_keyword_index(folder, passages)  # readers load it instead of tokenising every passage
        _write_json_atomic(folder / "manifest.json", {"embedding": space, "created": time.time(), "documents": manifest_docs})
        # The generation this one replaces is the one that was serving (the fallback, if the pointer was damaged).
        history = [current.name, *self._pointer_state()["history"]] if current else []
        _write_json_atomic(self.pointer, {"generation": name, "history": list(dict.fromkeys(history))[:_HISTORY]})

    def _store_vectors(self, name: str, folder: Path, ids: list[str], by_id: dict) -> None:
        """Into Chroma (closed again: no handle outlives the ingest), then the read-only export."""
        import numpy as np

        from knowledge.vectors import write_export

        matrix = np.array([by_id[chunk_id] for chunk_id in ids], dtype=np.float32)
        with self._chroma_for_writing(name) as collection:
            collection.add(ids, matrix)
        write_export(folder, matrix)

    def _sweep(self, name: str) -> None:
        """Remove what a failed build wrote; never fails itself (the build's error is the news)."""
        if self.chroma_host:
            try:
                self._server.delete_collection(_collection_name(name))
            except Exception:  # the collection may never have been created
                pass
        shutil.rmtree(self.root / "generations" / name, ignore_errors=True)

    # ---- rolling back (the staff console) --------------------------------------------------
    def generation_names(self) -> list[str]:
        """Complete generations on disk, oldest first (the active one and the one it replaced)."""
        folder = self.root / "generations"
        return sorted(p.name for p in folder.iterdir() if _valid_name(p.name) and self._is_complete(p.name))

    def previous_name(self) -> str | None:
        """The generation the active one replaced (by the pointer's history), while it is still on disk."""
        history = self._pointer_state()["history"]
        return next((name for name in history[:1] if name in self.generation_names()), None)

    def roll_back(self) -> str:
        """Serve the previous generation again. The newer one is dropped at once: left on disk it would
        pass for the "previous" one after the next ingest. Readers reopen on the pointer's change."""
        with self._lock():
            previous = self.previous_name()
            if previous is None:
                raise BadInput("没有可以回滚的上一版本（每次只保留上一版本）。")
            history = self._pointer_state()["history"]
            _write_json_atomic(self.pointer, {"generation": previous, "history": history[1:]})
            self._collect_garbage()
            return previous

    def _collect_garbage(self) -> None:
        """Keep the serving generation and the one it replaced (by the pointer's history, not by name
        order: an abandoned build may sort anywhere); sweep the rest. We hold the ingest lock."""
        keep = {self.active_name(), *self._pointer_state()["history"][:_KEEP_OLD_GENERATIONS]}
        for folder in sorted((self.root / "generations").iterdir()):
            if folder.is_dir() and folder.name not in keep:
                self._sweep(folder.name)


# A generation's folder name as an ingest makes it (time + random hex); anything else in the pointer,
# a path above all, is never used.
_GENERATION_NAME = re.compile(r"g\d{14}[0-9a-f]{6}")
_reported_pointers: dict[Path, bytes] = {}  # the damaged pointer last logged, per knowledge base


def _valid_name(name) -> str | None:
    return name if isinstance(name, str) and _GENERATION_NAME.fullmatch(name) else None


def _collection_name(generation: str) -> str:
    return f"zhibu_{generation}"


def _is_disk_full(error: BaseException) -> bool:
    """ENOSPC/EDQUOT from our own writes, or SQLite's wording of it from inside Chroma."""
    for cause in (error, error.__cause__, error.__context__):
        if isinstance(cause, OSError) and cause.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if cause is not None and "disk is full" in str(cause):
            return True
    return False


def _diff(known: dict, documents: list, remove, prune_origin, same_space: bool) -> IngestReport:
    report = IngestReport()
    unknown = [doc_id for doc_id in remove if doc_id not in known]
    if unknown:
        raise BadInput(f"知识库中没有这些文档 (unknown document id): {', '.join(unknown)}")
    incoming = {doc.meta.doc_id: doc for doc in documents if doc.meta.doc_id not in remove}
    for doc_id, doc in incoming.items():
        if doc_id not in known:
            report.added.append(doc_id)
        elif known[doc_id]["version"] != doc.version or not same_space:
            report.replaced.append(doc_id)
        else:
            report.unchanged.append(doc_id)
    for doc_id, entry in known.items():
        if doc_id in incoming:
            continue
        if doc_id in remove or (prune_origin and entry.get("origin") == prune_origin):
            report.removed.append(doc_id)
        elif same_space:
            report.unchanged.append(doc_id)
        else:
            raise BadInput(f"嵌入模型已更换，请一并提供文档 {doc_id} 以重建 (embedding model changed: re-ingest {doc_id})")
    return report


def _doc_entry(doc, origin: str) -> dict:
    meta = doc.meta
    return {
        "title": meta.title,
        "short_title": meta.short_title,
        "doc_number": meta.doc_number,
        "issuer": meta.issuer,
        "date": meta.date,
        "source": str(meta.source),
        "origin": origin,
        "version": doc.version,
        "chunks": len(doc.chunks),
        "ingested_at": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def _passage(doc, chunk) -> Passage:
    meta = doc.meta
    section = " > ".join(chunk.section_path)
    return Passage(
        chunk_id=chunk.chunk_id,
        doc_id=meta.doc_id,
        document=meta.title,
        short_title=meta.short_title,
        doc_number=meta.doc_number,
        section=section,
        text=chunk.text,
        ordinal=chunk.ordinal,
    )


def _embed(embeddings, passages: list[Passage], progress: ProgressFn | None, batch: int = 16) -> dict[str, list[float]]:
    vectors: dict[str, list[float]] = {}
    for start in range(0, len(passages), batch):
        part = passages[start : start + batch]
        for passage, vector in zip(part, embeddings.embed_documents([f"{p.heading}\n{p.text}" for p in part])):
            vectors[passage.chunk_id] = vector
        if progress:
            progress(min(start + batch, len(passages)), len(passages))
    return vectors
