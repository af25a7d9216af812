"""What the console reads from and does to the knowledge base, through the knowledge service.

Uploads take the path of `zhibu ingest` (and of the bot's admin upload): the same file-name and size
checks, the same loaders and cleaning, one atomic new generation.
"""

from __future__ import annotations

import tempfile
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
    created: str
    documents: int
    passages: int
    active: bool


def generations(settings: Settings) -> list[GenerationInfo]:
    kb = KnowledgeBase(settings.zhibu_home)
    active = kb.active_name()
    infos = []
    for name in reversed(kb.generation_names()):
        generation = _generation(str(settings.zhibu_home), name)
        created = datetime.fromtimestamp(generation.manifest["created"]).strftime("%Y-%m-%d %H:%M:%S")
        infos.append(GenerationInfo(name, created, len(generation.documents), len(generation.passages), name == active))
    return infos


def check_clause(settings: Settings, doc_id: str, quote: str) -> dict[str, str]:
    """The citation of `quote` in document `doc_id` of the knowledge base; BadInput when it is not there
    (compared as `zhibu rules check` compares, see knowledge.clauses)."""
    found = clauses.locate_clause(active_generation(settings), doc_id, quote, "录入数值")
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
