"""Read the text out of a .txt, .md, .pdf or .docx file, or explain (BadInput) why it cannot be read.

The caller resolves and vets the path; nothing here follows a path taken from the file's content.
The text comes back as extracted, line layout intact: `ingest.clean` undoes the artefacts.
A file over a cap (`Limits`) is refused as soon as that is known: a .docx by its zip directory
before anything is unpacked, a text file by its size. Extraction itself runs under a budget (`_Budget`):
time, text produced and form XObjects drawn are counted while pypdf works, so a 2 KB PDF whose pages
draw one form thousands of times (9 MB of text, minutes of CPU) stops within seconds, not after a page.
"""

from __future__ import annotations

import codecs
import re
import time
import zipfile
from dataclasses import dataclass
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
_MB = 1024 * 1024
# Form and image XObjects one document may draw ("Do"): a real page draws a few (a logo, a seal);
# each costs pypdf about a millisecond however little it shows.
MAX_XOBJECTS_DRAWN = 2000


@dataclass(frozen=True)
class Limits:
    """Caps on one document, from ZHIBU_MAX_TEXT_MB, ZHIBU_MAX_UNPACKED_MB, ZHIBU_MAX_PASSAGES_PER_DOC."""

    text_bytes: int  # the extracted text, UTF-8
    unpacked_bytes: int  # what a .docx or .pdf decompresses to
    passages: int
    extract_seconds: float = 60.0  # reading the text out of one .pdf or .docx

    @classmethod
    def from_settings(cls, settings=None) -> "Limits":
        if settings is None:
            from zhibu.settings import get_settings

            settings = get_settings()
        return cls(int(settings.zhibu_max_text_mb * _MB), int(settings.zhibu_max_unpacked_mb * _MB),
                   settings.zhibu_max_passages_per_doc, settings.zhibu_max_extract_s)

    def check_text(self, size: int, name: str) -> None:
        if size > self.text_bytes:
            raise BadInput(f"文件文字太多（超过 {self.text_bytes / _MB:g} MB）：{name}。请拆分成几个文件再导入。"
                           "（上限由设置 ZHIBU_MAX_TEXT_MB 决定）")

    def check_unpacked(self, size: int, name: str) -> None:
        if size > self.unpacked_bytes:
            raise BadInput(f"文件解压后超过 {self.unpacked_bytes / _MB:g} MB，可能已损坏或被恶意构造：{name}。"
                           "（上限由设置 ZHIBU_MAX_UNPACKED_MB 决定）")

    def check_passages(self, count: int, name: str) -> None:
        if count > self.passages:
            raise BadInput(f"文件分段太多（{count} 段，上限 {self.passages} 段）：{name}。请拆分成几个文件再导入。"
                           "（上限由设置 ZHIBU_MAX_PASSAGES_PER_DOC 决定）")


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


class _OverBudget(BaseException):
    """Raised from inside pypdf's callbacks; a BaseException, because pypdf swallows any Exception
    raised while it draws a form XObject (it logs "Impossible to decode XFormObject" and goes on)."""

    def __init__(self, refusal: BadInput) -> None:
        super().__init__(refusal)
        self.refusal = refusal


class _Budget:
    """What extracting one document may still spend: time, UTF-8 text, XObjects drawn."""

    def __init__(self, limits: Limits, name: str) -> None:
        self.limits, self.name = limits, name
        self.deadline = time.monotonic() + limits.extract_seconds
        self.text_bytes = self.drawn = 0

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise _OverBudget(BadInput(
                f"读取文件内容超过 {self.limits.extract_seconds:g} 秒，已停止：{self.name}。文件可能已损坏或被恶意构造。"
                "（上限由设置 ZHIBU_MAX_EXTRACT_S 决定）"))

    def add_text(self, text: str) -> None:
        self.text_bytes += len(text.encode("utf-8"))
        try:
            self.limits.check_text(self.text_bytes, self.name)
        except BadInput as refusal:
            raise _OverBudget(refusal) from None

    def operator(self, operator: bytes, *_) -> None:
        """pypdf's visitor_operand_before: called for every content-stream operator."""
        if operator == b"Do":
            self.drawn += 1
            if self.drawn > MAX_XOBJECTS_DRAWN:
                raise _OverBudget(BadInput(
                    f"PDF 文件绘制的图形对象超过 {MAX_XOBJECTS_DRAWN} 个，可能已损坏或被恶意构造：{self.name} "
                    f"({self.name} draws more than {MAX_XOBJECTS_DRAWN} XObjects)"))
        self.tick()

    def seen_text(self, text: str, *_) -> None:
        """pypdf's visitor_text: every piece of text as it is shown, form XObjects' included."""
        self.add_text(text)


def _read_pdf(path: Path, limits: Limits) -> str:
    from pypdf import PdfReader

    budget = _Budget(limits, path.name)
    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise BadInput(f"PDF 文件已加密，无法读取：{path.name} ({path.name} is encrypted)")
        pages, unpacked = [], 0
        for page in reader.pages:
            contents = page.get_contents()
            unpacked += len(contents.get_data()) if contents is not None else 0
            limits.check_unpacked(unpacked, path.name)
            pages.append(page.extract_text(visitor_operand_before=budget.operator, visitor_text=budget.seen_text) or "")
        return "\n".join(pages)
    except _OverBudget as over:
        raise over.refusal from None
    except BadInput:
        raise
    except Exception as error:  # pypdf raises many kinds of errors on damaged files; all mean the same
        raise BadInput(f"PDF 文件已损坏或无法解析：《{path.name}》。请用 WPS 或 Word 重新导出为 PDF 后再上传。") from error


def _table_lines(table) -> list[str]:
    lines = []
    for row in table.rows:
        cells = list(dict.fromkeys(row.cells))  # a merged cell repeats in every column it spans
        lines.append(" | ".join(" ".join(cell.text.split()) for cell in cells))
    return lines


def _read_docx(path: Path, limits: Limits) -> str:
    import docx
    from docx.table import Table

    budget = _Budget(limits, path.name)
    try:
        with zipfile.ZipFile(path) as archive:  # the directory's sizes bound what unpacking yields
            limits.check_unpacked(sum(member.file_size for member in archive.infolist()), path.name)
        document = docx.Document(str(path))
        lines: list[str] = []
        for block in document.iter_inner_content():  # paragraphs and tables in reading order
            added = _table_lines(block) if isinstance(block, Table) else [block.text]
            lines.extend(added)
            budget.tick()
            budget.add_text("".join(added))
    except _OverBudget as over:
        raise over.refusal from None
    except BadInput:
        raise
    except Exception as error:  # python-docx raises zip, XML and key errors on damaged files
        raise BadInput(f"Word 文件已损坏或无法解析：《{path.name}》。请用 WPS 或 Word 打开后另存为 .docx 再上传。") from error
    return "\n".join(lines)


def _read(path: Path, limits: Limits) -> str:
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return _read_pdf(path, limits)
    if suffix == ".docx":
        return _read_docx(path, limits)
    limits.check_text(path.stat().st_size, path.name)
    data = path.read_bytes()
    if not data.strip():
        raise BadInput(f"文件是空的：{path.name} ({path.name} is empty)")
    text = _decode(data, path.name)
    return _strip_markdown(text) if suffix == ".md" else text


def load_text(path: Path, limits: Limits | None = None) -> str:
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
    text = _read(path, limits or Limits.from_settings())
    if not has_text(text):
        raise BadInput(f"文件中没有可读取的文字（扫描件请先做文字识别）：{path.name} ({path.name} contains no text)")
    return text
