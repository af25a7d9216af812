"""Documents and their chunks: metadata (sidecar YAML or inferred), cleaning, splitting, versioning."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from ingest.clean import clean_text
from ingest.loaders import SUPPORTED_SUFFIXES, Limits, load_text
from zhibu.errors import BadInput, quoted
from zhibu.untrusted_yaml import AliasFound, load_untrusted_yaml

_META_FIELDS = ("doc_id", "title", "short_title", "doc_number", "issuer", "date")
# A document's own number stands on a line of its own near the top: "(内组通字〔2020〕4号)".
_DOC_NUMBER_LINE = re.compile(r"^\(?((?:[\u4e00-\u9fff]{1,12})?[〔\[]\d{4}[〕\]]\d+号)\)?$")
_DATE_LINE = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$")
_HEAD_PARAGRAPHS = 12
_SHORT_TITLE_CHARS = 16
_MAX_SIDECAR_BYTES = 64 * 1024  # a sidecar holds six short fields


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class DocumentMeta:
    doc_id: str
    title: str
    short_title: str
    doc_number: str
    issuer: str
    date: str
    source: str  # the file name it was read from (never a full path: it may be shown in chat)


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    doc_id: str
    section_path: tuple[str, ...]
    text: str  # body text only; the heading path is metadata
    ordinal: int  # position within the document, from 0
    short_title: str = ""

    @property
    def heading(self) -> str:
        """"工作指南 > 五、“最强党支部”的评定方式 > (二)关于评定方式 > 2.党员评议"."""
        return " > ".join(part for part in (self.short_title, *self.section_path) if part)

    @property
    def content_hash(self) -> str:
        """Changes whenever what a reader (or an embedding) sees changes: heading or text."""
        return _digest(self.heading, self.text)


@dataclass(frozen=True)
class PreparedDocument:
    meta: DocumentMeta
    chunks: list[Chunk]
    version: str  # same cleaned text, title and chunking parameters → same version: no re-embedding


def slugify(stem: str) -> str:
    """A safe doc_id: ASCII, lowercase, [a-z0-9-]; a short hash keeps non-ASCII names distinct."""
    ascii_part = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")
    if stem.isascii() and ascii_part:
        return ascii_part
    suffix = _digest(stem)[:8]
    return f"{ascii_part}-{suffix}" if ascii_part else f"doc-{suffix}"


def _read_sidecar(path: Path) -> dict[str, str]:
    """The metadata in `<stem>.yaml` beside the document, read as untrusted input: size-capped, through
    the loader that refuses YAML aliases (a billion-laughs sidecar hung the ingest), every way it can be
    broken one Chinese BadInput naming the file."""
    sidecar = path.with_suffix(".yaml")
    if not sidecar.is_file() or sidecar.is_symlink():
        return {}  # a link could point anywhere: metadata comes only from a real file beside the document
    if sidecar.stat().st_size > _MAX_SIDECAR_BYTES:
        raise BadInput(f"元数据文件超过 {_MAX_SIDECAR_BYTES // 1024} KB，不像是一份文件说明：{quoted(sidecar.name)}")
    data = _parse_sidecar(sidecar)
    if not isinstance(data, dict):
        raise BadInput(f"元数据文件应为“字段: 取值”的形式：{quoted(sidecar.name)} (sidecar YAML must be a mapping)")
    # YAML reads an unquoted 2020-02-25 as a date: every field is kept as text.
    return {key: str(data[key]).strip() for key in _META_FIELDS if data.get(key) is not None}


def _parse_sidecar(sidecar: Path):
    name = quoted(sidecar.name)
    try:
        return load_untrusted_yaml(sidecar.read_text(encoding="utf-8"))
    except AliasFound as found:
        raise BadInput(f"元数据文件 {name} 第 {found.line} 行使用了 YAML 别名（*名称），不允许别名：请直接写出取值") from None
    except RecursionError:
        raise BadInput(f"元数据文件 {name} 的嵌套层数过多，不是一份文件说明") from None
    except UnicodeDecodeError:
        raise BadInput(f"元数据文件 {name} 不是 UTF-8 编码的文本文件") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"（第 {mark.line + 1} 行附近）" if mark else ""
        raise BadInput(f"元数据文件格式错误{where}：{name} (invalid sidecar YAML)") from None
    except ValueError as error:  # a date like 2020-02-30, an integer of thousands of digits
        problem = "有位数过多的数字" if "digits" in str(error) else "有无法识别的取值（例如不存在的日期，如 2 月 30 日）"
        raise BadInput(f"元数据文件 {name} {problem}") from None


def _head(cleaned: str) -> list[str]:
    return cleaned.split("\n")[:_HEAD_PARAGRAPHS]


def _infer_doc_number(cleaned: str) -> str:
    for line in _head(cleaned):
        if match := _DOC_NUMBER_LINE.match(line):
            return match.group(1)
    return ""


def _infer_date(cleaned: str) -> str:
    for line in _head(cleaned):
        if match := _DATE_LINE.match(line):
            year, month, day = match.groups()
            return f"{year}-{int(month):02d}-{int(day):02d}"
    return ""


def _infer_title(cleaned: str, stem: str) -> str:
    first = cleaned.split("\n", 1)[0]
    # A title is one short unpunctuated line; a first line that is prose is no title.
    return first if len(first) <= 60 and not re.search(r"[,.;:!?。]", first) else stem


def _short(title: str, stem: str) -> str:
    if re.search(r"[\u4e00-\u9fff]", stem) and len(stem) <= _SHORT_TITLE_CHARS:
        return stem  # a person's own Chinese file name is the best short name
    return title if len(title) <= _SHORT_TITLE_CHARS else title[: _SHORT_TITLE_CHARS - 1] + "…"


def read_meta(path: Path, cleaned: str) -> DocumentMeta:
    """Metadata from `<stem>.yaml` beside the file, each missing field inferred from the text."""
    given = _read_sidecar(path)
    title = given.get("title") or _infer_title(cleaned, path.stem)
    return DocumentMeta(
        doc_id=slugify(given.get("doc_id") or path.stem),
        title=title,
        short_title=given.get("short_title") or _short(title, path.stem),
        doc_number=given.get("doc_number", _infer_doc_number(cleaned)),
        issuer=given.get("issuer", ""),
        date=given.get("date") or _infer_date(cleaned),
        source=path.name,
    )


def prepare_document(path: Path, limits: Limits | None = None) -> PreparedDocument:
    """Load, clean, describe and split one file; BadInput when it is over a cap."""
    from ingest.split import CHUNKING_PARAMETERS, split_document  # split builds on this module's dataclasses

    limits = limits or Limits.from_settings()
    cleaned = clean_text(load_text(path, limits))
    meta = read_meta(path, cleaned)
    chunks = split_document(cleaned, meta)
    limits.check_passages(len(chunks), path.name)
    version = _digest(cleaned, meta.short_title, repr(CHUNKING_PARAMETERS))[:16]
    return PreparedDocument(meta, chunks, version)


def _files_in(folder: Path) -> list[Path]:
    # Links inside a folder could point anywhere: only the folder's own regular files are read.
    files = sorted(
        entry
        for entry in folder.iterdir()
        if entry.suffix.lower() in SUPPORTED_SUFFIXES and not entry.name.startswith(".")
        and entry.is_file() and not entry.is_symlink()
    )
    if not files:
        raise BadInput(
            f"文件夹中没有可导入的文件（支持 {'、'.join(SUPPORTED_SUFFIXES)}）：{folder.name} "
            f"(no supported files in folder {folder.name})"
        )
    return files


def _expand(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        files.extend(_files_in(path) if path.is_dir() else [path])
    return files


def iter_documents(paths: list[Path], limits: Limits | None = None) -> list[PreparedDocument]:
    """Prepare every file given, and every supported file inside each folder given (sorted by name)."""
    limits = limits or Limits.from_settings()
    documents = [prepare_document(path, limits) for path in _expand(paths)]
    seen: dict[str, str] = {}
    for document in documents:
        doc_id, source = document.meta.doc_id, document.meta.source
        if doc_id in seen:
            raise BadInput(f"两个文件的文档编号相同：{seen[doc_id]}、{source} (duplicate doc_id {doc_id!r})")
        seen[doc_id] = source
    return documents


def shipped_corpus_paths() -> list[Path]:
    """The policy documents shipped inside the `knowledge` package (their .yaml sidecars go along)."""
    import knowledge

    # The package path, not importlib.resources: an editable install may list `knowledge` as a
    # namespace package, which importlib.resources rejects.
    for root in knowledge.__path__:
        corpus = Path(root) / "corpus"
        if corpus.is_dir():
            return sorted(corpus.glob("*.txt"))
    raise FileNotFoundError("knowledge/corpus is missing from this installation")
