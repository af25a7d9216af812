"""Loaders: every format and encoding yields the same chunks as the shipped .txt; bad input is refused."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ingest.documents import prepare_document
from ingest.loaders import load_text
from ingest_helpers import CORPUS, raw_text, write_docx, write_pdf
from zhibu.errors import BadInput

# The work guide has every artefact (private-use dots, justified spacing, attachments).
STEM = "work-guide-2020"


def _chunks(path: Path) -> list[tuple[tuple[str, ...], str, str]]:
    return [(chunk.section_path, chunk.text, chunk.chunk_id) for chunk in prepare_document(path).chunks]


def _copy_with_sidecar(folder: Path, suffix: str, stem: str = STEM) -> Path:
    """Where to write `stem` in another format, its sidecar beside it (so the doc_id, and the ids, agree)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{stem}.yaml").write_bytes(CORPUS[stem].with_suffix(".yaml").read_bytes())
    return folder / f"{stem}{suffix}"


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8-sig", "utf-8"])
def test_encodings_and_line_ends_yield_the_same_chunks(tmp_path, encoding):
    path = _copy_with_sidecar(tmp_path, ".txt")
    path.write_bytes(raw_text(STEM).replace("\n", "\r\n").encode(encoding))
    assert _chunks(path) == _chunks(CORPUS[STEM])


def test_short_gbk_text_is_decoded(tmp_path):
    path = tmp_path / "通知.txt"
    path.write_bytes("关于开展工作的通知\n各党支部:请按要求落实。".encode("gbk"))
    assert load_text(path) == "关于开展工作的通知\n各党支部:请按要求落实。"


def test_markdown_marks_are_dropped(tmp_path):
    path = tmp_path / "notes.md"
    path.write_text("# 工作要点\n\n## 一、总体要求\n\n- 坚持标准.\n> 引用的话.\n", encoding="utf-8")
    assert load_text(path).split("\n") == ["工作要点", "", "一、总体要求", "", "坚持标准.", "引用的话.", ""]


@pytest.mark.parametrize("stem", CORPUS)
def test_pdf_yields_the_same_chunks(tmp_path, cjk_font, stem):
    # The seed PDFs' fonts map "．" to a private-use code point that no installed font can draw;
    # a freshly made PDF carries "．" itself. Everything else is the raw text, line for line.
    lines = raw_text(stem).replace("\U001001b0", "．").split("\n")
    path = write_pdf(_copy_with_sidecar(tmp_path, ".pdf", stem), lines, cjk_font)
    assert _chunks(path) == _chunks(CORPUS[stem])


@pytest.mark.parametrize("stem", CORPUS)
def test_docx_yields_the_same_chunks(tmp_path, stem):
    path = write_docx(_copy_with_sidecar(tmp_path, ".docx", stem), raw_text(stem).split("\n"))
    assert _chunks(path) == _chunks(CORPUS[stem])


def test_docx_tables_are_read_in_place(tmp_path):
    path = write_docx(tmp_path / "table.docx", ["一、评定结果"], table=[["支部", "等次"], ["第一党支部", "优秀"]])
    assert load_text(path).split("\n") == ["一、评定结果", "支部 | 等次", "第一党支部 | 优秀"]


def _refused(path: Path) -> str:
    with pytest.raises(BadInput) as caught:
        load_text(path)
    message = str(caught.value)
    assert re.search(r"[\u4e00-\u9fff]", message) and re.search(r"[A-Za-z]{3}", message)  # Chinese and English
    return message


def test_missing_file_is_refused(tmp_path):
    assert "不存在" in _refused(tmp_path / "nowhere.txt")


def test_unsupported_type_is_refused(tmp_path):
    for name in ("data.xlsx", "meta.yaml", "noext"):
        (tmp_path / name).write_text("内容", encoding="utf-8")
        assert "不支持" in _refused(tmp_path / name)


def test_empty_and_blank_files_are_refused(tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blank.md").write_text(" \n\u3000\n\n", encoding="utf-8")
    assert "空" in _refused(tmp_path / "empty.txt")
    _refused(tmp_path / "blank.md")


def test_undecodable_and_binary_text_files_are_refused(tmp_path):
    (tmp_path / "noise.txt").write_bytes(bytes(range(128, 256)) * 20)
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02abc\x00" * 50)
    assert "编码" in _refused(tmp_path / "noise.txt")
    _refused(tmp_path / "binary.txt")


def test_corrupt_pdf_is_refused(tmp_path):
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 9 0 R >>\nendobj\n%%EOF")
    (tmp_path / "fake.pdf").write_text("这不是PDF文件", encoding="utf-8")
    _refused(tmp_path / "broken.pdf")
    assert "PDF" in _refused(tmp_path / "fake.pdf")


def test_pdf_without_text_is_refused(tmp_path):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.output(str(tmp_path / "scan.pdf"))
    assert "没有可读取的文字" in _refused(tmp_path / "scan.pdf")


def test_corrupt_docx_is_refused(tmp_path):
    (tmp_path / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    assert "Word" in _refused(tmp_path / "broken.docx")


def test_a_directory_is_not_a_file(tmp_path):
    (tmp_path / "folder.txt").mkdir()
    _refused(tmp_path / "folder.txt")
