"""What the console reads from and does to the knowledge base, through the knowledge service.

Uploads take the path of `zhibu ingest` (and of the bot's admin upload): the same file-name and size
checks, the same loaders and cleaning, one atomic new generation.
"""

from __future__ import annotations

import logging
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import yaml

from bot.admin import safe_filename
from knowledge import clauses
from knowledge.store import Generation, KnowledgeBase
from zhibu.errors import BadInput
from zhibu.settings import Settings

log = logging.getLogger(__name__)


class Readiness:
    """Whether the knowledge base is open for questions; set once by `warm_up`, read by every page."""

    def __init__(self) -> None:
        self._ready = threading.Event()
        self.failed = False
        self.progress: tuple[int, int] | None = None  # passages indexed so far, of how many (first build)

    def set_ready(self) -> None:
        self._ready.set()

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def as_dict(self) -> dict[str, object]:
        if self.failed:
            return {"ready": False, "message": "知识库建立失败，请查看管理台日志后重新启动。"}
        if self.ready:
            return {"ready": True, "message": "知识库已就绪，可以试问了。"}
        done = f"已处理 {self.progress[0]}/{self.progress[1]} 段，" if self.progress else ""
        return {"ready": False, "message": f"正在建立知识库…（{done}第一次启动需要几分钟，完成后即可试问）"}


def warm_up(settings: Settings, readiness: Readiness) -> None:
    """The knowledge base built or opened at start (`knowledge.warm`), its progress kept for the pages."""
    from knowledge.warm import warm_up as open_knowledge_base

    try:
        open_knowledge_base(settings, on_progress=lambda done, total: setattr(readiness, "progress", (done, total)))
    except Exception:
        readiness.failed = True
        log.exception("knowledge base: could not be opened")
        return
    readiness.set_ready()


def service(settings: Settings):
    from knowledge.service import get_qa_service

    return get_qa_service(settings)


@lru_cache(maxsize=4)
def _generation(home: str, name: str) -> Generation:
    return Generation.load(Path(home) / "kb", name)


def active_generation(settings: Settings) -> Generation | None:
    """The serving generation (read once per generation and process)."""
    name = KnowledgeBase(settings.zhibu_home).active_name()
    return _generation(str(settings.zhibu_home), name) if name else None


def passage_labels(settings: Settings) -> dict[str, tuple[str, str]]:
    """chunk id → (《document》 section, the passage's first words) in the serving generation."""
    generation = active_generation(settings)
    if generation is None:
        return {}
    return {p.chunk_id: (f"《{p.document}》{p.section}", p.text[:80] + ("……" if len(p.text) > 80 else ""))
            for p in generation.passages}


@dataclass(frozen=True)
class GenerationInfo:
    name: str
    created: str  # in the console's time zone
    documents: int
    passages: int
    active: bool
    titles: dict[str, str]  # doc id → title, to name what a change touched


def generations(settings: Settings) -> list[GenerationInfo]:
    kb = KnowledgeBase(settings.zhibu_home)
    active = kb.active_name()
    infos = []
    for name in reversed(kb.generation_names()):
        generation = _generation(str(settings.zhibu_home), name)
        created = datetime.fromtimestamp(generation.manifest["created"], settings.timezone).strftime("%Y-%m-%d %H:%M")
        titles = {doc_id: meta["title"] for doc_id, meta in generation.documents.items()}
        infos.append(GenerationInfo(name, created, len(generation.documents), len(generation.passages), name == active,
                                    titles))
    return infos


def previous_generation(settings: Settings) -> Generation | None:
    """The generation a roll-back would serve."""
    name = KnowledgeBase(settings.zhibu_home).previous_name()
    return _generation(str(settings.zhibu_home), name) if name else None


def check_clause(settings: Settings, doc_id: str, quote: str, generation: Generation | None = None) -> dict[str, str]:
    """The citation of `quote` in document `doc_id` of the knowledge base (the serving generation unless
    another is given); BadInput when it is not there (compared as `zhibu rules check` compares, see
    knowledge.clauses)."""
    found = clauses.locate_clause(generation or active_generation(settings), doc_id, quote, "录入数值")
    return {key: found[key] for key in ("doc_id", "document", "doc_number")}


def write_upload(folder: Path, name: str | None, content: bytes, meta: dict[str, str], max_bytes: int) -> Path:
    """The uploaded file under a name we build, with a sidecar for the metadata staff typed in."""
    filename = safe_filename(name)
    if not content:
        raise BadInput("文件是空的。")
    if len(content) > max_bytes:
        raise BadInput(f"文件太大（{len(content) / 1024 / 1024:.1f} MB），上限是 {max_bytes // 1024 // 1024} MB。")
    path = folder / filename
    path.write_bytes(content)
    given = {key: value.strip() for key, value in meta.items() if value and value.strip()}
    if given:
        path.with_suffix(".yaml").write_text(yaml.safe_dump(given, allow_unicode=True), encoding="utf-8")
    return path


def ingest_upload(settings: Settings, name: str | None, content: bytes, meta: dict[str, str]):
    """Add or replace one document; returns the knowledge service's IngestReport."""
    uploads = settings.zhibu_home / "console" / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=uploads) as folder:
        path = write_upload(Path(folder), name, content, meta, settings.zhibu_max_upload_mb * 1024 * 1024)
        return service(settings).ingest([path])
