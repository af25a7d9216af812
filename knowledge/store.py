"""The knowledge base on disk: immutable generations and an atomically switched pointer.

    $ZHIBU_HOME/kb/active.json            → {"generation": "g…"}   (replaced with os.replace)
    $ZHIBU_HOME/kb/generations/g…/        manifest.json, passages.jsonl, chroma/ (embedded mode)

An ingest builds a complete new generation next to the serving one, reusing the vectors of
unchanged passages, and only then moves the pointer. A failed or killed ingest therefore leaves
the previous generation serving; readers notice a moved pointer and reopen.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from zhibu.errors import BadInput

ProgressFn = Callable[[int, int], None]
_KEEP_OLD_GENERATIONS = 1  # the previous one stays for readers that have not reopened yet


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
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


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

    def active_name(self) -> str | None:
        try:
            return json.loads(self.pointer.read_text(encoding="utf-8"))["generation"]
        except FileNotFoundError:
            return None

    def active(self) -> Generation | None:
        name = self.active_name()
        return Generation.load(self.root, name) if name else None

    def vectors_of(self, generation: Generation):
        return self._vectors_named(generation.name)

    def _vectors_named(self, name: str):
        from knowledge.vectors import VectorCollection

        folder = self.root / "generations" / name / "chroma"
        return VectorCollection(f"zhibu_{name}", None if self.chroma_host else folder, self.chroma_host, self.chroma_port)

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
            if not report.changed and current is not None:
                return report
            report.generation = self._build(current, documents, origins or {}, report, embeddings, space, progress)
            self._collect_garbage()
            return report

    def _build(self, current, documents, origins, report, embeddings, space, progress) -> str:
        name = time.strftime("g%Y%m%d%H%M%S") + uuid.uuid4().hex[:6]
        folder = self.root / "generations" / name
        folder.mkdir()
        keep = set(report.unchanged)
        kept_docs = {doc_id: meta for doc_id, meta in (current.documents.items() if current else []) if doc_id in keep}
        incoming = [doc for doc in documents if doc.meta.doc_id not in keep]
        passages = [p for p in (current.passages if current else []) if p.doc_id in keep]
        passages += [_passage(doc, chunk) for doc in incoming for chunk in doc.chunks]
        manifest_docs = {**kept_docs, **{doc.meta.doc_id: _doc_entry(doc, origins.get(doc.meta.doc_id, "user")) for doc in incoming}}
        if embeddings is not None:
            reused = self.vectors_of(current).vectors([p.chunk_id for p in passages if p.doc_id in keep]) if current and current.embedding == space else {}
            todo = [p for p in passages if p.chunk_id not in reused]
            fresh = _embed(embeddings, todo, progress)
            vectors = self._vectors_named(name)
            ids = [p.chunk_id for p in passages]
            vectors.add(ids, [reused.get(i) or fresh[i] for i in ids])
            report.embedded, report.reused = len(todo), len(reused)
        _write_atomic(folder / "passages.jsonl", "".join(json.dumps(asdict(p), ensure_ascii=False) + "\n" for p in passages))
        _write_json_atomic(folder / "manifest.json", {"embedding": space, "created": time.time(), "documents": manifest_docs})
        _write_json_atomic(self.pointer, {"generation": name})
        return name

    # ---- rolling back (the staff console) --------------------------------------------------
    def generation_names(self) -> list[str]:
        """Complete generations on disk, oldest first (the active one and the one it replaced)."""
        folder = self.root / "generations"
        return sorted(p.name for p in folder.iterdir() if (p / "manifest.json").is_file())

    def previous_name(self) -> str | None:
        """The generation the active one replaced, while it is still kept."""
        active = self.active_name()
        older = [name for name in self.generation_names() if active and name < active]
        return older[-1] if older else None

    def roll_back(self) -> str:
        """Serve the previous generation again. The newer one is dropped at once: left on disk it would
        pass for the "previous" one after the next ingest. Readers reopen on the pointer's change."""
        with self._lock():
            previous = self.previous_name()
            if previous is None:
                raise BadInput("没有可以回滚的上一版本（每次只保留上一版本）。")
            _write_json_atomic(self.pointer, {"generation": previous})
            self._collect_garbage()
            return previous

    def _collect_garbage(self) -> None:
        """Drop generations older than the active one and its predecessor, and unfinished ones."""
        active = self.active_name()
        names = sorted(p.name for p in (self.root / "generations").iterdir() if p.is_dir())
        if active not in names:
            return
        position = names.index(active)
        # Newer than the active one means abandoned by a killed ingest: we hold the lock.
        doomed = names[: max(0, position - _KEEP_OLD_GENERATIONS)] + names[position + 1 :]
        for name in doomed:
            if self.chroma_host:
                try:
                    self._vectors_named(name).drop()
                except Exception:  # the collection may never have been created
                    pass
            shutil.rmtree(self.root / "generations" / name, ignore_errors=True)


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
