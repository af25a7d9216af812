"""Read the text out of a .txt, .md, .pdf or .docx file, or explain (BadInput) why it cannot be read.

The caller resolves and vets the path; nothing here follows a path taken from the file's content.
The text comes back as extracted, line layout intact: `ingest.clean` undoes the artefacts.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from charset_normalizer import from_bytes

from ingest.clean import has_text
from zhibu.errors import BadInput

SUPPORTED_SUFFIXES = (".txt", ".md", ".pdf", ".docx")
# Chinese text files come as UTF-8 or as GB18030 (a superset of GBK and GB2312).
_TEXT_ENCODINGS = ["utf_8", "gb18030"]
# charset-normalizer's default (0.2) rejects real GB18030 files whose PDF extraction left private-use
# characters in places; random bytes still score far above this.
_MAX_MESS = 0.3
_MARKDOWN_MARKS = re.compile(r"^\s{0,3}(?:#{1,6}\s+|[-*+]\s+|>\s?)")


def _decode(data: bytes, name: str) -> str:
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        best = from_bytes(data, cp_isolation=_TEXT_ENCODINGS, threshold=_MAX_MESS).best()
        if best is None:
            raise BadInput(f"无法识别文件编码（请另存为 UTF-8 或 GB18030）：{name} (cannot decode {name}: not UTF-8 or GB18030)")
        text = str(best)
    if "\x00" in text:
        raise BadInput(f"文件不是文本文件：{name} ({name} holds binary data, not text)")
    return text


def _strip_markdown(text: str) -> str:
    """Drop heading, list and quote marks so "## 一、总体要求" reads as the outline line it is."""
    return "\n".join(_MARKDOWN_MARKS.sub("", line) for line in text.split("\n"))


def _read_pdf(path: Path) -> str:
    from pypdf import PdfReader

    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise BadInput(f"PDF 文件已加密，无法读取：{path.name} ({path.name} is encrypted)")
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    except BadInput:
        raise
    except Exception as error:  # pypdf raises many kinds of errors on damaged files; all mean the same
        raise BadInput(f"PDF 文件已损坏或无法解析：{path.name} (corrupt PDF: {type(error).__name__})") from error


def _table_lines(table) -> list[str]:
    lines = []
    for row in table.rows:
        cells = list(dict.fromkeys(row.cells))  # a merged cell repeats in every column it spans
        lines.append(" | ".join(" ".join(cell.text.split()) for cell in cells))
    return lines


def _read_docx(path: Path) -> str:
    import docx
    from docx.table import Table

    try:
        document = docx.Document(str(path))
        lines: list[str] = []
        for block in document.iter_inner_content():  # paragraphs and tables in reading order
            lines.extend(_table_lines(block) if isinstance(block, Table) else [block.text])
    except Exception as error:  # python-docx raises zip, XML and key errors on damaged files
        raise BadInput(f"Word 文件已损坏或无法解析：{path.name} (corrupt DOCX: {type(error).__name__})") from error
    return "\n".join(lines)


def _read(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return _read_pdf(path)
    if suffix == ".docx":
        return _read_docx(path)
    data = path.read_bytes()
    if not data.strip():
        raise BadInput(f"文件是空的：{path.name} ({path.name} is empty)")
    text = _decode(data, path.name)
    return _strip_markdown(text) if suffix == ".md" else text


def load_text(path: Path) -> str:
    """The raw text of one supported file; BadInput for anything that is not a readable document."""
    if not path.exists():
        raise BadInput(f"文件不存在：{path.name} (no such file: {path.name})")
    if not path.is_file():
        raise BadInput(f"不是文件：{path.name} (not a file: {path.name})")
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise BadInput(
            f"不支持的文件类型 {path.suffix or '（无扩展名）'}，请提供 {'、'.join(SUPPORTED_SUFFIXES)} 文件 "
            f"(unsupported file type {path.suffix!r}: use {', '.join(SUPPORTED_SUFFIXES)})"
        )
    if path.stat().st_size == 0:
        raise BadInput(f"文件是空的：{path.name} ({path.name} is empty)")
    text = _read(path)
    if not has_text(text):
        raise BadInput(f"文件中没有可读取的文字（扫描件请先做文字识别）：{path.name} ({path.name} contains no text)")
    return text
